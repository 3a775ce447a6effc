//! Archives are screened member by member (issue 16): chat exports as the apps write them
//! (`fixtures/exports/`), and hostile archives (`fixtures/archives/`), both made by
//! `fixtures/make_archives.py`, each end in a stated outcome; nothing in an archive that was
//! not looked into is ever clean, and the exit status says so.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

mod run;
use run::{command_in, root, DEMO};

/// Every file entry of a `--format jsonl` scan of `paths` with `args`, by path relative to
/// the project root, and the exit status.
fn scan(paths: &[&Path], args: &[&str]) -> (i32, BTreeMap<String, Value>) {
    let output = command_in(root())
        .args(["scan", "--list", DEMO, "--format", "jsonl"])
        .args(args)
        .args(paths)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut files = BTreeMap::new();
    for line in stdout.lines() {
        let json: Value = serde_json::from_str(line).unwrap();
        if json["type"] == "file" {
            let path = json["path"].as_str().unwrap().to_string();
            files.insert(path, json);
        }
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!files.is_empty(), "no file lines; stderr: {stderr}");
    (output.status.code().unwrap(), files)
}

fn entry<'a>(files: &'a BTreeMap<String, Value>, path: &str) -> &'a Value {
    files.get(path).unwrap_or_else(|| panic!("{path} is not in the report: {:?}", files.keys()))
}

fn status(files: &BTreeMap<String, Value>, path: &str) -> String {
    entry(files, path)["status"].as_str().unwrap().to_string()
}

fn ids(file: &Value) -> Vec<String> {
    let mut ids: Vec<String> = file["matches"]
        .as_array()
        .map(|m| m.iter().map(|m| m["id"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    ids.dedup();
    ids
}

fn why(file: &Value) -> String {
    file["reason"].as_str().or(file["perceptual_error"].as_str()).unwrap_or("").to_string()
}

#[test]
fn a_chat_export_zip_and_a_nested_backup_flag_their_listed_members_by_chain() {
    let exports = Path::new("fixtures/exports");
    let (code, files) = scan(&[exports], &[]);
    assert_eq!(code, 1, "something matched");
    let zip = "fixtures/exports/WhatsApp Chat - Demo.zip";
    let photo = format!("{zip}!/00000003-PHOTO-2024-01-05-14-03-21.jpg");
    assert_eq!(ids(entry(&files, &photo)), ["demo-q1050"]);
    assert_eq!(
        entry(&files, &photo)["chain"],
        serde_json::json!([zip, "00000003-PHOTO-2024-01-05-14-03-21.jpg"])
    );
    let sticker = format!("{zip}!/00000005-STICKER-2024-01-13-09-15-44.webp");
    assert_eq!(ids(entry(&files, &sticker)), ["demo-pen"]);
    assert_eq!(status(&files, &format!("{zip}!/00000004-PHOTO-2024-01-05-14-05-02.jpg")), "clean");
    assert_eq!(status(&files, &format!("{zip}!/_chat.txt")), "clean");
    // The archive itself is screened by its digests, and opened: clean.
    assert_eq!(status(&files, zip), "clean");
    assert!(entry(&files, zip).get("chain").is_none(), "a file on disk has no chain");

    let nested = "fixtures/exports/backup.tar.gz!/old/inner.zip!/media/IMG_0042.jpg";
    assert_eq!(ids(entry(&files, nested)), ["demo-q0291"]);
    assert_eq!(
        entry(&files, nested)["chain"],
        serde_json::json!([
            "fixtures/exports/backup.tar.gz",
            "old/inner.zip",
            "media/IMG_0042.jpg"
        ])
    );
    assert_eq!(status(&files, "fixtures/exports/backup.tar.gz!/old/inner.zip"), "clean");
    assert_eq!(
        status(&files, "fixtures/exports/backup.tar.gz!/old/inner.zip!/media/IMG_0043.jpg"),
        "clean"
    );
}

#[test]
fn hostile_archives_each_end_in_a_stated_outcome() {
    let (code, files) = scan(&[Path::new("fixtures/archives")], &[]);
    assert_eq!(code, 1);
    let a = |name: &str| format!("fixtures/archives/{name}");
    // Encrypted members and archives are errors of their own kind, never clean.
    for path in [
        a("encrypted-zipcrypto.zip!/IMG_0001.jpg"),
        a("encrypted-aes.zip!/IMG_0001.jpg"),
        a("encrypted-headers.7z"),
    ] {
        let file = entry(&files, &path);
        assert_eq!(
            (file["status"].as_str(), file["kind"].as_str()),
            (Some("error"), Some("encrypted")),
            "{path}"
        );
        assert!(why(file).contains("password"), "{path}: {}", why(file));
    }
    assert_eq!(ids(entry(&files, &a("photos.7z!/IMG_0001.jpg"))), ["demo-q0291"]);
    // The bomb is stopped by the ratio guard; the photo beside it is still screened.
    let bomb = entry(&files, &a("bomb.zip!/zeros.bin"));
    assert_eq!((bomb["status"].as_str(), bomb["kind"].as_str()), (Some("error"), Some("limit")));
    assert!(why(bomb).contains("--max-archive-ratio"), "{}", why(bomb));
    assert_eq!(ids(entry(&files, &a("bomb.zip!/IMG_0002.jpg"))), ["demo-q0291"]);
    // 40 levels deep: opened to the limit, the rest an error naming the flag.
    let deep: Vec<&String> = files.keys().filter(|p| p.starts_with(&a("deep.zip"))).collect();
    assert_eq!(deep.len(), 17, "{deep:?}");
    let last = entry(&files, deep.last().unwrap());
    assert_eq!(last["status"], "error");
    assert!(why(last).contains("--max-archive-depth"), "{}", why(last));
    // Names are reported as stored, never followed; duplicates are both screened.
    assert_eq!(ids(entry(&files, &a("names.zip!/../../escape.jpg"))), ["demo-q0291"]);
    assert_eq!(status(&files, &a("names.zip!//absolute.jpg")), "clean");
    assert_eq!(ids(entry(&files, &a("names.zip!/nul\0name.jpg"))), ["demo-pen"]);
    // Links and devices in a tar are skipped with why; the photo beside them is flagged.
    for (name, words) in [
        ("photos/link.jpg", "symbolic link"),
        ("photos/hard.jpg", "hard link"),
        ("dev/null", "device"),
        ("pipe", "FIFO"),
    ] {
        let file = entry(&files, &a(&format!("devices.tar!/{name}")));
        assert_eq!(file["status"], "skipped", "{name}");
        assert!(why(file).contains(words), "{name}: {}", why(file));
    }
    assert_eq!(ids(entry(&files, &a("devices.tar!/photos/IMG_0004.jpg"))), ["demo-q0291"]);
    // A ZIP cut short: what its own headers reach is screened, the archive is an error.
    assert_eq!(ids(entry(&files, &a("truncated.zip!/IMG_0005.jpg"))), ["demo-q0291"]);
    assert_eq!(entry(&files, &a("truncated.zip"))["kind"], "corrupt");
    assert_eq!(status(&files, &a("truncated.zip!/IMG_0006.jpg")), "error");
    // An Office document's pictures are screened.
    assert_eq!(ids(entry(&files, &a("report.docx!/word/media/image1.jpeg"))), ["demo-q0291"]);
}

#[test]
fn duplicate_member_names_are_each_reported() {
    let output = command_in(root())
        .args(["scan", "--list", DEMO, "--format", "jsonl", "fixtures/archives/names.zip"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let dups: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["path"] == "fixtures/archives/names.zip!/dup.jpg")
        .collect();
    let statuses: Vec<&str> = dups.iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["clean", "flagged"], "both, in the archive's order");
}

#[test]
fn an_archive_that_missed_anything_exits_2_and_names_the_limit() {
    let zip = Path::new("fixtures/exports/WhatsApp Chat - Demo.zip");
    let path = "fixtures/exports/WhatsApp Chat - Demo.zip";
    // Only _chat.txt is read: the photos after it are not screened, so the scan exits 2.
    let (code, files) = scan(&[zip], &["--max-archive-members", "1"]);
    assert_eq!(code, 2);
    assert_eq!(files.len(), 2, "{:?}", files.keys());
    let archive = entry(&files, path);
    assert_eq!(
        (archive["status"].as_str(), archive["kind"].as_str()),
        (Some("error"), Some("limit"))
    );
    assert!(why(archive).contains("--max-archive-members"), "{}", why(archive));

    let (code, files) = scan(&[zip], &["--max-archive-depth", "0"]);
    assert_eq!((code, files.len()), (2, 1));
    assert!(why(entry(&files, path)).contains("--max-archive-depth"));

    // The chat log fits, the first photo does not: the rest is not screened.
    let (code, files) = scan(&[zip], &["--max-archive-size", "5K"]);
    assert_eq!(code, 2, "{files:?}");
    assert!(
        why(entry(&files, path)).contains("--max-archive-size"),
        "{}",
        why(entry(&files, path))
    );
    assert!(files
        .values()
        .all(|f| f["status"] != "clean" || f["path"] == format!("{path}!/_chat.txt")));
}

#[test]
fn an_unopenable_archive_is_an_error_naming_its_format() {
    let dir = tempfile::tempdir().unwrap();
    // RAR 5's signature and a little more: mediascreen does not open RAR.
    fs::write(
        dir.path().join("export.rar"),
        b"Rar!\x1a\x07\x01\x00\x33\x92\xb5\xe5\x0a\x01\x05\x06\x00\x05\x01\x01\x80\x80\x00",
    )
    .unwrap();
    let (code, files) = scan(&[dir.path()], &[]);
    assert_eq!(code, 2);
    let file = files.values().next().unwrap();
    assert_eq!(
        (file["status"].as_str(), file["kind"].as_str()),
        (Some("error"), Some("unsupported"))
    );
    assert!(why(file).starts_with("a RAR archive: mediascreen cannot open it"), "{}", why(file));
}

#[test]
fn a_compressed_file_is_screened_as_its_one_member_and_a_video_inside_an_archive_too() {
    let dir = tempfile::tempdir().unwrap();
    let webp = fs::read(root().join("fixtures/screening/edited/pen-small.webp")).unwrap();
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&webp).unwrap();
    fs::write(dir.path().join("pen.webp.gz"), gzip.finish().unwrap()).unwrap();
    // An H.264 MP4 (decoded in-process) of the listed chair video, in a ZIP.
    let video = fs::read(root().join("fixtures/video/chair-reencoded.mp4")).unwrap();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("VID-20240105-WA0001.mp4", zip::write::SimpleFileOptions::default()).unwrap();
    zip.write_all(&video).unwrap();
    fs::write(dir.path().join("videos.zip"), zip.finish().unwrap().into_inner()).unwrap();

    let (code, files) = scan(&[dir.path()], &[]);
    assert_eq!(code, 1);
    let base = dir.path().to_string_lossy();
    assert_eq!(ids(entry(&files, &format!("{base}/pen.webp.gz!/pen.webp"))), ["demo-pen"]);
    let member = entry(&files, &format!("{base}/videos.zip!/VID-20240105-WA0001.mp4"));
    assert_eq!(member["status"], "flagged", "{member}");
    assert!(
        member["matches"].as_array().unwrap().iter().any(|m| m["algorithm"] == "vpdq"),
        "{member}"
    );
}

#[test]
fn archive_reports_do_not_depend_on_the_thread_count_and_nothing_is_written() {
    let before = listing(&root().join("fixtures/archives"));
    let run = |threads: &str| {
        let output = command_in(root())
            .args(["scan", "--list", DEMO, "--format", "jsonl", "--threads", threads])
            .args(["fixtures/archives", "fixtures/exports"])
            .output()
            .unwrap();
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"type\":\"file\""))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let one = run("1");
    assert!(one.len() > 40);
    assert_eq!(one, run("3"));
    assert_eq!(before, listing(&root().join("fixtures/archives")), "the scanned tree is unchanged");
}

/// Every path under `dir` with its size and modification time.
fn listing(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        out.push((entry.path(), meta.len(), meta.modified().unwrap()));
    }
    out.sort();
    out
}

#[test]
fn chat_exports_give_their_media_the_message_that_carried_them() {
    let (_, files) = scan(&[Path::new("fixtures/exports")], &[]);
    let telegram = "fixtures/exports/Telegram Desktop/ChatExport_2024-01-05/photos/photo_1@05-01-2024_14-03-21.jpg";
    assert_eq!(status(&files, telegram), "flagged");
    assert_eq!(
        entry(&files, telegram)["context"],
        serde_json::json!({"app": "telegram", "chat": "Demo group", "message_id": "11",
            "sender": "Carol", "sender_id": "user1000001", "sent_at": "2024-01-05T14:03:21Z"})
    );
    let whatsapp =
        "fixtures/exports/WhatsApp Chat - Demo.zip!/00000005-STICKER-2024-01-13-09-15-44.webp";
    assert_eq!(
        entry(&files, whatsapp)["context"],
        serde_json::json!({"app": "whatsapp", "chat": "Demo", "message_id": "4",
            "sender": "Bob", "sent_at": "2024-01-13T09:15:44-00:00"})
    );
    // Files no message references, and the indexes themselves, have none.
    for path in [
        "fixtures/exports/WhatsApp Chat - Demo.zip!/_chat.txt",
        "fixtures/exports/backup.tar.gz!/old/inner.zip!/media/IMG_0042.jpg",
    ] {
        assert!(entry(&files, path).get("context").is_none(), "{path}");
    }
    // The text report says who sent a hit, where and when.
    let output = command_in(root())
        .args(["scan", "--list", DEMO, "--format", "text", "fixtures/exports/Telegram Desktop"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("sent by Carol at 2024-01-05T14:03:21Z in Demo group"), "{text}");
}

#[test]
fn a_malformed_chat_index_is_a_warning_and_its_media_are_screened() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("result.json"), b"{\"messages\": [ this is not json").unwrap();
    fs::copy(root().join("fixtures/screening/exact/q0291.jpg"), dir.path().join("photo.jpg"))
        .unwrap();
    let output = command_in(root())
        .args(["scan", "--list", DEMO, "--format", "jsonl"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "the photo is still flagged");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("warning:") && stderr.contains("not read as a chat index"), "{stderr}");
    assert!(!stderr.contains("this is not json"), "no content is quoted: {stderr}");
}

#[test]
fn redacted_reports_keep_who_sent_nothing_and_chains_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    fs::write(&key, b"a key").unwrap();
    let output = command_in(root())
        .args(["scan", "--list", DEMO, "--format", "jsonl", "--redact-key-file"])
        .arg(&key)
        .args(["--redact-paths", "fixtures/exports/WhatsApp Chat - Demo.zip"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        !stdout.contains("Bob") && !stdout.contains("Demo") && !stdout.contains("PHOTO"),
        "{stdout}"
    );
    let sticker = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["context"]["message_id"] == "4")
        .expect("the sticker keeps its message id");
    assert_eq!(sticker["context"]["app"], "whatsapp");
    assert_eq!(sticker["chain"].as_array().unwrap().len(), 2);
    assert!(sticker["chain"][1].as_str().unwrap().starts_with("hmac-sha256:"));
}

#[test]
fn an_archive_too_big_to_hold_is_read_from_the_file_past_max_file_size() {
    // A stored ZIP of 70 MiB: over the size archives are held in memory, and over the
    // --max-file-size given, which still bounds each member.
    let dir = tempfile::tempdir().unwrap();
    let photo = fs::read(root().join("fixtures/screening/exact/q0291.jpg")).unwrap();
    let mut zip = zip::ZipWriter::new(fs::File::create(dir.path().join("big.zip")).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("filler.bin", stored).unwrap();
    zip.write_all(&vec![7u8; 70 << 20]).unwrap();
    zip.start_file("IMG_0001.jpg", stored).unwrap();
    zip.write_all(&photo).unwrap();
    zip.finish().unwrap();
    let (code, files) = scan(&[dir.path()], &["--max-file-size", "50M"]);
    let base = format!("{}/big.zip", dir.path().to_string_lossy());
    assert_eq!(ids(entry(&files, &format!("{base}!/IMG_0001.jpg"))), ["demo-q0291"]);
    // The filler is over --max-file-size: streamed through its digests, not decoded; not a
    // picture, so that costs it nothing.
    assert_eq!(status(&files, &format!("{base}!/filler.bin")), "clean");
    assert_eq!(status(&files, &base), "clean", "{}", why(entry(&files, &base)));
    let size = fs::metadata(dir.path().join("big.zip")).unwrap().len();
    assert_eq!(entry(&files, &base)["size"], size, "its digests are of the whole file");
    assert_eq!(code, 1);
}
