//! Videos and animations end to end: edited copies of a listed video flagged with their
//! time ranges, video lists made by `hash` or from Meta's reference files, and what happens
//! without ffmpeg or with a truncated file.

use serde_json::Value;

mod run;
use run::{
    assert_counts_add_up, code, flagged, mediascreen, mediascreen_with, root, scan, scan_with,
    stderr, write, DEMO,
};

/// For a run whose outcome must not depend on whether ffmpeg is installed: the program finds
/// none where this names it.
const NO_FFMPEG: (&str, &str) = ("MEDIASCREEN_FFMPEG", "/nonexistent/ffmpeg");

/// The match of `path` with the demo list's chair video, and its `video` object.
fn chair_match<'a>(report: &'a Value, path: &str) -> &'a Value {
    let entry = flagged(report, path).unwrap_or_else(|| panic!("{path} not flagged: {report}"));
    let m = &entry["matches"][0];
    assert_eq!(
        (m["algorithm"].as_str(), m["id"].as_str()),
        (Some("vpdq"), Some("demo-video-chair"))
    );
    assert!(m["distance"].as_u64().unwrap() <= 31, "{m}");
    &m["video"]
}

fn pct(video: &Value, key: &str) -> f64 {
    video[key].as_f64().unwrap_or_else(|| panic!("{key} missing: {video}"))
}

#[test]
fn edited_copies_of_a_listed_video_are_flagged_with_time_ranges() {
    // The in-process decoders alone, as on a machine with only the Rust toolchain; what
    // ffmpeg adds is tested by the next test.
    let (code, report, output) = scan_with(&["fixtures/video/", "--list", DEMO], &[NO_FFMPEG]);
    assert_eq!(code, 1, "{}", stderr(&output));
    assert_counts_add_up(&report);
    assert_eq!(
        report["settings"]["algorithms"].to_string(),
        r#"["pdq","vpdq","phash","dhash","md5","sha256"]"#
    );

    // Re-encoded at a third of the size: nearly every frame on both sides.
    let video = chair_match(&report, "fixtures/video/chair-reencoded.mp4");
    assert!(pct(video, "query_pct") >= 80.0 && pct(video, "listed_pct") >= 80.0, "{video}");
    assert_eq!(video["time_ranges"], serde_json::json!([[0.0, 18.0]]));
    // A 7 s clip: the whole of it is in the listed video, but not the other way round.
    let video = chair_match(&report, "fixtures/video/chair-clip.mp4");
    assert!(pct(video, "query_pct") >= 80.0 && pct(video, "listed_pct") < 80.0, "{video}");
    assert_eq!(video["time_ranges"], serde_json::json!([[0.0, 6.0]]));
    // Spliced in at 8 s: all of the listed video is found, in a query mostly of other footage.
    let video = chair_match(&report, "fixtures/video/chair-padded.mp4");
    assert!(pct(video, "query_pct") < 80.0 && pct(video, "listed_pct") >= 80.0, "{video}");
    assert_eq!(video["time_ranges"], serde_json::json!([[8.0, 26.0]]));
    assert_eq!(video["listed_frames"], serde_json::json!([19, 19]));

    // A listed photograph shown from 4 s to 8 s: the sampled frames at 4-7 s match it.
    let entry = flagged(&report, "fixtures/video/bridge-in-video.mp4").unwrap();
    let m = &entry["matches"][0];
    assert_eq!((m["algorithm"].as_str(), m["id"].as_str()), (Some("pdq"), Some("demo-bridge")));
    assert!(m["quality"].as_u64().unwrap() >= 50, "{m}");
    assert_eq!(m["video"]["time_ranges"], serde_json::json!([[4.0, 7.0]]));
    assert!(m["video"].get("query_pct").is_none(), "{m}");

    // Unrelated footage decodes and is clean: not flagged, not an error.
    let unrelated = "fixtures/video/unrelated.mp4";
    assert!(flagged(&report, unrelated).is_none());
    assert!(!report["errors"].to_string().contains(unrelated), "{}", report["errors"]);

    // The clip as VP9 in WebM says that ffmpeg would decode it.
    let webm = "fixtures/video/chair-clip.webm";
    let error = report["errors"].as_array().unwrap().iter().find(|e| e["path"] == webm);
    let reason = error.unwrap_or_else(|| panic!("{webm}: {report}"))["reason"].to_string();
    assert!(reason.contains("install ffmpeg"), "{reason}");
}

#[test]
#[ignore = "needs ffmpeg"]
fn an_edited_copy_of_a_listed_video_in_webm_is_flagged_through_ffmpeg() {
    let webm = "fixtures/video/chair-clip.webm";
    let (code, report, output) = scan(&[webm, "--list", DEMO]);
    let ffmpeg = &report["settings"]["video"]["ffmpeg"];
    let found = ffmpeg.as_str().is_some_and(|v| v.starts_with("ffmpeg version"));
    assert!(found, "ffmpeg not found (on PATH, or named by MEDIASCREEN_FFMPEG): {ffmpeg}");
    assert_eq!(code, 1, "{}", stderr(&output));
    let video = chair_match(&report, webm);
    assert!(pct(video, "query_pct") >= 80.0, "{video}");
}

#[test]
fn hashed_video_frames_make_a_video_list() {
    let dir = tempfile::tempdir().unwrap();
    let output = mediascreen(&["hash", "--algorithms", "vpdq", "fixtures/video/chair-clip.mp4"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    // One row per second of the 7 s clip, stamped as the reference stamps them.
    assert_eq!(rows.len(), 7, "{text}");
    for (i, row) in rows.iter().enumerate() {
        let fields: Vec<&str> = row.split(',').collect();
        assert_eq!(fields.len(), 6, "{row}");
        assert_eq!(fields[0], "vpdq");
        assert_eq!(fields[1].len(), 64);
        assert_eq!(fields[2], "fixtures/video/chair-clip.mp4");
        assert!(fields[4].parse::<u8>().unwrap() <= 100);
        assert_eq!(fields[5], format!("{i}.000"));
    }
    let list = write(dir.path(), "clip.csv", text.as_bytes());

    // The longer re-encode holds the whole clip: flagged on the listed side.
    let (code, report, _) = scan(&["fixtures/video/", "--list", list.to_str().unwrap()]);
    assert_eq!(code, 1);
    let entry = flagged(&report, "fixtures/video/chair-reencoded.mp4").unwrap();
    assert_eq!(entry["matches"][0]["video"]["listed_pct"], 100.0, "{entry}");
    assert!(flagged(&report, "fixtures/video/unrelated.mp4").is_none());
    // Demanding more frames than the clip has leaves only the clip itself flagged.
    let (_, report, _) = scan(&[
        "fixtures/video/chair-reencoded.mp4",
        "--list",
        list.to_str().unwrap(),
        "--vpdq-min-frames",
        "8",
    ]);
    assert_eq!(report["summary"]["flagged"], 0, "{report}");
}

#[test]
fn meta_reference_hashes_are_a_video_list() {
    // Meta's vpdq-hash-video output for the listed video, every frame hashed: the edited
    // copies, sampled once a second, are found on the same sides as with the demo list.
    let list = "fixtures/conformance/vpdq/chair-19-sd-bar.txt";
    let (code, report, output) = scan(&["fixtures/video/", "--list", list]);
    assert_eq!(code, 1, "{}", stderr(&output));
    assert_eq!(report["lists"][0]["format"], "vpdq-text");
    for (file, query_side, listed_side) in [
        ("chair-reencoded.mp4", true, true),
        ("chair-clip.mp4", true, false),
        ("chair-padded.mp4", false, true),
    ] {
        let entry = flagged(&report, &format!("fixtures/video/{file}"))
            .unwrap_or_else(|| panic!("{file} not flagged: {report}"));
        let m = &entry["matches"][0];
        assert_eq!(m["id"], "chair-19-sd-bar", "{m}");
        let video = &m["video"];
        assert_eq!(pct(video, "query_pct") >= 80.0, query_side, "{file}: {video}");
        assert_eq!(pct(video, "listed_pct") >= 80.0, listed_side, "{file}: {video}");
    }
    assert!(flagged(&report, "fixtures/video/unrelated.mp4").is_none());
}

#[test]
fn without_ffmpeg_other_codecs_are_errors_that_say_so() {
    let files = ["fixtures/video/chair-clip.webm", "fixtures/video/chair-clip.mp4"];
    let output =
        mediascreen_with(&[&["scan"], &files[..], &["--list", DEMO]].concat(), &[NO_FFMPEG]);
    // The H.264 copy is still decoded in-process and flagged.
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_counts_add_up(&report);
    assert!(flagged(&report, "fixtures/video/chair-clip.mp4").is_some());
    assert_eq!(report["settings"]["video"]["ffmpeg"], Value::Null);
    let error = &report["errors"][0];
    assert_eq!(error["path"], "fixtures/video/chair-clip.webm");
    let reason = error["reason"].as_str().unwrap();
    assert!(reason.contains("vp9") && reason.contains("install ffmpeg"), "{reason}");
}

#[test]
fn truncated_videos_end_as_errors_or_matches_never_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(root().join("fixtures/video/chair-reencoded.mp4")).unwrap();
    for (name, cut) in [("half.mp4", whole.len() / 2), ("head.mp4", 2000), ("tiny.mp4", 40)] {
        write(dir.path(), name, &whole[..cut]);
    }
    let (code, report, output) = scan(&[dir.path().to_str().unwrap(), "--list", DEMO]);
    assert_counts_add_up(&report);
    assert_eq!(report["summary"]["files"], 3);
    // Nothing is clean: a cut-off video either still matches (with the reason it is
    // incomplete) or is an error.
    assert_eq!(report["summary"]["clean"], 0, "{report}");
    for entry in report["flagged"].as_array().unwrap() {
        assert!(entry["perceptual_error"].is_string(), "{entry}");
    }
    assert!(code == 1 || code == 2, "{}", stderr(&output));
}

#[test]
fn animations_are_hashed_as_videos_too() {
    let output = mediascreen(&[
        "hash",
        "--algorithms",
        "pdq,vpdq",
        "--vpdq-interval",
        "0.2",
        "fixtures/video/testsrc-10fps.webp",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    // The first frame is the picture; every other frame of the 10 fps animation is sampled.
    assert_eq!(rows[0][0], "pdq");
    let times: Vec<&str> = rows[1..].iter().map(|r| r[5]).collect();
    assert_eq!(times, ["0.000", "0.200", "0.400", "0.600", "0.800"], "{text}");
    assert_eq!(rows[0][1], rows[1][1], "the first frame hashes alike both ways");
}
