//! Command-line flags, and turning them into a [`Config`] once.
//!
//! Owns the clap definitions (the single source of `--help`) and every validation that spans
//! flags. Nothing past [`Config`] sees a raw flag. Loading hash lists happens here, before any
//! file is scanned, so that a bad list stops the run with exit status 2.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args as ClapArgs, Parser, Subcommand};

use mediascreen::decode::video::Ffmpeg;
use mediascreen::hash::Algorithm;
use mediascreen::hashlist::{ListFormat, LoadOptions};
use mediascreen::matcher::{MatchOptions, VideoMatchOptions};
use mediascreen::scan::{HashOptions, ScanOptions};
use mediascreen::walk::Filter;

mod decode_args;
mod help;
mod lists;
mod names;
mod parse;
mod report_path;
mod screen_args;
mod store_args;

pub use decode_args::DecodeArgs;
pub use help::{command, run_man};
use help::{list_format_parser, AlgorithmParser};
use lists::is_stdin;
pub use lists::{read_list, removed_summary};
use names::refused;
pub use names::{described, flag, named};
use parse::{parse_shard, parse_size, parse_threshold};
use report_path::{check_report, check_store};
pub use screen_args::{ScreenArgs, Screening};
pub use store_args::{RescreenArgs, RescreenConfig, StoreArgs, StoreCommand};

const EXIT_CODES: &str = "\
Exit status:
  0    every file was scanned and nothing matched (links, FIFOs, sockets and
       devices are skipped by design and do not count)
  1    at least one file matched a list (even if other files had errors)
  2    nothing matched, but some file could not be scanned or was left out by
       --max-files or --max-scan-size; or standard output could not be written
       (its reader stopped early); or a fatal error (bad arguments, an unreadable
       or malformed list, a list with no entries, a --report that would replace
       an input or a scanned file or cannot be created)
  130  interrupted (Ctrl-C): the report is written, marked incomplete";

const HASH_EXIT_CODES: &str = "\
Exit status:
  0    every file was hashed by each algorithm given that applies to its kind
  2    some file could not be hashed, or only in part (each is named on standard error;
       the rows of the others are written, a valid list); no file gave a hash (the list
       would have no entries); or a fatal error
  130  interrupted (Ctrl-C): the rows of the files hashed so far are written";

/// Screen images and videos against lists of hashes of known-bad content.
#[derive(Debug, Parser)]
#[command(name = "mediascreen", version, about, after_help = EXIT_CODES)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and folders against hash lists and write a report (JSON; text on a
    /// terminal).
    #[command(after_help = EXIT_CODES)]
    Scan(ScanArgs),
    /// Print the hashes of files as a native hash list (CSV) on standard output, and on
    /// standard error what each kind of file got.
    #[command(after_help = HASH_EXIT_CODES)]
    Hash(HashArgs),
    /// Work with hash lists.
    List(ListArgs),
    /// Work with scan reports.
    Report(ReportArgs),
    /// Match every file a hash store recorded against lists, from its stored hashes, without
    /// reading the files (`scan --store` made the store), and write the usual report.
    #[command(after_help = EXIT_CODES)]
    Rescreen(RescreenArgs),
    /// Work with a hash store: count what it holds, forget files that are gone, merge the
    /// stores of shards.
    Store(StoreArgs),
    /// Print how close two files are by every algorithm (and, for PDQ, at which rotation or
    /// mirror image); exit status 1 when they match under the scan's rules and thresholds,
    /// 0 when they do not, 2 when they do not and a file cannot be hashed as a picture or a
    /// video (unreadable, corrupt, truncated, or neither), as a scan would count it.
    Compare(CompareArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on standard
    /// output, e.g. `mediascreen completions bash > /etc/bash_completion.d/mediascreen`.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on standard output, e.g.
    /// `mediascreen man > /usr/local/share/man/man1/mediascreen.1`; with `--dir`, write one
    /// page per command there (mediascreen.1, mediascreen-scan.1, …).
    Man {
        /// The folder to write every page to, instead of the main page to standard output.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Flags shared by every command that walks files.
#[derive(Debug, ClapArgs)]
pub struct WalkArgs {
    /// Files or folders to read, and bucket URLs (`s3://BUCKET/PREFIX`, `gs://…`, `az://…`,
    /// `https://…` for one object). Folders are walked recursively in sorted order, buckets
    /// listed in key order.
    #[arg(required_unless_present_any = ["files_from", "s3_event"], value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also screen the objects named by the S3 event notifications in FILE (`-` for standard
    /// input), as S3 delivers them to Lambda, SQS, SNS or EventBridge: each object at the
    /// version its event names.
    #[arg(long, value_name = "FILE", help_heading = "What to scan")]
    pub s3_event: Option<PathBuf>,
    /// Also read the paths listed in FILE (`-` for standard input), one per line, or
    /// separated by NUL bytes with `--null` (as `find -print0` writes them).
    #[arg(long, value_name = "FILE", help_heading = "What to scan")]
    pub files_from: Option<PathBuf>,
    /// The `--files-from` list is NUL-separated.
    #[arg(long, short = '0', requires = "files_from", help_heading = "What to scan")]
    pub null: bool,
    /// Only files whose path below the folder given matches this glob (`*.jpg`,
    /// `photos/**`). Repeatable: any of them.
    #[arg(long, value_name = "GLOB", help_heading = "What to scan")]
    pub include: Vec<String>,
    /// Leave out files and folders whose path below the folder given matches this glob.
    /// Repeatable. Left-out paths are not read, nor named anywhere.
    #[arg(long, value_name = "GLOB", help_heading = "What to scan")]
    pub exclude: Vec<String>,
    /// `--include` and `--exclude` globs match letters of either case (`*.jpg` takes
    /// `IMG_0001.JPG`); by default they are case-sensitive.
    #[arg(long, help_heading = "What to scan")]
    pub glob_case_insensitive: bool,
    /// Descend at most N levels into the folders given (1: their own files only).
    #[arg(long, value_name = "N", help_heading = "What to scan")]
    pub max_depth: Option<usize>,
    /// Follow symbolic links (by default each is named as skipped).
    #[arg(long, help_heading = "What to scan")]
    pub follow_symlinks: bool,
    /// Worker threads (default: one per CPU). Results do not depend on it.
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0, help_heading = "Performance")]
    pub threads: usize,
    /// Take only slice K (from 0) of N of the files, chosen by a stable hash of each path
    /// below its folder, so that N workers cover every file once without talking to each
    /// other (`mediascreen report merge` joins scans' reports). `auto/N` reads K from
    /// the array-job index: JOB_COMPLETION_INDEX (Kubernetes Indexed Job),
    /// AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch) or SLURM_ARRAY_TASK_ID (Slurm, counted from
    /// SLURM_ARRAY_TASK_MIN).
    #[arg(long, value_name = "K/N", help_heading = "What to scan")]
    pub shard: Option<String>,
    /// Bucket objects fetched at once, ahead of the workers (their bytes wait in at most
    /// 16 MiB).
    #[arg(long, value_name = "N", default_value_t = mediascreen::scan::DEFAULT_IO_CONCURRENCY, help_heading = "Performance")]
    pub io_concurrency: usize,
}

impl WalkArgs {
    /// The paths given, then those of `--files-from`.
    fn paths(&self) -> Result<Vec<PathBuf>> {
        let mut paths = self.paths.clone();
        let Some(list) = &self.files_from else { return Ok(paths) };
        let bytes = if list.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)?;
            bytes
        } else {
            std::fs::read(list)
                .with_context(|| format!("reading --files-from {}", list.display()))?
        };
        let separator = if self.null { b'\0' } else { b'\n' };
        for entry in bytes.split(|&b| b == separator) {
            let entry = if self.null { entry } else { entry.strip_suffix(b"\r").unwrap_or(entry) };
            if !entry.is_empty() {
                paths.push(path_from_bytes(entry)?);
            }
        }
        Ok(paths)
    }

    /// The objects `--s3-event` names (none without it); the records it does not screen
    /// (deletions, test events) are told on standard error.
    fn event_objects(&self) -> Result<Vec<mediascreen::bucket::event::EventObject>> {
        let Some(file) = &self.s3_event else { return Ok(Vec::new()) };
        let bytes = if is_stdin(file) {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)?;
            bytes
        } else {
            std::fs::read(file).with_context(|| format!("reading --s3-event {}", file.display()))?
        };
        let events = mediascreen::bucket::event::parse_events(&bytes)
            .map_err(|e| anyhow::anyhow!("--s3-event {}: {e}", file.display()))?;
        for ignored in &events.ignored {
            eprintln!("mediascreen: --s3-event: {ignored}");
        }
        Ok(events.objects)
    }
}

/// A path from a list's raw bytes: exact on Unix, where a name may be any bytes.
#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> Result<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
}

/// A path from a list's raw bytes, which must be UTF-8 where names are not bytes.
#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> Result<PathBuf> {
    Ok(PathBuf::from(std::str::from_utf8(bytes).context("a --files-from path is not UTF-8")?))
}

/// The ffmpeg the binary decodes with: the one `MEDIASCREEN_FFMPEG` names, else the one on
/// `PATH`. The library reads no environment of its own; this is looked for once per run.
pub fn find_ffmpeg(hashing: &mut HashOptions) {
    hashing.ffmpeg = Ffmpeg::detect();
}

/// [`find_ffmpeg`] for a scan with a hash store: an ffmpeg and ffprobe the store saw, unchanged,
/// are not started again to say their versions.
pub fn find_ffmpeg_remembered(hashing: &mut HashOptions, tools: &mediascreen::store::Tools) {
    hashing.ffmpeg =
        Ffmpeg::detect_asking(&|program| tools.version(program, || Ffmpeg::version_of(program)));
}

#[derive(Debug, ClapArgs)]
pub struct ScanArgs {
    #[command(flatten)]
    pub screen: ScreenArgs,
    #[command(flatten)]
    pub walk: WalkArgs,
    #[command(flatten)]
    pub decode: DecodeArgs,
    /// Scan at most this many files (in walk order); the rest are left out, named under
    /// `skipped`, and make the scan incomplete (exit 2 unless something matched).
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_files: Option<u64>,
    /// Stop scanning once the files scanned (in walk order) add up to this size (bytes; K, M,
    /// G, T suffixes); the rest are left out as with `--max-files`.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Limits")]
    pub max_scan_size: Option<u64>,
    /// Keep what the scan computes in this SQLite hash store (made with mode 0600 if missing;
    /// docs/store-format.md): files it recorded unchanged are not opened, known contents not
    /// decoded. Keep it outside the folders scanned.
    #[arg(long, value_name = "FILE", help_heading = "Performance")]
    pub store: Option<PathBuf>,
}

/// When a file matches; shared by `scan` and `compare`.
#[derive(Debug, ClapArgs)]
pub struct MatchArgs {
    /// Inclusive Hamming threshold for a perceptual algorithm, e.g. `pdq=20` (defaults:
    /// pdq 31, phash/dhash/ahash 8). Repeatable.
    #[arg(long = "threshold", value_name = "ALG=N", value_parser = parse_threshold, help_heading = "Lists and matching")]
    pub thresholds: Vec<(Algorithm, u32)>,
    /// PDQ hashes below this quality (0-100) are not matched perceptually: they come from
    /// flat or tiny images and match unrelated ones.
    #[arg(help_heading = "Lists and matching", long, value_name = "Q", default_value_t = 50,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub pdq_min_quality: u8,
    /// Match PDQ only as the image is stored, not its 7 rotated and mirrored variants.
    #[arg(long, help_heading = "Lists and matching")]
    pub no_rotations: bool,
    /// A scanned video matches a listed one when at least this percentage of its distinct
    /// frames match the listed video's (a clip cut from a listed video)…
    #[arg(
        long,
        value_name = "PERCENT",
        default_value_t = 80.0,
        help_heading = "Lists and matching"
    )]
    pub vpdq_query_pct: f64,
    /// …or at least this percentage of the listed video's frames match it (a listed video
    /// padded into a longer one)…
    #[arg(
        long,
        value_name = "PERCENT",
        default_value_t = 80.0,
        help_heading = "Lists and matching"
    )]
    pub vpdq_listed_pct: f64,
    /// …and at least this many distinct frames of it matched.
    #[arg(long, value_name = "N", default_value_t = 3, help_heading = "Lists and matching")]
    pub vpdq_min_frames: usize,
    /// Video frames below this PDQ quality (0-100), scanned or listed, take no part in
    /// video matching.
    #[arg(help_heading = "Lists and matching", long, value_name = "Q", default_value_t = 50,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub vpdq_min_quality: u8,
}

impl MatchArgs {
    /// The match options, unchecked; the flood guard keeps its defaults (only a scan sets its
    /// bounds).
    fn options(&self, vpdq_interval: f64) -> MatchOptions {
        MatchOptions {
            thresholds: self.thresholds.iter().copied().collect::<BTreeMap<_, _>>(),
            rotations: !self.no_rotations,
            pdq_min_quality: self.pdq_min_quality,
            video: VideoMatchOptions {
                query_pct: self.vpdq_query_pct,
                listed_pct: self.vpdq_listed_pct,
                min_frames: self.vpdq_min_frames,
                min_quality: self.vpdq_min_quality,
                seconds_per_hash: vpdq_interval,
            },
            ..MatchOptions::default()
        }
    }
}

/// The report formats of `scan --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One JSON document.
    Json,
    /// JSON Lines: a line per file as it is decided, then a summary line.
    Jsonl,
    /// For a person: `PATH: FLAGGED pdq d=4/31 (rot90) list=… id=… label=…`, a line per
    /// further match, then the errors and a summary.
    Text,
    /// A row per match of a flagged file, and per other file.
    Csv,
}

/// How hash lists are read; shared by every command that loads lists.
#[derive(Debug, ClapArgs)]
pub struct LoadArgs {
    /// The lists' format, instead of detecting it (docs/hashlist-format.md describes each).
    #[arg(long, value_name = "FORMAT", value_parser = list_format_parser(), help_heading = "Lists and matching")]
    pub list_format: Option<ListFormat>,
    /// The algorithm of list entries whose format does not name it (plain lists of 64-hex
    /// hashes, which may be SHA-256 or PDQ; ThreatExchange CSV named without a type).
    #[arg(long, value_name = "ALG", help_heading = "Lists and matching")]
    pub list_algorithm: Option<Algorithm>,
    /// Stop with status 2 when a list entry is refused (degenerate hash, unsupported
    /// algorithm) instead of skipping it with a warning. Records their publisher withdrew,
    /// deleted or marked false positive are not refusals: they are never matched.
    #[arg(long, help_heading = "Lists and matching")]
    pub strict: bool,
}

impl LoadArgs {
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            format: self.list_format,
            algorithm: self.list_algorithm,
            strict: self.strict,
            allowlist: false,
        }
    }
}

#[derive(Debug, ClapArgs)]
pub struct ListArgs {
    #[command(subcommand)]
    pub command: ListCommand,
}

#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// Load lists and print, per list, its format, entries per algorithm and every problem.
    /// Exit status 0 when every list loads cleanly, 2 otherwise.
    Check(CheckArgs),
}

#[derive(Debug, ClapArgs)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Merge the JSON reports of every shard of one `--shard` scan into the report one
    /// unsharded scan would have written, on standard output or to `--report`. Refuses
    /// reports of other scans, other settings or lists, and missing or repeated shards.
    /// Exit status as `scan` would give for the merged report.
    Merge(MergeArgs),
    /// Make a JSON report into one static HTML page for a person to review (summary, plots,
    /// flagged files grouped by the listed entry they matched, errors and skipped files,
    /// filters, keys, reviewed marks), on standard output or to `-o`: no network, no file
    /// besides itself; docs/review-page.md. Exit status 0 when the page is written, 2 if not.
    Html(HtmlArgs),
}

#[derive(Debug, ClapArgs)]
pub struct HtmlArgs {
    /// The JSON report (`scan --report FILE`, `report merge`, `rescreen`).
    #[arg(value_name = "REPORT")]
    pub report: PathBuf,
    /// Where to write the page; `-` for standard output.
    #[arg(short = 'o', long, value_name = "FILE", default_value = "-")]
    pub output: PathBuf,
    /// Show each flagged still picture from where it lies, in grey and blurred until clicked
    /// (never copied into the page; not for videos, archive members, bucket objects, or a
    /// report with redacted paths). Run from the folder the scan ran in: the report's
    /// relative paths start there.
    #[arg(long)]
    pub previews: bool,
}

impl HtmlArgs {
    /// The page's file (`None` for standard output), checked as a report's is: writable, and
    /// not the report it is made from.
    pub fn page_file(&self) -> Result<Option<&Path>> {
        let page = Some(self.output.as_path()).filter(|p| !is_stdin(p));
        if let Some(page) = page {
            check_report("-o", page, &[("REPORT", &self.report)], &[])?;
        }
        Ok(page)
    }
}

#[derive(Debug, ClapArgs)]
pub struct MergeArgs {
    /// The shards' reports (`scan --shard K/N --report FILE`).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Where to write the merged report; `-` for standard output.
    #[arg(short = 'o', long, value_name = "FILE", default_value = "-", help_heading = "Output")]
    pub report: PathBuf,
}

#[derive(Debug, ClapArgs)]
pub struct CheckArgs {
    /// The lists to check.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, ClapArgs)]
pub struct HashArgs {
    #[command(flatten)]
    pub walk: WalkArgs,
    #[command(flatten)]
    pub decode: DecodeArgs,
    /// Comma-separated algorithms: pdq, vpdq (one row per sampled video frame), phash,
    /// dhash, ahash, md5, sha1, sha256, orb1 (keypoints that match crops of the image; about
    /// 25 KB a row), orb2 (orb1 with fewer keypoints, for long lists: about 19 KB a row, a
    /// third less memory when loaded). Each file gets those that apply to its kind: the
    /// default gives a picture pdq, a video vpdq, an animated GIF or WebP both (its first
    /// frame and its frames), and every file md5, sha1 and sha256. A list given is taken as it
    /// is.
    #[arg(
        help_heading = "Output",
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "pdq,vpdq,md5,sha1,sha256",
        value_parser = AlgorithmParser
    )]
    pub algorithms: Vec<Algorithm>,
    /// Each row's `id`, which scans report with every match. `sha256` keeps names and
    /// folders out of the list and out of the reports of scans against it, `--redact-paths`
    /// or not (a file identical to one already written is then not written again).
    #[arg(long, value_enum, value_name = "FROM", default_value_t = IdFrom::Path, help_heading = "Output")]
    pub id_from: IdFrom,
    /// The `label` of every row (a category, a case, a source), reported with every match.
    #[arg(long, value_name = "TEXT", help_heading = "Output")]
    pub label: Option<String>,
    /// Do not print the summary on standard error.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,
}

/// What `mediascreen hash` writes as each row's `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum IdFrom {
    /// The path as walked: the path given, joined with the path below it.
    Path,
    /// The file name, without its folder.
    Name,
    /// The hex SHA-256 of the file's content.
    Sha256,
}

/// Everything a scan needs, resolved and validated.
pub struct ScanConfig {
    pub paths: Vec<PathBuf>,
    pub scan: ScanOptions,
    pub screening: Screening,
    /// The `--include` globs, for the warning when they matched nothing.
    pub include: Vec<String>,
    /// Whether the globs ignore case.
    pub glob_case_insensitive: bool,
    /// The hash store to open once ffmpeg is found (its setup names ffmpeg's version).
    pub store: Option<PathBuf>,
}

impl ScanConfig {
    pub fn from_args(args: ScanArgs) -> Result<ScanConfig> {
        let paths = args.walk.paths()?;
        let screen = &args.screen;
        let leave_out = screen.check_outputs(&args.inputs(), &paths)?;
        if let Some(store) = &args.store {
            check_store(store, &paths)?;
        }
        let stdin_walk = [&args.walk.files_from, &args.walk.s3_event]
            .into_iter()
            .filter(|p| p.as_deref().is_some_and(is_stdin))
            .count();
        let screening = screen.screening(args.decode.vpdq_interval, stdin_walk)?;
        let mut scan = ScanOptions {
            max_files: args.max_files,
            max_scan_size: args.max_scan_size,
            ..scan_options(&args.walk, &args.decode)?
        };
        scan.filter.leave_out = leave_out;
        Ok(ScanConfig {
            paths,
            scan,
            screening,
            include: args.walk.include.clone(),
            glob_case_insensitive: args.walk.glob_case_insensitive,
            store: args.store.clone(),
        })
    }
}

impl ScanArgs {
    /// The files a scan reads besides those it scans, each with its flag.
    fn inputs(&self) -> Vec<(&'static str, &Path)> {
        let files_from = self.walk.files_from.as_deref().filter(|p| !is_stdin(p));
        let mut inputs = self.screen.inputs();
        inputs.extend(files_from.map(|p| ("--files-from", p)));
        inputs
    }
}

#[derive(Debug, ClapArgs)]
pub struct CompareArgs {
    /// The first file (for vPDQ, the one scanned).
    pub a: PathBuf,
    /// The second file (for vPDQ, the one listed).
    pub b: PathBuf,
    #[command(flatten)]
    pub decode: DecodeArgs,
    #[command(flatten)]
    pub matching: MatchArgs,
}

/// Everything `mediascreen compare` needs.
pub struct CompareConfig {
    pub files: [PathBuf; 2],
    pub hashing: HashOptions,
    pub options: MatchOptions,
}

impl CompareConfig {
    pub fn from_args(args: CompareArgs) -> Result<CompareConfig> {
        for path in [&args.a, &args.b] {
            match fs::metadata(path) {
                Ok(m) if m.is_dir() => bail!(
                    "{}: is a folder; compare takes two files (scan walks folders)",
                    path.display()
                ),
                Ok(m) if !m.is_file() => bail!(
                    "{}: not a regular file (a FIFO, socket or device); compare reads files",
                    path.display()
                ),
                // A missing file is named when it is read.
                _ => {}
            }
        }
        let options = args.matching.options(args.decode.vpdq_interval);
        options.check().map_err(refused)?;
        Ok(CompareConfig { options, hashing: args.decode.options()?, files: [args.a, args.b] })
    }
}

/// Everything `mediascreen hash` needs.
pub struct HashConfig {
    pub paths: Vec<PathBuf>,
    pub scan: ScanOptions,
    pub algorithms: BTreeSet<Algorithm>,
    pub id_from: IdFrom,
    /// The label of every row; empty for none.
    pub label: String,
    pub quiet: bool,
}

impl HashConfig {
    pub fn from_args(args: HashArgs) -> Result<HashConfig> {
        let algorithms: BTreeSet<Algorithm> = args.algorithms.into_iter().collect();
        // A list entry is one line, and its fields are read trimmed.
        let label = args.label.unwrap_or_default().trim().to_string();
        if label.contains(['\n', '\r']) {
            bail!("--label cannot hold a line break: a list entry is one line");
        }
        Ok(HashConfig {
            paths: args.walk.paths()?,
            scan: scan_options(&args.walk, &args.decode)?,
            algorithms,
            id_from: args.id_from,
            label,
            quiet: args.quiet,
        })
    }
}

fn scan_options(walk: &WalkArgs, decode: &DecodeArgs) -> Result<ScanOptions> {
    let shard = walk
        .shard
        .as_deref()
        .map(|text| parse_shard(text, |name| std::env::var(name).ok()))
        .transpose()?;
    Ok(ScanOptions {
        follow_symlinks: walk.follow_symlinks,
        threads: walk.threads,
        filter: Filter {
            shard,
            ..Filter::new(walk.max_depth, &walk.include, &walk.exclude, walk.glob_case_insensitive)?
        },
        hashing: decode.options()?,
        max_files: None,
        max_scan_size: None,
        io_concurrency: walk.io_concurrency,
        objects: walk.event_objects()?,
        store: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("500m"), Ok(500 << 20));
        assert_eq!(parse_size("12345"), Ok(12345));
        assert!(parse_size("1X").is_err());
        assert!(parse_size("G").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn shards_come_from_the_flag_or_the_array_job() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        let shard = |text, vars| parse_shard(text, env(vars)).map(|s| s.to_string());
        assert_eq!(shard("2/7", &[]).unwrap(), "2/7");
        assert_eq!(shard("auto/7", &[("JOB_COMPLETION_INDEX", "3")]).unwrap(), "3/7");
        assert_eq!(shard("auto/7", &[("AWS_BATCH_JOB_ARRAY_INDEX", "6")]).unwrap(), "6/7");
        assert_eq!(
            shard("auto/7", &[("SLURM_ARRAY_TASK_ID", "7"), ("SLURM_ARRAY_TASK_MIN", "1")])
                .unwrap(),
            "6/7"
        );
        assert_eq!(shard("auto/7", &[("SLURM_ARRAY_TASK_ID", "0")]).unwrap(), "0/7");
        assert!(shard("auto/7", &[]).is_err());
        assert!(shard("auto/7", &[("JOB_COMPLETION_INDEX", "7")]).is_err());
        assert!(shard("auto/7", &[("JOB_COMPLETION_INDEX", "x")]).is_err());
    }

    #[test]
    fn thresholds_are_validated() {
        assert_eq!(parse_threshold("PDQ=20"), Ok((Algorithm::Pdq, 20)));
        assert!(parse_threshold("pdq=257").is_err());
        assert!(parse_threshold("phash=65").is_err());
        assert!(parse_threshold("md5=1").is_err());
        assert!(parse_threshold("pdq").is_err());
    }
}
