//! The JSON scan report: its wire format, how it is built from a scan, its other forms, and
//! how it is written.
//!
//! One submodule per concern: `schema` (the serialised types and [`SCHEMA_VERSION`]),
//! `build` (from a scan's results to a [`Report`]), `formats` (JSON lines, text and CSV),
//! `write` (atomic writing), `merge` (shards' reports into one), `html` (the review page for
//! a person), with `redact` and `printable` for paths and text. Apart from `started_at`, `finished_at` and `elapsed_ms`,
//! a report depends only on the inputs (and the decoders it names), never on the thread
//! count. The report reads what the scan hands over and never calls into it. Must not print
//! to the terminal: the binary decides what a person sees.

mod build;
mod formats;
mod html;
mod merge;
mod printable;
mod redact;
mod schema;
mod write;

pub use build::ReportContext;
pub use formats::{one_line, CSV_HEADER};
pub use html::{review_page, Previews};
pub use merge::merge;
pub use printable::printable;
pub use redact::PathKey;
pub use schema::{
    Allowlisted, DecoderSettings, ErrorEntry, FewKeypoints, FilePath, Files, Flagged,
    FloodSettings, KeypointMatch, ListInfo, LowQuality, MatchEntry, Report, RescreenSettings,
    Settings, Skipped, Source, Summary, Suspicious, Tool, VideoMatch, VideoSettings,
    SCHEMA_VERSION,
};
pub use write::{check_destination, write_file, write_json, ReportFiles};
