//! `rescreen` and `store stats|prune|merge`: a tree scanned into a store, then moved away,
//! is matched against a new list from the store alone; what the store cannot answer is an
//! error, never clean; pruning forgets only what is gone and only when asked; the stores of
//! two shards merge into one that rescreens as both.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod run;
use run::{mediascreen, root, stderr};

/// A tree of six fixture photos; `hashlists/demo.csv` lists the bridge and the pen.
fn tree(dir: &Path) -> PathBuf {
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    for (from, to) in [
        ("fixtures/screening/distinct/chelsea.jpg", "chelsea.jpg"),
        ("fixtures/screening/distinct/chelsea.jpg", "sub/chelsea-copy.jpg"),
        ("fixtures/screening/distinct/coffee.jpg", "sub/coffee.jpg"),
        ("fixtures/screening/edited/bridge-mirrored.jpg", "bridge.jpg"),
        ("fixtures/screening/edited/pen-small.webp", "sub/pen.webp"),
        ("fixtures/screening/exact/not-a-photo.jpg", "not-a-photo.jpg"),
    ] {
        std::fs::copy(root().join(from), tree.join(to)).unwrap();
    }
    tree
}

/// The tree of [`tree`] scanned with the demo list into a fresh store: the tree, the store
/// and the scan's report.
fn scanned_tree(dir: &Path) -> (PathBuf, PathBuf, Value) {
    let tree = tree(dir);
    let store = dir.join("audit.db");
    let report = scan_into(&tree, &store, &[]);
    (tree, store, report)
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(output)))
}

fn scan_into(tree: &Path, store: &Path, more: &[&str]) -> Value {
    let (tree, store) = (tree.to_str().unwrap(), store.to_str().unwrap());
    let args = [&["scan", tree, "--list", "hashlists/demo.csv", "--store", store, "-q"], more];
    let output = mediascreen(&args.concat());
    assert!(matches!(output.status.code(), Some(0 | 1)), "{}", stderr(&output));
    json(&output)
}

fn rescreen(store: &Path, list: &Path) -> (i32, Value) {
    rescreen_lists(store, &[list])
}

/// `mediascreen rescreen --store STORE --list L1 --list L2 …`: its exit status and report.
fn rescreen_lists(store: &Path, lists: &[&Path]) -> (i32, Value) {
    let mut args = vec!["rescreen", "--store", store.to_str().unwrap(), "-q"];
    for list in lists {
        args.extend(["--list", list.to_str().unwrap()]);
    }
    let output = mediascreen(&args);
    (output.status.code().unwrap(), json(&output))
}

/// A list holding `photo`'s PDQ hash (or its MD5), as `mediascreen hash` writes it.
fn list_of(photo: &str, algorithm: &str, to: &Path) -> PathBuf {
    let output = mediascreen(&["hash", "--algorithms", algorithm, photo]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    std::fs::write(to, &output.stdout).unwrap();
    to.to_path_buf()
}

fn names(report: &Value, key: &str) -> Vec<String> {
    let files = report[key].as_array().unwrap();
    let name = |f: &Value| {
        let path = f["path"].as_str().unwrap();
        path.split("tree/").last().unwrap().to_string()
    };
    files.iter().map(name).collect()
}

#[test]
fn a_tree_moved_away_is_rescreened_from_the_store_against_a_new_list() {
    let dir = tempfile::tempdir().unwrap();
    let (tree, store, first) = scanned_tree(dir.path());
    assert_eq!(names(&first, "flagged"), ["bridge.jpg", "sub/pen.webp"]);
    let recorded = std::fs::canonicalize(&tree).unwrap();

    // Tonight's list has chelsea; the photos themselves are gone.
    let new_list =
        list_of("fixtures/screening/distinct/chelsea.jpg", "pdq", &dir.path().join("new.csv"));
    std::fs::rename(&tree, dir.path().join("elsewhere")).unwrap();
    let (code, report) = rescreen(&store, &new_list);
    assert_eq!(code, 1, "{report}");
    assert_eq!(names(&report, "flagged"), ["chelsea.jpg", "sub/chelsea-copy.jpg"]);
    let path = report["flagged"][0]["path"].as_str().unwrap();
    assert_eq!(Path::new(path), recorded.join("chelsea.jpg"), "named where it was seen");
    assert_eq!(report["summary"]["files"], 6);
    assert_eq!(report["summary"]["clean"], 4);
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(report["settings"]["store"], store.to_str().unwrap());
    assert!(report["settings"]["rescreen"]["setups"][0].as_str().unwrap().starts_with("hashes "));

    // The lists the scan used find what it found, from the store.
    let (code, again) = rescreen(&store, Path::new("hashlists/demo.csv"));
    assert_eq!(code, 1);
    assert_eq!(names(&again, "flagged"), names(&first, "flagged"));
    assert_eq!(again["flagged"], first["flagged"], "{again:#}\n{first:#}");
}

/// A list of SHA-256 digests alone: rescreen reads no hash row at all (the digest is the
/// content's own), and still flags every copy of the listed photo, from the store.
#[test]
fn a_list_of_digests_alone_is_answered_from_the_contents() {
    let dir = tempfile::tempdir().unwrap();
    let (tree, store, _) = scanned_tree(dir.path());
    let list =
        list_of("fixtures/screening/distinct/chelsea.jpg", "sha256", &dir.path().join("d.csv"));
    std::fs::rename(&tree, dir.path().join("elsewhere")).unwrap();
    let (code, report) = rescreen(&store, &list);
    assert_eq!(code, 1, "{report}");
    assert_eq!(names(&report, "flagged"), ["chelsea.jpg", "sub/chelsea-copy.jpg"]);
    assert_eq!(report["flagged"][0]["matches"][0]["algorithm"], "sha256", "{report}");
    assert_eq!(
        (report["summary"]["clean"].as_u64(), report["summary"]["errors"].as_u64()),
        (Some(4), Some(0))
    );
}

/// A PDQ list of `n` random hashes, matching none of the fixtures.
fn random_pdq_list(n: usize, to: &Path) -> PathBuf {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let rows: Vec<String> = (0..n)
        .map(|_| format!("pdq,{:016x}{:016x}{:016x}{:016x}", next(), next(), next(), next()))
        .collect();
    std::fs::write(to, format!("algorithm,hash\n{}\n", rows.join("\n"))).unwrap();
    to.to_path_buf()
}

#[test]
fn a_short_list_and_a_long_one_find_the_same_matches() {
    // Against a list shorter than the store's PDQ variants (here 4 against 6 x 8), rescreen
    // indexes the stored variants and asks each listed hash; against a longer one it asks
    // the list's index about each stored file, as a scan does. Both must agree.
    let dir = tempfile::tempdir().unwrap();
    let (_, store, _) = scanned_tree(dir.path());
    let (code, short) = rescreen(&store, Path::new("hashlists/demo.csv"));
    assert_eq!(code, 1);
    let padding = random_pdq_list(500, &dir.path().join("padding.csv"));
    let (code, long) = rescreen_lists(&store, &[Path::new("hashlists/demo.csv"), &padding]);
    assert_eq!(code, 1);
    assert_eq!(names(&short, "flagged"), ["bridge.jpg", "sub/pen.webp"]);
    assert_eq!(short["flagged"], long["flagged"]);
    assert_eq!(short["summary"], long["summary"]);
}

#[test]
fn what_the_store_cannot_answer_is_an_error_never_clean() {
    let dir = tempfile::tempdir().unwrap();
    let (_, store, _) = scanned_tree(dir.path());
    // The scan made what the demo list needs, not SHA-1: a list of SHA-1s cannot be answered.
    let sha1 =
        list_of("fixtures/screening/distinct/coffee.jpg", "sha1", &dir.path().join("sha1.csv"));
    let (code, report) = rescreen(&store, &sha1);
    assert_eq!(code, 2, "{report}");
    assert_eq!(report["summary"]["clean"], 0);
    assert_eq!(report["summary"]["errors"], 6);
    let error = &report["errors"][0];
    assert_eq!(error["kind"], "not_in_store");
    assert!(error["reason"].as_str().unwrap().contains("no sha1 hash"), "{error}");

    let missing = dir.path().join("missing.db");
    let output = mediascreen(&[
        "rescreen",
        "--store",
        missing.to_str().unwrap(),
        "-l",
        "hashlists/demo.csv",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no store there"), "{}", stderr(&output));
    assert!(!missing.exists(), "rescreen never creates a store");
}

fn stats(store: &Path) -> Value {
    let output = mediascreen(&["store", "stats", "--json", store.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    json(&output)
}

#[test]
fn prune_forgets_only_what_is_gone_and_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (tree, store, _) = scanned_tree(dir.path());
    assert_eq!(
        (stats(&store)["files"].clone(), stats(&store)["contents"].clone()),
        (6.into(), 5.into())
    );
    std::fs::remove_file(tree.join("sub/coffee.jpg")).unwrap();
    std::fs::remove_file(tree.join("sub/chelsea-copy.jpg")).unwrap();
    let s = store.to_str().unwrap();
    let dry = mediascreen(&["store", "prune", "--dry-run", s]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert_eq!(String::from_utf8_lossy(&dry.stdout).lines().count(), 2);
    assert_eq!(stats(&store)["files"], 6, "a dry run forgets nothing");

    let other = dir.path().join("other");
    let output = mediascreen(&["store", "prune", "--under", other.to_str().unwrap(), s]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stats(&store)["files"], 6, "files outside --under are kept");

    let output = mediascreen(&["store", "prune", s]);
    assert_eq!(output.status.code(), Some(0));
    let after = stats(&store);
    // The coffee is gone with its only file; chelsea's content stays with the other copy.
    assert_eq!((after["files"].clone(), after["contents"].clone()), (4.into(), 4.into()));
}

#[test]
fn the_stores_of_two_shards_merge_into_one() {
    let dir = tempfile::tempdir().unwrap();
    let tree = tree(dir.path());
    let (one, two, merged) =
        (dir.path().join("1.db"), dir.path().join("2.db"), dir.path().join("all.db"));
    let first = scan_into(&tree, &one, &["--shard", "0/2"]);
    let second = scan_into(&tree, &two, &["--shard", "1/2"]);
    let (a, b) =
        (first["summary"]["files"].as_u64().unwrap(), second["summary"]["files"].as_u64().unwrap());
    assert_eq!(a + b, 6);
    let output = mediascreen(&[
        "store",
        "merge",
        merged.to_str().unwrap(),
        one.to_str().unwrap(),
        two.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stats(&merged)["files"], 6);
    assert_eq!(stats(&merged)["scans"], 2);
    let (code, report) = rescreen(&merged, Path::new("hashlists/demo.csv"));
    assert_eq!(code, 1);
    assert_eq!(names(&report, "flagged"), ["bridge.jpg", "sub/pen.webp"]);
    assert_eq!(report["summary"]["clean"], 4);
    // Merging again changes nothing.
    let again = mediascreen(&["store", "merge", merged.to_str().unwrap(), one.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(stats(&merged)["files"], 6);
    assert!(stderr(&again).contains("0 files and 0 results merged"), "{}", stderr(&again));
}
