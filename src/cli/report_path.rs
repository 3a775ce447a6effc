//! Where `scan --report` and `--html` may write: never over what the scan reads (a list, an
//! allowlist, the `--files-from` or key file, a scanned file), nor over each other, by
//! whatever name they are given, and only where they can be created. Must not read any file's
//! contents.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use mediascreen::report;

/// Checks the report (`--report`) and review page (`--html`) a screening writes, if any,
/// as [`check_report`] does, and that they are not one file. Returns the canonical paths the
/// walk leaves out.
pub(super) fn check_outputs(
    report: Option<&Path>,
    html: Option<&Path>,
    inputs: &[(&str, &Path)],
    roots: &[PathBuf],
) -> Result<Vec<PathBuf>> {
    if let (Some(report), Some(html)) = (report, html) {
        let location = |path| canonical_location(path).ok();
        if same_file(report, html) || location(report).is_some_and(|r| location(html) == Some(r)) {
            bail!("--html {} is the --report: give the page a file of its own", html.display());
        }
    }
    let mut leave_out = Vec::new();
    for (flag, output) in [("--report", report), ("--html", html)] {
        if let Some(output) = output {
            leave_out.extend(check_report(flag, output, inputs, roots)?);
        }
    }
    Ok(leave_out)
}

/// Refuses an output file (`flag`, the report or review page) that would replace what is
/// read (a list, an allowlist, the `--files-from` or key file, a file to scan), however it is
/// named: another relative path, a symbolic or a hard link. A file inside a scanned folder is
/// a file to scan; a new one there is written, but left out of the walk. Checks too that it
/// can be written (see [`report::check_destination`]). Returns the canonical paths the walk
/// leaves out.
pub(super) fn check_report(
    flag: &str,
    report: &Path,
    inputs: &[(&str, &Path)],
    roots: &[PathBuf],
) -> Result<Vec<PathBuf>> {
    let flag = format!("{flag} {}", report.display());
    let files = report::check_destination(report).with_context(|| flag.clone())?;
    let refuse = |what: String| anyhow!("{flag} is {what}: refusing to overwrite it");
    for (input_flag, input) in inputs {
        if same_file(report, input) {
            return Err(refuse(format!("the {input_flag} {}", input.display())));
        }
    }
    let target = canonical_location(&files.target).with_context(|| flag.clone())?;
    let mut inside = None;
    for root in roots {
        let Ok(metadata) = fs::metadata(root) else { continue };
        if metadata.is_file() && same_file(report, root) {
            return Err(refuse(format!("a file to scan ({})", root.display())));
        }
        if metadata.is_dir() && fs::canonicalize(root).is_ok_and(|root| target.starts_with(root)) {
            if fs::metadata(&files.target).is_ok_and(|m| m.is_file()) {
                bail!(
                    "{flag} is a file in the scanned folder {}: refusing to overwrite it (write \
                     it outside the folders scanned, or remove the file first)",
                    root.display()
                );
            }
            inside = inside.or(Some(root));
        }
    }
    if let Some(root) = inside {
        eprintln!(
            "mediascreen: note: {flag} is inside the scanned folder {}: it is written there \
             and left out of the scan",
            root.display()
        );
    }
    let mut leave_out = vec![target];
    // Through links to a link, a streamed report is written where the last one points.
    leave_out.extend(fs::canonicalize(report).ok());
    Ok(leave_out)
}

/// Refuses a `--store` that a scan of `roots` would write into (the scanned tree is never
/// written to) or would scan.
pub(super) fn check_store(store: &Path, roots: &[PathBuf]) -> Result<()> {
    let flag = format!("--store {}", store.display());
    let target = canonical_location(store).with_context(|| flag.clone())?;
    for root in roots {
        let Ok(canonical) = fs::canonicalize(root) else { continue };
        if target.starts_with(&canonical) || same_file(store, root) {
            bail!(
                "{flag} is inside the scanned {}: keep the store outside the folders scanned \
                 (a scan never writes into what it screens)",
                root.display()
            );
        }
    }
    Ok(())
}

/// The canonical path of `path`, which need not exist yet (its folder must).
fn canonical_location(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().context("the path names no file")?;
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    Ok(fs::canonicalize(folder)?.join(name))
}

/// Whether `a` and `b` both exist and are one file, after links.
#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let id = |path: &Path| fs::metadata(path).map(|m| (m.dev(), m.ino())).ok();
    id(a).is_some_and(|a| id(b) == Some(a))
}

/// Whether `a` and `b` both exist and are one file, after links.
#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    let id = |path: &Path| fs::canonicalize(path).ok();
    id(a).is_some_and(|a| id(b) == Some(a))
}
