//! `mediascreen scan` end to end on the bundled photographs: what is flagged and by which
//! entry and orientation, what is clean, what is an error, and which paths a scan takes in
//! (arguments, `--files-from`, globs, depth, links).

use serde_json::Value;

mod run;
use run::{
    algorithms, assert_counts_add_up, code, flagged, mediascreen, mediascreen_fed, root, scan,
    stderr, write, DEMO,
};

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

/// The paths a report names, flagged or clean alike, from a JSON Lines scan.
fn scanned_paths(args: &[&str], stdin: &[u8]) -> Vec<String> {
    let output =
        mediascreen_fed(&[&["scan", "--list", DEMO, "--format", "jsonl"], args].concat(), stdin);
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
