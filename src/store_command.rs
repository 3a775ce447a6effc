//! `mediascreen rescreen` and `mediascreen store stats|prune|merge`: the binary's side of the
//! hash store (opening it, writing the report and the counts, the exit status).

use std::time::{Instant, SystemTime};

use anyhow::{Context, Result};

use mediascreen::report::{DecoderSettings, Report, ReportContext, RescreenSettings};
use mediascreen::scan::ScanOptions;
use mediascreen::{rescreen, store};

use crate::cli::{RescreenConfig, StoreCommand};
use crate::{exit_status, interrupt_flag, ExitStatus, Output};

pub(crate) fn run_rescreen(config: RescreenConfig) -> Result<ExitStatus> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let stop = interrupt_flag();
    let recorded = store::Recorded::read(&config.store)?;
    let (output, matcher) = (Output::of(&config.screening), &config.screening.matcher);
    let mut observer = output.observer(matcher, stop)?;
    let scan = rescreen::rescreen(&recorded, matcher, stop, &mut observer)?;
    let lines = observer.finish(&output)?;
    let mut report = Report::build(
        &ReportContext {
            paths: &[],
            matcher,
            options: &ScanOptions::default(),
            started,
            finished: SystemTime::now(),
            redacted: output.redact.is_some(),
        },
        &scan,
    );
    let settings = &mut report.settings;
    settings.store = Some(config.store.to_string_lossy().into_owned());
    settings.rescreen = Some(RescreenSettings { setups: recorded.setups.clone() });
    let from_store = || "the hashes' setup (settings.rescreen)".to_string();
    settings.decoders = DecoderSettings { jpeg: from_store(), webp: from_store(), heif: None };
    settings.follow_symlinks = false;
    output.write(lines, &report)?;
    output.summary(&report, clock, " recorded in the store");
    if report.files.summary.files == 0 {
        eprintln!(
            "mediascreen: the store {} records no files; scan with --store to fill it",
            config.store.display()
        );
    }
    Ok(exit_status(&report))
}

pub(crate) fn run_store(command: StoreCommand) -> Result<ExitStatus> {
    match command {
        StoreCommand::Stats { store, json } => {
            let stats = store::stats(&store)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&stats)?);
                return Ok(ExitStatus::Clean);
            }
            println!("store      {}  ({:.1} MB)", store.display(), stats.store_bytes as f64 / 1e6);
            println!("files      {}", stats.files);
            println!(
                "contents   {}  ({:.1} MB of files)",
                stats.contents,
                stats.content_bytes as f64 / 1e6
            );
            println!("results    {}  ({} with a decode error kept)", stats.results, stats.errors);
            let hashes: Vec<String> =
                stats.hashes.iter().map(|(a, n)| format!("{a} {n}")).collect();
            println!("hashes     {}", hashes.join(", "));
            println!("scans      {}  ({} unfinished)", stats.scans, stats.unfinished_scans);
            if let Some((at, paths)) = &stats.last_scan {
                println!("last scan  {at}  {paths}");
            }
            for (setup, results) in &stats.setups {
                println!("setup      {results} results: {setup}");
            }
            Ok(ExitStatus::Clean)
        }
        StoreCommand::Prune { store, under, dry_run } => {
            let under = under
                .map(|p| {
                    std::path::absolute(&p).with_context(|| format!("--under {}", p.display()))
                })
                .transpose()?;
            let pruned = store::prune(&store, under.as_deref(), dry_run)?;
            for path in &pruned.paths {
                println!("{}", path.display());
            }
            let verb = if dry_run { "would forget" } else { "forgot" };
            eprintln!(
                "mediascreen: {verb} {} files whose paths are gone and {} contents no file holds; \
                 kept {} files",
                pruned.files, pruned.contents, pruned.kept
            );
            Ok(ExitStatus::Clean)
        }
        StoreCommand::Merge { store, sources } => {
            for merged in store::merge(&store, &sources)? {
                eprintln!(
                    "mediascreen: {}: {} files and {} results merged into {}",
                    merged.source.display(),
                    merged.files,
                    merged.results,
                    store.display()
                );
            }
            Ok(ExitStatus::Clean)
        }
    }
}
