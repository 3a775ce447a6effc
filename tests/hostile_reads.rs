//! Reads and races (issue 23): what is read is bounded by what the file said it was, never a
//! pseudo file system's endless data; what is read is the file the walk found, not a link, a
//! FIFO or another file put at its path since; ffmpeg decodes the bytes that were digested; a
//! file name cannot forge a line of the text report or drive the terminal.
//!
//! Races are made deterministic without hooks: the library walks (`walk::walk`), the test
//! changes the tree, then the library scans what was walked (`scan::scan_one`), as a scan does
//! with a tree that changes under it. The ffmpeg race and a growing file cannot be staged that
//! way; they are run for real, and what must hold whatever the timing is checked.

#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use mediascreen::hash::Algorithm;
use mediascreen::hashlist::HashList;
use mediascreen::matcher::{MatchOptions, Matcher};
use mediascreen::scan::{self, HashOptions, Outcome, Stage, Status};
use mediascreen::walk::{walk, Candidate, CandidateKind, Filter};
use serde_json::Value;

mod run;
use run::{command_in, root, wait_measuring};

/// A photograph `hashlists/demo.csv` lists.
fn listed_photo() -> PathBuf {
    root().join("fixtures/conformance/pdq/images/reg-test-input/dih/bridge-1-original.jpg")
}

/// A photograph the demo list does not list.
fn unlisted_photo() -> PathBuf {
    root().join("fixtures/conformance/pdq/images/misc-images/wee.jpg")
}

fn demo_matcher() -> Matcher {
    let list = HashList::load(&root().join("hashlists/demo.csv"), &Default::default()).unwrap();
    Matcher::new(vec![list], MatchOptions::default()).unwrap()
}

/// The walk's candidates under `dir`, by file name.
fn walked(dir: &Path, follow_symlinks: bool) -> BTreeMap<String, Candidate> {
    walk(&[dir.to_path_buf()], follow_symlinks, &Filter::default())
        .into_iter()
        .map(|c| (c.path.file_name().unwrap().to_string_lossy().into_owned(), c))
        .collect()
}

/// Scans one walked candidate on a thread, failing if it takes longer than `limit` (a FIFO
/// opened for reading would block for ever).
fn scan_within(candidate: &Candidate, matcher: &Arc<Matcher>, limit: Duration) -> Outcome {
    let (send, receive) = mpsc::channel();
    let (candidate, matcher) = (candidate.clone(), Arc::clone(matcher));
    std::thread::spawn(move || {
        let algorithms = scan::computed_algorithms(&matcher);
        let mut reports =
            scan::scan_one(&candidate, &algorithms, &matcher, &HashOptions::default());
        assert_eq!(reports.files.len(), 1, "one file, not an archive");
        let _ = send.send(reports.files.remove(0).outcome);
    });
    receive.recv_timeout(limit).expect("the scan of one file blocked")
}

/// The stage and reason of an error outcome; fails on any other.
fn error_of(outcome: &Outcome) -> (Stage, String) {
    assert_eq!(outcome.status(), Status::Error, "{}", describe(outcome));
    match outcome {
        Outcome::Error { stage, error } => (*stage, error.to_string()),
        other => panic!("not an error: {}", describe(other)),
    }
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Scanned { result, perceptual_error, size, .. } => format!(
            "scanned, {size} bytes, {} matches, perceptual error {perceptual_error:?}",
            result.matches.len()
        ),
        Outcome::Error { stage, error } => format!("error ({}) {error}", stage.name()),
        Outcome::Skipped { reason, .. } => format!("skipped: {reason}"),
    }
}

/// Each report line of a `--format jsonl` scan, by file name: status and reason.
fn outcomes(jsonl: &[u8]) -> BTreeMap<String, (String, String)> {
    let text = String::from_utf8_lossy(jsonl);
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).expect(l))
        .filter(|v| v["type"] == "file")
        .map(|v| {
            let name = v["path"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
            let why = v["reason"].as_str().or(v["perceptual_error"].as_str()).unwrap_or("");
            let stage = v["stage"].as_str().map(|s| format!("({s}) ")).unwrap_or_default();
            (name, (v["status"].as_str().unwrap().to_string(), format!("{stage}{why}")))
        })
        .collect()
}

// Bullet 1: reads bounded by the size at open; pseudo file systems refused.

#[cfg(target_os = "linux")]
#[test]
fn followed_links_into_proc_and_sys_end_promptly_as_errors_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path();
    // /proc/self/pagemap says 0 bytes and yields 8 bytes per page of the address space
    // (terabytes); /proc/self/environ is the scanning process's environment.
    std::os::unix::fs::symlink("/proc/self/pagemap", tree.join("pagemap.jpg")).unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", tree.join("environ.jpg")).unwrap();
    let sys = ["/sys/kernel/address_bits", "/sys/kernel/uevent_seqnum", "/sys/power/state"]
        .into_iter()
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file()));
    if let Some(sys) = sys {
        std::os::unix::fs::symlink(sys, tree.join("sys.jpg")).unwrap();
    }
    std::os::unix::fs::symlink("/dev/zero", tree.join("zero.jpg")).unwrap();
    fs::copy(unlisted_photo(), tree.join("photo.jpg")).unwrap();

    // Over --max-file-size too: the stream of digests is bounded the same way.
    for max_file_size in ["1G", "1"] {
        let child = command_in(root())
            .args(["scan", "--list", "hashlists/demo.csv", "--follow-symlinks", "--threads", "2"])
            .args(["--format", "jsonl", "--max-file-size", max_file_size])
            .arg(tree)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (output, peak_kib) = wait_measuring(child, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&output.stderr);
        let outcomes = outcomes(&output.stdout);
        println!("--max-file-size {max_file_size}: peak RSS {} MiB, {outcomes:?}", peak_kib / 1024);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(peak_kib < 200 * 1024, "peak RSS {peak_kib} KiB");
        let mut pseudo = vec!["pagemap.jpg", "environ.jpg"];
        pseudo.extend(sys.map(|_| "sys.jpg"));
        for name in pseudo {
            let (status, reason) = &outcomes[name];
            assert_eq!(status, "error", "{name}: {reason}");
            assert!(reason.starts_with("(read) on "), "{name}: {reason}");
            assert!(reason.contains("a pseudo file system"), "{name}: {reason}");
        }
        // A device the walk sees is never opened.
        let (status, reason) = &outcomes["zero.jpg"];
        assert_eq!(status, "skipped", "{reason}");
        assert!(reason.contains("character device"), "{reason}");
        let expected_photo = if max_file_size == "1" { "error" } else { "clean" };
        assert_eq!(outcomes["photo.jpg"].0, expected_photo, "{:?}", outcomes["photo.jpg"]);
    }
}

/// A file that grows while it is read is an error, never truncated to what `stat` said and
/// called clean, nor read on without end. Whether a write lands between the open and the end
/// of the read is up to the scheduler, so this reads until it sees one (it does within a few
/// tries); every read that raced no write must have read exactly the file.
#[test]
fn a_file_growing_while_read_is_an_error_not_read_without_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("growing.bin");
    const START: u64 = 4 << 20;
    const CAP: u64 = 16 << 20;
    fs::write(&path, vec![7u8; START as usize]).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (path, stop) = (path.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            use std::io::Write;
            let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
            let chunk = vec![9u8; 64 << 10];
            while !stop.load(Ordering::Relaxed) {
                if file.metadata().unwrap().len() >= CAP {
                    file.set_len(START).unwrap();
                }
                file.write_all(&chunk).unwrap();
            }
        })
    };
    let algorithms = BTreeSet::from([Algorithm::Sha256]);
    let mut seen = BTreeMap::new();
    for attempt in 0..400 {
        // Held in memory, and streamed (over --max-file-size), in turn.
        let max_file_size = if attempt % 2 == 0 { 1 << 30 } else { 1 << 20 };
        let options = HashOptions { max_file_size, ..HashOptions::default() };
        match scan::hash_file(&path, &algorithms, &options) {
            Ok(file) => assert!(file.hashes.size <= CAP + (64 << 10), "{}", file.hashes.size),
            Err(reason) => {
                let reason = reason.to_string();
                assert!(reason.starts_with("changed during the scan: "), "{reason}");
                let kind = if reason.contains("grew") { "grew" } else { "shrank" };
                seen.entry((kind, max_file_size)).or_insert(reason);
            }
        }
        if [1 << 30, 1 << 20].iter().all(|&max| seen.contains_key(&("grew", max))) {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    println!("{seen:#?}");
    for max in [1 << 30, 1 << 20] {
        let reason = seen.get(&("grew", max)).expect("no read overlapped a write");
        assert!(reason.contains("it grew past the"), "{reason}");
    }
}

// Bullet 2: what is opened is the file the walk found.

#[test]
fn a_file_replaced_by_a_link_after_the_walk_is_an_error_and_the_link_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    fs::create_dir(&tree).unwrap();
    for name in ["to-listed.jpg", "to-environ.jpg", "kept.jpg"] {
        fs::copy(unlisted_photo(), tree.join(name)).unwrap();
    }
    let candidates = walked(&tree, false);
    assert!(candidates.values().all(|c| c.kind == CandidateKind::File && c.id.is_some()));
    // After the walk: links to a listed photograph outside the tree and to the process's
    // environment take two files' places.
    for (name, target) in
        [("to-listed.jpg", listed_photo()), ("to-environ.jpg", PathBuf::from("/proc/self/environ"))]
    {
        fs::remove_file(tree.join(name)).unwrap();
        std::os::unix::fs::symlink(target, tree.join(name)).unwrap();
    }
    let matcher = Arc::new(demo_matcher());
    for name in ["to-listed.jpg", "to-environ.jpg"] {
        let outcome = scan_within(&candidates[name], &matcher, Duration::from_secs(60));
        let (stage, reason) = error_of(&outcome);
        assert_eq!(stage, Stage::Read, "{name}");
        assert!(reason.starts_with("changed during the scan: now a symbolic link"), "{reason}");
    }
    // The file nobody touched is scanned as ever.
    let kept = scan_within(&candidates["kept.jpg"], &matcher, Duration::from_secs(60));
    assert_eq!(kept.status(), Status::Clean, "{}", describe(&kept));
}

#[test]
fn another_file_at_the_walked_path_is_an_error_followed_links_included() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    fs::create_dir(&tree).unwrap();
    let outside = dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::copy(unlisted_photo(), tree.join("renamed-over.jpg")).unwrap();
    fs::copy(unlisted_photo(), outside.join("first.jpg")).unwrap();
    fs::copy(listed_photo(), outside.join("second.jpg")).unwrap();
    std::os::unix::fs::symlink(outside.join("first.jpg"), tree.join("link.jpg")).unwrap();

    let plain = walked(&tree, false);
    let followed = walked(&tree, true);
    assert!(followed["link.jpg"].id.is_some_and(|id| id.through_link));
    // A listed photograph renamed over a walked file; the followed link pointed elsewhere.
    fs::copy(listed_photo(), dir.path().join("incoming.jpg")).unwrap();
    fs::rename(dir.path().join("incoming.jpg"), tree.join("renamed-over.jpg")).unwrap();
    fs::remove_file(tree.join("link.jpg")).unwrap();
    std::os::unix::fs::symlink(outside.join("second.jpg"), tree.join("link.jpg")).unwrap();

    let matcher = Arc::new(demo_matcher());
    for candidate in
        [&plain["renamed-over.jpg"], &followed["renamed-over.jpg"], &followed["link.jpg"]]
    {
        let outcome = scan_within(candidate, &matcher, Duration::from_secs(60));
        let (stage, reason) = error_of(&outcome);
        assert_eq!(stage, Stage::Read);
        assert!(
            reason.starts_with("changed during the scan: another file is at this path now"),
            "{}: {reason}",
            candidate.path.display()
        );
    }
    // Walked afresh, the tree as it is now scans as it should: the listed photograph flags.
    let now = walked(&tree, true);
    let outcome = scan_within(&now["link.jpg"], &matcher, Duration::from_secs(60));
    assert_eq!(outcome.status(), Status::Flagged, "{}", describe(&outcome));
}

// Bullet 5: FIFOs and sockets the walk sees are skipped; swapped in after it, errors.

#[test]
fn a_fifo_or_socket_swapped_in_after_the_walk_is_an_error_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path();
    for name in ["fifo.jpg", "socket.jpg"] {
        fs::copy(unlisted_photo(), tree.join(name)).unwrap();
    }
    let candidates = walked(tree, false);
    for name in ["fifo.jpg", "socket.jpg"] {
        fs::remove_file(tree.join(name)).unwrap();
    }
    let made = Command::new("mkfifo").arg(tree.join("fifo.jpg")).status().unwrap();
    assert!(made.success(), "mkfifo");
    let _socket = std::os::unix::net::UnixListener::bind(tree.join("socket.jpg")).unwrap();

    let matcher = Arc::new(demo_matcher());
    for (name, kind) in [("fifo.jpg", "fifo"), ("socket.jpg", "socket")] {
        let outcome = scan_within(&candidates[name], &matcher, Duration::from_secs(10));
        let (stage, reason) = error_of(&outcome);
        assert_eq!(stage, Stage::Read, "{name}");
        assert!(reason.starts_with("changed during the scan: "), "{name}: {reason}");
        assert!(reason.contains(kind), "{name}: {reason}");
    }
}

#[test]
fn a_fifo_the_walk_sees_is_skipped_and_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path();
    fs::copy(unlisted_photo(), tree.join("photo.jpg")).unwrap();
    let made = Command::new("mkfifo").arg(tree.join("fifo.jpg")).status().unwrap();
    assert!(made.success(), "mkfifo");
    let child = command_in(root())
        .args(["scan", "--list", "hashlists/demo.csv", "--format", "jsonl"])
        .arg(tree)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (output, _) = wait_measuring(child, Duration::from_secs(60));
    let outcomes = outcomes(&output.stdout);
    // Skipped is not an error: the photograph was screened and is clean.
    assert_eq!(output.status.code(), Some(0), "{outcomes:?}");
    assert_eq!(outcomes["fifo.jpg"].0, "skipped");
    assert!(outcomes["fifo.jpg"].1.contains("fifo"), "{:?}", outcomes["fifo.jpg"]);
    assert_eq!(outcomes["photo.jpg"].0, "clean");
}

// Bullet 3: ffmpeg decodes the bytes that were read and digested.

/// Two videos only ffmpeg decodes take turns at one path, renamed into place as fast as the
/// scan reads it: each time, the vPDQ frames must be those of the video whose SHA-256 the
/// read gave. (ffmpeg opening the path after the read gave one video's digests and the
/// other's frames in about 1 of 6 reads.)
#[test]
#[ignore = "needs ffmpeg"]
fn ffmpeg_decodes_the_bytes_that_were_digested_while_files_are_swapped() {
    let ffmpeg = mediascreen::decode::video::Ffmpeg::detect().expect("ffmpeg and ffprobe");
    let dir = tempfile::tempdir().unwrap();
    let videos = ["video/pattern-sd-grey-bar-vp9.webm", "video/chair-clip.webm"]
        .map(|name| fs::read(root().join("fixtures").join(name)).unwrap());
    let algorithms = BTreeSet::from([Algorithm::Sha256, Algorithm::Vpdq]);
    let options = HashOptions { ffmpeg: Some(ffmpeg), ..HashOptions::default() };
    // Each video's frames, hashed alone.
    let mut frames_of = BTreeMap::new();
    for (i, bytes) in videos.iter().enumerate() {
        let path = dir.path().join(format!("alone-{i}.webm"));
        fs::write(&path, bytes).unwrap();
        let file = scan::hash_file(&path, &algorithms, &options).unwrap();
        assert_eq!(file.perceptual_error, None);
        let frames: Vec<_> =
            file.hashes.video.unwrap().frames.iter().map(|f| f.hash.clone()).collect();
        assert!(!frames.is_empty());
        frames_of.insert(file.hashes.values[&Algorithm::Sha256].clone(), frames);
    }
    assert_eq!(frames_of.len(), 2);

    let target = dir.path().join("swapped.webm");
    fs::write(&target, &videos[0]).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (dir, target, stop) = (dir.path().to_path_buf(), target.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            for turn in 0usize.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let incoming = dir.join("incoming.webm");
                fs::write(&incoming, &videos[turn % 2]).unwrap();
                fs::rename(&incoming, &target).unwrap();
                std::thread::sleep(Duration::from_millis(3));
            }
        })
    };
    let started = Instant::now();
    let (mut reads, mut read) = (0, BTreeSet::new());
    while reads < 24 && started.elapsed() < Duration::from_secs(120) {
        let file = scan::hash_file(&target, &algorithms, &options).unwrap();
        let sha256 = &file.hashes.values[&Algorithm::Sha256];
        let frames: Vec<_> =
            file.hashes.video.unwrap().frames.iter().map(|f| f.hash.clone()).collect();
        assert_eq!(Some(&frames), frames_of.get(sha256), "read {reads}: frames of another file");
        read.insert(sha256.clone());
        reads += 1;
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    println!("{reads} reads in {:?}", started.elapsed());
    assert!(reads >= 4, "only {reads} reads");
    assert_eq!(read.len(), 2, "the swaps never showed: one video read every time");
}

// Bullet 4: names cannot forge lines or drive the terminal.

#[test]
fn text_output_escapes_newlines_carriage_returns_and_escapes_in_names() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path();
    let forged = "a\nb.jpg: FLAGGED pdq d=0 list=forged\r\u{1b}[2K";
    fs::copy(listed_photo(), tree.join(forged)).unwrap();
    let broken = "broken\n\u{1b}]0;title\u{7}.jpg";
    fs::write(tree.join(broken), &fs::read(listed_photo()).unwrap()[..2000]).unwrap();
    let output = command_in(root())
        .args(["scan", "--list", "hashlists/demo.csv", "--format", "text"])
        .arg(tree)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    print!("{stdout}");
    assert!(!stdout.contains(['\r', '\u{1b}', '\u{7}']), "{stdout:?}");
    let lines: Vec<&str> = stdout.lines().collect();
    let flagged: Vec<&&str> = lines.iter().filter(|l| l.contains(": FLAGGED ")).collect();
    assert_eq!(flagged.len(), 1, "{lines:#?}");
    assert!(
        flagged[0].contains("a\\nb.jpg: FLAGGED pdq d=0 list=forged\\r\\u001b[2K: FLAGGED pdq"),
        "{}",
        flagged[0]
    );
    // The truncated picture's error line: one line, its name escaped.
    let errors: Vec<&&str> = lines.iter().filter(|l| l.contains(": ERROR (")).collect();
    assert_eq!(errors.len(), 1, "{lines:#?}");
    assert!(
        errors[0].contains("broken\\n\\u001b]0;title\\u0007.jpg: ERROR (decode)"),
        "{}",
        errors[0]
    );
    assert!(lines.contains(&"Flagged: 1") && lines.contains(&"Errors: 1"), "{lines:#?}");

    // `hash` names a file it could not hash on stderr the same way.
    let output = command_in(root())
        .args(["hash", "--algorithms", "pdq"])
        .arg(tree.join(broken))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains(['\u{1b}', '\u{7}']), "{stderr:?}");
    assert!(stderr.contains("broken\\n\\u001b]0;title\\u0007.jpg: "), "{stderr}");
}
