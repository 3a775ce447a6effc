//! Where and how a scan's report is written, end to end: through a link or into a device
//! without replacing it, and as text or CSV saying what the JSON says.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod run;
use run::{code, mediascreen, stderr, DEMO};

#[cfg(unix)]
#[test]
fn reports_go_through_links_and_into_devices_without_replacing_them() {
    use std::os::unix::fs::{symlink, FileTypeExt};
    let dir = tempfile::tempdir().unwrap();
    // A link to the report: the target is written, the link stays.
    let target = dir.path().join("real.json");
    let link = dir.path().join("report.json");
    symlink(&target, &link).unwrap();
    let args = ["scan", "fixtures/video/chair-clip.mp4", "--list", DEMO, "--report"];
    let output = mediascreen(&[&args[..], &[link.to_str().unwrap()]].concat());
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(fs_is_symlink(&link));
    let report: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(report["summary"]["flagged"], 1);
    // A FIFO (as /dev/null or /dev/stdout would be a device): written into, left a FIFO.
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let output = mediascreen(&[&args[..], &[fifo.to_str().unwrap()]].concat());
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&reader.join().unwrap()).unwrap();
    assert_eq!(report["summary"]["flagged"], 1);
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

#[cfg(unix)]
fn fs_is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).unwrap().file_type().is_symlink()
}

#[test]
fn text_and_csv_reports_say_the_same_as_json() {
    let output = mediascreen(&[
        "scan",
        "fixtures/video",
        "--exclude",
        "*.webm",
        "fixtures/bad/truncated.png",
        "--list",
        DEMO,
        "--format",
        "text",
        "-q",
    ]);
    assert_eq!(code(&output), 1);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("fixtures/video/chair-padded.mp4: FLAGGED vpdq d=4/31 at 8.0-26.0s (55.88% of the video, 100% of the listed one; needs 80% of either and 3 frames) list=hashlists/demo.csv id=demo-video-chair"),
        "{text}"
    );
    assert!(text.contains("fixtures/bad/truncated.png: ERROR (decode) "), "{text}");
    assert!(text.contains("Flagged: 4\nClean: 2\nErrors: 1\n"), "{text}");
    assert_eq!(text.matches(": FLAGGED ").count(), 4);

    let output = mediascreen(&[
        "scan",
        "fixtures/video",
        "--exclude",
        "*.webm",
        "--list",
        DEMO,
        "--format",
        "csv",
        "-q",
    ]);
    let mut rows = csv::Reader::from_reader(&output.stdout[..]);
    let header = rows.headers().unwrap().clone();
    assert_eq!(&header[0], "path");
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 6, "one row per match or file");
    let padded = rows.iter().find(|r| &r[0] == "fixtures/video/chair-padded.mp4").unwrap();
    assert_eq!(
        (&padded[1], &padded[2], &padded[6], &padded[9]),
        ("flagged", "vpdq", "8.0-26.0s", "demo-video-chair")
    );
    assert!(rows.iter().any(|r| &r[1] == "clean"));
}
