//! Decoding through the `ffmpeg` command, checked against Meta's vPDQ per-frame hashes, and
//! what happens without ffmpeg, with a broken file and with a hung decode.
//!
//! Tests that need ffmpeg are `#[ignore = "needs ffmpeg"]`: a plain `cargo test` lists them as
//! ignored, and `cargo test -- --include-ignored` (as `.ci/run` runs) fails them when ffmpeg
//! is missing. What happens without ffmpeg is tested on every machine.

mod common;

use mediascreen::error::{FileErrorKind, Setting};

use std::time::{Duration, Instant};

use common::{check_video, distances, expected_frames, fixture, hash_frames, MATCH_DISTANCE};
use mediascreen::decode::video::{decode_ffmpeg, decode_video, Decoded, Ffmpeg, VideoLimits};

const WEBM: &str = "video/pattern-sd-grey-bar-vp9.webm";

/// The installed ffmpeg, for the tests that need it, looked for once.
fn ffmpeg() -> &'static Ffmpeg {
    static FOUND: std::sync::OnceLock<Option<Ffmpeg>> = std::sync::OnceLock::new();
    FOUND
        .get_or_init(Ffmpeg::detect)
        .as_ref()
        .expect("ffmpeg and ffprobe not found (on PATH, or named by MEDIASCREEN_FFMPEG)")
}

fn check_through_ffmpeg(name: &str) {
    let ffmpeg = ffmpeg();
    check_video(name, |path, on_frame| {
        let bytes = std::fs::read(path).unwrap();
        decode_ffmpeg(ffmpeg, &bytes, &VideoLimits::default(), &|_| 1, on_frame)
            .map_err(|e| e.to_string())
    });
}

#[test]
#[ignore = "needs ffmpeg"]
fn padded_dimensions_match_the_reference() {
    check_through_ffmpeg("test-padded-dimensions");
}

#[test]
#[ignore = "needs ffmpeg"]
fn doorknob_hd_matches_the_reference() {
    check_through_ffmpeg("doorknob-hd-no-bar");
}

#[test]
#[ignore = "needs ffmpeg"]
fn pattern_sd_grey_bar_matches_the_reference() {
    check_through_ffmpeg("pattern-sd-grey-bar");
}

#[test]
#[ignore = "needs ffmpeg"]
fn version_is_reported() {
    let ffmpeg = ffmpeg();
    println!("{}", ffmpeg.version());
    assert!(ffmpeg.version().starts_with("ffmpeg version"), "{}", ffmpeg.version());
    assert_eq!(Ffmpeg::detect().as_ref().map(Ffmpeg::version), Some(ffmpeg.version()));
}

#[test]
#[ignore = "needs ffmpeg"]
fn vp9_webm_is_close_to_the_reference() {
    let ffmpeg = Some(ffmpeg());
    let path = fixture(WEBM);
    let bytes = std::fs::read(&path).unwrap();
    let (decoded, hashed) = hash_frames(WEBM, |on_frame| {
        decode_video(ffmpeg, &bytes, "video/webm", &VideoLimits::default(), &|_| 1, on_frame)
            .map_err(|e| e.to_string())
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
#[ignore = "needs ffmpeg"]
fn sampling_and_length_limit_keep_decode_order_numbers() {
    let ffmpeg = ffmpeg();
    let bytes = std::fs::read(fixture("conformance/videos/doorknob-hd-no-bar.mp4")).unwrap();
    let mut seen = Vec::new();
    let decoded =
        decode_ffmpeg(ffmpeg, &bytes, &VideoLimits::default(), &|_| 10, &mut |n, _| seen.push(n))
            .unwrap();
    assert_eq!(seen, (0..decoded.info.frames).step_by(10).collect::<Vec<_>>());

    let limits = VideoLimits { max_seconds: 1.0, ..VideoLimits::default() };
    let mut seen = 0;
    let decoded = decode_ffmpeg(ffmpeg, &bytes, &limits, &|_| 1, &mut |_, _| seen += 1).unwrap();
    let reason = decoded.incomplete.expect("a 1 s limit stops a longer video");
    assert_eq!(reason.kind, FileErrorKind::Limit { which: Setting::MaxVideoSeconds }, "{reason}");
    assert_eq!(seen as f64, decoded.info.fps.ceil());
}

#[test]
fn without_ffmpeg_the_reason_says_what_to_install() {
    assert_eq!(Ffmpeg::at("/nonexistent/ffmpeg"), None);
    let decode = |media_type: &str, bytes: &[u8]| {
        decode_video(None, bytes, media_type, &VideoLimits::default(), &|_| 1, &mut |_, _| {})
    };
    let error = decode("video/webm", &std::fs::read(fixture(WEBM)).unwrap()).unwrap_err();
    assert_eq!(error.kind, FileErrorKind::NeedsTool { tool: "ffmpeg" });
    let error = error.to_string();
    println!("{error}");
    assert!(error.contains("video/webm (vp9)"), "{error}");
    assert!(error.contains("install ffmpeg"), "{error}");

    // H.264 MP4 needs no ffmpeg; what the in-process decoder cannot read keeps its reason.
    let bytes = std::fs::read(fixture("conformance/videos/test-padded-dimensions.mp4")).unwrap();
    assert_eq!(decode("video/mp4", &bytes).unwrap().incomplete, None);
    let error = decode("video/mp4", &bytes[..1000]).unwrap_err();
    assert_eq!(error.kind, FileErrorKind::NeedsTool { tool: "ffmpeg" });
    let error = error.to_string();
    println!("{error}");
    assert!(error.contains("MP4") && error.contains("installing ffmpeg may decode it"), "{error}");
}

#[test]
#[ignore = "needs ffmpeg"]
fn truncated_webm_ends_early_without_hanging() {
    let ffmpeg = ffmpeg();
    let bytes = std::fs::read(fixture(WEBM)).unwrap();
    let started = Instant::now();
    for (cut, name) in [(bytes.len() / 2, "half.webm"), (100, "header.webm")] {
        let mut frames = 0;
        let cut = &bytes[..cut];
        match decode_ffmpeg(ffmpeg, cut, &VideoLimits::default(), &|_| 1, &mut |_, _| frames += 1) {
            Ok(Decoded { incomplete, .. }) => {
                println!("{name}: {frames} frames, incomplete: {incomplete:?}");
                assert!(incomplete.is_some() && frames < 120, "{name}: {frames} frames");
            }
            Err(error) => {
                println!("{name}: {error}");
                assert!(!error.to_string().is_empty());
            }
        }
    }
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
#[ignore = "needs ffmpeg"]
fn time_limit_kills_ffmpeg_and_leaves_no_zombie() {
    let ffmpeg = ffmpeg();
    let limits = VideoLimits { timeout: Duration::ZERO, ..VideoLimits::default() };
    let bytes = std::fs::read(fixture("conformance/videos/doorknob-hd-no-bar.mp4")).unwrap();
    let reason = match decode_ffmpeg(ffmpeg, &bytes, &limits, &|_| 1, &mut |_, _| {}) {
        Ok(decoded) => decoded.incomplete.expect("a zero time limit stops decoding"),
        Err(reason) => reason,
    };
    assert_eq!(reason.kind, FileErrorKind::Timeout, "{reason}");
    assert_eq!(reason.reason.setting(), Some(Setting::FileTimeout));
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
