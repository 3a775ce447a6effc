//! What a scan found: every file's [`Outcome`], in walk order, and what was decided over the
//! whole scan ([`Scan`]).
//!
//! Owns the result types that the scan fills and the report reads, below both (re-exported
//! from `scan`), so that the report is data the scan hands over, not a caller of it. Must
//! not scan, match or write anything, and must not import `scan` or `report`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::context::Context;
use crate::error::{FileError, Reason, Setting};
use crate::hash::{Algorithm, HashValue};
use crate::matcher::{Flood, MatchResult};

/// The result of a scan.
#[derive(Debug)]
pub struct Scan {
    /// Every walked path that was dealt with and its outcome, in walk order.
    pub files: Vec<FileReport>,
    /// The algorithms computed for each file (`scan::computed_algorithms`): those the lists
    /// need, and SHA-256 for the report.
    pub algorithms: BTreeSet<Algorithm>,
    /// Listed hashes the flood guard found matching too many files; their matches are
    /// marked suspicious.
    pub floods: Vec<Flood>,
    /// Paths the walk found that were not dealt with because the scan was stopped; 0 for a
    /// complete scan.
    pub not_scanned: usize,
}

/// What became of one file.
#[derive(Debug)]
pub struct FileReport {
    /// The path, as built from the root the user gave; for an archive member, the archive's
    /// path and the member's name joined by `!/`, level after level
    /// (`backup.tar.gz!/old/inner.zip!/media/IMG_0042.jpg`), as `jar:` URLs name theirs.
    pub path: PathBuf,
    /// For an archive member, the same chain as separate names: the outermost archive's
    /// path, then each member's name inside the one before; empty for a file on disk.
    pub chain: Vec<String>,
    /// The chat message that carried the file, where the scanned tree holds an export's
    /// message index that references it.
    pub context: Option<Box<Context>>,
    /// For a bucket object, the version that was read (or, if it could not be read, the one
    /// that was listed).
    pub object: Option<Box<crate::bucket::ObjectVersion>>,
    /// Whether its hashes came from the hash store (`--store`) rather than from decoding it.
    pub from_store: Option<FromStore>,
    /// What happened.
    pub outcome: Outcome,
}

impl FileReport {
    /// The report of a file on disk (not in an archive), with no chat context yet.
    pub fn new(path: PathBuf, outcome: Outcome) -> FileReport {
        FileReport {
            path,
            chain: Vec::new(),
            context: None,
            object: None,
            from_store: None,
            outcome,
        }
    }
}

/// How a file's hashes came from the hash store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FromStore {
    /// The file was not opened: its identity (device, inode, size, times) was unchanged.
    Unchanged,
    /// The file was read for its SHA-256, a content the store had hashed: not decoded.
    Content,
}

impl FromStore {
    /// The report's word for it.
    pub fn name(self) -> &'static str {
        match self {
            FromStore::Unchanged => "unchanged",
            FromStore::Content => "content",
        }
    }
}

/// The fate of one file. Every walked path ends as exactly one of these.
#[derive(Debug)]
pub enum Outcome {
    /// Read and hashed; matched or not.
    Scanned {
        /// Size in bytes.
        size: u64,
        /// MIME type from the content.
        media_type: &'static str,
        /// SHA-256 of the bytes, always computed for the report.
        sha256: HashValue,
        /// What matched.
        result: MatchResult,
        /// Perceptual hashes were needed but could not be computed, or only from part of
        /// the image.
        perceptual_error: Option<FileError>,
    },
    /// Could not be scanned.
    Error {
        /// Where it failed.
        stage: Stage,
        /// Why.
        error: FileError,
    },
    /// Deliberately not scanned.
    Skipped {
        /// Why.
        reason: Reason,
        /// Left out by [`ScanOptions::max_files`](crate::options::ScanOptions::max_files) or
        /// [`max_scan_size`](crate::options::ScanOptions::max_scan_size): unlike a
        /// link or a FIFO, which a scan never reads, a file it was asked to screen and did not.
        over_budget: bool,
    },
}

/// The bucket a file's outcome falls in for the summary and exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Screened fully, nothing matched.
    Clean,
    /// Something matched.
    Flagged,
    /// Not (fully) screened because of an error.
    Error,
    /// Deliberately not screened.
    Skipped,
}

impl Outcome {
    /// The outcome's bucket. A match outranks an error: a moderator must see it. A file whose
    /// perceptual hashes could not be computed is not clean, it is incompletely screened.
    pub fn status(&self) -> Status {
        match self {
            Outcome::Scanned { result, .. } if !result.matches.is_empty() => Status::Flagged,
            Outcome::Scanned { perceptual_error: Some(_), .. } => Status::Error,
            Outcome::Scanned { .. } => Status::Clean,
            Outcome::Error { .. } => Status::Error,
            Outcome::Skipped { .. } => Status::Skipped,
        }
    }

    /// Names the settings the outcome's reasons point to, by what `name` calls them (see
    /// [`Reason::name_setting`]): the binary gives its flags.
    pub fn name_settings(&mut self, name: impl Fn(Setting) -> Option<String>) {
        let reason = match self {
            Outcome::Scanned { perceptual_error: Some(error), .. }
            | Outcome::Error { error, .. } => &mut error.reason,
            Outcome::Skipped { reason, .. } => reason,
            Outcome::Scanned { perceptual_error: None, .. } => return,
        };
        reason.name_setting(name);
    }
}

/// The pipeline stage at which a file failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Finding or inspecting the file.
    Walk,
    /// Reading its bytes.
    Read,
    /// Decoding it for perceptual hashes.
    Decode,
}

impl Stage {
    /// Lower-case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Walk => "walk",
            Stage::Read => "read",
            Stage::Decode => "decode",
        }
    }
}
