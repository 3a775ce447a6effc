//! The report's wire format: the serialised types, [`SCHEMA_VERSION`] and the names of the
//! per-file arrays.
//!
//! Owns what a report says and how each field is named and documented (for users in
//! `docs/report-format.md`; any change a consumer could notice bumps [`SCHEMA_VERSION`]).
//! These types are separate from the scan's own so the wire format changes only on purpose.
//! Must not compute anything: filling them from a scan is `build`'s, writing them `write`'s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bucket::ObjectVersion;
use crate::context::Context;
use crate::hash::Algorithm;

/// The report's per-file arrays ([`Files`] but its summary), by their JSON names: what the
/// jsonl summary line leaves out and what `report merge` puts back in walk order.
pub(super) const FILE_ARRAYS: [&str; 6] =
    ["flagged", "errors", "skipped", "low_quality", "few_keypoints", "allowlisted"];

/// Version of the report schema. Bumped on any change a consumer could notice.
pub const SCHEMA_VERSION: u32 = 11;

/// A complete scan report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The tool that wrote the report.
    pub tool: Tool,
    /// When the scan started (RFC 3339, UTC).
    pub started_at: String,
    /// When the scan finished (RFC 3339, UTC).
    pub finished_at: String,
    /// Wall-clock duration in milliseconds.
    pub elapsed_ms: u64,
    /// Settings in force.
    pub settings: Settings,
    /// The lists matched against.
    pub lists: Vec<ListInfo>,
    /// The allowlists (`--allow`) whose hashes suppress matches.
    pub allowlists: Vec<ListInfo>,
    /// False when the scan was interrupted: `summary.not_scanned` files were never looked at.
    pub complete: bool,
    /// The files, counted and filed by outcome.
    #[serde(flatten)]
    pub files: Files,
    /// Listed hashes that matched suspiciously many files (flood guard); their matches are
    /// kept, marked `suspicious`.
    pub suspicious: Vec<Suspicious>,
}

/// The files of a scan, counted and filed by outcome, in walk order: the body of the report,
/// and (one file at a time) of each `--format jsonl` line.
#[derive(Debug, Default, Serialize)]
pub struct Files {
    /// Counts; `files == clean + flagged + errors + skipped`.
    pub summary: Summary,
    /// Files that matched.
    pub flagged: Vec<Flagged>,
    /// Files that could not be (fully) screened.
    pub errors: Vec<ErrorEntry>,
    /// Files deliberately not screened.
    pub skipped: Vec<Skipped>,
    /// Files whose PDQ hash was below the quality gate and so not matched by PDQ.
    pub low_quality: Vec<LowQuality>,
    /// Images with too few keypoints to match any listed orb1 signature (only when the lists
    /// hold orb1 signatures).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub few_keypoints: Vec<FewKeypoints>,
    /// Files with matches that the allowlist suppressed.
    pub allowlisted: Vec<Allowlisted>,
}

/// Name and version of the tool.
#[derive(Debug, Serialize)]
pub struct Tool {
    /// Always `mediascreen`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

/// The settings that shaped the result.
#[derive(Debug, Serialize)]
pub struct Settings {
    /// Paths scanned, as given.
    pub paths: Vec<String>,
    /// Algorithms computed for each file.
    pub algorithms: Vec<Algorithm>,
    /// Inclusive Hamming thresholds per perceptual algorithm in use.
    pub thresholds: BTreeMap<Algorithm, u32>,
    /// Whether rotated and mirrored PDQ variants were matched.
    pub rotations: bool,
    /// The PDQ quality gate.
    pub pdq_min_quality: u8,
    /// Whether symbolic links were followed.
    pub follow_symlinks: bool,
    /// What decoded the pictures whose decoders differ between machines.
    pub decoders: DecoderSettings,
    /// How videos were sampled and matched; present when the lists call for video hashing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoSettings>,
    /// The flood guard's bounds.
    pub flood: FloodSettings,
    /// The slice of the files this report covers (`--shard`), as `K/N`; absent when it
    /// covers them all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// How paths were replaced (`--redact-paths`): `hmac-sha256`; absent when they were not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_redaction: Option<&'static str>,
    /// The hash store the scan read and wrote (`--store`), or that `rescreen` matched;
    /// absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// Present when the report is a `rescreen` of the store: the files were not read, and
    /// their hashes were made under these decoder setups (`decoders` then names no decoder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rescreen: Option<RescreenSettings>,
}

/// Where a `rescreen`'s hashes came from.
#[derive(Debug, Serialize)]
pub struct RescreenSettings {
    /// The decoder setups of the stored results matched, as the store describes them.
    pub setups: Vec<String>,
}

/// When the flood guard marks a listed hash.
#[derive(Debug, Serialize, Deserialize)]
pub struct FloodSettings {
    /// It matched more than this many files…
    pub min_files: usize,
    /// …and more than this fraction of the files screened (clean or flagged).
    pub share: f64,
}

/// What decoded JPEG and still WebP files: the system's libjpeg-turbo and libwebp where
/// found (with `--builtin-decoders` not given), else the built-in Rust decoders. PDQ hashes of
/// JPEGs differ by 0-2 bits between the two. HEIC, HEIF and AVIF files are decoded by the
/// system's libheif, or not at all.
#[derive(Debug, Serialize)]
pub struct DecoderSettings {
    /// `libjpeg-turbo (libturbojpeg.so.0)` or `built-in (zune-jpeg)`.
    pub jpeg: String,
    /// `libwebp 1.2.4 (libwebp.so.7)` or `built-in (image-webp)`.
    pub webp: String,
    /// `libheif 1.15.1 (libheif.so.1)`, or null when libheif was not found: HEIC, HEIF and
    /// AVIF files were then errors.
    pub heif: Option<String>,
}

/// How videos were sampled, bounded and matched.
#[derive(Debug, Serialize)]
pub struct VideoSettings {
    /// One frame hashed per this many seconds (0 = every frame).
    pub seconds_per_hash: f64,
    /// A video matched a listed one at this percentage of its own distinct frames…
    pub query_pct: f64,
    /// …or of the listed video's…
    pub listed_pct: f64,
    /// …with at least this many distinct frames of it matched.
    pub min_frames: usize,
    /// Frames below this PDQ quality took no part in video matching.
    pub min_quality: u8,
    /// Only this many seconds of each video were screened.
    pub max_seconds: f64,
    /// Decoding one video was given up after this many seconds.
    pub timeout_s: u64,
    /// The `ffmpeg` that decoded what is not decoded in-process (`ffmpeg -version`'s first
    /// line), or `null` when none was found: such videos are then errors.
    pub ffmpeg: Option<String>,
}

/// One list that was loaded.
#[derive(Debug, Serialize)]
pub struct ListInfo {
    /// Path as given.
    pub path: String,
    /// SHA-256 of the list file.
    pub sha256: String,
    /// The format it was read as.
    pub format: &'static str,
    /// Entries loaded, per algorithm.
    pub entries: BTreeMap<Algorithm, usize>,
    /// Entries that parsed but cannot be used (unsupported algorithm, degenerate hash).
    pub refused: usize,
    /// Records whose last state in the list is their publisher's removal, per kind
    /// (`withdrawn`, `deleted`, `false_positive`, `disputed`, `retired`): never matched.
    pub removed: BTreeMap<&'static str, usize>,
}

/// Counts of outcomes.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Every path the walk produced.
    pub files: usize,
    /// Screened, nothing matched.
    pub clean: usize,
    /// Something matched.
    pub flagged: usize,
    /// Not (fully) screened because of an error.
    pub errors: usize,
    /// Deliberately not screened.
    pub skipped: usize,
    /// Of `skipped`, the files left out by `--max-files` or `--max-scan-size`: not screened,
    /// so the scan did not cover every file it was given.
    pub over_budget: usize,
    /// Bytes read from scanned files.
    pub bytes: u64,
    /// Matches suppressed by the allowlist (not part of the file counts).
    pub allowlisted_matches: usize,
    /// Files the walk found that an interrupted scan never looked at (not part of `files`).
    pub not_scanned: usize,
}

/// A file that matched.
#[derive(Debug, Serialize)]
pub struct Flagged {
    /// The file.
    #[serde(flatten)]
    pub path: FilePath,
    /// Size in bytes.
    pub size: u64,
    /// MIME type from the content.
    pub media_type: &'static str,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Its matches, closest first.
    pub matches: Vec<MatchEntry>,
    /// Perceptual hashes could not be computed (the matches are then exact ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub perceptual_error: Option<String>,
}

/// One distinct listed hash that a file matched.
#[derive(Debug, Serialize)]
pub struct MatchEntry {
    /// Algorithm that matched.
    pub algorithm: Algorithm,
    /// Path of the (first) list carrying the hash; all are in `sources`.
    pub list: String,
    /// 1-based line of the entry in that list.
    pub line: u64,
    /// That entry's id, if it has one.
    pub id: Option<String>,
    /// That entry's label, if it has one.
    pub label: Option<String>,
    /// The listed hash.
    pub hash: String,
    /// Hamming distance (0 for digests).
    pub distance: u32,
    /// Threshold in force.
    pub threshold: u32,
    /// The PDQ quality of the scanned image, or of the best video frame, that matched (PDQ
    /// matches only).
    pub quality: Option<u8>,
    /// PDQ only: how the file relates to the listed image (`orig`, `rot90` = rotated 90°
    /// counter-clockwise, `rot180`, `rot270`, `flipx` = mirrored top-bottom, `flipy` =
    /// mirrored left-right, `flipp` = transposed, `flipm` = anti-transposed).
    pub orientation: Option<&'static str>,
    /// The flood guard found this listed hash matching suspiciously many files.
    pub suspicious: bool,
    /// Where the match lies in a scanned video or animation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoMatch>,
    /// orb1 only: the keypoint evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keypoints: Option<KeypointMatch>,
    /// Every list entry carrying the hash, the first one included (a hash in several lists,
    /// or on several lines, is matched once).
    pub sources: Vec<Source>,
}

/// Where a match lies in a scanned video.
#[derive(Debug, Serialize)]
pub struct VideoMatch {
    /// Percentage of the scanned video's distinct frames (of quality high enough) that
    /// match the listed video (vPDQ matches only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_pct: Option<f64>,
    /// Percentage of the listed video's distinct frames that match the scanned one (vPDQ).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listed_pct: Option<f64>,
    /// `[matched, total]` distinct frames of the scanned video (vPDQ).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_frames: Option<[usize; 2]>,
    /// `[matched, total]` distinct frames of the listed video (vPDQ).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listed_frames: Option<[usize; 2]>,
    /// The stretches of the scanned video that matched, `[start, end]` in seconds.
    pub time_ranges: Vec<[f64; 2]>,
}

/// What an orb1 match rests on: keypoints of the scanned image that the listed image has at
/// the same places, once the scanned image is scaled, turned and shifted onto it.
#[derive(Debug, Serialize)]
pub struct KeypointMatch {
    /// Keypoints whose descriptors matched one listed keypoint distinctly (ratio test,
    /// one-to-one).
    pub good_matches: usize,
    /// Of those, the ones the fitted transform carries onto their listed keypoint.
    pub inliers: usize,
    /// Listed size over scanned size, both scaled to 800 pixels on the long side: 0.7 means
    /// the scanned image shows 70 % of the listed one's width.
    pub scale: f64,
    /// Rotation from scanned to listed, degrees counter-clockwise.
    pub rotation: f64,
    /// Where the scanned image's top-left corner lies in the listed image, in pixels of the
    /// listed image scaled to 800 on its long side.
    pub offset: [f64; 2],
}

/// A scanned file's path: as text, and when the name is not UTF-8 (possible on Unix), also
/// its exact bytes, so that the report still names the file unambiguously; for an archive
/// member, the chain of archives it was found in; and the chat message that carried it, where
/// an export's index says so.
#[derive(Clone, Debug, Serialize)]
pub struct FilePath {
    /// The path; bytes that are not UTF-8 shown as U+FFFD. An archive member's is the
    /// archive's path and the member's name joined by `!/`, level after level.
    pub path: String,
    /// The path's bytes in hex, only when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_bytes: Option<String>,
    /// Archive members only: the outermost archive's path, then each member's name inside
    /// the archive before it (`["backup.tar.gz", "old/inner.zip", "media/IMG_0042.jpg"]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<Vec<String>>,
    /// The chat message that carried the file (`app`, `chat`, `message_id`, `sender`,
    /// `sender_id`, `sent_at`), where the scanned tree holds an export's message index that
    /// references it. Never any message text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// Bucket objects only: the version that was read (`etag`, `version_id` in a versioned
    /// bucket, `last_modified`), so that a pipeline acts on exactly what was screened.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectVersion>,
    /// With `--store`, where the file's hashes came from when not from decoding it:
    /// `unchanged` (the file was not opened) or `content` (read, a known content).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_store: Option<&'static str>,
}

/// A list entry carrying a matched hash.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Source {
    /// Path of the list.
    pub list: String,
    /// 1-based line of the entry in that list.
    pub line: u64,
    /// The entry's id, if it has one.
    pub id: Option<String>,
    /// The entry's label, if it has one.
    pub label: Option<String>,
}

/// A file some of whose matches the allowlist suppressed.
#[derive(Debug, Serialize)]
pub struct Allowlisted {
    /// The file.
    #[serde(flatten)]
    pub path: FilePath,
    /// The suppressed matches.
    pub matches: Vec<MatchEntry>,
}

/// A listed hash that the flood guard found matching too many files.
#[derive(Debug, Serialize)]
pub struct Suspicious {
    /// Its algorithm.
    pub algorithm: Algorithm,
    /// The listed hash.
    pub hash: String,
    /// How many files it matched.
    pub files: usize,
    /// How many distinct contents among them (copies of one file count once): what the
    /// flood guard counts.
    pub contents: usize,
    /// The list entries carrying it.
    pub sources: Vec<Source>,
}

/// A file that could not be (fully) screened.
#[derive(Debug, Serialize)]
pub struct ErrorEntry {
    /// The file.
    #[serde(flatten)]
    pub path: FilePath,
    /// `walk`, `read` or `decode`.
    pub stage: &'static str,
    /// What kind of problem it is ([`crate::error::FileErrorKind::name`]): `io`,
    /// `unsupported`, `needs_tool`, `limit`, `timeout`, `corrupt`, `decoder_panic`,
    /// `encrypted`, `access_denied` or `remote`.
    pub kind: &'static str,
    /// Why.
    pub reason: String,
    /// Bucket objects only: the size the store declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A file deliberately not screened.
#[derive(Debug, Serialize)]
pub struct Skipped {
    /// The file.
    #[serde(flatten)]
    pub path: FilePath,
    /// Why.
    pub reason: String,
    /// Bucket objects only: the size the store declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A file whose PDQ hash was too low in quality to match.
#[derive(Debug, Serialize)]
pub struct LowQuality {
    /// The file.
    #[serde(flatten)]
    pub path: FilePath,
    /// Its PDQ quality.
    pub quality: u8,
}

/// An image with too few keypoints to be matched by orb1 (flat, or tiny).
#[derive(Debug, Serialize)]
pub struct FewKeypoints {
    /// The file.
    #[serde(flatten)]
    pub path: FilePath,
    /// Its keypoint count.
    pub keypoints: usize,
}
