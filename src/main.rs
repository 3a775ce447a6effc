//! The `mediascreen` binary: flags in, library calls, exit status out.

mod cli;

use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result};
use clap::Parser;

use mediascreen::hash::Algorithm;
use mediascreen::hashlist::HashList;
use mediascreen::report::{Report, ReportContext};
use mediascreen::scan;

use cli::{Args, CheckArgs, Command, HashConfig, ListArgs, ListCommand, ScanConfig};

/// The documented exit statuses (see `--help`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExitStatus {
    /// Every file scanned, nothing matched.
    Clean = 0,
    /// Something matched.
    Flagged = 1,
    /// Nothing matched, but the scan was incomplete, or a fatal error.
    Error = 2,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Scan(a) => ScanConfig::from_args(a).and_then(run_scan),
        Command::Hash(a) => HashConfig::from_args(a).and_then(run_hash),
        Command::List(ListArgs { command: ListCommand::Check(a) }) => run_list_check(a),
    };
    match result {
        Ok(status) => ExitCode::from(status as u8),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mediascreen: error: {err:#}");
            ExitCode::from(ExitStatus::Error as u8)
        }
    }
}

fn run_scan(config: ScanConfig) -> Result<ExitStatus> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let scan = scan::scan(&config.paths, &config.matcher, &config.scan);
    let report = Report::build(
        &ReportContext {
            paths: &config.paths,
            matcher: &config.matcher,
            options: &config.scan,
            started,
            finished: SystemTime::now(),
        },
        &scan,
    );
    report.write(config.report.as_deref()).with_context(|| match &config.report {
        Some(p) => format!("writing the report to {}", p.display()),
        None => "writing the report to standard output".to_string(),
    })?;

    let s = &report.summary;
    let scanned = s.clean + s.flagged;
    if !config.quiet {
        eprintln!(
            "mediascreen: {} files ({:.1} MB) in {:.2} s: {} flagged, {} clean, {} errors, {} skipped{}",
            s.files,
            s.bytes as f64 / 1e6,
            clock.elapsed().as_secs_f64(),
            s.flagged,
            s.clean,
            s.errors,
            s.skipped,
            config.report.as_ref().map_or(String::new(), |p| format!("; report: {}", p.display())),
        );
    }
    if scanned == 0 && s.errors == 0 {
        eprintln!("mediascreen: no files were scanned; check the paths given");
    }
    Ok(if s.flagged > 0 {
        ExitStatus::Flagged
    } else if s.errors > 0 || scanned == 0 {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    })
}

fn run_hash(config: HashConfig) -> Result<ExitStatus> {
    let results = scan::for_each_candidate(&config.paths, &config.scan, |candidate| {
        let outcome = match &candidate.kind {
            mediascreen::walk::CandidateKind::File => {
                scan::hash_file(&candidate.path, &config.algorithms, &config.scan.hashing)
            }
            mediascreen::walk::CandidateKind::Skip(reason)
            | mediascreen::walk::CandidateKind::Error(reason) => Err(reason.clone()),
        };
        (candidate.path.clone(), outcome)
    });

    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record(["algorithm", "hash", "id", "label", "quality", "timestamp"])?;
    let mut failed = false;
    for (path, outcome) in results {
        let id = path.to_string_lossy();
        let file = match outcome {
            Ok(file) => file,
            Err(reason) => {
                eprintln!("mediascreen: {id}: {reason}");
                failed = true;
                continue;
            }
        };
        if let Some(reason) = &file.perceptual_error {
            eprintln!("mediascreen: {id}: {reason}");
            failed = true;
        }
        for algorithm in &config.algorithms {
            if *algorithm == Algorithm::Vpdq {
                for frame in file.hashes.video.iter().flat_map(|v| &v.frames) {
                    let (quality, timestamp) =
                        (frame.quality.to_string(), format!("{:.3}", frame.timestamp));
                    let hash = frame.hash.to_hex();
                    out.write_record(["vpdq", &hash, &id, "", &quality, &timestamp])?;
                }
                continue;
            }
            let (hash, quality) = match (algorithm, &file.hashes.pdq) {
                (Algorithm::Pdq, Some(pdq)) => (pdq.hash(), Some(pdq.quality())),
                _ => match file.hashes.values.get(algorithm) {
                    Some(value) => (value.clone(), None),
                    None => continue,
                },
            };
            let quality = quality.map(|q| q.to_string()).unwrap_or_default();
            out.write_record([algorithm.name(), &hash.to_hex(), &id, "", &quality, ""])?;
        }
    }
    out.flush()?;
    Ok(if failed { ExitStatus::Error } else { ExitStatus::Clean })
}

fn run_list_check(args: CheckArgs) -> Result<ExitStatus> {
    let options = args.load.options();
    let mut clean = true;
    for path in &args.files {
        let list = match HashList::load(path, &options) {
            Ok(list) => list,
            Err(err) => {
                println!("{err}");
                clean = false;
                continue;
            }
        };
        let counts: Vec<String> =
            list.counts().iter().map(|(algorithm, n)| format!("{algorithm} {n}")).collect();
        println!(
            "{}: {}, {} entries ({}), {} refused",
            path.display(),
            list.format,
            list.entries.len(),
            counts.join(", "),
            list.refused.len()
        );
        for refusal in &list.refused {
            println!("{}:{}: entry skipped: {}", path.display(), refusal.line, refusal.reason);
        }
        if list.entries.is_empty() {
            println!("{}: the list has no entries", path.display());
        }
        clean &= list.refused.is_empty() && !list.entries.is_empty();
    }
    Ok(if clean { ExitStatus::Clean } else { ExitStatus::Error })
}

/// `mediascreen hash … | head` must end quietly, as other Unix tools do.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause.downcast_ref::<csv::Error>().is_some_and(|e| {
                matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
            })
    })
}
