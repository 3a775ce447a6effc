//! Building a [`Report`] from what a scan found: every file filed under its outcome
//! ([`Files`]), each match with the list entries behind it, and the settings in force.
//!
//! Owns turning the scan's results ([`Scan`], [`FileReport`]) and the context they came from
//! ([`ReportContext`]) into the schema's types, rounding included. Must not call into the
//! scan (the results carry what it decided, the algorithms it computed too), must not look
//! for anything on the machine and must not write: it only fills in data.

use std::path::Path;
use std::time::SystemTime;

use super::redact;
use super::schema::*;
use crate::error::FileError;
use crate::hash::Algorithm;
use crate::hashlist::HashList;
use crate::index::EntryRef;
use crate::matcher::{Match, Matcher};
use crate::options::ScanOptions;
use crate::outcome::{FileReport, FromStore, Outcome, Scan, Stage, Status};

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
        let algorithms = &scan.algorithms;
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
                    heif: context.options.hashing.decoders.heif(),
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
                store: context.options.store.as_ref().map(|s| display(s.0.path())),
                rescreen: None,
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
}

impl Files {
    /// `file` alone, filed: what each streamed form of the report says of it.
    pub(super) fn of(matcher: &Matcher, file: &FileReport) -> Files {
        let mut one = Files::default();
        one.add(matcher, file);
        one
    }

    /// Counts `file` and files it under its outcome.
    pub fn add(&mut self, matcher: &Matcher, file: &FileReport) {
        let path = FilePath::new(file);
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
                let size = path.object.as_ref().map(|o| o.size);
                self.skipped.push(Skipped { path, reason: reason.to_string(), size });
            }
        }
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

impl FilePath {
    pub(super) fn new(file: &FileReport) -> FilePath {
        let bytes = file.path.as_os_str().as_encoded_bytes();
        let path_bytes = std::str::from_utf8(bytes).is_err().then(|| hex::encode(bytes));
        let chain = (!file.chain.is_empty()).then(|| file.chain.clone());
        FilePath {
            path: display(&file.path),
            path_bytes,
            chain,
            context: file.context.as_deref().cloned(),
            object: file.object.as_deref().cloned(),
            from_store: file.from_store.map(FromStore::name),
        }
    }
}

impl ErrorEntry {
    fn new(path: FilePath, stage: Stage, error: &FileError) -> ErrorEntry {
        let (kind, reason) = (error.kind.name(), error.to_string());
        let size = path.object.as_ref().map(|o| o.size);
        ErrorEntry { path, stage: stage.name(), kind, reason, size }
    }
}

/// Paths as text, bytes that are not UTF-8 shown as U+FFFD ([`FilePath::path_bytes`] keeps a
/// scanned file's exact bytes).
fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
