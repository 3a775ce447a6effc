//! The exit status a gate relies on, and writes that never replace evidence (issue 22, "Exit
//! status and writes: correctness"): a `--report` that is an input is refused before the
//! scan; one that cannot be written fails before the first file is read; a write error on
//! standard output (a reader that stopped early) is exit 2; files a budget leaves out make
//! the scan incomplete; `compare` exits 2 when a file cannot be hashed as a picture or video.
//! Each test asserts the status and what is on disk afterwards.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::Value;

mod run;
use run::{command_in, report, root, stderr};

fn fixture(path: &str) -> PathBuf {
    root().join("fixtures").join(path)
}

/// Runs the binary in `dir`, so that paths can be given relative to it.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    command_in(dir).args(args).output().expect("the binary runs")
}

/// Every file under `dir` (links not followed) with its bytes; links as their target.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_symlink() {
                let target = fs::read_link(&path).unwrap();
                out.insert(path, target.into_os_string().into_encoded_bytes());
            } else {
                out.insert(path.clone(), fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// A scratch folder holding `ex2/` (edited copies of listed photographs: a scan flags them),
/// `clean/` (photographs no list entry matches), the demo list as `l.csv`, an allowlist
/// `allow.csv` and a `--files-from` list `files.txt`.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [("screening/edited", "ex2"), ("screening/distinct", "clean")] {
        fs::create_dir(dir.path().join(to)).unwrap();
        for entry in fs::read_dir(fixture(from)).unwrap() {
            let entry = entry.unwrap();
            fs::copy(entry.path(), dir.path().join(to).join(entry.file_name())).unwrap();
        }
    }
    fs::copy(root().join("hashlists/demo.csv"), dir.path().join("l.csv")).unwrap();
    fs::write(dir.path().join("allow.csv"), "md5,00000000000000000000000000000001\n").unwrap();
    fs::write(dir.path().join("files.txt"), "ex2/bridge-cropped.jpg\n").unwrap();
    dir
}

#[test]
fn a_report_that_is_an_input_or_a_scanned_file_is_refused_and_nothing_changes() {
    let dir = workspace();
    let d = dir.path();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("l.csv", d.join("link-to-list.csv")).unwrap();
        std::os::unix::fs::symlink("ex2/bridge-cropped.jpg", d.join("link-to-photo.jpg")).unwrap();
        fs::hard_link(d.join("l.csv"), d.join("hard-link-to-list.csv")).unwrap();
    }
    let absolute = |p: &str| d.join(p).to_str().unwrap().to_string();
    let mut cases: Vec<(Vec<String>, String, &str)> = Vec::new();
    let mut case = |args: &[&str], report: String, says: &'static str| {
        cases.push((args.iter().map(|a| a.to_string()).collect(), report, says));
    };
    let folder = ["ex2", "--list", "l.csv"];
    // The case: a file inside the scanned folder (and flagged by the scan).
    case(&folder, "ex2/bridge-cropped.jpg".into(), "scanned folder ex2");
    case(&folder, "./ex2/../ex2/bridge-rotated-90.jpg".into(), "scanned folder ex2");
    case(&folder, absolute("ex2/pen-small.webp"), "scanned folder ex2");
    // A file given to scan, by another name.
    let one = ["ex2/bridge-cropped.jpg", "--list", "l.csv"];
    case(&one, "./ex2/bridge-cropped.jpg".into(), "a file to scan");
    case(&one, absolute("ex2/bridge-cropped.jpg"), "a file to scan");
    case(
        &["./ex2/bridge-cropped.jpg", "--list", "l.csv"],
        "ex2//bridge-cropped.jpg".into(),
        "a file to scan",
    );
    // The list, the allowlist, the --files-from list, however named.
    case(&folder, "l.csv".into(), "the --list l.csv");
    case(&folder, "./l.csv".into(), "the --list l.csv");
    case(&folder, "ex2/../l.csv".into(), "the --list l.csv");
    case(&folder, absolute("l.csv"), "the --list l.csv");
    case(&["ex2", "--list", "./ex2/../l.csv"], "l.csv".into(), "the --list");
    case(&["ex2", "--list", &absolute("l.csv")], "l.csv".into(), "the --list");
    case(&["ex2", "--list", "l.csv", "--allow", "allow.csv"], "./allow.csv".into(), "--allow");
    case(&["--files-from", "files.txt", "--list", "l.csv"], "files.txt".into(), "--files-from");
    #[cfg(unix)]
    {
        case(&folder, "link-to-list.csv".into(), "the --list l.csv");
        case(&["ex2", "--list", "link-to-list.csv"], "l.csv".into(), "the --list");
        case(&folder, "hard-link-to-list.csv".into(), "the --list l.csv");
        case(&one, "link-to-photo.jpg".into(), "a file to scan");
    }

    let before = snapshot(d);
    for (args, report, says) in &cases {
        // The streamed formats create their file before the scan, JSON after it: both refused.
        for format in ["json", "jsonl", "csv"] {
            let output = command_in(d)
                .arg("scan")
                .args(args)
                .args(["--report", report, "--format", format])
                .output()
                .unwrap();
            let text = stderr(&output);
            let what = format!("{args:?} --report {report} --format {format}");
            assert_eq!(output.status.code(), Some(2), "{what}: {text}");
            assert!(text.contains("refusing to overwrite"), "{what}: {text}");
            assert!(text.contains(says), "{what}: {text}");
            // Refused before the scan: no summary line, nothing on standard output.
            assert!(!text.contains(" flagged, "), "{what}: {text}");
            assert!(output.stdout.is_empty(), "{what}");
            assert!(snapshot(d) == before, "{what}: the folder changed");
        }
    }
}

#[test]
fn a_new_report_inside_the_scanned_folder_is_written_and_never_scanned() {
    let dir = workspace();
    let d = dir.path();
    let photos = fs::read_dir(d.join("ex2")).unwrap().count() as u64;
    for (format, name) in [("json", "report.json"), ("jsonl", "report.jsonl")] {
        let report = format!("ex2/{name}");
        let output =
            run_in(d, &["scan", "ex2", "--list", "l.csv", "--report", &report, "--format", format]);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert!(text.contains("inside the scanned folder ex2"), "{text}");
        let written = fs::read_to_string(d.join(&report)).unwrap();
        assert!(!written.contains(name), "the report names itself: {written}");
        let summary: Value = match format {
            "json" => serde_json::from_str(&written).unwrap(),
            _ => serde_json::from_str(written.lines().last().unwrap()).unwrap(),
        };
        assert_eq!(summary["summary"]["files"].as_u64(), Some(photos), "{summary}");
        fs::remove_file(d.join(&report)).unwrap();
        // No temporary file left beside it.
        assert_eq!(fs::read_dir(d.join("ex2")).unwrap().count() as u64, photos);
    }
    // The same folder reached through `.`, and an absolute report path.
    let report = d.join("ex2/report.json");
    let output = command_in(&d.join("ex2"))
        .args(["scan", ".", "--list", "../l.csv", "--report"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("inside the scanned folder ."), "{}", stderr(&output));
    let written: Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
    assert_eq!(written["summary"]["files"].as_u64(), Some(photos));

    // Once written, it is a file in the scanned folder like any other: not replaced.
    let before = fs::read(&report).unwrap();
    let output = run_in(d, &["scan", "ex2", "--list", "l.csv", "--report", "ex2/report.json"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(fs::read(&report).unwrap(), before);
}

#[test]
fn a_report_that_cannot_be_written_fails_before_the_scan_and_leaves_nothing() {
    let dir = workspace();
    let d = dir.path();
    fs::create_dir(d.join("out")).unwrap();
    let before = snapshot(d);
    for (report, says) in [
        ("/no/such/dir/r.json", "/no/such/dir"),
        ("no-such-dir/r.json", "no-such-dir"),
        ("out", "is a folder"),
        ("out/", "folder"),
        (".", "is a folder"),
        ("l.csv/r.json", "not a folder"),
    ] {
        for format in ["json", "jsonl", "text"] {
            let output = run_in(
                d,
                &["scan", "ex2", "--list", "l.csv", "--report", report, "--format", format],
            );
            let text = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "--report {report}: {text}");
            assert!(text.contains(&format!("--report {report}")), "{text}");
            assert!(text.contains(says), "--report {report}: {text}");
            // Before the first file is read: no summary of a scan.
            assert!(!text.contains(" flagged, "), "--report {report}: {text}");
            assert!(snapshot(d) == before, "--report {report}: the folder changed");
        }
    }
    // Under a read-only folder (meaningless as root, who writes anywhere).
    #[cfg(unix)]
    if !is_root() {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(d.join("out"), fs::Permissions::from_mode(0o555)).unwrap();
        let output = run_in(d, &["scan", "ex2", "--list", "l.csv", "--report", "out/r.json"]);
        fs::set_permissions(d.join("out"), fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).contains("--report out/r.json"), "{}", stderr(&output));
        assert!(snapshot(d) == before);
    }
}

#[cfg(unix)]
fn is_root() -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

/// Runs `args` in `dir` with standard output on a pipe, reads its first line, then closes
/// the pipe as `| head -1` does, and returns the exit status and standard error.
fn closing_the_pipe_after_one_line(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut child =
        command_in(dir).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // The reader is gone now; stderr is read to the end by wait_with_output.
    let output = child.wait_with_output().unwrap();
    (output.status.code(), first, stderr(&output))
}

/// A folder whose report is far larger than a pipe holds (64 KiB): one listed photograph
/// (flagged) and many long-named links (skipped by design: they leave the status alone).
fn big_report_tree() -> tempfile::TempDir {
    let dir = workspace();
    let tree = dir.path().join("tree");
    fs::create_dir(&tree).unwrap();
    fs::copy(fixture("screening/edited/bridge-cropped.jpg"), tree.join("bridge.jpg")).unwrap();
    for i in 0..1500 {
        let name = format!("{i:04}-{}.jpg", "a-long-name-to-make-the-report-big".repeat(3));
        #[cfg(unix)]
        std::os::unix::fs::symlink("bridge.jpg", tree.join(name)).unwrap();
        #[cfg(not(unix))]
        fs::write(tree.join(name), b"not a picture").unwrap();
    }
    dir
}

#[test]
fn a_reader_that_stops_early_makes_the_status_2_never_0() {
    let dir = big_report_tree();
    let d = dir.path();
    for format in ["json", "jsonl", "csv"] {
        let args = ["scan", "tree", "--list", "l.csv", "--format", format];
        // Read whole, the scan matched: 1.
        let whole = run_in(d, &args);
        assert_eq!(whole.status.code(), Some(1), "{format}: {}", stderr(&whole));
        assert!(whole.stdout.len() > 1 << 17, "{format}: the output fits in a pipe");
        let (status, first, text) = closing_the_pipe_after_one_line(d, &args);
        assert!(!first.is_empty(), "{format}: nothing was written");
        assert_eq!(status, Some(2), "{format}: {text}");
        assert!(text.contains("standard output"), "{format}: {text}");
        assert!(text.contains("cut short"), "{format}: {text}");
    }

    // `hash … | head -1`: many files, so that their rows outgrow the pipe.
    let many = d.join("many");
    fs::create_dir(&many).unwrap();
    for i in 0..1000 {
        let name = format!("{i:04}-{}.txt", "a-long-name-to-make-the-rows-long".repeat(3));
        fs::write(many.join(name), i.to_string()).unwrap();
    }
    let args = ["hash", "many", "--algorithms", "md5,sha1,sha256"];
    let whole = run_in(d, &args);
    assert_eq!(whole.status.code(), Some(0), "{}", stderr(&whole));
    assert!(whole.stdout.len() > 1 << 17);
    let (status, first, text) = closing_the_pipe_after_one_line(d, &args);
    assert!(first.starts_with("algorithm,hash"), "{first}");
    assert_eq!(status, Some(2), "{text}");
    assert!(text.contains("standard output") && text.contains("cut short"), "{text}");
}

/// Runs a scan with the JSON report on standard output.
fn scan_json(dir: &Path, args: &[&str]) -> (Option<i32>, Value, String) {
    let output = command_in(dir).arg("scan").args(args).output().unwrap();
    (output.status.code(), report(&output), stderr(&output))
}

#[test]
fn files_a_budget_leaves_out_make_the_scan_incomplete_unless_something_matched() {
    let dir = workspace();
    let d = dir.path();
    // `clean/` holds 8 photographs no entry matches.
    let (status, report, text) = scan_json(d, &["clean", "--list", "l.csv"]);
    assert_eq!(status, Some(0), "{text}");
    assert_eq!(report["summary"]["over_budget"], 0);

    let (status, report, text) = scan_json(d, &["clean", "--list", "l.csv", "--max-files", "3"]);
    assert_eq!(status, Some(2), "{text}");
    let s = &report["summary"];
    assert_eq!((s["clean"].as_u64(), s["skipped"].as_u64()), (Some(3), Some(5)), "{s}");
    assert_eq!(s["over_budget"].as_u64(), Some(5), "{s}");
    assert_eq!(report["complete"], true);
    assert!(text.contains("5 files left out by --max-files (3)"), "{text}");
    let skipped = report["skipped"].as_array().unwrap();
    assert!(skipped.iter().all(|f| f["reason"].as_str().unwrap().contains("--max-files")));

    let (status, report, text) =
        scan_json(d, &["clean", "--list", "l.csv", "--max-scan-size", "100K", "--quiet"]);
    assert_eq!(status, Some(2), "{text}");
    let left_out = report["summary"]["over_budget"].as_u64().unwrap();
    assert!(left_out > 0 && report["summary"]["clean"].as_u64().unwrap() > 0, "{report}");
    assert!(text.contains(&format!("{left_out} files left out by --max-scan-size")), "{text}");

    // A budget nothing reaches leaves the status alone.
    let (status, _, text) = scan_json(d, &["clean", "--list", "l.csv", "--max-files", "8"]);
    assert_eq!(status, Some(0), "{text}");

    // A match outranks what the budget left out.
    let (status, report, text) = scan_json(d, &["ex2", "--list", "l.csv", "--max-files", "1"]);
    assert_eq!(status, Some(1), "{text}");
    assert_eq!(report["summary"]["flagged"], 1);
    assert!(text.contains("left out by --max-files (1)"), "{text}");

    // The summary line of --format jsonl carries the count too.
    let output =
        run_in(d, &["scan", "clean", "--list", "l.csv", "--max-files", "3", "--format", "jsonl"]);
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8(output.stdout).unwrap();
    let summary: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(summary["summary"]["over_budget"], 5, "{summary}");

    // Merged shards keep the rule.
    for k in 0..2 {
        let shard = format!("{k}/2");
        let out = format!("shard-{k}.json");
        let output = run_in(
            d,
            &[
                "scan",
                "clean",
                "--list",
                "l.csv",
                "--shard",
                &shard,
                "--max-files",
                "1",
                "--report",
                &out,
            ],
        );
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    }
    let merged = run_in(d, &["report", "merge", "shard-0.json", "shard-1.json"]);
    assert_eq!(merged.status.code(), Some(2), "{}", stderr(&merged));
    let merged: Value = serde_json::from_slice(&merged.stdout).unwrap();
    assert_eq!(merged["summary"]["over_budget"], 6, "{merged}");
}

#[cfg(unix)]
#[test]
fn files_skipped_by_design_do_not_make_a_clean_scan_incomplete() {
    let dir = workspace();
    let d = dir.path();
    std::os::unix::fs::symlink("astronaut.jpg", d.join("clean/link.jpg")).unwrap();
    let (status, report, text) = scan_json(d, &["clean", "--list", "l.csv"]);
    assert_eq!(status, Some(0), "{text}");
    let s = &report["summary"];
    assert_eq!((s["skipped"].as_u64(), s["over_budget"].as_u64()), (Some(1), Some(0)), "{s}");
}

#[test]
fn compare_exits_2_when_a_file_cannot_be_hashed_as_a_picture_or_video() {
    let dir = workspace();
    let d = dir.path();
    fs::copy(fixture("bad/corrupt.jpg"), d.join("corrupt.jpg")).unwrap();
    fs::write(d.join("notes.txt"), "not a picture\n").unwrap();
    fs::write(d.join("notes-copy.txt"), "not a picture\n").unwrap();
    let photo = "ex2/bridge-half-size.jpg";
    let compare = |a: &str, b: &str| run_in(d, &["compare", a, b]);

    let before = snapshot(d);
    for (a, b, named) in [
        (photo, "corrupt.jpg", "corrupt.jpg"),
        ("corrupt.jpg", photo, "corrupt.jpg"),
        (photo, "notes.txt", "notes.txt"),
        ("notes.txt", photo, "notes.txt"),
    ] {
        let output = compare(a, b);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{a} {b}: {text}");
        assert!(text.contains(named), "{a} {b}: {text}");
        // The digests are still compared and shown.
        let shown = String::from_utf8(output.stdout).unwrap();
        assert!(shown.lines().any(|l| l.starts_with("sha256 ")), "{shown}");
    }
    let output = compare(photo, "notes.txt");
    assert!(stderr(&output).contains("not a picture or a video"), "{}", stderr(&output));

    // A match outranks the error, as in a scan: two identical text files are equal by digest.
    let output = compare("notes.txt", "notes-copy.txt");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    // Two pictures that decode: 0 or 1, as before.
    assert_eq!(compare(photo, "clean/astronaut.jpg").status.code(), Some(0));
    assert_eq!(compare(photo, "ex2/bridge-rotated-90.jpg").status.code(), Some(1));

    // A folder is named as one.
    for (a, b) in [("ex2", photo), (photo, "clean"), (photo, "./clean/")] {
        let output = compare(a, b);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(text.contains("is a folder"), "{text}");
        assert!(!text.contains("changed during the scan"), "{text}");
        assert!(output.stdout.is_empty());
    }
    assert!(snapshot(d) == before, "compare changed the folder");
}
