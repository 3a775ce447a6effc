//! End-to-end tests of the flags for scans that leave one machine or one operator: `--shard`,
//! `report merge` and `--redact-paths`.

use std::path::Path;
use std::process::Output;

use mediascreen::report::PathKey;
use serde_json::Value;

mod run;
use run::{mediascreen_with, DEMO};

/// Two roots (their order matters to the merge), and a flood guard low enough to fire, so
/// that the merge has to recount it.
const SCAN: [&str; 9] = [
    "scan",
    "fixtures/screening",
    "fixtures/bad",
    "--list",
    DEMO,
    "--flood-min-files",
    "3",
    "--flood-percent",
    "10",
];

/// The exit status `docs/ci.md` gives a scan that reports `report`: 1 when anything
/// matched, else 2 when a file could not be screened or none was, else 0.
fn status_of(report: &Value) -> i32 {
    let n = |key: &str| report["summary"][key].as_u64().unwrap();
    if n("flagged") > 0 {
        1
    } else if n("errors") > 0 || n("clean") == 0 {
        2
    } else {
        0
    }
}

/// The report as text without the fields that record when it ran.
fn timeless(mut report: Value) -> String {
    for key in ["started_at", "finished_at", "elapsed_ms"] {
        report.as_object_mut().unwrap().remove(key).expect("the report has its times");
    }
    serde_json::to_string_pretty(&report).unwrap()
}

#[test]
fn sharded_scans_merge_into_the_unsharded_report() {
    let whole = mediascreen_with(&[&SCAN[..], &["-q"]].concat(), &[]);
    assert_eq!(whole.status.code(), Some(1));
    let whole = run::report(&whole);
    assert!(!whole["suspicious"].as_array().unwrap().is_empty(), "the flood guard fires");
    assert!(whole["settings"].get("shard").is_none());
    let dir = tempfile::tempdir().unwrap();
    // Each shard's exit status, fixed by the fixtures and by which shard each path hashes
    // to: two of seven hold broken files but nothing that matches.
    for statuses in [&[1][..], &[1, 1, 1], &[1, 1, 1, 2, 2, 1, 1]] {
        let count = statuses.len();
        let mut reports = Vec::new();
        let mut files = 0;
        for (index, &status) in statuses.iter().enumerate() {
            let shard = format!("{index}/{count}");
            let report = dir.path().join(format!("shard-{index}-of-{count}.json"));
            let report = report.to_str().unwrap().to_string();
            let output = mediascreen_with(
                &[&SCAN[..], &["-q", "--shard", &shard, "-o", &report]].concat(),
                &[],
            );
            let part: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
            assert_eq!(status_of(&part), status, "{shard}: {}", part["summary"]);
            assert_eq!(output.status.code(), Some(status), "{shard}: {output:?}");
            assert_eq!(part["settings"]["shard"], shard.as_str());
            files += part["summary"]["files"].as_u64().unwrap();
            reports.push(report);
        }
        assert_eq!(files, whole["summary"]["files"].as_u64().unwrap(), "{count} shards");
        // Given in any order.
        reports.reverse();
        let merged = mediascreen_with(
            &[&["report", "merge"][..], &reports.iter().map(String::as_str).collect::<Vec<_>>()]
                .concat(),
            &[],
        );
        assert_eq!(merged.status.code(), Some(1), "flagged, as the scan: {merged:?}");
        assert_eq!(timeless(run::report(&merged)), timeless(whole.clone()), "{count} shards");
    }
}

#[test]
fn the_shard_number_comes_from_the_array_job() {
    let scan = |shard: &str, env: &[(&str, &str)]| -> String {
        let output = mediascreen_with(
            &["scan", "fixtures/screening", "--list", DEMO, "-q", "--shard", shard],
            env,
        );
        timeless(run::report(&output))
    };
    let second = scan("1/3", &[]);
    assert_eq!(scan("auto/3", &[("JOB_COMPLETION_INDEX", "1")]), second);
    assert_eq!(scan("auto/3", &[("AWS_BATCH_JOB_ARRAY_INDEX", "1")]), second);
    assert_eq!(
        scan("auto/3", &[("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_MIN", "1")]),
        second
    );
    let unset =
        mediascreen_with(&["scan", "fixtures/screening", "--list", DEMO, "--shard", "auto/3"], &[]);
    assert_eq!(unset.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unset.stderr).contains("JOB_COMPLETION_INDEX"));
    let beyond =
        mediascreen_with(&["scan", "fixtures/screening", "--list", DEMO, "--shard", "3/3"], &[]);
    assert_eq!(beyond.status.code(), Some(2));
}

#[test]
fn merge_refuses_an_incomplete_or_mixed_set() {
    let dir = tempfile::tempdir().unwrap();
    let report = |shard: &str, list: &str| -> String {
        let name = format!("{}-{}.json", shard.replace('/', "of"), list.replace('/', "-"));
        let path = dir.path().join(name);
        let path = path.to_str().unwrap().to_string();
        mediascreen_with(
            &["scan", "fixtures/screening", "--list", list, "-q", "--shard", shard, "-o", &path],
            &[],
        );
        path
    };
    let (a, b) = (report("0/2", DEMO), report("1/2", DEMO));
    let other = report("1/2", "hashlists/te_HASH_PDQ.csv");
    for (reports, why) in [
        (vec![&a], "shards missing"),
        (vec![&a, &a], "given twice"),
        (vec![&a, &other], "lists differ"),
    ] {
        let output = mediascreen_with(
            &[&["report", "merge"][..], &reports.iter().map(|s| s.as_str()).collect::<Vec<_>>()]
                .concat(),
            &[],
        );
        assert_eq!(output.status.code(), Some(2), "{why}");
        assert!(output.stdout.is_empty(), "{why}: nothing written");
        assert!(String::from_utf8_lossy(&output.stderr).contains(why), "{why}: {output:?}");
    }
    let merged = dir.path().join("merged.json");
    let output =
        mediascreen_with(&["report", "merge", &a, &b, "-o", merged.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(std::fs::read(&merged).unwrap().starts_with(b"{"));
}

#[test]
fn redacted_reports_carry_no_path() {
    let key = "correct horse battery staple";
    let scan = |format: &str| -> Output {
        mediascreen_with(
            &[
                "scan",
                "fixtures/screening",
                "fixtures/bad",
                "--list",
                DEMO,
                "-q",
                "--redact-paths",
                "--format",
                format,
            ],
            &[("MEDIASCREEN_REDACT_KEY", key)],
        )
    };
    for format in ["json", "jsonl", "text", "csv"] {
        let output = scan(format);
        assert_eq!(output.status.code(), Some(1), "{format}");
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(!text.contains("fixtures"), "{format} names a path:\n{text}");
        assert!(text.contains("hmac-sha256:"), "{format}");
    }
    let report = run::report(&scan("json"));
    assert_eq!(report["settings"]["path_redaction"], "hmac-sha256");
    let key = PathKey::new(key.as_bytes()).unwrap();
    let rotated = key.redact(Path::new("fixtures/screening/edited/bridge-rotated-90.jpg"));
    let flagged = report["flagged"].as_array().unwrap();
    assert!(flagged.iter().any(|f| f["path"] == rotated.to_str().unwrap()), "the key finds a file");
    assert_eq!(
        report["settings"]["paths"][0],
        key.redact(Path::new("fixtures/screening")).to_str().unwrap()
    );

    let keyless =
        mediascreen_with(&["scan", "fixtures/screening", "--list", DEMO, "--redact-paths"], &[]);
    assert_eq!(keyless.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&keyless.stderr).contains("needs a key"));
}
