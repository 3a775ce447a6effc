//! mediascreen screens media files against lists of hashes of known-bad content.
//!
//! The pipeline, one module per stage: [`walk`] finds files in a stable order, [`scan`]
//! reads each once (opened and read by `read`) and drives [`sniff`] (type by magic bytes), [`decode`] (pixels under
//! limits) and [`hash`] (MD5/SHA-1/SHA-256, PDQ, pHash/dHash/aHash); [`hashlist`] loads lists,
//! [`index`] answers exact and Hamming lookups, [`matcher`] applies thresholds and
//! orientations, and [`report`] writes the JSON report. The `mediascreen` binary is a thin
//! layer of flags over this library.
//!
//! ```no_run
//! use mediascreen::{hashlist::HashList, matcher::{Matcher, MatchOptions}, scan};
//!
//! let list = HashList::load("hashlists/demo.csv".as_ref(), &Default::default())?;
//! let matcher = Matcher::new(vec![list], MatchOptions::default())?;
//! let scan = scan::scan(&["fixtures".into()], &matcher, &scan::ScanOptions::default());
//! for file in &scan.files {
//!     if file.outcome.status() == scan::Status::Flagged {
//!         println!("{}", file.path.display());
//!     }
//! }
//! # Ok::<(), mediascreen::Error>(())
//! ```

#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod decode;
pub mod error;
pub mod hash;
pub mod hashlist;
pub mod index;
pub mod matcher;
mod options;
mod outcome;
mod read;
pub mod report;
pub mod scan;
pub mod sniff;
pub mod walk;

#[cfg(test)]
mod testing;

pub use error::{Error, Result};
