//! Hash lists: loading them, and the entries they hold.
//!
//! Owns the in-memory shape of a list ([`HashList`], [`ListEntry`]) and the rule that a list
//! loads completely or not at all: any line that does not parse is an [`Error::HashList`]
//! naming the file and line, and the run stops before scanning, because a half-loaded list
//! silently misses what its missing lines would have caught. Each on-disk format has its own
//! parser module; they normalise early (algorithm names, lower-case fixed-width hex) so that
//! nothing downstream sees raw text. Must not match or index: see [`crate::index`].

mod native;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::hash::{Algorithm, HashValue};

/// One loaded hash list.
#[derive(Clone, Debug)]
pub struct HashList {
    /// The path the list was loaded from, as given.
    pub path: PathBuf,
    /// SHA-256 of the list file, so a report says exactly which list version was used.
    pub sha256: HashValue,
    /// The entries, in file order.
    pub entries: Vec<ListEntry>,
}

/// One hash in a list.
#[derive(Clone, Debug, PartialEq)]
pub struct ListEntry {
    /// Which algorithm the hash belongs to.
    pub algorithm: Algorithm,
    /// The hash.
    pub hash: HashValue,
    /// The list's identifier for the item, if it has one.
    pub id: Option<String>,
    /// A free-text label (category, source), if any.
    pub label: Option<String>,
    /// The hash's quality as its producer reported it (PDQ: 0–100), if given.
    pub quality: Option<u8>,
    /// For video frames, the frame's time in seconds, if given.
    pub timestamp: Option<f64>,
    /// The 1-based line of the list file the entry came from.
    pub line: u64,
}

impl HashList {
    /// Loads and validates the list at `path`.
    pub fn load(path: &Path) -> Result<HashList> {
        let bytes =
            std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        let entries = native::parse(path, &bytes)?;
        let sha256 = crate::hash::digest::digest(Algorithm::Sha256, &bytes)
            .expect("sha256 is a digest algorithm");
        Ok(HashList { path: path.to_path_buf(), sha256, entries })
    }

    /// Number of entries per algorithm, in [`Algorithm`] order.
    pub fn counts(&self) -> std::collections::BTreeMap<Algorithm, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for entry in &self.entries {
            *counts.entry(entry.algorithm).or_insert(0) += 1;
        }
        counts
    }
}
