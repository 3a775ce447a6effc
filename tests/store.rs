//! The hash store (`scan --store`), as a nightly audit uses it: a second scan of an unchanged
//! tree opens no file and reports the same; a file replaced in place is hashed anew; a copy
//! of a known photo is read but not decoded; the store is private, and a store that is not
//! one, or is of a later schema, is refused without being touched.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::Value;

mod run;
use run::{command_in, mediascreen, mediascreen_with, root, stderr};

/// A tree of fixture photos (two of them listed in `hashlists/demo.csv`), modified an hour
/// ago so that no timestamp is racy.
fn tree(dir: &Path) -> PathBuf {
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    for (from, to) in [
        ("fixtures/screening/distinct/chelsea.jpg", "chelsea.jpg"),
        ("fixtures/screening/distinct/coffee.jpg", "sub/coffee.jpg"),
        ("fixtures/screening/edited/bridge-mirrored.jpg", "bridge.jpg"),
        ("fixtures/screening/edited/pen-small.webp", "sub/pen.webp"),
        ("fixtures/screening/exact/not-a-photo.jpg", "not-a-photo.jpg"),
    ] {
        std::fs::copy(root().join(from), tree.join(to)).unwrap();
        age(&tree.join(to));
    }
    tree
}

fn age(path: &Path) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(3600)).unwrap();
}

/// `mediascreen scan TREE --list hashlists/demo.csv --store STORE` and `more`.
fn with_store(tree: &Path, store: &Path, more: &[&str]) -> std::process::Output {
    let (tree, store) = (tree.to_str().unwrap(), store.to_str().unwrap());
    mediascreen(&[&["scan", tree, "--list", "hashlists/demo.csv", "--store", store], more].concat())
}

fn scan(tree: &Path, store: &Path) -> (i32, Value) {
    let output = with_store(tree, store, &["--quiet", "--format", "json"]);
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", stderr(&output)));
    (output.status.code().unwrap(), report)
}

/// The report without what may differ between two scans of the same files.
fn stable(mut report: Value) -> Value {
    for key in ["started_at", "finished_at", "elapsed_ms"] {
        report.as_object_mut().unwrap().remove(key);
    }
    for file in report["flagged"].as_array_mut().unwrap() {
        file.as_object_mut().unwrap().remove("from_store");
    }
    report
}

fn flagged(report: &Value) -> Vec<(String, Option<String>)> {
    let files = report["flagged"].as_array().unwrap();
    let name = |f: &Value| f["path"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    files.iter().map(|f| (name(f), f["from_store"].as_str().map(String::from))).collect()
}

/// The tree's two listed photos flagged, each taken from the store as `how` says.
fn assert_both_from_store(report: &Value, how: &str) {
    let how = Some(how.to_string());
    assert_eq!(flagged(report), [("bridge.jpg".into(), how.clone()), ("pen.webp".into(), how)]);
}

#[test]
fn an_unchanged_tree_is_not_read_again_and_reports_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let tree = tree(dir.path());
    let store = dir.path().join("audit.db");
    let (code, first) = scan(&tree, &store);
    assert_eq!(code, 1);
    assert_eq!(first["settings"]["store"], store.to_str().unwrap());
    assert_eq!(flagged(&first), [("bridge.jpg".into(), None), ("pen.webp".into(), None)]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&store).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the store holds paths and hashes");
    }

    let (code, second) = scan(&tree, &store);
    assert_eq!(code, 1);
    assert_both_from_store(&second, "unchanged");
    #[cfg(unix)]
    for name in ["bridge.jpg", "sub/pen.webp"] {
        let path = tree.join(name);
        std::fs::set_permissions(&path, std::fs::metadata(&path).unwrap().permissions()).unwrap();
    }
    // chmod (to the same mode) changed the files' ctime: the third scan reads them again, as new identities of
    // known contents, without decoding them.
    let (code, third) = scan(&tree, &store);
    assert_eq!(code, 1);
    assert_both_from_store(&third, "content");
    assert_eq!(stable(first.clone()), stable(second));
    assert_eq!(stable(first), stable(third));
}

/// ffmpeg takes about a tenth of a second to say its version (it loads its libraries): as
/// long as a re-scan of a few hundred unchanged files. The store keeps what it said.
#[cfg(unix)]
#[test]
fn a_re_scan_does_not_start_an_unchanged_ffmpeg() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let tree = tree(dir.path());
    let store = dir.path().join("audit.db");
    let (bin, log) = (dir.path().join("bin"), dir.path().join("started.log"));
    std::fs::create_dir(&bin).unwrap();
    for name in ["ffmpeg", "ffprobe"] {
        let script = format!(
            "#!/bin/sh\necho \"$0 $*\" >> '{}'\necho '{name} version 9.9-test Copyright'\n",
            log.display()
        );
        let path = bin.join(name);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        age(&path);
    }
    let ffmpeg = bin.join("ffmpeg");
    let env = [("MEDIASCREEN_FFMPEG", ffmpeg.to_str().unwrap())];
    let (tree, store) = (tree.to_str().unwrap(), store.to_str().unwrap());
    let args = ["scan", tree, "--list", "hashlists/demo.csv", "--store", store, "--quiet"];
    let started = || std::fs::read_to_string(&log).unwrap_or_default().lines().count();
    let mut reports = Vec::new();
    for expected in [2, 2] {
        let output = mediascreen_with(&[&args[..], &["--format", "json"]].concat(), &env);
        let report: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", stderr(&output)));
        assert_eq!(report["settings"]["video"]["ffmpeg"], "ffmpeg version 9.9-test");
        assert_eq!(started(), expected, "ffmpeg and ffprobe asked once, by the first scan");
        reports.push(stable(report));
    }
    assert_eq!(reports[0], reports[1]);
    // A new build of ffmpeg is asked again.
    std::fs::write(&ffmpeg, std::fs::read(&ffmpeg).unwrap()).unwrap();
    age(&ffmpeg);
    let output = mediascreen_with(&args, &env);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(started(), 3);
}

#[test]
fn a_file_replaced_in_place_is_hashed_anew_and_a_copy_is_not_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let tree = tree(dir.path());
    let store = dir.path().join("audit.db");
    assert_eq!(scan(&tree, &store).0, 1);
    // chelsea.jpg becomes the listed bridge; a copy of the listed pen appears elsewhere.
    std::fs::copy(
        root().join("fixtures/screening/edited/bridge-rotated-90.jpg"),
        tree.join("chelsea.jpg"),
    )
    .unwrap();
    std::fs::copy(tree.join("sub/pen.webp"), tree.join("pen-copy.webp")).unwrap();
    let (code, report) = scan(&tree, &store);
    assert_eq!(code, 1);
    assert_eq!(
        flagged(&report),
        [
            ("bridge.jpg".into(), Some("unchanged".into())),
            ("chelsea.jpg".into(), None),
            ("pen-copy.webp".into(), Some("content".into())),
            ("pen.webp".into(), Some("unchanged".into())),
        ]
    );
}

/// A scan of `tree` with `--store store` that must be refused before scanning: its message.
fn refused(tree: &Path, store: &Path) -> String {
    let output = with_store(tree, store, &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(output.stdout.is_empty(), "nothing is reported");
    stderr(&output)
}

/// A store written by the first mediascreen with a store (schema 1: hash rows in the order
/// written, found through an index) is migrated when opened, and everything in it still used.
#[test]
fn a_store_of_schema_1_is_migrated_forward_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let tree = tree(dir.path());
    let store = dir.path().join("audit.db");
    let (_, first) = scan(&tree, &store);
    let connection = rusqlite::Connection::open(&store).unwrap();
    let count = |c: &rusqlite::Connection, sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0));
    let rows = count(&connection, "SELECT count(*) FROM hashes").unwrap();
    // Schema 1's table, its rows written in another order than their contents', and no
    // table of a later version.
    connection
        .execute_batch(
            "CREATE TABLE old (content INTEGER NOT NULL, setup INTEGER NOT NULL,
               algorithm TEXT NOT NULL, variant TEXT NOT NULL, frame INTEGER, seconds REAL,
               quality INTEGER, value BLOB NOT NULL, detail BLOB);
             INSERT INTO old SELECT content, setup, algorithm, variant, frame, seconds, quality,
               value, detail FROM hashes ORDER BY content DESC, setup, n;
             DROP TABLE hashes;
             ALTER TABLE old RENAME TO hashes;
             CREATE INDEX hashes_by_content ON hashes (content, setup);
             DROP TABLE tools;
             PRAGMA user_version = 1;",
        )
        .unwrap();
    drop(connection);

    let (code, second) = scan(&tree, &store);
    assert_eq!(code, 1);
    assert_both_from_store(&second, "unchanged");
    assert_eq!(stable(first.clone()), stable(second));
    let connection = rusqlite::Connection::open(&store).unwrap();
    let version = mediascreen::store::SCHEMA_VERSION;
    assert_eq!(count(&connection, "PRAGMA user_version").unwrap(), version);
    assert_eq!(count(&connection, "SELECT count(*) FROM hashes").unwrap(), rows);
    assert!(count(&connection, "SELECT count(*) FROM hashes WHERE n > 0").unwrap() > 0);
    drop(connection);

    let (store_arg, list) = (store.to_str().unwrap(), "hashlists/demo.csv");
    let output =
        mediascreen(&["rescreen", "--store", store_arg, "--list", list, "--format", "json"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<String> = flagged(&report).into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["bridge.jpg", "pen.webp"], "{}", stderr(&output));
}

#[test]
fn a_store_that_is_not_one_or_is_newer_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let tree = tree(dir.path());
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x55u8; 8192]).unwrap();
    let message = refused(&tree, &garbage);
    assert!(message.contains("garbage.db"), "{message}");
    assert_eq!(std::fs::read(&garbage).unwrap(), vec![0x55u8; 8192], "never rebuilt");

    let newer = dir.path().join("newer.db");
    let connection = rusqlite::Connection::open(&newer).unwrap();
    connection.pragma_update(None, "user_version", 99).unwrap();
    drop(connection);
    let message = refused(&tree, &newer);
    assert!(message.contains("a store of schema 99, written by a later mediascreen"), "{message}");

    let inside = tree.join("audit.db");
    let message = refused(&tree, &inside);
    assert!(message.contains("keep the store outside the folders scanned"), "{message}");
    assert!(!inside.exists(), "nothing written into the scanned tree");
}

#[test]
fn shard_processes_share_one_store() {
    // Four shards of 1,200 files (copies of the fixtures, each content hashed once by
    // whichever shard meets it first) write to one store at the same time.
    let dir = tempfile::tempdir().unwrap();
    let tree = tree(dir.path());
    for n in 0..1200 {
        let from = ["chelsea.jpg", "bridge.jpg", "sub/pen.webp", "not-a-photo.jpg"][n % 4];
        let to = tree.join(format!("copies/{:02}/{n:04}-{}", n / 100, from.replace('/', "-")));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(tree.join(from), &to).unwrap();
    }
    let store = dir.path().join("audit.db");
    let children: Vec<_> = (0..4)
        .map(|k| {
            let (shard, report) = (format!("{k}/4"), dir.path().join(format!("{k}.jsonl")));
            command_in(root())
                .args(["scan", tree.to_str().unwrap(), "--list", "hashlists/demo.csv"])
                .args(["--store", store.to_str().unwrap(), "--shard", &shard, "--quiet"])
                .args(["--format", "jsonl", "--report", report.to_str().unwrap()])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (k, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().unwrap();
        // This once exited 2 in a full run and never again: say why, should it recur.
        let report = std::fs::read_to_string(dir.path().join(format!("{k}.jsonl")));
        let report = report.unwrap_or_default();
        let errors: Vec<&str> = report.lines().filter(|l| l.contains("error")).collect();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "shard {k}/4: {stderr}\n{errors:#?}");
    }
    let output = mediascreen(&["store", "stats", "--json", store.to_str().unwrap()]);
    let stats: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(stats["files"], 1205, "every shard's files recorded");
    assert_eq!(stats["scans"], 4);
    assert_eq!(stats["unfinished_scans"], 0);
}
