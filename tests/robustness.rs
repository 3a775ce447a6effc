//! Hostile and broken inputs (issue: nothing crashes, hangs or goes unreported, and nothing is
//! written where it must not be).
//!
//! One scan covers `fixtures/bad/` (made by `fixtures/make_bad.py`) copied into a scratch tree,
//! plus what cannot be committed, made here: a FIFO, a socket, a link loop, a dangling link, a
//! link to a device, an unreadable file and folder, a non-UTF-8 name, a very deep tree and an
//! animation of 20,000 frames. Every file must end with the outcome expected of it, the counts
//! must add up, the process must stay under 1 GB and its time limits, and the tree must be
//! byte for byte and mtime for mtime what it was. A second scan is killed mid-stream and its
//! JSON Lines output must be whole lines.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

mod run;
use run::{command_in, report, root, wait_measuring, BINARY};

/// Every entry under `dir` (not following links), with a regular file's bytes and mtime.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<(Vec<u8>, SystemTime)>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path.clone());
            }
            let content = meta
                .is_file()
                .then(|| fs::read(&path).ok().map(|bytes| (bytes, meta.modified().unwrap())))
                .flatten();
            out.insert(path, content);
        }
    }
    out
}

/// A GIF of `frames` 1x1 frames with no delay: long to decode, tiny on disk.
fn deep_animation(frames: usize) -> Vec<u8> {
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame, Rgba, RgbaImage};
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        let frames = (0..frames).map(|i| {
            let pixel = Rgba([(i % 251) as u8, (i % 241) as u8, 0, 255]);
            Frame::from_parts(
                RgbaImage::from_pixel(1, 1, pixel),
                0,
                0,
                Delay::from_numer_denom_ms(0, 1),
            )
        });
        encoder.encode_frames(frames).unwrap();
    }
    out
}

struct Tree {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

/// The scratch tree: the committed corpus and everything made at run time.
fn build_tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    fs::create_dir(&tree).unwrap();
    for entry in fs::read_dir(root().join("fixtures/bad")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), tree.join(entry.file_name())).unwrap();
        }
    }
    fs::write(tree.join("deep-animation.gif"), deep_animation(20_000)).unwrap();
    let mut deep = tree.join("deep");
    for i in 0..150 {
        deep.push(format!("d{i}"));
    }
    fs::create_dir_all(&deep).unwrap();
    fs::copy(
        root().join("fixtures/conformance/pdq/images/misc-images/wee.jpg"),
        deep.join("bottom.jpg"),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::symlink;
        let fifo = tree.join("fifo.jpg");
        let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success(), "mkfifo");
        std::os::unix::net::UnixListener::bind(tree.join("socket.jpg")).unwrap();
        symlink("loop-b", tree.join("loop-a")).unwrap();
        symlink("loop-a", tree.join("loop-b")).unwrap();
        symlink("does-not-exist.jpg", tree.join("dangling.jpg")).unwrap();
        symlink("/dev/zero", tree.join("device.jpg")).unwrap();
        symlink(".", tree.join("self-loop")).unwrap();
        // A listed photograph under a name that is not UTF-8.
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9-bridge.jpg");
        fs::copy(
            root().join("fixtures/conformance/pdq/images/reg-test-input/dih/bridge-1-original.jpg"),
            tree.join(name),
        )
        .unwrap();
    }
    Tree { _dir: dir, path: tree }
}

/// Root reads files whatever their mode: permission tests only mean something for others.
fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

#[cfg(unix)]
#[test]
fn unreadable_files_and_folders_are_errors_with_the_reason() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let wee = root().join("fixtures/conformance/pdq/images/misc-images/wee.jpg");
    fs::copy(&wee, dir.path().join("readable.jpg")).unwrap();
    let locked = dir.path().join("unreadable.jpg");
    fs::copy(&wee, &locked).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let closed = dir.path().join("unreadable-dir");
    fs::create_dir(&closed).unwrap();
    fs::write(closed.join("inside.jpg"), b"x").unwrap();
    fs::set_permissions(&closed, fs::Permissions::from_mode(0o000)).unwrap();

    // As root every file is readable, so the scan runs as nobody (util-linux's setpriv).
    let binary = BINARY;
    let mut command = if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", binary]);
        c
    } else {
        Command::new(binary)
    };
    let output = command
        .current_dir(root())
        .args(["scan", "--list", "hashlists/demo.csv"])
        .arg(dir.path())
        .output()
        .unwrap();
    fs::set_permissions(&closed, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let errors: BTreeMap<&str, (&str, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let name = e["path"].as_str().unwrap().rsplit('/').next().unwrap();
            (name, (e["stage"].as_str().unwrap(), e["reason"].as_str().unwrap()))
        })
        .collect();
    assert_eq!(errors["unreadable.jpg"].0, "read", "{errors:?}");
    assert!(errors["unreadable.jpg"].1.contains("Permission denied"), "{errors:?}");
    assert_eq!(errors["unreadable-dir"].0, "walk", "{errors:?}");
    assert!(errors["unreadable-dir"].1.contains("Permission denied"), "{errors:?}");
    assert_eq!(report["summary"]["clean"], 1);
}

#[test]
fn hostile_inputs_each_end_as_expected_and_the_tree_is_untouched() {
    let tree = build_tree();
    let before = snapshot(&tree.path);
    let report_dir = tempfile::tempdir().unwrap();
    let report_path = report_dir.path().join("report.json");
    let child = command_in(root())
        .args(["scan", "--list", "hashlists/demo.csv", "--follow-symlinks", "--file-timeout", "60"])
        // A line per file, clean ones included: a file the scan lost is then missing, not
        // taken for clean.
        .args(["--format", "jsonl"])
        .arg("--report")
        .arg(&report_path)
        .arg(&tree.path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (output, peak_kib) = wait_measuring(child, Duration::from_secs(300));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // A listed photograph is in the tree: exit 1, whatever else went wrong.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(peak_kib < 1 << 20, "peak RSS {peak_kib} KiB");
    println!("peak RSS {} MiB", peak_kib / 1024);

    let text = fs::read_to_string(&report_path).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect(l)).collect();
    let (report, files) = lines.split_last().expect("a summary line");
    assert_eq!(report["type"], "summary");
    let s = &report["summary"];
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(n("files"), n("clean") + n("flagged") + n("errors") + n("skipped"), "{s}");
    assert_eq!(n("files"), files.len() as u64, "{s}");
    assert_eq!(report["complete"], true);

    // Every path's outcome, by name relative to the tree.
    let mut outcomes: BTreeMap<String, (&str, String)> = BTreeMap::new();
    for file in files {
        assert_eq!(file["type"], "file", "{file}");
        let path = file["path"].as_str().unwrap();
        let name = path.rsplit('/').next().unwrap().to_string();
        let status = file["status"].as_str().unwrap();
        let why = file["reason"].as_str().or(file["perceptual_error"].as_str()).unwrap_or("");
        let earlier = outcomes.insert(name.clone(), (status, why.to_string()));
        assert!(earlier.is_none(), "{name} reported twice");
    }
    let line = |name: &str| {
        outcomes.get(name).unwrap_or_else(|| panic!("{name} is missing from the report"))
    };
    let outcome = |name: &str| line(name).0;
    let reason = |name: &str| line(name).1.as_str();

    for clean in [
        "empty.jpg",
        "text-named.jpg",
        "jpeg-named.txt",
        "random.bin",
        "mislabeled.mp4",
        "tiny-1x1.png",
        "polyglot-jpeg-zip.jpg",
        "bottom.jpg",
        "deep-animation.gif",
    ] {
        assert_eq!(outcome(clean), "clean", "{clean}: {}", reason(clean));
    }
    for broken in [
        "truncated.jpg",
        "truncated.png",
        "truncated.gif",
        "truncated.webp",
        "corrupt.jpg",
        "corrupt.png",
        "corrupt.mp4",
        "truncated.mp4",
    ] {
        assert_eq!(outcome(broken), "error", "{broken}");
        assert!(!reason(broken).is_empty(), "{broken}");
    }
    // Through ffmpeg when it is installed, or an error saying it is needed: never clean.
    assert_eq!(outcome("truncated.webm"), "error", "{}", reason("truncated.webm"));
    for bomb in ["bomb-60000x60000.png", "bomb-canvas.gif"] {
        assert!(reason(bomb).contains("--max-pixels"), "{bomb}: {}", reason(bomb));
    }
    #[cfg(unix)]
    {
        assert_eq!(outcome("fifo.jpg"), "skipped");
        assert!(reason("fifo.jpg").contains("fifo"), "{}", reason("fifo.jpg"));
        assert!(reason("socket.jpg").contains("socket"), "{}", reason("socket.jpg"));
        assert!(reason("device.jpg").contains("device"), "{}", reason("device.jpg"));
        assert_eq!(outcome("dangling.jpg"), "error", "{}", reason("dangling.jpg"));
        assert!(reason("self-loop").contains("loop"), "{}", reason("self-loop"));
        assert_eq!(outcome("loop-a"), "error", "{}", reason("loop-a"));
        // The non-UTF-8 name: flagged, and its exact bytes in the report.
        let odd = files
            .iter()
            .find(|f| f["status"] == "flagged" && f["path_bytes"].is_string())
            .expect("non-UTF-8 name flagged");
        assert!(
            odd["path_bytes"].as_str().unwrap().ends_with(&hex::encode(b"caf\xe9-bridge.jpg")),
            "{odd}"
        );
        assert!(odd["path"].as_str().unwrap().ends_with("caf\u{fffd}-bridge.jpg"));
    }

    // Nothing in the scanned tree changed, and nothing was added to it.
    let after = snapshot(&tree.path);
    assert_eq!(before.len(), after.len(), "files appeared or vanished in the scanned tree");
    for (path, content) in &before {
        assert!(after.get(path) == Some(content), "{} changed", path.display());
    }
}

#[test]
fn a_killed_jsonl_scan_leaves_whole_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scan.jsonl");
    let mut child = command_in(root())
        .args(["scan", "fixtures/", "--list", "hashlists/demo.csv", "--format", "jsonl", "-j", "1"])
        .arg("--report")
        .arg(&out)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it (SIGKILL: no chance to tidy up) once a few lines are out.
    let started = Instant::now();
    while fs::read_to_string(&out).map_or(0, |t| t.lines().count()) < 5 {
        assert!(started.elapsed() < Duration::from_secs(120), "no output");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let text = fs::read_to_string(&out).unwrap();
    assert!(text.ends_with('\n'), "a line was cut: {:?}", &text[text.len().saturating_sub(80)..]);
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect(l)).collect();
    assert!(lines.len() >= 5);
    assert!(lines.iter().all(|l| l["type"] == "file"), "the summary line came though killed");

    // A whole run ends with the summary, whose counts cover the file lines.
    let output = command_in(root())
        .args(["scan", "fixtures/video", "--list", "hashlists/demo.csv", "--format", "jsonl"])
        .output()
        .unwrap();
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (summary, files) = lines.split_last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["summary"]["files"].as_u64().unwrap() as usize, files.len());
    let flagged = files.iter().filter(|l| l["status"] == "flagged").count();
    assert_eq!(summary["summary"]["flagged"].as_u64().unwrap() as usize, flagged);
}

#[cfg(unix)]
#[test]
fn ctrl_c_writes_the_report_marked_incomplete_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let child = command_in(root())
        .args(["scan", "fixtures/", "--list", "hashlists/demo.csv", "-j", "1"])
        .arg("--report")
        .arg(&out)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let report: Value = serde_json::from_slice(&fs::read(&out).unwrap()).unwrap();
    assert_eq!(report["complete"], false);
    let s = &report["summary"];
    assert!(s["not_scanned"].as_u64().unwrap() > 0, "{s}");
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(n("files"), n("clean") + n("flagged") + n("errors") + n("skipped"), "{s}");
}

/// Runs a scan of `fixtures/video` with `args` and returns its exit status and report.
fn scan_videos(args: &[&str]) -> (Option<i32>, Value) {
    let output = command_in(root())
        .args(["scan", "fixtures/video", "--list", "hashlists/demo.csv"])
        .args(args)
        .output()
        .unwrap();
    (output.status.code(), report(&output))
}

#[test]
fn budgets_skip_the_rest_in_walk_order() {
    // What the budget leaves out is not screened (`over_budget`); the match among the files
    // screened outranks that (exit 1). tests/exit_status.rs has the unmatched case (exit 2).
    let (code, report) = scan_videos(&["--max-files", "2"]);
    let s = &report["summary"];
    assert_eq!((s["files"].as_u64(), s["skipped"].as_u64()), (Some(8), Some(6)), "{s}");
    assert_eq!(s["over_budget"].as_u64(), Some(6), "{s}");
    assert_eq!(code, Some(1), "{s}");
    let skipped = report["skipped"].as_array().unwrap();
    assert!(skipped.iter().all(|e| e["reason"].as_str().unwrap().contains("--max-files")));
    assert_eq!(skipped[0]["path"], "fixtures/video/chair-clip.webm");

    // bridge-in-video.mp4 (194 KB) fits in 250K; with chair-clip.mp4 (101 KB) it would not.
    let (code, report) = scan_videos(&["--max-scan-size", "250K"]);
    let s = &report["summary"];
    assert_eq!((s["skipped"].as_u64(), s["over_budget"].as_u64()), (Some(7), Some(7)), "{s}");
    assert_eq!(code, Some(1), "{s}");
    assert!(report["skipped"][0]["reason"].as_str().unwrap().contains("--max-scan-size"));
}

#[test]
fn files_over_the_size_limit_are_matched_by_digest_only() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("padded-md5.txt");
    // The padded video's MD5, as a plain list: it must still match although not decoded.
    let bytes = fs::read(root().join("fixtures/video/chair-padded.mp4")).unwrap();
    let output = command_in(root())
        .args(["hash", "--algorithms", "md5", "fixtures/video/chair-padded.mp4"])
        .output()
        .unwrap();
    let row = String::from_utf8(output.stdout).unwrap();
    let md5 = row.lines().nth(1).unwrap().split(',').nth(1).unwrap().to_string();
    fs::write(&list, format!("{md5}\n")).unwrap();
    let output = command_in(root())
        .args(["scan", "fixtures/video", "--list", "hashlists/demo.csv", "--max-file-size", "300K"])
        .arg("--list")
        .arg(&list)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let padded = report["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "fixtures/video/chair-padded.mp4")
        .expect("matched by digest");
    assert_eq!(padded["size"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(padded["matches"][0]["algorithm"], "md5");
    assert!(padded["perceptual_error"].as_str().unwrap().contains("--max-file-size"));
    // Under the limit, decoded as usual.
    assert!(report["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "fixtures/video/chair-clip.mp4"));
}
