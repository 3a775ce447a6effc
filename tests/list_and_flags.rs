//! What a person is told about the lists and flags they pass: errors that name the flag and
//! say what the file is, warnings for settings that cannot do what was meant, and a flood
//! guard that does not mistake a much-forwarded photo for a bad list entry; and the shell
//! completions and manual made from the flag definitions.

use serde_json::Value;

mod run;
use run::{code, mediascreen, mediascreen_fed, root, stderr};

/// Runs a scan of `fixtures/screening` that must stop before scanning; its one error line.
fn refused(args: &[&str]) -> String {
    let output = mediascreen(&[&["scan", "fixtures/screening"], args].concat());
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(output.stdout.is_empty(), "nothing is reported");
    let text = stderr(&output);
    assert_eq!(text.lines().count(), 1, "one message, said once: {text}");
    text.trim_end().to_string()
}

#[test]
fn list_errors_name_the_flag_and_say_what_the_file_is() {
    assert_eq!(
        refused(&["--list", "nope.csv"]),
        "mediascreen: error: --list nope.csv: no such file"
    );
    assert_eq!(
        refused(&["--list", "hashlists/demo.csv", "--allow", "fixtures"]),
        "mediascreen: error: --allow fixtures: a folder, not a file"
    );
    let picture = refused(&["--list", "fixtures/screening/exact/q0291.jpg"]);
    assert!(picture.contains("--list fixtures/screening/exact/q0291.jpg: a picture or video (image/jpeg), not a hash list"), "{picture}");
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let message = refused(&["--list", empty.to_str().unwrap()]);
    assert!(
        message.ends_with(
            "empty.csv: the file is empty: a list with no entries would call every file clean"
        ),
        "{message}"
    );
    let comments = dir.path().join("comments.csv");
    std::fs::write(&comments, "# nothing yet\n\n").unwrap();
    assert!(refused(&["--list", comments.to_str().unwrap()]).contains("only comments"));
    // A whole-file problem has no line number.
    assert!(!refused(&["--list", "hashlists/demo.imp"]).contains(":0:"));
    // A parse error keeps the compiler form FILE:LINE.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "algorithm,hash\npdq,abc\n").unwrap();
    let message = refused(&["--list", bad.to_str().unwrap()]);
    assert!(message.contains(&format!("--list {}:2: bad pdq hash", bad.display())), "{message}");
}

#[test]
fn a_list_can_come_from_standard_input() {
    let list = std::fs::read(root().join("hashlists/demo.hdb")).unwrap();
    let output = mediascreen_fed(&["scan", "fixtures/screening", "--list", "-"], &list);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["lists"][0]["path"], "-");
    assert_eq!(report["summary"]["flagged"], 2);
    let output = mediascreen_fed(&["list", "check", "-"], &list);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("-: hdb, 2 entries"));
    assert!(refused(&["--list", "-", "--allow", "-"])
        .contains("only one of --list, --allow, --files-from and --s3-event"));
}

#[test]
fn flags_that_cannot_do_what_was_meant_are_warned_about() {
    let output = mediascreen(&[
        "scan",
        "fixtures/screening",
        "--list",
        "hashlists/demo.hdb",
        "--threshold",
        "phash=4",
        "--threshold",
        "pdq=70",
    ]);
    let text = stderr(&output);
    assert!(text.contains("warning: --threshold phash=4: no list holds phash entries"), "{text}");
    assert!(
        text.contains("warning: --threshold pdq=70: more than a quarter of the hash's 256 bits"),
        "{text}"
    );
    assert!(
        text.contains("warning: --threshold pdq=70: past 47, every file is compared"),
        "{text}"
    );
    assert_eq!(output.status.code(), Some(1), "warnings do not change the outcome");
    assert_eq!(
        refused(&["--list", "hashlists/demo.csv", "--shard", "0/0"]),
        "mediascreen: error: --shard 0/0: N, the number of shards, must be 1 or more"
    );
}

#[test]
fn a_photo_forwarded_many_times_is_one_content_to_the_flood_guard() {
    let dir = tempfile::tempdir().unwrap();
    let photo = root().join("fixtures/screening/exact/q0291.jpg");
    for i in 0..6 {
        std::fs::copy(&photo, dir.path().join(format!("forwarded-{i}.jpg"))).unwrap();
    }
    let other = root().join("fixtures/screening/distinct/coffee.jpg");
    std::fs::copy(other, dir.path().join("coffee.jpg")).unwrap();
    let flood = ["--flood-min-files", "2", "--flood-percent", "10"];
    let args =
        [&["scan", dir.path().to_str().unwrap(), "--list", "hashlists/demo.hdb"][..], &flood]
            .concat();
    let output = mediascreen(&args);
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["flagged"], 6);
    assert_eq!(report["suspicious"], serde_json::json!([]), "one content, six copies");
    assert!(report["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["matches"][0]["suspicious"] == false));
}

#[test]
fn version_names_the_decoders_and_man_pages_cover_every_command() {
    let output = mediascreen(&["--version"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with(&format!("mediascreen {}\ndecoders: jpeg ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(text.contains("; webp ") && text.contains("; video "), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let output = mediascreen(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for page in [
        "mediascreen",
        "mediascreen-scan",
        "mediascreen-hash",
        "mediascreen-list-check",
        "mediascreen-compare",
        "mediascreen-report-merge",
    ] {
        let roff = std::fs::read_to_string(dir.path().join(format!("{page}.1"))).unwrap();
        for section in [
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH ENVIRONMENT",
            "MEDIASCREEN_FFMPEG",
            "MEDIASCREEN_REDACT_KEY",
            ".SH EXAMPLES",
        ] {
            assert!(roff.contains(section), "{page} lacks {section}");
        }
    }

    // Completions offer the values of --list-format, --algorithms and --format.
    let output = mediascreen(&["completions", "bash"]);
    let script = String::from_utf8_lossy(&output.stdout);
    for value in ["te-dataset", "vpdq-text", "orb1", "sha256", "jsonl"] {
        assert!(script.contains(value), "completions lack {value}");
    }
}

#[test]
fn the_text_report_says_what_a_budget_left_out() {
    let output = mediascreen(&[
        "scan",
        "fixtures/screening/distinct",
        "--list",
        "hashlists/demo.hdb",
        "--format",
        "text",
        "--max-files",
        "2",
    ]);
    assert_eq!(output.status.code(), Some(2), "left out is not screened");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Left out by a budget (not screened): 6\n"), "{text}");
    let next = text.lines().last().unwrap();
    assert!(next.starts_with("Next: 6 left out by --max-files or --max-scan-size"), "{next}");
}

#[test]
fn an_include_glob_of_the_wrong_case_is_warned_about_and_can_ignore_case() {
    let args = ["scan", "fixtures/screening", "--list", "hashlists/demo.hdb", "--include", "*.JPG"];
    let output = mediascreen(&args);
    assert_eq!(output.status.code(), Some(2), "nothing screened");
    assert!(stderr(&output)
        .contains("warning: no file matched --include *.JPG: globs are case-sensitive"));
    let output = mediascreen(&[&args[..], &["--glob-case-insensitive"]].concat());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["files"], 18);
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
