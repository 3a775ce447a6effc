//! The bundled lists in every foreign format: each is detected and loads with the entries and
//! refusals that `hashlists/README.md` describes, and scans with them find the real matches.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mediascreen::hash::Algorithm::{self, *};
use mediascreen::hashlist::{HashList, ListFormat, LoadOptions};
use serde_json::Value;

fn list_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("hashlists").join(name)
}

fn load(name: &str, options: &LoadOptions) -> mediascreen::error::Result<HashList> {
    HashList::load(&list_path(name), options)
}

fn mediascreen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mediascreen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// Scans `fixtures/screening` with the list and extra flags; returns (exit code, report).
fn scan(list: &str, flags: &[&str]) -> (i32, Value) {
    let list = format!("hashlists/{list}");
    let output = mediascreen(&[&["scan", "fixtures/screening", "--list", &list], flags].concat());
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("report is JSON ({e}); stderr: {}", String::from_utf8_lossy(&output.stderr))
    });
    (output.status.code().expect("exited normally"), report)
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

#[test]
fn every_bundled_list_is_detected_and_loads() {
    type Case = (&'static str, ListFormat, &'static [(Algorithm, usize)], usize);
    let cases: [Case; 11] = [
        (
            "demo.csv",
            ListFormat::Native,
            &[(Pdq, 4), (Vpdq, 19), (Phash, 1), (Dhash, 1), (Md5, 1), (Sha256, 1)],
            0,
        ),
        ("threatexchange.txt", ListFormat::TeText, &[(Pdq, 3), (Md5, 1)], 2),
        ("te_HASH_PDQ.csv", ListFormat::TeCsv, &[(Pdq, 4)], 0),
        ("te_HASH_VIDEO_MD5.csv", ListFormat::TeCsv, &[(Md5, 2)], 0),
        ("stopncii.json", ListFormat::StopNcii, &[(Pdq, 2), (Md5, 1)], 3),
        ("stopncii-page.json", ListFormat::StopNcii, &[(Pdq, 2)], 1),
        ("tat.json", ListFormat::Tat, &[(Pdq, 2), (Md5, 2)], 1),
        ("ncmec.xml", ListFormat::Ncmec, &[(Pdq, 1), (Md5, 2), (Sha1, 1)], 4),
        ("demo.hdb", ListFormat::ClamAvHdb, &[(Md5, 2)], 0),
        ("demo.hsb", ListFormat::ClamAvHsb, &[(Sha1, 1), (Sha256, 2)], 0),
        ("plain-md5.txt", ListFormat::Plain, &[(Md5, 2), (Sha1, 1)], 0),
    ];
    for (name, format, counts, refused) in cases {
        let list = load(name, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(list.format, format, "{name}");
        assert_eq!(list.counts().into_iter().collect::<Vec<_>>(), counts, "{name}");
        assert_eq!(list.refused.len(), refused, "{name}: {:?}", list.refused);
    }
}

#[test]
fn refusals_say_why() {
    let list = load("ncmec.xml", &LoadOptions::default()).unwrap();
    let reasons: Vec<(u64, &str)> =
        list.refused.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(
        reasons,
        [
            (12, "unsupported algorithm \"pdna\""),
            (31, "deleted by NCMEC (entry \"demo-image-deleted\")"),
            (44, "unsupported algorithm \"tmk-pdqf\""),
            (47, "deleted by NCMEC (entry \"demo-video-deleted\")"),
        ]
    );
    let strict = LoadOptions { strict: true, ..LoadOptions::default() };
    let error = load("stopncii.json", &strict).unwrap_err().to_string();
    assert!(error.ends_with("stopncii.json:17: withdrawn by StopNCII (--strict)"), "{error}");
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
    assert_eq!(report["lists"][0]["refused"], 3);
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
                    list's algorithm with --list-algorithm";
    assert!(error.ends_with(expected), "{error}");

    let (code, report) = scan("plain-sha256.txt", &["--list-algorithm", "sha256"]);
    assert_eq!(code, 1);
    let flagged = flagged(&report);
    assert_eq!(flagged.len(), 2, "{flagged:?}");
    assert!(flagged.iter().all(|(path, m)| path.starts_with("exact/q0291") && m[0].0 == "sha256"));
}
