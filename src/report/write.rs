//! Writing a report: as pretty JSON to a file, atomically, or to standard output; and
//! checking before a scan starts that the file can be written.
//!
//! Owns the atomic write (a temporary file of unpredictable name beside the target, synced,
//! renamed over it, the folder synced) and what a report path may be: a symbolic link is
//! written through, a device or FIFO written into. Must not decide what a report says, and
//! must not print to the terminal.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tempfile::NamedTempFile;

use super::Report;

impl Report {
    /// Writes the report as pretty JSON to `path`, atomically: into a temporary file beside
    /// it, then renamed over it, so a killed run never leaves half a report where the old one
    /// was. `None` or `-` writes to standard output.
    pub fn write(&self, path: Option<&Path>) -> std::io::Result<()> {
        write_json(self, path)
    }
}

/// Writes `value` as a report is written (see [`Report::write`]).
pub fn write_json(value: &impl Serialize, path: Option<&Path>) -> std::io::Result<()> {
    let mut json = serde_json::to_vec_pretty(value)?;
    json.push(b'\n');
    write_file(&json, path)
}

/// Writes `bytes` (a report, a review page) as a report is written (see [`Report::write`]):
/// atomically to `path`, or to standard output for `None` or `-`.
pub fn write_file(bytes: &[u8], path: Option<&Path>) -> std::io::Result<()> {
    match path {
        Some(p) if p != Path::new("-") => write_atomically(p, bytes),
        // Flushed here, not at exit, where a failed write would go unnoticed.
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).and_then(|()| out.flush())
        }
    }
}

/// The file that writing a report to a path creates or replaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportFiles {
    /// The file written: the path given, or the target of the symbolic link it names. Unless
    /// it is a device or a FIFO, which is written into, the report goes first into a new file
    /// of unpredictable name beside it, which exists only while the report is written.
    pub target: PathBuf,
}

/// Checks that a report can be written to `path` (see [`Report::write`]), so that a scan
/// that cannot keep its results fails before it reads a file rather than after hours: the
/// folder it goes in exists and takes a new file (one is created there and removed), and
/// `path` is not a folder. Returns the file the writing will create or replace.
pub fn check_destination(path: &Path) -> std::io::Result<ReportFiles> {
    use std::io::ErrorKind::{InvalidInput, NotADirectory, NotFound};
    let invalid = |message: String| std::io::Error::new(InvalidInput, message);
    if path.as_os_str().as_encoded_bytes().ends_with(std::path::MAIN_SEPARATOR_STR.as_bytes()) {
        return Err(invalid("names a folder".to_string()));
    }
    let target = link_target(path)?;
    match std::fs::metadata(&target) {
        Ok(m) if m.is_dir() => return Err(invalid("is a folder".to_string())),
        Ok(m) if !m.is_file() => return Ok(ReportFiles { target }),
        Ok(_) => {}
        // Its folder is checked next, for a clearer message.
        Err(e) if matches!(e.kind(), NotFound | NotADirectory) => {}
        Err(e) => return Err(e),
    }
    let folder = folder_of(&target);
    match std::fs::metadata(folder) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(invalid(format!("{} is not a folder", folder.display()))),
        Err(e) if e.kind() == NotFound => {
            return Err(invalid(format!("there is no folder {}", folder.display())));
        }
        Err(e) => return Err(e),
    }
    // Created as the write will create its own, and removed when dropped.
    temporary_beside(&target)?;
    Ok(ReportFiles { target })
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

/// The folder a file at `path` goes in.
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// A new, empty file beside `target` (named `.NAME.RANDOM.tmp`, so a stray one from a killed
/// run is recognisable), removed when dropped unless persisted. Its name cannot be guessed and
/// it is created only if nothing is at that name, so a link planted there is never followed.
fn temporary_beside(target: &Path) -> std::io::Result<NamedTempFile> {
    let name = target.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "report path names no file")
    })?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    // Made by hand rather than by tempfile's own `tempfile_in`, whose errors name the random
    // file (the person reading one knows the report's path, not that), and whose files are
    // owner-only: a report is as readable as any file the user creates (0666 less the umask).
    tempfile::Builder::new().prefix(&prefix).suffix(".tmp").make_in(folder_of(target), |path| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o666);
        options.open(path)
    })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let path = link_target(path)?;
    // A device (`/dev/null`, `/dev/stdout`) or a FIFO: a rename would put a file in its place.
    if std::fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
        return std::fs::OpenOptions::new().write(true).open(&path)?.write_all(bytes);
    }
    let mut temporary = temporary_beside(&path)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(&path).map_err(|e| e.error)?;
    sync_folder(folder_of(&path))
}

/// Makes the rename into `folder` durable: until the folder itself is synced, a crash can
/// leave it naming the old report, or none.
#[cfg(unix)]
fn sync_folder(folder: &Path) -> std::io::Result<()> {
    std::fs::File::open(folder)?.sync_all()
}

/// Elsewhere a folder cannot be opened to be synced; the rename is as durable as the file
/// system makes it.
#[cfg(not(unix))]
fn sync_folder(_folder: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(folder: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_report_replaces_the_old_one_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("report.json");
        std::fs::write(&report, "old").unwrap();
        assert_eq!(check_destination(&report).unwrap(), ReportFiles { target: report.clone() });
        write_json(&serde_json::json!({"a": 1}), Some(&report)).unwrap();
        assert_eq!(std::fs::read_to_string(&report).unwrap(), "{\n  \"a\": 1\n}\n");
        assert_eq!(names(dir.path()), ["report.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // As readable as a file the user creates, not tempfile's owner-only mode.
            let plain = dir.path().join("plain");
            std::fs::File::create(&plain).unwrap();
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(mode(&report), mode(&plain));
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_a_guessable_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        // The name the report was once written to first: `.NAME.PID.tmp`.
        let planted = dir.path().join(format!(".report.json.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let report = dir.path().join("report.json");
        check_destination(&report).unwrap();
        write_json(&serde_json::json!({"a": 1}), Some(&report)).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_link(&planted).unwrap(), victim);
        assert!(std::fs::read_to_string(&report).unwrap().contains("\"a\": 1"));
        let planted_name = planted.file_name().unwrap().to_string_lossy().into_owned();
        let mut expected = vec![planted_name, "report.json".to_string(), "victim".to_string()];
        expected.sort();
        assert_eq!(names(dir.path()), expected);
    }
}
