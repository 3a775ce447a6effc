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
    #[error("{}: {}", path.display(), io_reason(error))]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said; in the message already, so not a `source` that
        /// a chain of causes would print a second time.
        error: std::io::Error,
    },
    /// A hash list has a line that does not parse; printed the way compilers print, so
    /// editors can jump to it (`FILE:LINE: reason`, or `FILE: reason` for the whole file).
    #[error("{}", located(path, *line, reason))]
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

/// `FILE:LINE: reason`, without a line when it is 0 (the file as a whole).
fn located(path: &std::path::Path, line: u64, reason: &str) -> String {
    match line {
        0 => format!("{}: {reason}", path.display()),
        _ => format!("{}:{line}: {reason}", path.display()),
    }
}

/// What the operating system said, in words a person reads: the common cases without
/// Rust's `(os error N)`, which only repeats the kind.
fn io_reason(error: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match error.kind() {
        NotFound => "no such file".to_string(),
        PermissionDenied => "permission denied".to_string(),
        IsADirectory => "a folder, not a file".to_string(),
        _ => error.to_string(),
    }
}

/// Result alias for the library.
pub type Result<T> = std::result::Result<T, Error>;
