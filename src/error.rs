//! The library's error type for failures that stop a run before it starts.
//!
//! Problems with one scanned file are not errors in this sense: they become that file's
//! outcome ([`crate::scan::Outcome::Error`]) and the scan goes on. What lands here is what
//! makes a run meaningless: a hash list that cannot be read or parsed, or a bad setting.

use std::path::PathBuf;

/// A failure that stops a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file the run depends on (a hash list) could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A hash list has a line that does not parse; printed the way compilers print, so
    /// editors can jump to it.
    #[error("{}:{line}: {reason}", path.display())]
    HashList {
        /// The list file.
        path: PathBuf,
        /// 1-based line number (0 when the problem is the file as a whole).
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A setting is invalid.
    #[error("{0}")]
    Config(String),
}

/// Result alias for the library.
pub type Result<T> = std::result::Result<T, Error>;
