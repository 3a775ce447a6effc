//! mediascreen screens media files against lists of hashes of known-bad content.
//!
//! The pipeline, one module per stage: [`walk`] finds files in a stable order, [`scan`]
//! reads each once and drives [`sniff`] (type by magic bytes), [`decode`] (pixels under
//! limits, videos' frames) and [`hash`] (MD5/SHA-1/SHA-256, PDQ, vPDQ, orb1 keypoint
//! signatures, pHash/dHash/aHash); [`hashlist`] loads lists, [`index`] answers exact, Hamming
//! and keypoint lookups, [`matcher`] applies thresholds, orientations and the video and crop
//! rules, and [`report`] turns a scan's results into the JSON report. The `mediascreen`
//! binary is a thin layer of flags over this library.
//!
//! Scanning a folder against a list, then writing the report the binary writes:
//!
//! ```
//! use std::time::SystemTime;
//! use mediascreen::hashlist::HashList;
//! use mediascreen::matcher::{MatchOptions, Matcher};
//! use mediascreen::report::{Report, ReportContext};
//! use mediascreen::scan::{self, ScanOptions, Status};
//!
//! let list = HashList::load("hashlists/demo.csv".as_ref(), &Default::default())?;
//! let matcher = Matcher::new(vec![list], MatchOptions::default())?;
//! let (paths, options) = (["fixtures/screening/edited".into()], ScanOptions::default());
//! let started = SystemTime::now();
//! let scan = scan::scan(&paths, &matcher, &options);
//! for file in &scan.files {
//!     // Flagged, clean, or an error saying why the file was not (fully) screened.
//!     println!("{:?} {}", file.outcome.status(), file.path.display());
//! }
//! let mirrored = scan.files.iter().find(|f| f.path.ends_with("bridge-mirrored.jpg")).unwrap();
//! assert_eq!(mirrored.outcome.status(), Status::Flagged);
//!
//! let finished = SystemTime::now();
//! let context = ReportContext {
//!     paths: &paths,
//!     matcher: &matcher,
//!     options: &options,
//!     started,
//!     finished,
//!     redacted: false,
//! };
//! let report = Report::build(&context, &scan);
//! assert_eq!(report.files.summary.files, scan.files.len());
//! println!("{}", serde_json::to_string_pretty(&report).unwrap());
//! # Ok::<(), mediascreen::Error>(())
//! ```

#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod allocator;
pub mod archive;
pub mod bucket;
pub mod context;
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
pub mod rescreen;
pub mod scan;
pub mod sniff;
pub mod store;
pub mod walk;

#[cfg(test)]
mod testing;

pub use error::{Error, Result};
