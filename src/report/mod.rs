//! The JSON scan report: its wire format and how it is written.
//!
//! Owns the report's schema (documented for users in `docs/report-format.md`; any change to
//! it bumps [`SCHEMA_VERSION`]) and writing it atomically. The serialisation types here are
//! separate from the scan's own types so the wire format changes only on purpose. Apart from
//! `started_at`, `finished_at` and `elapsed_ms`, a report depends only on the inputs (and the
//! decoders it names), never on the thread count. Must not print to the terminal: the binary
//! decides what a person sees.

mod formats;
mod merge;
mod printable;
mod redact;

pub use formats::{one_line, CSV_HEADER};
pub use merge::merge;
pub use printable::printable;
pub use redact::PathKey;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::error::FileError;
use crate::hash::Algorithm;
use crate::hashlist::HashList;
use crate::index::EntryRef;
use crate::matcher::{Match, Matcher};
use crate::scan::{FileReport, Outcome, Scan, ScanOptions, Stage, Status};

/// The report's per-file arrays ([`Files`] but its summary), by their JSON names: what the
/// jsonl summary line leaves out and what `report merge` puts back in walk order.
const FILE_ARRAYS: [&str; 6] =
    ["flagged", "errors", "skipped", "low_quality", "few_keypoints", "allowlisted"];

/// Version of the report schema. Bumped on any change a consumer could notice.
pub const SCHEMA_VERSION: u32 = 7;

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
/// JPEGs differ by 0-2 bits between the two.
#[derive(Debug, Serialize)]
pub struct DecoderSettings {
    /// `libjpeg-turbo (libturbojpeg.so.0)` or `built-in (zune-jpeg)`.
    pub jpeg: String,
    /// `libwebp 1.2.4 (libwebp.so.7)` or `built-in (image-webp)`.
    pub webp: String,
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
/// its exact bytes, so that the report still names the file unambiguously.
#[derive(Clone, Debug, Serialize)]
pub struct FilePath {
    /// The path; bytes that are not UTF-8 shown as U+FFFD.
    pub path: String,
    /// The path's bytes in hex, only when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_bytes: Option<String>,
}

impl FilePath {
    fn new(path: &Path) -> FilePath {
        let bytes = path.as_os_str().as_encoded_bytes();
        let path_bytes = std::str::from_utf8(bytes).is_err().then(|| hex::encode(bytes));
        FilePath { path: display(path), path_bytes }
    }
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
    /// `unsupported`, `needs_tool`, `limit`, `timeout`, `corrupt` or `decoder_panic`.
    pub kind: &'static str,
    /// Why.
    pub reason: String,
}

impl ErrorEntry {
    fn new(path: FilePath, stage: Stage, error: &FileError) -> ErrorEntry {
        let (kind, reason) = (error.kind.name(), error.to_string());
        ErrorEntry { path, stage: stage.name(), kind, reason }
    }
}

/// A file deliberately not screened.
#[derive(Debug, Serialize)]
pub struct Skipped {
    /// The file.
    #[serde(flatten)]
    pub path: FilePath,
    /// Why.
    pub reason: String,
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

/// The inputs that a report is built from, besides the per-file results.
pub struct ReportContext<'a> {
    /// Paths scanned, as given.
    pub paths: &'a [std::path::PathBuf],
    /// The matcher used.
    pub matcher: &'a Matcher,
    /// How files were found and hashed.
    pub options: &'a ScanOptions,
    /// When the scan started.
    pub started: SystemTime,
    /// When it finished.
    pub finished: SystemTime,
    /// Whether `paths`, and the paths of the scan's files, were redacted.
    pub redacted: bool,
}

impl Report {
    /// Builds the report for `files`.
    pub fn build(context: &ReportContext<'_>, scan: &Scan) -> Report {
        let matcher = context.matcher;
        let options = matcher.options();
        let algorithms = crate::scan::computed_algorithms(matcher);
        let thresholds = algorithms
            .iter()
            .filter(|a| a.is_perceptual())
            .map(|&a| (a, options.threshold(a)))
            .collect();

        let mut report = Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool { name: "mediascreen", version: env!("CARGO_PKG_VERSION") },
            started_at: humantime::format_rfc3339_millis(context.started).to_string(),
            finished_at: humantime::format_rfc3339_millis(context.finished).to_string(),
            elapsed_ms: context
                .finished
                .duration_since(context.started)
                .map_or(0, |d| d.as_millis() as u64),
            settings: Settings {
                paths: context.paths.iter().map(|p| display(p)).collect(),
                algorithms: algorithms.iter().copied().collect(),
                thresholds,
                rotations: options.rotations,
                pdq_min_quality: options.pdq_min_quality,
                follow_symlinks: context.options.follow_symlinks,
                decoders: DecoderSettings {
                    jpeg: context.options.hashing.decoders.jpeg(),
                    webp: context.options.hashing.decoders.webp(),
                },
                video: algorithms.contains(&Algorithm::Vpdq).then(|| {
                    let (hashing, video) = (&context.options.hashing, &options.video);
                    VideoSettings {
                        seconds_per_hash: hashing.seconds_per_hash,
                        query_pct: video.query_pct,
                        listed_pct: video.listed_pct,
                        min_frames: video.min_frames,
                        min_quality: video.min_quality,
                        max_seconds: hashing.video.max_seconds,
                        timeout_s: hashing.video.timeout.as_secs(),
                        ffmpeg: hashing.ffmpeg.as_ref().map(|f| f.version().to_string()),
                    }
                }),
                flood: FloodSettings {
                    min_files: options.flood_min_files,
                    share: options.flood_share,
                },
                shard: context.options.filter.shard.map(|s| s.to_string()),
                path_redaction: context.redacted.then_some(redact::ALGORITHM),
            },
            lists: matcher.lists().iter().map(ListInfo::new).collect(),
            allowlists: matcher.allowlists().iter().map(ListInfo::new).collect(),
            complete: scan.not_scanned == 0,
            files: Files::default(),
            suspicious: Vec::new(),
        };
        for file in &scan.files {
            report.files.add(matcher, file);
        }
        report.files.summary.not_scanned = scan.not_scanned;
        report.suspicious = scan
            .floods
            .iter()
            .map(|f| Suspicious {
                algorithm: f.algorithm,
                hash: f.hash.to_hex(),
                files: f.files,
                contents: f.contents,
                sources: sources(matcher, &f.sources),
            })
            .collect();
        report
    }

    /// The closing line of `--format jsonl`: the report without the per-file arrays, which
    /// the file lines carried, and with `"type": "summary"`.
    pub fn summary_line(&self) -> String {
        let mut value = serde_json::to_value(self).expect("a report serialises");
        let object = value.as_object_mut().expect("a report is an object");
        for key in FILE_ARRAYS {
            object.shift_remove(key);
        }
        let mut line = serde_json::Map::new();
        line.insert("type".to_string(), "summary".into());
        line.extend(std::mem::take(object));
        serde_json::to_string(&line).expect("a report serialises")
    }

    /// Writes the report as pretty JSON to `path`, atomically: into a temporary file beside
    /// it, then renamed over it, so a killed run never leaves half a report where the old one
    /// was. `None` or `-` writes to standard output.
    pub fn write(&self, path: Option<&Path>) -> std::io::Result<()> {
        write_json(self, path)
    }
}

impl Files {
    /// `file` alone, filed: what each streamed form of the report says of it.
    fn of(matcher: &Matcher, file: &FileReport) -> Files {
        let mut one = Files::default();
        one.add(matcher, file);
        one
    }

    /// Counts `file` and files it under its outcome.
    pub fn add(&mut self, matcher: &Matcher, file: &FileReport) {
        let path = FilePath::new(&file.path);
        self.summary.files += 1;
        match file.outcome.status() {
            Status::Clean => self.summary.clean += 1,
            Status::Flagged => self.summary.flagged += 1,
            Status::Error => self.summary.errors += 1,
            Status::Skipped => self.summary.skipped += 1,
        }
        match &file.outcome {
            Outcome::Scanned { size, media_type, sha256, result, perceptual_error } => {
                self.summary.bytes += size;
                if let Some(quality) = result.pdq_below_quality {
                    self.low_quality.push(LowQuality { path: path.clone(), quality });
                }
                if let Some(keypoints) = result.orb1_too_few {
                    self.few_keypoints.push(FewKeypoints { path: path.clone(), keypoints });
                }
                let entries = |matches: &[Match]| -> Vec<MatchEntry> {
                    matches.iter().map(|m| match_entry(matcher, m)).collect()
                };
                self.summary.allowlisted_matches += result.allowed.len();
                if !result.allowed.is_empty() {
                    self.allowlisted.push(Allowlisted {
                        path: path.clone(),
                        matches: entries(&result.allowed),
                    });
                }
                if result.matches.is_empty() {
                    if let Some(error) = perceptual_error {
                        self.errors.push(ErrorEntry::new(path, Stage::Decode, error));
                    }
                    return;
                }
                let matches = entries(&result.matches);
                self.flagged.push(Flagged {
                    path,
                    size: *size,
                    media_type,
                    sha256: sha256.to_hex(),
                    matches,
                    perceptual_error: perceptual_error.as_ref().map(ToString::to_string),
                });
            }
            Outcome::Error { stage, error } => {
                self.errors.push(ErrorEntry::new(path, *stage, error));
            }
            Outcome::Skipped { reason, over_budget } => {
                self.summary.over_budget += usize::from(*over_budget);
                self.skipped.push(Skipped { path, reason: reason.to_string() });
            }
        }
    }

    /// One `--format jsonl` line for `file`, as it is decided: `"type": "file"`, its path and
    /// `status` (`clean`, `flagged`, `error`, `skipped`), and what the report files under that
    /// outcome (matches, or the error's stage and reason, or why it was skipped). The flood
    /// guard's marks come only with the summary line, since they need the whole scan.
    pub fn line(matcher: &Matcher, file: &FileReport) -> String {
        let mut one = Files::of(matcher, file);
        let status = match file.outcome.status() {
            Status::Clean => "clean",
            Status::Flagged => "flagged",
            Status::Error => "error",
            Status::Skipped => "skipped",
        };
        let mut line = match (one.flagged.pop(), one.errors.pop(), one.skipped.pop()) {
            (Some(flagged), _, _) => serde_json::to_value(flagged),
            (None, Some(error), _) => serde_json::to_value(error),
            (None, None, Some(skipped)) => serde_json::to_value(skipped),
            (None, None, None) => serde_json::to_value(FilePath::new(&file.path)),
        }
        .expect("a file's entry serialises");
        let object = line.as_object_mut().expect("entries are objects");
        if let Outcome::Scanned { size, media_type, sha256, .. } = &file.outcome {
            object.entry("size").or_insert((*size).into());
            object.entry("media_type").or_insert((*media_type).into());
            object.entry("sha256").or_insert(sha256.to_hex().into());
        }
        if let Some(low) = one.low_quality.pop() {
            object.insert("pdq_below_quality".to_string(), low.quality.into());
        }
        if let Some(few) = one.few_keypoints.pop() {
            object.insert("orb1_keypoints".to_string(), few.keypoints.into());
        }
        if let Some(allowed) = one.allowlisted.pop() {
            let matches = serde_json::to_value(allowed.matches).expect("matches serialise");
            object.insert("allowlisted".to_string(), matches);
        }
        let mut out = serde_json::Map::new();
        out.insert("type".to_string(), "file".into());
        out.insert("status".to_string(), status.into());
        out.extend(std::mem::take(object));
        serde_json::to_string(&out).expect("a file's entry serialises")
    }
}

fn match_entry(matcher: &Matcher, m: &Match) -> MatchEntry {
    let sources = sources(matcher, &m.sources);
    let first = sources.first().expect("a match has at least one source");
    MatchEntry {
        algorithm: m.algorithm,
        list: first.list.clone(),
        line: first.line,
        id: first.id.clone(),
        label: first.label.clone(),
        hash: m.hash.to_hex(),
        distance: m.distance,
        threshold: m.threshold,
        quality: m.quality,
        orientation: m.orientation.map(|o| o.name()),
        suspicious: m.suspicious,
        keypoints: m.keypoints.as_ref().and_then(|k| {
            let t = k.transform?;
            Some(KeypointMatch {
                good_matches: k.good,
                inliers: k.inliers,
                scale: round3(t.scale),
                rotation: round2(t.rotation),
                offset: t.offset.map(round2),
            })
        }),
        video: m.video.as_ref().map(|v| {
            let c = v.comparison.as_ref();
            VideoMatch {
                query_pct: c.map(|c| round2(c.query_pct)),
                listed_pct: c.map(|c| round2(c.compared_pct)),
                query_frames: c.map(|c| [c.query_matched, c.query_total]),
                listed_frames: c.map(|c| [c.compared_matched, c.compared_total]),
                time_ranges: v.time_ranges.iter().map(|&(a, b)| [round3(a), round3(b)]).collect(),
            }
        }),
        sources,
    }
}

/// Percentages to 2 decimals, as the vPDQ reference tools print them.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Seconds to 3 decimals, as vPDQ timestamps are printed.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn sources(matcher: &Matcher, refs: &[EntryRef]) -> Vec<Source> {
    refs.iter()
        .map(|at| {
            let list = &matcher.lists()[at.list as usize];
            let row = at.entry as usize;
            Source {
                list: display(&list.path),
                line: list.entries.line(row),
                id: list.entries.id(row).map(str::to_string),
                label: list.entries.label(row).map(str::to_string),
            }
        })
        .collect()
}

impl ListInfo {
    fn new(list: &HashList) -> ListInfo {
        ListInfo {
            path: display(&list.path),
            sha256: list.sha256.to_hex(),
            format: list.format.name(),
            entries: list.counts(),
            refused: list.refused.len(),
            removed: list.removed_counts().into_iter().map(|(kind, n)| (kind.name(), n)).collect(),
        }
    }
}

/// Writes `value` as a report is written (see [`Report::write`]).
pub fn write_json(value: &impl Serialize, path: Option<&Path>) -> std::io::Result<()> {
    let mut json = serde_json::to_vec_pretty(value)?;
    json.push(b'\n');
    match path {
        Some(p) if p != Path::new("-") => write_atomically(p, &json),
        // Flushed here, not at exit, where a failed write would go unnoticed.
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(&json).and_then(|()| out.flush())
        }
    }
}

/// The files that writing a report to a path creates or replaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportFiles {
    /// The file written: the path given, or the target of the symbolic link it names.
    pub target: PathBuf,
    /// The file the report is written to first and then renamed over `target`; `None` when
    /// `target` is a device or a FIFO, which is written into.
    pub temporary: Option<PathBuf>,
}

/// Checks that a report can be written to `path` (see [`Report::write`]), so that a scan
/// that cannot keep its results fails before it reads a file rather than after hours: the
/// folder it goes in exists and takes a new file (one is created there and removed), and
/// `path` is not a folder. Returns the files the writing will create or replace.
pub fn check_destination(path: &Path) -> std::io::Result<ReportFiles> {
    use std::io::ErrorKind::{InvalidInput, NotADirectory, NotFound};
    let invalid = |message: String| std::io::Error::new(InvalidInput, message);
    if path.as_os_str().as_encoded_bytes().ends_with(std::path::MAIN_SEPARATOR_STR.as_bytes()) {
        return Err(invalid("names a folder".to_string()));
    }
    let target = link_target(path)?;
    match std::fs::metadata(&target) {
        Ok(m) if m.is_dir() => return Err(invalid("is a folder".to_string())),
        Ok(m) if !m.is_file() => return Ok(ReportFiles { target, temporary: None }),
        Ok(_) => {}
        // Its folder is checked next, for a clearer message.
        Err(e) if matches!(e.kind(), NotFound | NotADirectory) => {}
        Err(e) => return Err(e),
    }
    let folder = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    match std::fs::metadata(folder) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(invalid(format!("{} is not a folder", folder.display()))),
        Err(e) if e.kind() == NotFound => {
            return Err(invalid(format!("there is no folder {}", folder.display())));
        }
        Err(e) => return Err(e),
    }
    let temporary = temporary_path(&target)?;
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&temporary) {
        Ok(_) => std::fs::remove_file(&temporary)?,
        // Left by an earlier process of the same id: the write replaces it.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    Ok(ReportFiles { target, temporary: Some(temporary) })
}

/// The file a report given as `path` goes to: a link is written through, not replaced by a
/// file.
fn link_target(path: &Path) -> std::io::Result<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            // The target need not exist yet, so it is read, not canonicalised.
            let parent = path.parent().unwrap_or(Path::new("."));
            Ok(parent.join(std::fs::read_link(path)?))
        }
        _ => Ok(path.to_path_buf()),
    }
}

/// The temporary file beside `target` that the report is written to before the rename.
fn temporary_path(target: &Path) -> std::io::Result<PathBuf> {
    let name = target.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "report path names no file")
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    Ok(target.with_file_name(tmp_name))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let path = link_target(path)?;
    // `--report /dev/null`, `/dev/stdout` or a FIFO: a rename would put a file in its place.
    if std::fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
        return std::fs::OpenOptions::new().write(true).open(&path)?.write_all(bytes);
    }
    let tmp = temporary_path(&path)?;
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, &path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Paths as text. Non-UTF-8 names are shown lossily for now.
fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
