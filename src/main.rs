//! The `mediascreen` binary: flags in, library calls, exit status out.

mod cli;
mod hash_command;
mod store_command;

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result};
use clap::FromArgMatches;
use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use mediascreen::hash::Algorithm;
use mediascreen::hashlist::{ListFormat, LoadOptions};
use mediascreen::matcher::compare::compare;
use mediascreen::report::{self, printable, Files, PathKey, Report, ReportContext, CSV_HEADER};
use mediascreen::{scan, store};

use cli::{described, flag, named, read_list, removed_summary};
use cli::{
    Args, CheckArgs, Command, CompareConfig, HashConfig, HtmlArgs, ListArgs, ListCommand,
    MergeArgs, ReportArgs, ReportCommand, ReportFormat, RescreenConfig, ScanConfig, StoreArgs,
};

/// The documented exit statuses (see `--help`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExitStatus {
    /// Every file scanned, nothing matched.
    Clean = 0,
    /// Something matched.
    Flagged = 1,
    /// Nothing matched, but the scan was incomplete, or a fatal error.
    Error = 2,
    /// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
    Interrupted = 130,
}

/// A scan's counts, as its report's `summary` gives them: what its exit status is decided by.
struct Counts {
    clean: u64,
    flagged: u64,
    errors: u64,
    over_budget: u64,
}

impl ExitStatus {
    /// The status a scan's counts call for (an interrupted scan aside). A match outranks
    /// everything. Otherwise a file not screened makes the scan incomplete: an error, or a
    /// file left out by `--max-files` or `--max-scan-size`; links, FIFOs, sockets and devices
    /// are skipped by design, never screened, and do not count. Nor may a scan that screened
    /// nothing pass.
    fn of(counts: &Counts) -> ExitStatus {
        if counts.flagged > 0 {
            ExitStatus::Flagged
        } else if counts.errors > 0 || counts.over_budget > 0 || counts.clean == 0 {
            ExitStatus::Error
        } else {
            ExitStatus::Clean
        }
    }
}

fn main() -> ExitCode {
    mediascreen::allocator::tune_malloc();
    // A decoder that panics on a hostile file is caught, and the file reported as an error
    // with the panic's message; the default hook would print it on stderr too, with a
    // backtrace, as if mediascreen had crashed.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() != Some(mediascreen::decode::DECODE_THREAD) {
            default_hook(info);
        }
    }));
    let args = match Args::from_arg_matches(&cli::command().get_matches()) {
        Ok(args) => args,
        Err(err) => err.exit(),
    };
    let result = match args.command {
        Command::Scan(a) => ScanConfig::from_args(a).and_then(run_scan),
        Command::Hash(a) => HashConfig::from_args(a).and_then(hash_command::run_hash),
        Command::List(ListArgs { command: ListCommand::Check(a) }) => run_list_check(a),
        Command::Report(ReportArgs { command: ReportCommand::Merge(a) }) => run_report_merge(a),
        Command::Report(ReportArgs { command: ReportCommand::Html(a) }) => run_report_html(a),
        Command::Compare(a) => CompareConfig::from_args(a).and_then(run_compare),
        Command::Rescreen(a) => RescreenConfig::from_args(a).and_then(store_command::run_rescreen),
        Command::Store(StoreArgs { command }) => store_command::run_store(command),
        Command::Completions { shell } => {
            let mut command = cli::command();
            clap_complete::generate(shell, &mut command, "mediascreen", &mut std::io::stdout());
            Ok(ExitStatus::Clean)
        }
        Command::Man { dir } => cli::run_man(dir.as_deref()).map(|()| ExitStatus::Clean),
    };
    match result {
        Ok(status) => ExitCode::from(status as u8),
        // Whoever reads the output (`| head`) stopped before its end, so a gate must not take
        // what it read as the whole answer.
        Err(err) if is_broken_pipe(&err) => {
            eprintln!("mediascreen: error: {err:#}: the output was cut short (its reader stopped)");
            ExitCode::from(ExitStatus::Error as u8)
        }
        Err(err) => {
            eprintln!("mediascreen: error: {err:#}");
            ExitCode::from(ExitStatus::Error as u8)
        }
    }
}

/// What the binary does with each file as the scan decides it: its line in the streamed
/// report forms (`jsonl`, `text`, `csv`), and the progress bar on a terminal.
struct Observer<'a> {
    matcher: &'a mediascreen::matcher::Matcher,
    format: ReportFormat,
    lines: Option<Box<dyn Write>>,
    progress: Option<ProgressBar>,
    /// The lines and the bar share a terminal: the bar must be off the screen while a line is
    /// written, or what it drew stays in front of the line.
    lines_on_terminal: bool,
    flagged: usize,
    bytes: u64,
    stop: &'a AtomicBool,
    error: Option<std::io::Error>,
    redact: Option<&'a PathKey>,
}

impl scan::Observer for Observer<'_> {
    fn walked(&mut self, paths: usize) {
        if let Some(progress) = &self.progress {
            progress.set_length(paths as u64);
            progress.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} files, {msg} [{rate}, ETA {eta}]",
                )
                .expect("the template is valid")
                .with_key(
                    "rate",
                    |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                        let _ = write!(out, "{:.0} files/s", state.per_sec());
                    },
                ),
            );
        }
    }

    fn warning(&mut self, text: &str) {
        eprintln!("mediascreen: warning: {}", printable(text));
    }

    fn file(&mut self, file: &mut scan::FileReport) {
        // Redacted once, here: every form of the report then only ever sees the hash.
        if let Some(key) = self.redact {
            key.redact_file(file);
        }
        file.outcome.name_settings(flag);
        if let Some(progress) = &self.progress {
            self.flagged += usize::from(file.outcome.status() == scan::Status::Flagged);
            if let scan::Outcome::Scanned { size, .. } = &file.outcome {
                self.bytes += size;
            }
            let megabytes = self.bytes as f64 / 1e6;
            progress.set_message(format!("{megabytes:.1} MB, {} flagged", self.flagged));
            // The bar counts the files the walk found; an archive's members are not among them.
            if file.chain.len() <= 1 {
                progress.inc(1);
            }
        }
        let Some(out) = self.lines.as_mut().filter(|_| self.error.is_none()) else { return };
        let bytes = match self.format {
            ReportFormat::Json => return,
            ReportFormat::Jsonl => format!("{}\n", Files::line(self.matcher, file)).into_bytes(),
            ReportFormat::Text => match Files::text_line(self.matcher, file) {
                Some(line) => format!("{line}\n").into_bytes(),
                None => return,
            },
            ReportFormat::Csv => {
                Files::csv_rows(self.matcher, file).iter().flat_map(|row| csv_line(row)).collect()
            }
        };
        let mut write = || out.write_all(&bytes).and_then(|()| out.flush());
        let written = match &self.progress {
            Some(progress) if self.lines_on_terminal => progress.suspend(write),
            _ => write(),
        };
        if let Err(e) = written {
            // Nobody is reading any more (a closed pipe, a full disk): stop scanning too.
            self.stop.store(true, Ordering::Relaxed);
            self.error = Some(e);
        }
    }
}

fn run_scan(mut config: ScanConfig) -> Result<ExitStatus> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let stop = interrupt_flag();
    match &config.store {
        Some(path) => {
            let hashing = &mut config.scan.hashing;
            let opened = store::Store::for_scan(path, &config.paths, |tools| {
                cli::find_ffmpeg_remembered(hashing, tools);
                store::setup(hashing)
            })?;
            config.scan.store = Some(store::Shared(std::sync::Arc::new(opened)));
        }
        None => cli::find_ffmpeg(&mut config.scan.hashing),
    }
    let (output, matcher) = (Output::of(&config.screening), &config.screening.matcher);
    let mut observer = output.observer(matcher, stop)?;
    let scan = scan::scan_streaming(&config.paths, matcher, &config.scan, stop, &mut observer);
    let lines = observer.finish(&output)?;
    let paths: Vec<_> = match output.redact {
        Some(key) => config.paths.iter().map(|p| key.redact(p)).collect(),
        None => config.paths.clone(),
    };
    let report = Report::build(
        &ReportContext {
            paths: &paths,
            matcher,
            options: &config.scan,
            started,
            finished: SystemTime::now(),
            redacted: output.redact.is_some(),
        },
        &scan,
    );
    output.write(lines, &report)?;

    // The report stands without the store; a store left behind is the operator's to fix,
    // so a scan that found nothing says so with exit 2.
    let store_failed = config.scan.store.as_ref().and_then(|store| store.0.finish().err());
    if let Some(e) = &store_failed {
        eprintln!("mediascreen: error: the store could not be written (the report stands): {e}");
    }
    let s = &report.files.summary;
    output.summary(&report, clock, "");
    if s.over_budget > 0 {
        let flags: Vec<String> = [
            config.scan.max_files.map(|n| format!("--max-files ({n})")),
            config.scan.max_scan_size.map(|n| format!("--max-scan-size ({n} bytes)")),
        ]
        .into_iter()
        .flatten()
        .collect();
        let files = if s.over_budget == 1 { "file" } else { "files" };
        eprintln!(
            "mediascreen: warning: {} {files} left out by {}: not screened, so the scan is \
             incomplete (they are under `skipped` in the report)",
            s.over_budget,
            flags.join(" and ")
        );
    } else if s.clean + s.flagged == 0 && s.errors == 0 {
        eprintln!("mediascreen: no files were scanned; check the paths given");
        if !config.include.is_empty() && !config.glob_case_insensitive {
            eprintln!(
                "mediascreen: warning: no file matched --include {}: globs are case-sensitive \
                 (IMG_0001.JPG is not *.jpg); --glob-case-insensitive ignores case",
                config.include.join(", --include ")
            );
        }
    }
    let status = exit_status(&report);
    Ok(match (status, store_failed) {
        (ExitStatus::Clean, Some(_)) => ExitStatus::Error,
        _ => status,
    })
}

/// The exit status a report's counts call for; an interrupted run says so first.
fn exit_status(report: &Report) -> ExitStatus {
    let s = &report.files.summary;
    if !report.complete {
        eprintln!(
            "mediascreen: interrupted: {} files not scanned; the report says so",
            s.not_scanned
        );
        return ExitStatus::Interrupted;
    }
    ExitStatus::of(&Counts {
        clean: s.clean as u64,
        flagged: s.flagged as u64,
        errors: s.errors as u64,
        over_budget: s.over_budget as u64,
    })
}

/// Where and how a screening's report goes (`scan`, `rescreen`).
struct Output<'a> {
    format: ReportFormat,
    /// `None` is standard output.
    report: Option<&'a Path>,
    quiet: bool,
    redact: Option<&'a PathKey>,
    /// The review page's file (`--html`), and whether it shows previews.
    html: Option<&'a Path>,
    previews: bool,
}

impl<'a> Output<'a> {
    fn of(screening: &'a cli::Screening) -> Output<'a> {
        Output {
            format: screening.format,
            report: screening.report.as_deref(),
            quiet: screening.quiet,
            redact: screening.redact.as_ref(),
            html: screening.html.as_deref(),
            previews: screening.previews,
        }
    }

    fn destination(&self) -> String {
        match self.report {
            Some(p) => format!("writing the report to {}", p.display()),
            None => "writing the report to standard output".to_string(),
        }
    }

    /// The observer that streams each file's line (every form but JSON goes out as each file
    /// is decided, flushed line by line, so whatever a killed run leaves behind is whole
    /// lines) and draws the progress bar.
    fn observer<'m>(
        &self,
        matcher: &'m mediascreen::matcher::Matcher,
        stop: &'m AtomicBool,
    ) -> Result<Observer<'m>>
    where
        'a: 'm,
    {
        let mut lines: Option<Box<dyn Write>> = match self.format {
            ReportFormat::Json => None,
            _ => Some(match self.report {
                Some(path) => Box::new(File::create(path).with_context(|| self.destination())?),
                None => Box::new(std::io::stdout()),
            }),
        };
        if let (ReportFormat::Csv, Some(out)) = (self.format, lines.as_mut()) {
            out.write_all(&csv_line(&CSV_HEADER)).with_context(|| self.destination())?;
        }
        let progress =
            (!self.quiet && std::io::stderr().is_terminal()).then(ProgressBar::no_length);
        Ok(Observer {
            matcher,
            format: self.format,
            lines_on_terminal: self.report.is_none() && std::io::stdout().is_terminal(),
            lines,
            progress,
            flagged: 0,
            bytes: 0,
            stop,
            error: None,
            redact: self.redact,
        })
    }

    /// Writes the report: the closing lines of a streamed form, or the JSON document; then
    /// the review page, if one is asked for.
    fn write(&self, lines: Option<Box<dyn Write>>, report: &Report) -> Result<()> {
        let closing = match self.format {
            ReportFormat::Json => None,
            ReportFormat::Jsonl => Some(format!("{}\n", report.summary_line())),
            ReportFormat::Text => Some(report.text_summary() + &text_next_line(report)),
            ReportFormat::Csv => Some(String::new()),
        };
        match (lines, closing) {
            (Some(mut out), Some(closing)) => {
                out.write_all(closing.as_bytes()).and_then(|()| out.flush())
            }
            _ => report.write(self.report),
        }
        .with_context(|| self.destination())?;
        let Some(html) = self.html else { return Ok(()) };
        let report = serde_json::to_value(report).expect("a report serialises");
        write_page("the report", &report, Some(html), self.previews)
    }

    /// The one-line summary on standard error, and on a terminal what to do next.
    fn summary(&self, report: &Report, clock: Instant, source: &str) {
        let s = &report.files.summary;
        if !self.quiet {
            eprintln!(
                "mediascreen: {} files{source} ({:.1} MB) in {:.2} s: {} flagged, {} clean, {} errors, {} skipped{}{}",
                s.files,
                s.bytes as f64 / 1e6,
                clock.elapsed().as_secs_f64(),
                s.flagged,
                s.clean,
                s.errors,
                s.skipped,
                self.report.map_or(String::new(), |p| format!("; report: {}", p.display())),
                self.html.map_or(String::new(), |p| format!("; review page: {}", p.display())),
            );
        }
        if !self.quiet && std::io::stderr().is_terminal() {
            if let Some(step) = self.report.and_then(|path| next_step(self.format, path, s.flagged))
            {
                eprintln!("mediascreen: {step}");
            }
        }
    }
}

impl Observer<'_> {
    /// Clears the progress bar and hands back the streamed lines' writer, or the error that
    /// stopped the run.
    fn finish(mut self, output: &Output<'_>) -> Result<Option<Box<dyn Write>>> {
        if let Some(progress) = &self.progress {
            progress.finish_and_clear();
        }
        if let Some(e) = self.error.take() {
            return Err(anyhow::Error::new(e).context(output.destination()));
        }
        Ok(self.lines)
    }
}

/// The last line of `--format text`: what the scan leaves a person to do, and, since a text
/// report is never also a JSON one, how to get that.
fn text_next_line(report: &Report) -> String {
    let mut json = "for a JSON report, scan with --format json --report report.json".to_string();
    if report.files.summary.flagged > 0 {
        json.push_str(", then `jq -r '.flagged[].path' report.json` lists the flagged files");
    }
    format!("Next: {}; {json}.\n", report.next_steps(flag).join("; "))
}

/// For a person at the terminal: where the flagged files of the report just written to `path`
/// are, and for the JSON forms the `jq` that lists them. Nothing when nothing matched, or when
/// `path` is no file to open (`/dev/null`).
fn next_step(format: ReportFormat, path: &Path, flagged: usize) -> Option<String> {
    if flagged == 0 || !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let see = format!("{flagged} flagged: see {}", path.display());
    let filter = match format {
        ReportFormat::Json => "'.flagged[].path'",
        ReportFormat::Jsonl => r#"'select(.status == "flagged") | .path'"#,
        ReportFormat::Text | ReportFormat::Csv => return Some(see),
    };
    Some(format!("{see}, or list them with `jq -r {filter} {}`", shell_word(path)))
}

/// `path` as one shell word, quoted only when it has to be, so the command can be pasted.
fn shell_word(path: &Path) -> String {
    let text = path.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:=@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// A JSON report read from `path`, with the name its messages give it.
fn read_report(path: &Path) -> Result<(String, serde_json::Value)> {
    let name = path.display().to_string();
    let text = std::fs::read(path).with_context(|| format!("reading {name}"))?;
    let report = serde_json::from_slice(&text).with_context(|| format!("{name}: not JSON"))?;
    Ok((name, report))
}

fn run_report_merge(args: MergeArgs) -> Result<ExitStatus> {
    let reports = args.files.iter().map(|path| read_report(path)).collect::<Result<Vec<_>>>()?;
    let merged = report::merge(&reports).map_err(named)?;
    let destination = Some(args.report.as_path()).filter(|p| p.as_os_str() != "-");
    report::write_json(&merged, destination).context("writing the merged report")?;
    let count = |key: &str| merged["summary"][key].as_u64().unwrap_or(0);
    if merged["complete"] != true {
        return Ok(ExitStatus::Error);
    }
    Ok(ExitStatus::of(&Counts {
        clean: count("clean"),
        flagged: count("flagged"),
        errors: count("errors"),
        over_budget: count("over_budget"),
    }))
}

fn run_report_html(args: HtmlArgs) -> Result<ExitStatus> {
    let page = args.page_file()?;
    let (name, report) = read_report(&args.report)?;
    write_page(&name, &report, page, args.previews)?;
    Ok(ExitStatus::Clean)
}

/// Writes the review page of `report` (called `name` in messages) to `page` (`None`: standard
/// output). Previews refer to the files from the page's folder, and to the report's relative
/// paths from the current one, where the scan ran; on standard output, by absolute `file://`
/// URLs.
fn write_page(
    name: &str,
    report: &serde_json::Value,
    page: Option<&Path>,
    previews: bool,
) -> Result<()> {
    let previews = if previews {
        Some(report::Previews {
            scanned_from: std::env::current_dir().context("the current folder")?,
            page_folder: page.map(|p| match p.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => ".".into(),
            }),
        })
    } else {
        None
    };
    let html =
        report::review_page(report, previews.as_ref()).map_err(named).context(name.to_string())?;
    let to = page.map_or("standard output".into(), |p| p.display().to_string());
    report::write_file(html.as_bytes(), page)
        .with_context(|| format!("writing the review page to {to}"))
}

/// One CSV record, quoted as needed, with its line end.
fn csv_line<S: AsRef<[u8]>>(fields: &[S]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(fields).expect("writing to memory cannot fail");
    writer.into_inner().expect("writing to memory cannot fail")
}

/// A flag that Ctrl-C sets, so the scan stops taking new files and reports what it has. A
/// second Ctrl-C ends the process at once.
fn interrupt_flag() -> &'static AtomicBool {
    static STOP: AtomicBool = AtomicBool::new(false);
    let installed = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(ExitStatus::Interrupted as i32);
        }
        eprintln!(
            "mediascreen: interrupted: finishing the files in progress (Ctrl-C again to quit now)"
        );
    });
    if let Err(e) = installed {
        eprintln!("mediascreen: warning: Ctrl-C will end the scan without a report: {e}");
    }
    &STOP
}

fn run_compare(mut config: CompareConfig) -> Result<ExitStatus> {
    cli::find_ffmpeg(&mut config.hashing);
    let algorithms = Algorithm::ALL.into_iter().collect();
    let mut hashed = Vec::new();
    let mut incomplete = false;
    for path in &config.files {
        let name = path.to_string_lossy();
        let file = scan::hash_file(path, &algorithms, &config.hashing).map_err(|error| {
            anyhow::anyhow!("{}: {}", printable(&name), printable(&described(&error)))
        })?;
        // compare is asked how alike two files look: one with no perceptual hash cannot say,
        // whereas a scan takes a file that is no picture or video as clean on its digests.
        let reason = file.perceptual_error.as_ref().map(described).or_else(|| {
            (file.hashes.pdq.is_none() && file.hashes.video.is_none()).then(|| {
                format!(
                    "not a picture or a video ({} by its content): only its digests were compared",
                    file.media_type
                )
            })
        });
        if let Some(reason) = reason {
            eprintln!("mediascreen: {}: {}", printable(&name), printable(&reason));
            incomplete = true;
        }
        hashed.push(file);
    }
    let destination = "writing to standard output";
    let mut out = std::io::stdout().lock();
    for ((name, path), file) in ["A", "B"].into_iter().zip(&config.files).zip(&hashed) {
        let path = printable(&path.to_string_lossy()).into_owned();
        writeln!(out, "{name}: {path} ({})", file.media_type).context(destination)?;
    }
    let comparisons = compare(&hashed[0].hashes, &hashed[1].hashes, &config.options);
    for comparison in &comparisons {
        writeln!(out, "{comparison}").context(destination)?;
    }
    out.flush().context(destination)?;
    // A match outranks an error, as in a scan.
    Ok(if comparisons.iter().any(|c| c.matched) {
        ExitStatus::Flagged
    } else if incomplete {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    })
}

fn run_list_check(args: CheckArgs) -> Result<ExitStatus> {
    // Any list may be checked, an allowlist too: it says which it is.
    let options = LoadOptions { allowlist: true, ..args.load.options() };
    let mut clean = true;
    for path in &args.files {
        let list = match read_list(path, &options) {
            Ok(list) => list,
            Err(err) => {
                println!("{err}");
                clean = false;
                continue;
            }
        };
        let counts: Vec<String> =
            list.counts().iter().map(|(algorithm, n)| format!("{algorithm} {n}")).collect();
        let removed = match list.removed.len() {
            0 => String::new(),
            _ => format!(
                ", {} removed by the publisher ({})",
                list.removed.len(),
                removed_summary(&list)
            ),
        };
        println!(
            "{}: {}{}, {} entries ({}), {} refused{removed}",
            path.display(),
            list.format,
            if list.format == ListFormat::ClamAvFp {
                " (an allowlist: use it with --allow)"
            } else {
                ""
            },
            list.entries.len(),
            counts.join(", "),
            list.refused.len(),
        );
        // One line a record, in file order, so a person can find each in the list.
        let mut lines: Vec<(u64, String)> = list
            .refused
            .iter()
            .map(|r| (r.line, format!("entry skipped: {}", r.reason)))
            .chain(
                list.removed
                    .iter()
                    .map(|r| (r.line, format!("not matched, {}: {}", r.removal, r.reason))),
            )
            .collect();
        lines.sort_by_key(|(line, _)| *line);
        for (line, text) in lines {
            println!("{}:{line}: {text}", path.display());
        }
        if list.entries.is_empty() {
            println!("{}: the list has no entries", path.display());
        }
        clean &= list.refused.is_empty() && !list.entries.is_empty();
    }
    Ok(if clean { ExitStatus::Clean } else { ExitStatus::Error })
}

/// Whether `err` is a write to a pipe that nobody reads any more.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause.downcast_ref::<csv::Error>().is_some_and(|e| {
                matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_quoted_for_the_shell_only_when_it_must_be() {
        assert_eq!(shell_word(Path::new("out/report-1.json")), "out/report-1.json");
        assert_eq!(shell_word(Path::new("my report.json")), "'my report.json'");
        assert_eq!(shell_word(Path::new("it's.json")), r"'it'\''s.json'");
    }
}
