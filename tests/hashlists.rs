//! The bundled lists in every foreign format: each is detected and loads with the entries and
//! refusals that `hashlists/README.md` describes, and scans with them find the real matches.

use std::path::{Path, PathBuf};

use mediascreen::hash::Algorithm::{self, *};
use mediascreen::hashlist::{HashList, ListFormat, LoadOptions, Removal};
use serde_json::Value;

mod run;
use run::{code, mediascreen, report};

fn list_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("hashlists").join(name)
}

fn load(name: &str, options: &LoadOptions) -> mediascreen::error::Result<HashList> {
    HashList::load(&list_path(name), options)
}

/// Scans `fixtures/screening` with the list and extra flags; returns (exit code, report).
fn scan(list: &str, flags: &[&str]) -> (i32, Value) {
    let list = format!("hashlists/{list}");
    let output = mediascreen(&[&["scan", "fixtures/screening", "--list", &list], flags].concat());
    (code(&output), report(&output))
}

/// Scans `fixtures/screening` with a list that does not load: (exit code, standard error).
fn scan_error(list: &str) -> (i32, String) {
    let list = format!("hashlists/{list}");
    let output = mediascreen(&["scan", "fixtures/screening", "--list", &list]);
    (code(&output), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// The flagged files (relative to `fixtures/screening/`) with each one's (algorithm, id).
fn flagged(report: &Value) -> Vec<(String, Vec<(String, String)>)> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    report["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = text(&f["path"]).trim_start_matches("fixtures/screening/").to_string();
            let matches = f["matches"].as_array().unwrap();
            (path, matches.iter().map(|m| (text(&m["algorithm"]), text(&m["id"]))).collect())
        })
        .collect()
}

/// (file, format detected, entries per algorithm, refused, removed per kind).
type Case =
    (&'static str, ListFormat, &'static [(Algorithm, usize)], usize, &'static [(Removal, usize)]);

#[test]
fn every_bundled_list_is_detected_and_loads() {
    use Removal::*;
    let cases: [Case; 21] = [
        (
            "demo.csv",
            ListFormat::Native,
            &[(Pdq, 4), (Vpdq, 19), (Phash, 1), (Dhash, 1), (Md5, 1), (Sha256, 1)],
            0,
            &[],
        ),
        ("threatexchange.txt", ListFormat::TeText, &[(Pdq, 3), (Md5, 1)], 2, &[]),
        ("threatexchange-unordered.txt", ListFormat::TeText, &[(Pdq, 1), (Md5, 1)], 3, &[]),
        (
            "dataset-print.txt",
            ListFormat::TeText,
            &[(Pdq, 2), (Md5, 1)],
            1,
            &[(FalsePositive, 1), (Disputed, 1)],
        ),
        ("dataset.csv", ListFormat::TeDataset, &[(Pdq, 2)], 1, &[(FalsePositive, 1)]),
        ("te_HASH_PDQ.csv", ListFormat::TeCsv, &[(Pdq, 4)], 0, &[]),
        ("te_HASH_VIDEO_MD5.csv", ListFormat::TeCsv, &[(Md5, 2)], 0, &[]),
        (
            "te_opinions_HASH_PDQ.csv",
            ListFormat::TeCsv,
            &[(Pdq, 2)],
            0,
            &[(FalsePositive, 1), (Disputed, 1)],
        ),
        (
            "stopncii.json",
            ListFormat::StopNcii,
            &[(Pdq, 2), (Md5, 1)],
            1,
            &[(Withdrawn, 1), (Deleted, 1)],
        ),
        ("stopncii-page.json", ListFormat::StopNcii, &[(Pdq, 2)], 0, &[(Withdrawn, 1)]),
        (
            "stopncii-feed.json",
            ListFormat::StopNcii,
            &[(Md5, 1)],
            0,
            &[(Withdrawn, 2), (Deleted, 1)],
        ),
        ("tat.json", ListFormat::Tat, &[(Pdq, 2), (Md5, 2)], 0, &[(Deleted, 1)]),
        ("tat-feed.json", ListFormat::Tat, &[(Md5, 1)], 0, &[(Deleted, 2)]),
        ("ncmec.xml", ListFormat::Ncmec, &[(Pdq, 1), (Md5, 2), (Sha1, 1)], 2, &[(Deleted, 2)]),
        ("ncmec-pages.xml", ListFormat::Ncmec, &[(Md5, 2), (Sha1, 1)], 0, &[(Deleted, 1)]),
        ("demo.hdb", ListFormat::ClamAvHdb, &[(Md5, 2)], 0, &[]),
        ("demo.hsb", ListFormat::ClamAvHsb, &[(Sha1, 1), (Sha256, 2)], 0, &[]),
        ("demo-retired.hdb", ListFormat::ClamAvHdb, &[(Md5, 1)], 0, &[(Retired, 1)]),
        ("plain-md5.txt", ListFormat::Plain, &[(Md5, 2), (Sha1, 1)], 0, &[]),
        ("SHA256SUMS", ListFormat::Sum, &[(Sha256, 2)], 0, &[]),
        ("MD5SUMS", ListFormat::Sum, &[(Md5, 2)], 0, &[]),
    ];
    for (name, format, counts, refused, removed) in cases {
        let list = load(name, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(list.format, format, "{name}");
        assert_eq!(list.counts().into_iter().collect::<Vec<_>>(), counts, "{name}");
        assert_eq!(list.refused.len(), refused, "{name}: {:?}", list.refused);
        assert_eq!(list.removed_counts().into_iter().collect::<Vec<_>>(), removed, "{name}");
    }
}

#[test]
fn refusals_say_why() {
    let list = load("ncmec.xml", &LoadOptions::default()).unwrap();
    let reasons: Vec<(u64, &str)> =
        list.refused.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(
        reasons,
        [(12, "unsupported algorithm \"pdna\""), (44, "unsupported algorithm \"tmk-pdqf\"")]
    );
    let removed: Vec<(u64, &str)> =
        list.removed.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(
        removed,
        [
            (31, "deleted by NCMEC (entry \"demo-image-deleted\")"),
            (47, "deleted by NCMEC (entry \"demo-video-deleted\")"),
        ]
    );
    let strict = LoadOptions { strict: true, ..LoadOptions::default() };
    let error = load("stopncii.json", &strict).unwrap_err().to_string();
    assert!(
        error.ends_with(
            "stopncii.json:36: unsupported algorithm \"VideoTMK\" (LoadOptions::strict)"
        ),
        "{error}"
    );
    // The binary names the flag that made it fatal.
    let output = mediascreen(&["list", "check", "--strict", "hashlists/stopncii.json"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("stopncii.json:36: unsupported algorithm \"VideoTMK\" (--strict)"),
        "{stdout}"
    );
    // A publisher's removal is not a refusal: --strict accepts it.
    assert_eq!(load("stopncii-page.json", &strict).unwrap().removed.len(), 1);
}

#[test]
fn stopncii_matches_skip_withdrawn_records() {
    let (code, report) = scan("stopncii.json", &[]);
    assert_eq!(code, 1);
    let flagged = flagged(&report);
    let bridge_case = "27664732-76e1-4a17-8099-455798e67022".to_string();
    let bridge = flagged.iter().find(|(path, _)| path == "edited/bridge-half-size.jpg");
    assert_eq!(bridge.unwrap().1, [("pdq".to_string(), bridge_case)]);
    assert!(flagged.iter().any(|(path, m)| path == "exact/q0291.jpg" && m[0].0 == "md5"));
    // The pen's record was withdrawn by the person who submitted it.
    assert!(!flagged.iter().any(|(path, _)| path.contains("pen")), "{flagged:?}");
    assert_eq!(report["lists"][0]["format"], "stopncii");
    assert_eq!(report["lists"][0]["refused"], 1);
    assert_eq!(report["lists"][0]["removed"], serde_json::json!({"withdrawn": 1, "deleted": 1}));
}

#[test]
fn clamav_and_ncmec_lists_flag_the_exact_copy() {
    let (code, report) = scan("demo.hdb", &[]);
    assert_eq!(code, 1);
    let expected = vec![("md5".to_string(), "Demo.Q0291.Exact".to_string())];
    assert_eq!(
        flagged(&report),
        [
            ("exact/q0291-renamed.txt".to_string(), expected.clone()),
            ("exact/q0291.jpg".into(), expected)
        ]
    );

    let (code, report) = scan("ncmec.xml", &[]);
    assert_eq!(code, 1);
    let flagged = flagged(&report);
    let q0291 = flagged.iter().find(|(path, _)| path == "exact/q0291.jpg").unwrap();
    let id = "demo-image-q0291".to_string();
    assert_eq!(q0291.1, [("md5".to_string(), id.clone()), ("sha1".to_string(), id)]);
    assert!(flagged.iter().any(|(path, _)| path == "edited/bridge-rotated-90.jpg"));
}

#[test]
fn list_format_overrides_detection() {
    let forced = LoadOptions { format: Some(ListFormat::ClamAvHsb), ..LoadOptions::default() };
    let list = load("demo.hdb", &forced).unwrap();
    assert_eq!((list.format, list.entries.len()), (ListFormat::ClamAvHsb, 2));

    let output = mediascreen(&[
        "scan",
        "fixtures/screening",
        "--list",
        "hashlists/threatexchange.txt",
        "--list-format",
        "plain",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("hashlists/threatexchange.txt:3: expected one hex hash per line"),
        "{stderr}"
    );
}

#[test]
fn list_algorithm_settles_an_ambiguous_plain_list() {
    let error = load("plain-sha256.txt", &LoadOptions::default()).unwrap_err().to_string();
    let expected = "plain-sha256.txt:2: a 64-hex-digit hash may be sha256 or pdq: name the \
                    list's algorithm with LoadOptions::algorithm";
    assert!(error.ends_with(expected), "{error}");
    // The binary names the flag.
    let (code, stderr) = scan_error("plain-sha256.txt");
    let expected = "plain-sha256.txt:2: a 64-hex-digit hash may be sha256 or pdq: name the \
                    list's algorithm with --list-algorithm\n";
    assert_eq!(code, 2);
    assert!(stderr.ends_with(expected), "{stderr}");

    let (code, report) = scan("plain-sha256.txt", &["--list-algorithm", "sha256"]);
    assert_eq!(code, 1);
    let flagged = flagged(&report);
    assert_eq!(flagged.len(), 2, "{flagged:?}");
    assert!(flagged.iter().all(|(path, m)| path.starts_with("exact/q0291") && m[0].0 == "sha256"));
}

/// The flagged files' paths, relative to `fixtures/screening/`.
fn flagged_paths(report: &Value) -> Vec<String> {
    flagged(report).into_iter().map(|(path, _)| path).collect()
}

#[test]
fn a_later_withdrawal_or_deletion_in_the_same_feed_stops_the_match() {
    // StopNCII: the bridge is Active, then Withdrawn later in the file; the pen's Withdrawn
    // record comes first but is newer than its Active one; a third hash is Deleted.
    let (code, report) = scan("stopncii-feed.json", &[]);
    assert_eq!(code, 1, "{report}");
    let flagged = flagged_paths(&report);
    assert_eq!(flagged, ["exact/q0291-renamed.txt", "exact/q0291.jpg"], "{report}");
    assert_eq!(report["lists"][0]["removed"], serde_json::json!({"withdrawn": 2, "deleted": 1}));

    // Tech Against Terrorism: ids 2819 (bridge) and 2821 (pen) created, then deleted.
    let (code, report) = scan("tat-feed.json", &[]);
    assert_eq!(code, 1);
    assert_eq!(flagged_paths(&report), ["exact/q0291-renamed.txt", "exact/q0291.jpg"]);

    // NCMEC: a second page's deletedImage removes the first page's bridge entry of the same
    // member; another member's entry with the same id is another entry.
    let (code, report) = scan("ncmec-pages.xml", &[]);
    assert_eq!(code, 1);
    assert!(!flagged_paths(&report).iter().any(|p| p.contains("bridge")), "{report}");
    assert!(flagged_paths(&report).contains(&"exact/q0291.jpg".to_string()));
}

#[test]
fn threatexchange_opinions_that_say_not_to_match_are_not_matched() {
    // The bridge is marked false_positive and the pen only disputed: nothing else is listed.
    let (code, report) = scan("te_opinions_HASH_PDQ.csv", &[]);
    assert_eq!((code, flagged_paths(&report)), (0, vec![]), "{report}");
    let removed = &report["lists"][0]["removed"];
    assert_eq!(removed, &serde_json::json!({"false_positive": 1, "disputed": 1}));

    // `dataset -P`: the pen is NEGATIVE_CLASS; the bridge and q0291 are positive.
    let (code, report) = scan("dataset-print.txt", &[]);
    assert_eq!(code, 1);
    let files = flagged(&report);
    assert!(!files.iter().any(|(path, _)| path.contains("pen")), "{files:?}");
    let bridge = report["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "fixtures/screening/edited/bridge-half-size.jpg")
        .unwrap();
    let label = bridge["matches"][0]["sources"][0]["label"].as_str().unwrap();
    assert_eq!(label, "Sample Data: POSITIVE_CLASS media_type_photo,demo_bridge");

    // `dataset --csv`: q0291's MD5 is NEGATIVE_CLASS, so only the PDQ rows match.
    let (code, report) = scan("dataset.csv", &[]);
    assert_eq!(code, 1);
    assert!(flagged(&report).iter().all(|(_, m)| m.iter().all(|(alg, _)| alg == "pdq")));
}

#[test]
fn list_check_shows_what_the_publisher_removed() {
    let output = mediascreen(&["list", "check", "hashlists/te_opinions_HASH_PDQ.csv"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("2 removed by the publisher (1 false_positive, 1 disputed)"),
        "{stdout}"
    );
    assert!(stdout.contains(
        "hashlists/te_opinions_HASH_PDQ.csv:1: not matched, false_positive: descriptor \
         3058061737574159 is labelled \"media_type_photo false_positive\""
    ));
    assert!(stdout.contains("hashlists/te_opinions_HASH_PDQ.csv:2: not matched, disputed:"));
}

#[test]
fn clamav_allowlists_import_tables_and_retired_signatures() {
    // An allowlist passed as a block list would flag the files known to be good.
    let output = mediascreen(&["scan", "fixtures/screening", "--list", "hashlists/demo.fp"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("--list hashlists/demo.fp: a ClamAV allowlist"), "{stderr}");
    assert!(stderr.contains("pass it with --allow"), "{stderr}");

    // With --allow it suppresses the match it lists.
    let (code, report) = scan("demo.hdb", &["--allow", "hashlists/demo.fp"]);
    assert_eq!((code, flagged_paths(&report)), (0, vec![]), "{report}");
    assert_eq!(report["summary"]["allowlisted_matches"], 2, "{report}");
    assert_eq!(report["allowlists"][0]["format"], "fp");

    for (name, what) in [("demo.imp", "PE import tables"), ("demo.imp", "not of whole files")] {
        let error = load(name, &LoadOptions::default()).unwrap_err().to_string();
        assert!(error.contains(what), "{error}");
    }
    let forced = LoadOptions { format: Some(ListFormat::ClamAvHdb), ..LoadOptions::default() };
    assert!(load("demo.imp", &forced).is_err());

    // q0291's signature is retired (MaxFL 99): it no longer matches.
    let (code, report) = scan("demo-retired.hdb", &[]);
    assert_eq!((code, flagged_paths(&report)), (0, vec![]), "{report}");
    assert_eq!(report["lists"][0]["removed"], serde_json::json!({"retired": 1}));
}

#[test]
fn checksum_tool_output_and_unordered_threatexchange_text_load() {
    // 64 hex digits from sha256sum are SHA-256, never PDQ; the file name is the id.
    let (code, report) = scan("SHA256SUMS", &[]);
    assert_eq!(code, 1);
    let expected = vec![("sha256".to_string(), "exact/q0291.jpg".to_string())];
    assert_eq!(
        flagged(&report),
        [
            ("exact/q0291-renamed.txt".to_string(), expected.clone()),
            ("exact/q0291.jpg".into(), expected)
        ]
    );
    let (code, report) = scan("MD5SUMS", &[]);
    assert_eq!((code, flagged(&report)[0].1[0].1.as_str()), (1, "q0291.jpg"));

    let (code, report) = scan("threatexchange-unordered.txt", &[]);
    assert_eq!(code, 1);
    assert_eq!(report["lists"][0]["format"], "te-text");
    assert!(flagged_paths(&report).contains(&"edited/bridge-half-size.jpg".to_string()));
}

#[test]
fn list_format_names_every_format() {
    let output = mediascreen(&["scan", "--help"]);
    let help = String::from_utf8_lossy(&output.stdout);
    for format in ListFormat::ALL {
        assert!(help.contains(format.name()), "--help does not name {format}");
    }
    assert!(help.contains("vpdq-text"));
}

#[test]
fn pdq_entries_recorded_under_the_quality_gate_are_announced() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("low.csv");
    let bridge = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    let pen = "1f811b9d267fbc6693c0c7f30e041f9df49b836303e10f067fcdfc12c02d01f9";
    std::fs::write(&list, format!("algorithm,hash,quality\npdq,{bridge},12\npdq,{pen},100\n"))
        .unwrap();
    let output = mediascreen(&["scan", "fixtures/screening", "--list", list.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1 pdq entries record a quality under --pdq-min-quality 50: they cannot"),
        "{stderr}"
    );
    // The bridge's entry is the one that cannot match; the pen's still does.
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let paths = flagged_paths(&report);
    assert!(paths.iter().all(|p| !p.contains("bridge")) && paths.iter().any(|p| p.contains("pen")));
}
