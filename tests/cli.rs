//! End-to-end tests of the real binary on the bundled fixtures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod run;
use run::{code, mediascreen, mediascreen_with, root, stderr};

const DEMO: &str = "hashlists/demo.csv";

/// For a run whose outcome must not depend on whether ffmpeg is installed: the program finds
/// none where this names it.
const NO_FFMPEG: (&str, &str) = ("MEDIASCREEN_FFMPEG", "/nonexistent/ffmpeg");

/// Runs a scan with the report on standard output and returns (exit code, report).
fn scan(args: &[&str]) -> (i32, Value, Output) {
    scan_with(args, &[])
}

fn scan_with(args: &[&str], env: &[(&str, &str)]) -> (i32, Value, Output) {
    let output = mediascreen_with(&[&["scan"], args].concat(), env);
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("report is JSON ({e}); stderr: {}", stderr(&output)));
    (code(&output), report, output)
}

fn flagged<'a>(report: &'a Value, path: &str) -> Option<&'a Value> {
    report["flagged"].as_array().unwrap().iter().find(|f| f["path"] == path)
}

/// The algorithms of a flagged file's matches, in report order.
fn algorithms(flagged: &Value) -> Vec<&str> {
    flagged["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["algorithm"].as_str().unwrap())
        .collect()
}

fn assert_counts_add_up(report: &Value) {
    let s = &report["summary"];
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(n("files"), n("clean") + n("flagged") + n("errors") + n("skipped"), "{s}");
    assert_eq!(n("flagged"), report["flagged"].as_array().unwrap().len() as u64);
    assert_eq!(n("errors"), report["errors"].as_array().unwrap().len() as u64);
    assert_eq!(n("skipped"), report["skipped"].as_array().unwrap().len() as u64);
}

#[test]
fn edited_copies_are_flagged_with_entry_and_orientation() {
    let (code, report, _) = scan(&["fixtures/screening", "--list", DEMO]);
    assert_eq!(code, 1);
    assert_counts_add_up(&report);

    let cases = [
        ("edited/bridge-half-size.jpg", "demo-bridge", "orig"),
        ("edited/bridge-recompressed-q20.jpg", "demo-bridge", "orig"),
        ("edited/bridge-cropped.jpg", "demo-bridge", "orig"),
        ("edited/bridge-mirrored.jpg", "demo-bridge", "flipy"),
        ("edited/bridge-rotated-90.jpg", "demo-bridge", "rot90"),
        ("edited/pen-rotated-180.jpg", "demo-pen", "rot180"),
        ("edited/pen-upside-down-mirror.jpg", "demo-pen", "flipx"),
        ("edited/pen-small.webp", "demo-pen", "orig"),
    ];
    for (file, id, orientation) in cases {
        let path = format!("fixtures/screening/{file}");
        let entry = flagged(&report, &path).unwrap_or_else(|| panic!("{path} not flagged"));
        let m = &entry["matches"][0];
        assert_eq!(m["algorithm"], "pdq", "{path}: {m}");
        assert_eq!(m["sources"][0]["id"], id, "{path}: {m}");
        assert_eq!(m["orientation"], orientation, "{path}: {m}");
        assert!(m["distance"].as_u64().unwrap() <= 31, "{path}: {m}");
        assert_eq!(m["sources"][0]["list"], DEMO);
        assert_eq!(m["suspicious"], false);
        assert_eq!(entry["matches"].as_array().unwrap().len(), 1, "{path}: {entry}");
    }

    for file in ["edited/q1050-recompressed.jpg", "edited/q1050-resized.png"] {
        let path = format!("fixtures/screening/{file}");
        let entry = flagged(&report, &path).unwrap_or_else(|| panic!("{path} not flagged"));
        assert_eq!(algorithms(entry), ["phash", "dhash"], "{path}: {entry}");
        for m in entry["matches"].as_array().unwrap() {
            assert_eq!(m["sources"][0]["id"], "demo-q1050");
        }
    }

    // Exact copies match by digest whatever the name; the content decides the type.
    for file in ["exact/q0291.jpg", "exact/q0291-renamed.txt"] {
        let path = format!("fixtures/screening/{file}");
        let entry = flagged(&report, &path).unwrap_or_else(|| panic!("{path} not flagged"));
        assert_eq!(entry["media_type"], "image/jpeg");
        assert_eq!(algorithms(entry), ["md5", "sha256"], "{path}: {entry}");
        assert_eq!(entry["matches"][0]["distance"], 0);
    }

    // Everything else is clean: 12 flagged files, nothing else flagged, no errors.
    assert_eq!(report["summary"]["flagged"], 12, "{}", report["flagged"]);
    assert_eq!(report["summary"]["errors"], 0, "{}", report["errors"]);
    for distinct in ["astronaut", "chelsea", "coffee", "rocket", "q0122", "q2821", "wee"] {
        let path = format!("fixtures/screening/distinct/{distinct}.jpg");
        assert!(flagged(&report, &path).is_none(), "{path} must not match");
    }
    assert!(flagged(&report, "fixtures/screening/exact/not-a-photo.jpg").is_none());

    // The featureless photo is not matched by PDQ, and the report says so.
    let low: Vec<&Value> = report["low_quality"].as_array().unwrap().iter().collect();
    assert_eq!(low.len(), 1, "{low:?}");
    assert_eq!(low[0]["path"], "fixtures/screening/distinct/q0003-low-quality.jpg");
    assert!(low[0]["quality"].as_u64().unwrap() < 50);
}

#[test]
fn distinct_photos_scan_clean_with_exit_zero() {
    let (code, report, _) = scan(&["fixtures/screening/distinct", "--list", DEMO]);
    assert_eq!(code, 0, "{report}");
    assert_counts_add_up(&report);
    assert_eq!(report["summary"]["clean"], 8);
    assert_eq!(report["summary"]["files"], 8);
}

#[test]
fn readme_scan_finds_matches_and_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.json");
    let output = mediascreen(&[
        "scan",
        "fixtures/",
        "--list",
        DEMO,
        "--report",
        report_path.to_str().unwrap(),
    ]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    assert_counts_add_up(&report);
    // The conformance photos are bridge variants too: most of them match.
    assert!(report["summary"]["flagged"].as_u64().unwrap() > 20, "{}", report["summary"]);
    assert!(stderr(&output).contains("flagged"));
}

#[test]
fn builtin_decoders_are_named_in_the_report() {
    let (code, report, _) = scan(&["fixtures/screening", "--list", DEMO, "--builtin-decoders"]);
    assert_eq!(code, 1);
    let decoders = &report["settings"]["decoders"];
    assert_eq!(decoders["jpeg"], "built-in (zune-jpeg)");
    assert_eq!(decoders["webp"], "built-in (image-webp)");
}

#[test]
#[ignore = "needs libjpeg-turbo and libwebp"]
fn either_set_of_decoders_screens_the_same_files_alike_and_is_named() {
    let outcome = |report: &Value| {
        let paths = |key: &str| -> Vec<String> {
            let files = report[key].as_array().unwrap();
            files.iter().map(|f| f["path"].as_str().unwrap().to_string()).collect()
        };
        (report["summary"].clone(), paths("flagged"), paths("errors"))
    };
    let (code, system, _) = scan(&["fixtures/", "--list", DEMO]);
    // Without the libraries the two scans below would be one and the same.
    let decoders = &system["settings"]["decoders"];
    let jpeg = decoders["jpeg"].as_str().unwrap();
    assert!(jpeg.starts_with("libjpeg-turbo"), "libjpeg-turbo is not installed: {decoders}");
    let webp = decoders["webp"].as_str().unwrap();
    assert!(webp.starts_with("libwebp"), "libwebp is not installed: {decoders}");
    let (builtin_code, builtin, _) = scan(&["fixtures/", "--list", DEMO, "--builtin-decoders"]);
    assert_eq!((code, outcome(&system)), (builtin_code, outcome(&builtin)));
}

#[test]
fn report_does_not_depend_on_thread_count() {
    let strip_times = |mut v: Value| {
        for key in ["started_at", "finished_at", "elapsed_ms"] {
            v.as_object_mut().unwrap().remove(key);
        }
        serde_json::to_string_pretty(&v).unwrap()
    };
    let one = mediascreen(&["scan", "fixtures/screening", "--list", DEMO, "--threads", "1"]);
    let eight = mediascreen(&["scan", "fixtures/screening", "--list", DEMO, "--threads", "8"]);
    let one_text = String::from_utf8(one.stdout).unwrap();
    let eight_text = String::from_utf8(eight.stdout).unwrap();
    // Byte-identical apart from the three time lines.
    let without_times = |t: &str| -> String {
        t.lines()
            .filter(|l| {
                !["\"started_at\"", "\"finished_at\"", "\"elapsed_ms\""]
                    .iter()
                    .any(|k| l.trim_start().starts_with(k))
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_times(&one_text), without_times(&eight_text));
    assert_eq!(
        strip_times(serde_json::from_str(&one_text).unwrap()),
        strip_times(serde_json::from_str(&eight_text).unwrap())
    );
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Scans the screening fixtures against a list with the given contents (kept in a temporary
/// folder that lives as long as the returned guard).
fn scan_with_list(contents: &[u8]) -> (tempfile::TempDir, PathBuf, Output) {
    let dir = tempfile::tempdir().unwrap();
    let list = write(dir.path(), "list.csv", contents);
    let output = mediascreen(&["scan", "fixtures/screening", "--list", list.to_str().unwrap()]);
    (dir, list, output)
}

#[test]
fn bad_list_line_stops_the_run_with_its_line_number() {
    let (_dir, list, output) = scan_with_list(
        b"# comment\nalgorithm,hash,id\nmd5,ad5148579e2a0886849021264351a52a,ok\npdq,12345,broken\n",
    );
    assert_eq!(code(&output), 2);
    let expected = format!("{}:4: bad pdq hash \"12345\"", list.display());
    assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
    assert!(output.stdout.is_empty(), "no report for a run that never started");
}

#[test]
fn empty_list_is_refused() {
    let (_dir, _, output) = scan_with_list(b"algorithm,hash\n# nothing yet\n");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("no entries"), "{}", stderr(&output));
}

#[test]
fn unreadable_image_without_matches_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(root().join("fixtures/screening/distinct/coffee.jpg")).unwrap();
    write(dir.path(), "coffee.jpg", &good);
    // A JPEG decoder fills a cut-off image with grey without complaint; it must still not
    // pass as clean.
    write(dir.path(), "cut.jpg", &good[..good.len() / 3]);
    let png = std::fs::read(root().join("fixtures/screening/edited/q1050-resized.png")).unwrap();
    write(dir.path(), "truncated.png", &png[..png.len() / 2]);
    write(dir.path(), "garbage.png", b"\x89PNG\r\n\x1a\nthis is not really a png");
    let (code, report, _) = scan(&[dir.path().to_str().unwrap(), "--list", DEMO]);
    assert_counts_add_up(&report);
    assert_eq!(code, 2, "{report}");
    assert_eq!(report["summary"]["clean"], 1, "{report}");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "{report}");
    assert!(errors[0]["path"].as_str().unwrap().ends_with("cut.jpg"));
    assert!(errors[0]["reason"].as_str().unwrap().starts_with("truncated JPEG"));
    assert!(errors[1]["path"].as_str().unwrap().ends_with("garbage.png"));
    assert!(errors[2]["path"].as_str().unwrap().ends_with("truncated.png"));
    assert!(errors.iter().all(|e| e["stage"] == "decode" && e["reason"] != ""));
}

#[test]
fn hash_output_is_a_valid_list() {
    let dir = tempfile::tempdir().unwrap();
    let output = mediascreen(&[
        "hash",
        "fixtures/screening/edited/bridge-half-size.jpg",
        "fixtures/screening/edited/q1050-resized.png",
        "--algorithms",
        "pdq,phash,dhash,ahash,md5,sha1,sha256",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("algorithm,hash,id,label,quality,timestamp\n"), "{text}");
    assert_eq!(text.lines().count(), 1 + 2 * 7, "{text}");
    let list = write(dir.path(), "made.csv", text.as_bytes());

    let (code, report, _) = scan(&["fixtures/screening/edited", "--list", list.to_str().unwrap()]);
    assert_eq!(code, 1);
    let entry = flagged(&report, "fixtures/screening/edited/bridge-half-size.jpg").unwrap();
    let algorithms = algorithms(entry);
    for algorithm in ["pdq", "phash", "dhash", "ahash", "md5", "sha1", "sha256"] {
        assert!(algorithms.contains(&algorithm), "{algorithm} missing: {entry}");
    }
    assert!(entry["matches"].as_array().unwrap().iter().all(|m| m["distance"] == 0));
}

#[test]
fn thresholds_and_rotation_flags_change_matching() {
    let path = "fixtures/screening/edited/bridge-rotated-90.jpg";
    let (code, _, _) = scan(&[path, "--list", DEMO, "--no-rotations"]);
    assert_eq!(code, 0, "a rotated copy matches only through rotations");
    let (code, report, _) = scan(&[path, "--list", DEMO, "--threshold", "pdq=0"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["settings"]["thresholds"]["pdq"], 0);
}

#[cfg(unix)]
#[test]
fn symlinks_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let target = root().join("fixtures/screening/distinct/coffee.jpg");
    std::os::unix::fs::symlink(&target, dir.path().join("link.jpg")).unwrap();
    let (code, report, _) = scan(&[dir.path().to_str().unwrap(), "--list", DEMO]);
    assert_counts_add_up(&report);
    assert_eq!(report["summary"]["skipped"], 1);
    assert_eq!(code, 2, "nothing was scanned, so the run cannot pass as clean");
    let (code, report, _) =
        scan(&[dir.path().to_str().unwrap(), "--list", DEMO, "--follow-symlinks"]);
    assert_eq!((code, &report["summary"]["clean"]), (0, &Value::from(1)));
}

#[test]
fn allowlist_suppresses_listed_hashes_and_known_files() {
    let dir = tempfile::tempdir().unwrap();
    // By listed hash: the pen entry is allowlisted, so its three copies come out clean.
    let pen = "1f811b9d267fbc6693c0c7f30e041f9df49b836303e10f067fcdfc12c02d01f9";
    let by_entry =
        write(dir.path(), "allow-entry.csv", format!("algorithm,hash\npdq,{pen}\n").as_bytes());
    // By the file's own hash, as `mediascreen hash` prints it: only that file is allowed.
    let known = mediascreen(&[
        "hash",
        "--algorithms",
        "pdq",
        "fixtures/screening/edited/bridge-mirrored.jpg",
    ]);
    let by_file = write(dir.path(), "allow-file.csv", &known.stdout);

    let (code, report, _) = scan(&[
        "fixtures/screening",
        "--list",
        DEMO,
        "--allow",
        by_entry.to_str().unwrap(),
        "--allow",
        by_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert_counts_add_up(&report);
    assert_eq!(report["summary"]["flagged"], 12 - 4, "{}", report["flagged"]);
    assert_eq!(report["summary"]["allowlisted_matches"], 4);
    let allowed: Vec<&str> = report["allowlisted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        allowed,
        [
            "fixtures/screening/edited/bridge-mirrored.jpg",
            "fixtures/screening/edited/pen-rotated-180.jpg",
            "fixtures/screening/edited/pen-small.webp",
            "fixtures/screening/edited/pen-upside-down-mirror.jpg",
        ]
    );
    assert!(flagged(&report, "fixtures/screening/edited/bridge-rotated-90.jpg").is_some());
    assert_eq!(report["allowlists"].as_array().unwrap().len(), 2);
}

#[test]
fn flood_guard_marks_an_entry_matching_too_many_files() {
    // Five of the 22 scanned files are copies of the bridge: with the default guard (more
    // than 50 files) nothing is suspicious; with a guard of 2 files and 10 % it is.
    let (_, report, _) = scan(&["fixtures/screening", "--list", DEMO]);
    assert!(report["suspicious"].as_array().unwrap().is_empty());

    let (code, report, _) = scan(&[
        "fixtures/screening",
        "--list",
        DEMO,
        "--flood-min-files",
        "4",
        "--flood-percent",
        "10",
    ]);
    assert_eq!(code, 1, "suspicious matches are kept");
    let suspicious = report["suspicious"].as_array().unwrap();
    assert_eq!(suspicious.len(), 1, "{suspicious:?}");
    assert_eq!(suspicious[0]["files"], 5);
    assert_eq!(suspicious[0]["sources"][0]["id"], "demo-bridge");
    let rotated = flagged(&report, "fixtures/screening/edited/bridge-rotated-90.jpg").unwrap();
    assert_eq!(rotated["matches"][0]["suspicious"], true);
    let pen = flagged(&report, "fixtures/screening/edited/pen-small.webp").unwrap();
    assert_eq!(pen["matches"][0]["suspicious"], false);
}

#[test]
fn a_hash_in_two_lists_is_one_match_with_both_sources() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.csv");
    std::fs::copy(root().join(DEMO), &copy).unwrap();
    let (code, report, _) = scan(&[
        "fixtures/screening/edited/pen-small.webp",
        "--list",
        DEMO,
        "--list",
        copy.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let matches = report["flagged"][0]["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 1, "{matches:?}");
    let lists: Vec<&str> = matches[0]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["list"].as_str().unwrap())
        .collect();
    assert_eq!(lists, [DEMO, copy.to_str().unwrap()]);
}

#[test]
fn refused_entries_warn_by_line_and_strict_makes_them_fatal() {
    let list = format!(
        "algorithm,hash,id\npdq,{},blank\npdq,1f811b9d267fbc6693c0c7f30e041f9df49b836303e10f067fcdfc12c02d01f9,pen\n",
        "0".repeat(64)
    );
    let (_dir, path, output) = scan_with_list(list.as_bytes());
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let warning = format!("{}:2: entry skipped: degenerate pdq hash", path.display());
    assert!(stderr(&output).contains(&warning), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["lists"][0]["refused"], 1);
    assert_eq!(report["lists"][0]["entries"]["pdq"], 1);

    let strict =
        mediascreen(&["scan", "fixtures/screening", "--list", path.to_str().unwrap(), "--strict"]);
    assert_eq!(code(&strict), 2);
    assert!(
        stderr(&strict).contains(&format!("{}:2: degenerate", path.display())),
        "{}",
        stderr(&strict)
    );

    let check = mediascreen(&["list", "check", path.to_str().unwrap(), DEMO]);
    assert_eq!(code(&check), 2);
    let out = String::from_utf8(check.stdout).unwrap();
    assert!(out.contains(&warning), "{out}");
    assert!(out.contains("hashlists/demo.csv: native, 27 entries (pdq 4, vpdq 19, phash 1, dhash 1, md5 1, sha256 1), 0 refused"), "{out}");
    assert_eq!(code(&mediascreen(&["list", "check", DEMO])), 0);
}

#[test]
fn clamav_sizes_must_match_too() {
    // demo.hdb pins q0291's MD5 to its real size (9559 bytes): both copies are flagged.
    let (code, report, _) = scan(&["fixtures/screening/exact", "--list", "hashlists/demo.hdb"]);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["flagged"], 2, "{}", report["flagged"]);
    assert_eq!(report["flagged"][0]["matches"][0]["id"], "Demo.Q0291.Exact");
    // The same digest pinned to another size matches nothing.
    let dir = tempfile::tempdir().unwrap();
    let wrong =
        write(dir.path(), "wrong.hdb", b"ad5148579e2a0886849021264351a52a:9558:Demo.WrongSize\n");
    let (code, report, _) = scan(&["fixtures/screening/exact", "--list", wrong.to_str().unwrap()]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["lists"][0]["format"], "hdb");
}

/// The match of `path` with the demo list's chair video, and its `video` object.
fn chair_match<'a>(report: &'a Value, path: &str) -> &'a Value {
    let entry = flagged(report, path).unwrap_or_else(|| panic!("{path} not flagged: {report}"));
    let m = &entry["matches"][0];
    assert_eq!(
        (m["algorithm"].as_str(), m["id"].as_str()),
        (Some("vpdq"), Some("demo-video-chair"))
    );
    assert!(m["distance"].as_u64().unwrap() <= 31, "{m}");
    &m["video"]
}

fn pct(video: &Value, key: &str) -> f64 {
    video[key].as_f64().unwrap_or_else(|| panic!("{key} missing: {video}"))
}

#[test]
fn edited_copies_of_a_listed_video_are_flagged_with_time_ranges() {
    // The in-process decoders alone, as on a machine with only the Rust toolchain; what
    // ffmpeg adds is tested by the next test.
    let (code, report, output) = scan_with(&["fixtures/video/", "--list", DEMO], &[NO_FFMPEG]);
    assert_eq!(code, 1, "{}", stderr(&output));
    assert_counts_add_up(&report);
    assert_eq!(
        report["settings"]["algorithms"].to_string(),
        r#"["pdq","vpdq","phash","dhash","md5","sha256"]"#
    );

    // Re-encoded at a third of the size: nearly every frame on both sides.
    let video = chair_match(&report, "fixtures/video/chair-reencoded.mp4");
    assert!(pct(video, "query_pct") >= 80.0 && pct(video, "listed_pct") >= 80.0, "{video}");
    assert_eq!(video["time_ranges"], serde_json::json!([[0.0, 18.0]]));
    // A 7 s clip: the whole of it is in the listed video, but not the other way round.
    let video = chair_match(&report, "fixtures/video/chair-clip.mp4");
    assert!(pct(video, "query_pct") >= 80.0 && pct(video, "listed_pct") < 80.0, "{video}");
    assert_eq!(video["time_ranges"], serde_json::json!([[0.0, 6.0]]));
    // Spliced in at 8 s: all of the listed video is found, in a query mostly of other footage.
    let video = chair_match(&report, "fixtures/video/chair-padded.mp4");
    assert!(pct(video, "query_pct") < 80.0 && pct(video, "listed_pct") >= 80.0, "{video}");
    assert_eq!(video["time_ranges"], serde_json::json!([[8.0, 26.0]]));
    assert_eq!(video["listed_frames"], serde_json::json!([19, 19]));

    // A listed photograph shown from 4 s to 8 s: the sampled frames at 4-7 s match it.
    let entry = flagged(&report, "fixtures/video/bridge-in-video.mp4").unwrap();
    let m = &entry["matches"][0];
    assert_eq!((m["algorithm"].as_str(), m["id"].as_str()), (Some("pdq"), Some("demo-bridge")));
    assert!(m["quality"].as_u64().unwrap() >= 50, "{m}");
    assert_eq!(m["video"]["time_ranges"], serde_json::json!([[4.0, 7.0]]));
    assert!(m["video"].get("query_pct").is_none(), "{m}");

    // Unrelated footage decodes and is clean: not flagged, not an error.
    let unrelated = "fixtures/video/unrelated.mp4";
    assert!(flagged(&report, unrelated).is_none());
    assert!(!report["errors"].to_string().contains(unrelated), "{}", report["errors"]);

    // The clip as VP9 in WebM says that ffmpeg would decode it.
    let webm = "fixtures/video/chair-clip.webm";
    let error = report["errors"].as_array().unwrap().iter().find(|e| e["path"] == webm);
    let reason = error.unwrap_or_else(|| panic!("{webm}: {report}"))["reason"].to_string();
    assert!(reason.contains("install ffmpeg"), "{reason}");
}

#[test]
#[ignore = "needs ffmpeg"]
fn an_edited_copy_of_a_listed_video_in_webm_is_flagged_through_ffmpeg() {
    let webm = "fixtures/video/chair-clip.webm";
    let (code, report, output) = scan(&[webm, "--list", DEMO]);
    let ffmpeg = &report["settings"]["video"]["ffmpeg"];
    let found = ffmpeg.as_str().is_some_and(|v| v.starts_with("ffmpeg version"));
    assert!(found, "ffmpeg not found (on PATH, or named by MEDIASCREEN_FFMPEG): {ffmpeg}");
    assert_eq!(code, 1, "{}", stderr(&output));
    let video = chair_match(&report, webm);
    assert!(pct(video, "query_pct") >= 80.0, "{video}");
}

#[test]
fn hashed_video_frames_make_a_video_list() {
    let dir = tempfile::tempdir().unwrap();
    let output = mediascreen(&["hash", "--algorithms", "vpdq", "fixtures/video/chair-clip.mp4"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    // One row per second of the 7 s clip, stamped as the reference stamps them.
    assert_eq!(rows.len(), 7, "{text}");
    for (i, row) in rows.iter().enumerate() {
        let fields: Vec<&str> = row.split(',').collect();
        assert_eq!(fields.len(), 6, "{row}");
        assert_eq!(fields[0], "vpdq");
        assert_eq!(fields[1].len(), 64);
        assert_eq!(fields[2], "fixtures/video/chair-clip.mp4");
        assert!(fields[4].parse::<u8>().unwrap() <= 100);
        assert_eq!(fields[5], format!("{i}.000"));
    }
    let list = write(dir.path(), "clip.csv", text.as_bytes());

    // The longer re-encode holds the whole clip: flagged on the listed side.
    let (code, report, _) = scan(&["fixtures/video/", "--list", list.to_str().unwrap()]);
    assert_eq!(code, 1);
    let entry = flagged(&report, "fixtures/video/chair-reencoded.mp4").unwrap();
    assert_eq!(entry["matches"][0]["video"]["listed_pct"], 100.0, "{entry}");
    assert!(flagged(&report, "fixtures/video/unrelated.mp4").is_none());
    // Demanding more frames than the clip has leaves only the clip itself flagged.
    let (_, report, _) = scan(&[
        "fixtures/video/chair-reencoded.mp4",
        "--list",
        list.to_str().unwrap(),
        "--vpdq-min-frames",
        "8",
    ]);
    assert_eq!(report["summary"]["flagged"], 0, "{report}");
}

#[test]
fn meta_reference_hashes_are_a_video_list() {
    // Meta's vpdq-hash-video output for the listed video, every frame hashed: the edited
    // copies, sampled once a second, are found on the same sides as with the demo list.
    let list = "fixtures/conformance/vpdq/chair-19-sd-bar.txt";
    let (code, report, output) = scan(&["fixtures/video/", "--list", list]);
    assert_eq!(code, 1, "{}", stderr(&output));
    assert_eq!(report["lists"][0]["format"], "vpdq-text");
    for (file, query_side, listed_side) in [
        ("chair-reencoded.mp4", true, true),
        ("chair-clip.mp4", true, false),
        ("chair-padded.mp4", false, true),
    ] {
        let entry = flagged(&report, &format!("fixtures/video/{file}"))
            .unwrap_or_else(|| panic!("{file} not flagged: {report}"));
        let m = &entry["matches"][0];
        assert_eq!(m["id"], "chair-19-sd-bar", "{m}");
        let video = &m["video"];
        assert_eq!(pct(video, "query_pct") >= 80.0, query_side, "{file}: {video}");
        assert_eq!(pct(video, "listed_pct") >= 80.0, listed_side, "{file}: {video}");
    }
    assert!(flagged(&report, "fixtures/video/unrelated.mp4").is_none());
}

#[test]
fn without_ffmpeg_other_codecs_are_errors_that_say_so() {
    let files = ["fixtures/video/chair-clip.webm", "fixtures/video/chair-clip.mp4"];
    let output =
        mediascreen_with(&[&["scan"], &files[..], &["--list", DEMO]].concat(), &[NO_FFMPEG]);
    // The H.264 copy is still decoded in-process and flagged.
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_counts_add_up(&report);
    assert!(flagged(&report, "fixtures/video/chair-clip.mp4").is_some());
    assert_eq!(report["settings"]["video"]["ffmpeg"], Value::Null);
    let error = &report["errors"][0];
    assert_eq!(error["path"], "fixtures/video/chair-clip.webm");
    let reason = error["reason"].as_str().unwrap();
    assert!(reason.contains("vp9") && reason.contains("install ffmpeg"), "{reason}");
}

#[test]
fn truncated_videos_end_as_errors_or_matches_never_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(root().join("fixtures/video/chair-reencoded.mp4")).unwrap();
    for (name, cut) in [("half.mp4", whole.len() / 2), ("head.mp4", 2000), ("tiny.mp4", 40)] {
        write(dir.path(), name, &whole[..cut]);
    }
    let (code, report, output) = scan(&[dir.path().to_str().unwrap(), "--list", DEMO]);
    assert_counts_add_up(&report);
    assert_eq!(report["summary"]["files"], 3);
    // Nothing is clean: a cut-off video either still matches (with the reason it is
    // incomplete) or is an error.
    assert_eq!(report["summary"]["clean"], 0, "{report}");
    for entry in report["flagged"].as_array().unwrap() {
        assert!(entry["perceptual_error"].is_string(), "{entry}");
    }
    assert!(code == 1 || code == 2, "{}", stderr(&output));
}

#[test]
fn animations_are_hashed_as_videos_too() {
    let output = mediascreen(&[
        "hash",
        "--algorithms",
        "pdq,vpdq",
        "--vpdq-interval",
        "0.2",
        "fixtures/video/testsrc-10fps.webp",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    // The first frame is the picture; every other frame of the 10 fps animation is sampled.
    assert_eq!(rows[0][0], "pdq");
    let times: Vec<&str> = rows[1..].iter().map(|r| r[5]).collect();
    assert_eq!(times, ["0.000", "0.200", "0.400", "0.600", "0.800"], "{text}");
    assert_eq!(rows[0][1], rows[1][1], "the first frame hashes alike both ways");
}

#[test]
fn completions_and_the_manual_come_from_the_flag_definitions() {
    for shell in ["bash", "zsh", "fish"] {
        let output = mediascreen(&["completions", shell]);
        assert_eq!(code(&output), 0, "{shell}: {}", stderr(&output));
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains("vpdq-interval") && script.contains("max-file-size"), "{shell}");
    }
    let output = mediascreen(&["man"]);
    assert_eq!(code(&output), 0);
    let page = String::from_utf8(output.stdout).unwrap();
    assert!(page.starts_with(".ie") && page.contains(".TH mediascreen 1"), "{}", &page[..200]);
    assert!(mediascreen(&["completions", "tcsh"]).status.code() == Some(2));
}

/// The paths a report names, flagged or clean alike, from a JSON Lines scan.
fn scanned_paths(args: &[&str], stdin: &[u8]) -> Vec<String> {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mediascreen"))
        .args(["scan", "--list", DEMO, "--format", "jsonl"])
        .args(args)
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["type"] == "file")
        .map(|l| l["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn paths_come_from_lists_globs_and_depth() {
    let listed = b"fixtures/video/unrelated.mp4\nfixtures/screening/distinct/coffee.jpg\r\n\n";
    assert_eq!(
        scanned_paths(&["--files-from", "-"], listed),
        ["fixtures/video/unrelated.mp4", "fixtures/screening/distinct/coffee.jpg"]
    );
    let nul = b"fixtures/video/chair-clip.mp4\0fixtures/video/unrelated.mp4\0";
    assert_eq!(
        scanned_paths(&["--files-from", "-", "--null", "fixtures/video/testsrc-10fps.webp"], nul),
        [
            "fixtures/video/testsrc-10fps.webp",
            "fixtures/video/chair-clip.mp4",
            "fixtures/video/unrelated.mp4"
        ]
    );
    let only_webm = scanned_paths(&["fixtures/video", "--include", "*.webm"], b"");
    assert_eq!(
        only_webm,
        ["fixtures/video/chair-clip.webm", "fixtures/video/pattern-sd-grey-bar-vp9.webm"]
    );
    let no_chair = scanned_paths(&["fixtures/video", "--exclude", "chair-*"], b"");
    assert_eq!(no_chair.len(), 4, "{no_chair:?}");
    let shallow = scanned_paths(&["fixtures/screening", "--max-depth", "1"], b"");
    assert!(shallow.is_empty(), "{shallow:?}");
    let one_level = scanned_paths(&["fixtures/screening", "--max-depth", "2"], b"");
    assert!(!one_level.is_empty() && one_level.iter().all(|p| p.matches('/').count() == 3));
}

#[test]
fn the_progress_bar_shows_on_a_terminal_only() {
    // util-linux's `script` runs the scan on a pseudo-terminal.
    let command = format!(
        // WebM needs ffmpeg, which a fresh machine may not have: left out, the counts are fixed.
        "{} scan fixtures/video --exclude '*.webm' --list {DEMO} --report /dev/null",
        env!("CARGO_BIN_EXE_mediascreen")
    );
    let on_tty = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(root())
        .output()
        .expect("util-linux script runs");
    let shown = String::from_utf8_lossy(&on_tty.stdout);
    assert!(shown.contains("6/6 files") && shown.contains("4 flagged"), "{shown}");
    // Not a terminal, or --quiet: no bar, and only the summary line.
    let piped = mediascreen(&["scan", "fixtures/video", "--list", DEMO, "--report", "/dev/null"]);
    let text = stderr(&piped);
    assert!(!text.contains("8/8") && !text.contains('\r'), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    let quiet = Command::new("script")
        .args(["-qec", &format!("{command} --quiet"), "/dev/null"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&quiet.stdout).trim().is_empty());
}

#[cfg(unix)]
#[test]
fn reports_go_through_links_and_into_devices_without_replacing_them() {
    use std::os::unix::fs::{symlink, FileTypeExt};
    let dir = tempfile::tempdir().unwrap();
    // A link to the report: the target is written, the link stays.
    let target = dir.path().join("real.json");
    let link = dir.path().join("report.json");
    symlink(&target, &link).unwrap();
    let args = ["scan", "fixtures/video/chair-clip.mp4", "--list", DEMO, "--report"];
    let output = mediascreen(&[&args[..], &[link.to_str().unwrap()]].concat());
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(fs_is_symlink(&link));
    let report: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(report["summary"]["flagged"], 1);
    // A FIFO (as /dev/null or /dev/stdout would be a device): written into, left a FIFO.
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let output = mediascreen(&[&args[..], &[fifo.to_str().unwrap()]].concat());
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&reader.join().unwrap()).unwrap();
    assert_eq!(report["summary"]["flagged"], 1);
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

#[cfg(unix)]
fn fs_is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).unwrap().file_type().is_symlink()
}

#[test]
fn text_and_csv_reports_say_the_same_as_json() {
    let output = mediascreen(&[
        "scan",
        "fixtures/video",
        "--exclude",
        "*.webm",
        "fixtures/bad/truncated.png",
        "--list",
        DEMO,
        "--format",
        "text",
        "-q",
    ]);
    assert_eq!(code(&output), 1);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("fixtures/video/chair-padded.mp4: FLAGGED vpdq d=4/31 at 8.0-26.0s (55.88% of the video, 100% of the listed one; needs 80% of either and 3 frames) list=hashlists/demo.csv id=demo-video-chair"),
        "{text}"
    );
    assert!(text.contains("fixtures/bad/truncated.png: ERROR (decode) "), "{text}");
    assert!(text.contains("Flagged: 4\nClean: 2\nErrors: 1\n"), "{text}");
    assert_eq!(text.matches(": FLAGGED ").count(), 4);

    let output = mediascreen(&[
        "scan",
        "fixtures/video",
        "--exclude",
        "*.webm",
        "--list",
        DEMO,
        "--format",
        "csv",
        "-q",
    ]);
    let mut rows = csv::Reader::from_reader(&output.stdout[..]);
    let header = rows.headers().unwrap().clone();
    assert_eq!(&header[0], "path");
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 6, "one row per match or file");
    let padded = rows.iter().find(|r| &r[0] == "fixtures/video/chair-padded.mp4").unwrap();
    assert_eq!(
        (&padded[1], &padded[2], &padded[6], &padded[9]),
        ("flagged", "vpdq", "8.0-26.0s", "demo-video-chair")
    );
    assert!(rows.iter().any(|r| &r[1] == "clean"));
}

#[test]
fn compare_gives_every_distance_and_exits_one_on_a_match() {
    let compare = |a: &str, b: &str, extra: &[&str]| -> (i32, String) {
        let output = mediascreen(&[&["compare", a, b][..], extra].concat());
        (code(&output), String::from_utf8(output.stdout).unwrap())
    };
    let rotated = "fixtures/screening/edited/bridge-rotated-90.jpg";
    let half = "fixtures/screening/edited/bridge-half-size.jpg";
    let (status, text) = compare(rotated, half, &[]);
    assert_eq!(status, 1, "{text}");
    let line = |text: &str, algorithm: &str| -> String {
        text.lines().find(|l| l.starts_with(&format!("{algorithm} "))).unwrap().to_string()
    };
    let pdq = line(&text, "pdq");
    assert!(pdq.contains("MATCH") && pdq.contains("A is B rot90"), "{pdq}");
    for algorithm in ["phash", "dhash", "ahash", "md5", "sha1", "sha256"] {
        assert!(line(&text, algorithm).contains("no match"), "{text}");
    }
    // With rotations off the pair does not match; a recompressed copy 2 bits away does not
    // match by PDQ under a threshold of 1 (it still does by the 64-bit hashes).
    assert_eq!(compare(rotated, half, &["--no-rotations"]).0, 0);
    let recompressed = "fixtures/screening/edited/bridge-recompressed-q20.jpg";
    assert!(line(&compare(recompressed, half, &[]).1, "pdq").contains("d=2/256"));
    let strict = compare(recompressed, half, &["--threshold", "pdq=1"]).1;
    assert!(line(&strict, "pdq").contains("no match"), "{strict}");

    let (status, text) = compare("fixtures/screening/distinct/astronaut.jpg", half, &[]);
    assert_eq!(status, 0, "{text}");
    assert!(line(&text, "pdq").contains("no match"));
    assert!(line(&text, "orb1").contains("no match"), "{text}");
    // A crop, by its keypoints.
    let (_, text) = compare("fixtures/screening/edited/bridge-cropped.jpg", half, &[]);
    assert!(line(&text, "orb1").contains("MATCH  scale"), "{text}");

    // A picture against a video's frames, and two videos.
    let (status, text) = compare("fixtures/video/bridge-in-video.mp4", half, &[]);
    assert_eq!(status, 1, "{text}");
    assert!(line(&text, "pdq").contains("closest frame of A at 4.000 s"), "{text}");
    let (status, text) =
        compare("fixtures/video/chair-clip.mp4", "fixtures/video/chair-padded.mp4", &[]);
    assert_eq!(status, 1, "{text}");
    assert!(line(&text, "vpdq").contains("A 100.00 %"), "{text}");
    let (status, _) = compare("fixtures/video/chair-clip.mp4", "fixtures/video/unrelated.mp4", &[]);
    assert_eq!(status, 0);

    let missing = mediascreen(&["compare", half, "fixtures/no-such-file.jpg"]);
    assert_eq!(code(&missing), 2);
    assert!(stderr(&missing).contains("no-such-file.jpg"));
}
