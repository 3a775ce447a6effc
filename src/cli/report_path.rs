//! Where `scan --report` may write: never over what the scan reads (a list, an allowlist,
//! the `--files-from` or key file, a scanned file), by whatever name it is given, and only
//! where it can be created. Must not read any file's contents.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use mediascreen::report;

/// Refuses a `--report` that would replace what the scan reads (a list, an allowlist, the
/// `--files-from` or key file, a file to scan), however it is named: another relative path,
/// a symbolic or a hard link. A file inside a scanned folder is a file to scan; a new report
/// there is written, but left out of the walk. Checks too that the report can be written
/// (see [`report::check_destination`]). Returns the canonical paths the walk leaves out.
pub(super) fn check_report(
    report: &Path,
    inputs: &[(&str, &Path)],
    roots: &[PathBuf],
) -> Result<Vec<PathBuf>> {
    let flag = format!("--report {}", report.display());
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
                     the report outside the folders scanned, or remove the file first)",
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
