//! Decoding through the `ffmpeg` command, checked against Meta's vPDQ per-frame hashes, and
//! what happens without ffmpeg, with a broken file and with a hung decode.
//!
//! Tests that need ffmpeg skip, saying so, when it is not installed, unless
//! `MEDIASCREEN_REQUIRE_FFMPEG=1` (as CI sets) makes its absence a failure.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{check_video, distances, expected_frames, fixture, hash_frames, MATCH_DISTANCE};
use mediascreen::decode::video::{
    decode_ffmpeg, decode_video, ffmpeg_version, Decoded, Ffmpeg, VideoLimits,
};

const WEBM: &str = "video/pattern-sd-grey-bar-vp9.webm";

/// The installed ffmpeg, or `None` after saying the test is skipped.
fn ffmpeg(test: &str) -> Option<&'static Ffmpeg> {
    let found = Ffmpeg::detected();
    if found.is_none() {
        assert_ne!(
            std::env::var("MEDIASCREEN_REQUIRE_FFMPEG").as_deref(),
            Ok("1"),
            "ffmpeg is required (MEDIASCREEN_REQUIRE_FFMPEG=1) but was not found"
        );
        eprintln!("SKIPPED {test}: ffmpeg/ffprobe not found (set MEDIASCREEN_FFMPEG or PATH)");
    }
    found
}

fn check_through_ffmpeg(name: &str) {
    let Some(ffmpeg) = ffmpeg(name) else { return };
    check_video(name, |path, on_frame| {
        decode_ffmpeg(ffmpeg, path, &VideoLimits::default(), &|_| 1, on_frame)
    });
}

#[test]
fn padded_dimensions_match_the_reference() {
    check_through_ffmpeg("test-padded-dimensions");
}

#[test]
fn doorknob_hd_matches_the_reference() {
    check_through_ffmpeg("doorknob-hd-no-bar");
}

#[test]
fn pattern_sd_grey_bar_matches_the_reference() {
    check_through_ffmpeg("pattern-sd-grey-bar");
}

#[test]
fn version_is_reported() {
    let Some(ffmpeg) = ffmpeg("version_is_reported") else { return };
    println!("{}", ffmpeg.version());
    assert!(ffmpeg.version().starts_with("ffmpeg version"), "{}", ffmpeg.version());
    assert_eq!(ffmpeg_version().as_deref(), Some(ffmpeg.version()));
}

#[test]
fn vp9_webm_is_close_to_the_reference() {
    let Some(_) = ffmpeg("vp9_webm_is_close_to_the_reference") else { return };
    let path = fixture(WEBM);
    let bytes = std::fs::read(&path).unwrap();
    let (decoded, hashed) = hash_frames(WEBM, |on_frame| {
        let ffmpeg = Ffmpeg::detected();
        decode_video(ffmpeg, &bytes, &path, "video/webm", &VideoLimits::default(), &|_| 1, on_frame)
    });
    assert_eq!(decoded.incomplete, None);
    let info = decoded.info;
    assert_eq!((info.width, info.height, info.fps, info.frames), (320, 480, 30.0, 120));
    // The first 4 s of the reference video, re-encoded: frame n is the reference's frame n.
    let expected = expected_frames("pattern-sd-grey-bar");
    for (got, want) in hashed.iter().zip(&expected) {
        assert_eq!(got.timestamp, want.timestamp);
    }
    let mut distances = distances(hashed.iter().zip(&expected));
    let within = distances.iter().filter(|&&d| d < MATCH_DISTANCE).count();
    distances.sort_unstable();
    println!(
        "{WEBM}: {} bytes, {} frames, {} compared, {within} within {MATCH_DISTANCE}, max distance \
         {}, median {}",
        bytes.len(),
        hashed.len(),
        distances.len(),
        distances[distances.len() - 1],
        distances[distances.len() / 2],
    );
    assert!(distances.len() >= 100, "{} frames compared", distances.len());
    assert!(within * 10 >= distances.len() * 9, "{within} of {} within", distances.len());
}

#[test]
fn sampling_and_length_limit_keep_decode_order_numbers() {
    let Some(ffmpeg) = ffmpeg("sampling_and_length_limit_keep_decode_order_numbers") else {
        return;
    };
    let path = fixture("conformance/videos/doorknob-hd-no-bar.mp4");
    let mut seen = Vec::new();
    let decoded =
        decode_ffmpeg(ffmpeg, &path, &VideoLimits::default(), &|_| 10, &mut |n, _| seen.push(n))
            .unwrap();
    assert_eq!(seen, (0..decoded.info.frames).step_by(10).collect::<Vec<_>>());

    let limits = VideoLimits { max_seconds: 1.0, ..VideoLimits::default() };
    let mut seen = 0;
    let decoded = decode_ffmpeg(ffmpeg, &path, &limits, &|_| 1, &mut |_, _| seen += 1).unwrap();
    let reason = decoded.incomplete.expect("a 1 s limit stops a longer video");
    assert!(reason.contains("--max-video-seconds"), "{reason}");
    assert_eq!(seen as f64, decoded.info.fps.ceil());
}

#[test]
fn without_ffmpeg_the_reason_says_what_to_install() {
    assert_eq!(Ffmpeg::at("/nonexistent/ffmpeg"), None);
    let decode = |path: &Path, media_type: &str, bytes: &[u8]| {
        decode_video(None, bytes, path, media_type, &VideoLimits::default(), &|_| 1, &mut |_, _| {})
    };
    let path = fixture(WEBM);
    let error = decode(&path, "video/webm", &std::fs::read(&path).unwrap()).unwrap_err();
    println!("{error}");
    assert!(error.contains("video/webm (vp9)"), "{error}");
    assert!(error.contains("install ffmpeg"), "{error}");

    // H.264 MP4 needs no ffmpeg; what the in-process decoder cannot read keeps its reason.
    let path = fixture("conformance/videos/test-padded-dimensions.mp4");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(decode(&path, "video/mp4", &bytes).unwrap().incomplete, None);
    let error = decode(&path, "video/mp4", &bytes[..1000]).unwrap_err();
    println!("{error}");
    assert!(error.contains("MP4") && error.contains("installing ffmpeg may decode it"), "{error}");
}

#[test]
fn truncated_webm_ends_early_without_hanging() {
    let Some(ffmpeg) = ffmpeg("truncated_webm_ends_early_without_hanging") else { return };
    let bytes = std::fs::read(fixture(WEBM)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    for (cut, name) in [(bytes.len() / 2, "half.webm"), (100, "header.webm")] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let mut frames = 0;
        match decode_ffmpeg(ffmpeg, &path, &VideoLimits::default(), &|_| 1, &mut |_, _| frames += 1)
        {
            Ok(Decoded { incomplete, .. }) => {
                println!("{name}: {frames} frames, incomplete: {incomplete:?}");
                assert!(incomplete.is_some() && frames < 120, "{name}: {frames} frames");
            }
            Err(error) => {
                println!("{name}: {error}");
                assert!(!error.is_empty());
            }
        }
    }
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn time_limit_kills_ffmpeg_and_leaves_no_zombie() {
    let Some(ffmpeg) = ffmpeg("time_limit_kills_ffmpeg_and_leaves_no_zombie") else { return };
    let limits = VideoLimits { timeout: Duration::ZERO, ..VideoLimits::default() };
    let path = fixture("conformance/videos/doorknob-hd-no-bar.mp4");
    let reason = match decode_ffmpeg(ffmpeg, &path, &limits, &|_| 1, &mut |_, _| {}) {
        Ok(decoded) => decoded.incomplete.expect("a zero time limit stops decoding"),
        Err(reason) => reason,
    };
    assert!(reason.contains("--file-timeout"), "{reason}");
    // Other tests run ffmpeg at the same time, and a child is briefly a zombie between exiting
    // and being reaped; one that stays a zombie was never reaped.
    for attempt in 0.. {
        let zombies = zombie_children();
        if zombies == 0 {
            break;
        }
        assert!(attempt < 50, "{zombies} child processes left unreaped");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Children of this process that have exited but were not waited for (Linux only; 0
/// elsewhere).
fn zombie_children() -> usize {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    entries
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| {
            // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            let fields: Vec<&str> = after.split_whitespace().collect();
            fields.first() == Some(&"Z") && fields.get(1) == Some(&me.as_str())
        })
        .count()
}
