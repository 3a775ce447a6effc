//! `scan s3://BUCKET/PREFIX/` against a real S3-compatible server: moto, run by the
//! `s3server` harness on 127.0.0.1. Every test here needs moto_server, so each is ignored by
//! default and fails without it (`.ci/run` installs it and runs them with `--include-ignored`).

mod run;
mod s3server;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Stdio;
use std::time::Instant;

use run::{command_in, root, DEMO};
use s3server::Server;
use serde_json::Value;

/// Keys that break naive URL or XML handling: space, '+', '%', non-ASCII, '?', '#', '&', '<'.
const AWKWARD: [&str; 8] = [
    "chat/a b.jpg",
    "chat/a+b.jpg",
    "chat/100%.jpg",
    "chat/café.jpg",
    "chat/why?.jpg",
    "chat/#1.jpg",
    "chat/x&<y>.jpg",
    "chat/日本/写真.jpg",
];

#[test]
#[ignore = "needs moto_server (pip install 'moto[server]')"]
fn the_harness_serves_buckets() {
    let started = Instant::now();
    let server = Server::start();
    eprintln!("moto answered after {:?}", started.elapsed());

    server.create_bucket("uploads");
    server.enable_versioning("uploads");
    for key in AWKWARD {
        assert!(server.put("uploads", key, key.as_bytes()).is_some(), "no version id for {key}");
    }
    server.put("uploads", "elsewhere.jpg", b"outside the prefix");
    server.delete("uploads", "chat/a+b.jpg");
    let mut expected: Vec<&str> = AWKWARD.into_iter().filter(|k| *k != "chat/a+b.jpg").collect();
    expected.sort_unstable();
    assert_eq!(server.keys("uploads", "chat/"), expected);

    // More than one ListObjectsV2 page (1,000 keys each).
    server.create_bucket("many");
    let started = Instant::now();
    for i in 0..1100 {
        assert_eq!(server.put("many", &format!("p/{i:04}.jpg"), b"x"), None, "not versioned");
    }
    eprintln!("1,100 puts took {:?}", started.elapsed());
    let expected: Vec<String> = (0..1100).map(|i| format!("p/{i:04}.jpg")).collect();
    assert_eq!(server.keys("many", "p/"), expected);
    assert_eq!(server.keys("many", "p/105").len(), 10);
}

#[test]
#[ignore = "needs moto_server (pip install 'moto[server]')"]
fn the_harness_seeds_a_server_that_enforces_auth() {
    // start_enforcing_auth itself checks that an unknown key is refused.
    let server = Server::start_enforcing_auth();
    server.create_bucket("private");
    server.put("private", "a b.jpg", b"x");
    server.delete("private", "a b.jpg");
    server.put("private", "c+d.jpg", b"y");
    assert_eq!(server.keys("private", ""), ["c+d.jpg"]);
    let env = server.env();
    let key = env.iter().find(|(name, _)| name == "AWS_ACCESS_KEY_ID").unwrap();
    assert!(key.1.starts_with("AKIA"), "not an IAM access key: {}", key.1);
}

/// The listed photo (an exact copy of a demo list entry) and an unlisted one.
fn photos() -> (Vec<u8>, Vec<u8>) {
    let read = |p: &str| std::fs::read(root().join(p)).unwrap();
    (read("fixtures/screening/exact/q0291.jpg"), read("fixtures/screening/distinct/q0122.jpg"))
}

/// `mediascreen scan ARGS --list demo --format jsonl` against `server`: the exit status,
/// each file line by path, the summary line, and standard error.
fn scan(server: &Server, args: &[&str]) -> (i32, BTreeMap<String, Value>, Value, String) {
    scan_fed(server, args, b"")
}

fn scan_fed(
    server: &Server,
    args: &[&str],
    input: &[u8],
) -> (i32, BTreeMap<String, Value>, Value, String) {
    let mut child = command_in(root())
        .args(["scan", "--list", DEMO, "--format", "jsonl"])
        .args(args)
        // Only the server's settings: none of a developer's own AWS ones.
        .env_clear()
        .envs(server.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    let (mut files, mut summary) = (BTreeMap::new(), Value::Null);
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        let json: Value = serde_json::from_str(line).unwrap();
        match json["type"].as_str() {
            Some("file") => {
                files.insert(json["path"].as_str().unwrap().to_string(), json);
            }
            Some("summary") => summary = json,
            _ => {}
        }
    }
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap(), files, summary, stderr)
}

#[test]
#[ignore = "needs moto_server (pip install 'moto[server]')"]
fn a_prefix_is_screened_object_by_object_and_nothing_outside_it_is_read() {
    let server = Server::start();
    server.create_bucket("uploads");
    let (listed, unlisted) = photos();
    let awkward = "incoming/chat 1/a b+c%d é?.jpg";
    server.put("uploads", awkward, &listed);
    server.put("uploads", "incoming/clean.jpg", &unlisted);
    server.put("uploads", "incoming/notes.txt", b"not media");
    // Outside the prefix, and beside it: never listed, never read.
    server.put("uploads", "elsewhere/listed.jpg", &listed);
    server.put("uploads", "incoming2/listed.jpg", &listed);
    let (status, files, summary, stderr) = scan(&server, &["s3://uploads/incoming"]);
    assert_eq!(status, 1, "{stderr}");
    let paths: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "s3://uploads/incoming/chat 1/a b+c%d é?.jpg",
            "s3://uploads/incoming/clean.jpg",
            "s3://uploads/incoming/notes.txt"
        ],
        "{stderr}"
    );
    let hit = &files["s3://uploads/incoming/chat 1/a b+c%d é?.jpg"];
    assert_eq!(hit["status"], "flagged");
    assert_eq!(hit["size"], listed.len());
    assert!(hit["etag"].as_str().is_some_and(|e| !e.is_empty()), "{hit}");
    assert!(hit["last_modified"].as_str().is_some_and(|t| t.ends_with('Z')), "{hit}");
    assert!(hit.get("version_id").is_none(), "an unversioned bucket has no versions: {hit}");
    assert_eq!(files["s3://uploads/incoming/clean.jpg"]["status"], "clean");
    assert_eq!(summary["summary"]["files"], 3, "{summary}");
    // The same object named by its own URL is that object alone.
    let (status, files, _, stderr) = scan(&server, &[&format!("s3://uploads/{awkward}")]);
    assert_eq!((status, files.len()), (1, 1), "{stderr}");
    // Over --max-file-size, objects are streamed through their digests, not held: the exact
    // copy still matches its listed SHA-256; the other photo is not decoded, so not clean.
    let (status, files, _, stderr) =
        scan(&server, &["s3://uploads/incoming/", "--max-file-size", "1000"]);
    assert_eq!(status, 1, "{stderr}");
    let hit = &files["s3://uploads/incoming/chat 1/a b+c%d é?.jpg"];
    assert_eq!(hit["status"], "flagged", "{hit}");
    let big = &files["s3://uploads/incoming/clean.jpg"];
    assert_eq!((big["status"].as_str(), big["kind"].as_str()), (Some("error"), Some("limit")));
    assert_eq!(files["s3://uploads/incoming/notes.txt"]["status"], "clean");
}

#[test]
#[ignore = "needs moto_server (pip install 'moto[server]')"]
fn listings_are_followed_past_a_page_and_filtered_before_anything_is_fetched() {
    let server = Server::start();
    server.create_bucket("many");
    for i in 0..1_050 {
        server.put("many", &format!("p/{i:04}.txt"), format!("{i}").as_bytes());
    }
    let (listed, _) = photos();
    server.put("many", "p/deep/listed.jpg", &listed);
    let (status, files, _, stderr) = scan(&server, &["s3://many/p/"]);
    assert_eq!((status, files.len()), (1, 1_051), "{stderr}");
    assert_eq!(files.keys().next().unwrap(), "s3://many/p/0000.txt");
    let (status, files, _, stderr) =
        scan(&server, &["s3://many/p/", "--include", "*.jpg", "--io-concurrency", "4"]);
    assert_eq!((status, files.len()), (1, 1), "{stderr}");
    let (status, files, _, stderr) = scan(&server, &["s3://many/p/", "--exclude", "deep"]);
    assert_eq!((status, files.len()), (0, 1_050), "{stderr}");
    // Two shards cover the listing once between them.
    let mut union = Vec::new();
    for shard in ["0/2", "1/2"] {
        let (_, files, _, stderr) = scan(&server, &["s3://many/p/", "--shard", shard]);
        assert!(files.len() < 1_051, "{stderr}");
        union.extend(files.into_keys());
    }
    union.sort();
    assert_eq!(union.len(), 1_051);
    union.dedup();
    assert_eq!(union.len(), 1_051);
}

#[test]
#[ignore = "needs moto_server (pip install 'moto[server]')"]
fn events_name_exactly_the_objects_and_versions_to_screen() {
    let server = Server::start();
    server.create_bucket("versioned");
    server.enable_versioning("versioned");
    let (listed, unlisted) = photos();
    let first = server.put("versioned", "up/photo 1+2.jpg", &listed).expect("a version id");
    let second = server.put("versioned", "up/photo 1+2.jpg", &unlisted).expect("a version id");
    server.put("versioned", "up/other.jpg", &listed);
    // The key as S3 writes it in an event: form-encoded.
    let event = |version: &str| {
        format!(
            r#"{{"Records":[{{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
            "eventName":"ObjectCreated:Put","s3":{{"s3SchemaVersion":"1.0",
            "bucket":{{"name":"versioned","arn":"arn:aws:s3:::versioned"}},
            "object":{{"key":"up/photo+1%2B2.jpg","size":1,"versionId":"{version}"}}}}}}]}}"#
        )
    };
    let (status, files, _, stderr) =
        scan_fed(&server, &["--s3-event", "-"], event(&first).as_bytes());
    assert_eq!(status, 1, "{stderr}");
    let only: Vec<&String> = files.keys().collect();
    assert_eq!(only, ["s3://versioned/up/photo 1+2.jpg"], "just the named object: {stderr}");
    assert_eq!(files["s3://versioned/up/photo 1+2.jpg"]["version_id"], first.as_str());
    let (status, files, _, stderr) =
        scan_fed(&server, &["--s3-event", "-"], event(&second).as_bytes());
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(files["s3://versioned/up/photo 1+2.jpg"]["version_id"], second.as_str());
    // The prefix scan reads the latest version.
    let (status, files, _, stderr) = scan(&server, &["s3://versioned/up/"]);
    assert_eq!(status, 1, "{stderr}");
    assert_eq!(files["s3://versioned/up/photo 1+2.jpg"]["status"], "clean");
    assert_eq!(files["s3://versioned/up/photo 1+2.jpg"]["version_id"], second.as_str());
}

#[test]
#[ignore = "needs moto_server (pip install 'moto[server]')"]
fn objects_that_cannot_be_read_are_errors_never_clean() {
    let server = Server::start();
    server.create_bucket("faults");
    let (_, unlisted) = photos();
    server.put("faults", "gone.jpg", &unlisted);
    server.delete("faults", "gone.jpg");
    let event = r#"{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put",
        "s3":{"bucket":{"name":"faults"},"object":{"key":"gone.jpg","size":5}}}]}"#;
    let (status, files, _, stderr) = scan_fed(&server, &["--s3-event", "-"], event.as_bytes());
    assert_eq!(status, 2, "{stderr}");
    let gone = &files["s3://faults/gone.jpg"];
    assert_eq!((gone["status"].as_str(), gone["kind"].as_str()), (Some("error"), Some("io")));
    // No such bucket: the listing is an error for the URL.
    let (status, files, _, stderr) = scan(&server, &["s3://no-such-bucket/x/"]);
    assert_eq!(status, 2, "{stderr}");
    assert_eq!(files["s3://no-such-bucket/x/"]["status"], "error", "{files:?}");
    // A prefix with nothing under it: nothing was screened, which is no clean bill.
    let (status, files, _, stderr) = scan(&server, &["s3://faults/nothing-here/"]);
    assert_eq!((status, files.len()), (2, 0), "{stderr}");
}

#[test]
#[ignore = "needs moto_server (pip install 'moto[server]')"]
fn wrong_credentials_are_an_error_that_does_not_show_the_secret() {
    let server = Server::start_enforcing_auth();
    server.create_bucket("uploads");
    server.put("uploads", "clean.jpg", &photos().1);
    // The right credentials, signed by the scan, are taken.
    let (status, files, _, stderr) = scan(&server, &["s3://uploads/"]);
    assert_eq!((status, files.len()), (0, 1), "{stderr}");
    let mut env = server.env();
    for (name, value) in &mut env {
        match name.as_str() {
            "AWS_ACCESS_KEY_ID" => *value = "AKIAWRONGWRONGWRONG0".into(),
            "AWS_SECRET_ACCESS_KEY" => *value = "wrong-secret-Zq8x".into(),
            _ => {}
        }
    }
    let output = command_in(root())
        .args(["scan", "--list", DEMO, "--format", "jsonl", "s3://uploads/"])
        .env_clear()
        .envs(env)
        .output()
        .unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("\"access_denied\""), "{stdout}");
    assert!(!stdout.contains("wrong-secret") && !stderr.contains("wrong-secret"));
}
