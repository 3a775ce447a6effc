//! The lists a scan is given, end to end: a bad or empty list stops the run, allowlists
//! suppress, the flood guard marks an entry that matches too much, a hash listed twice is one
//! match, refused entries warn (or, with `--strict`, stop), and ClamAV sizes count.

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

mod run;
use run::{assert_counts_add_up, code, flagged, mediascreen, root, scan, stderr, write, DEMO};

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
