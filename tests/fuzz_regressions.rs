//! Inputs the fuzz targets (`fuzz/`, `docs/fuzzing.md`) once crashed on, replayed through the
//! same entry points: each must return, `Ok` or `Err`, without a panic, whether one escapes
//! or a decoder catches it and returns it as its error.
//!
//! Every file in `fixtures/bad/fuzz/` is named `<target>-<what>`, `<target>` being the fuzz
//! target that found it; `README.md` says what is there.

use mediascreen::error::FileError;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Duration;

use image::ImageFormat;
use mediascreen::decode::video::{
    decode_animation, decode_h264_mp4, decode_pages, is_animated, Decoded, VideoLimits,
};
use mediascreen::decode::{decode_rgb, jpeg_truncation, within, DecodeLimits, Decoders};
use mediascreen::hashlist::{HashList, ListFormat, LoadOptions};
use mediascreen::sniff::sniff;

/// The list targets: the format each forces (`None`: detected) and the file name it gives.
const LIST_TARGETS: [(&str, Option<ListFormat>, &str); 11] = [
    ("list_native", Some(ListFormat::Native), "list.csv"),
    ("list_te_text", Some(ListFormat::TeText), "list.txt"),
    ("list_te_csv", Some(ListFormat::TeCsv), "te_HASH_PDQ.csv"),
    ("list_stopncii", Some(ListFormat::StopNcii), "list.json"),
    ("list_tat", Some(ListFormat::Tat), "list.json"),
    ("list_ncmec", Some(ListFormat::Ncmec), "list.xml"),
    ("list_hdb", Some(ListFormat::ClamAvHdb), "list.hdb"),
    ("list_hsb", Some(ListFormat::ClamAvHsb), "list.hsb"),
    ("list_plain", Some(ListFormat::Plain), "list.txt"),
    ("list_vpdq_text", Some(ListFormat::VpdqText), "video.txt"),
    ("list_detect", None, "list"),
];

/// The limits the video targets decode under.
fn video_limits() -> VideoLimits {
    VideoLimits {
        max_seconds: 2.0,
        timeout: Duration::from_secs(2),
        image: DecodeLimits { max_dimension: 4096, max_alloc: 64 << 20, ..DecodeLimits::default() },
    }
}

/// Feeds `bytes` to the entry point of the fuzz target `target`, as the target does, and
/// returns every error and every reason for stopping early that the decoders gave.
fn replay(target: &str, bytes: &[u8]) -> Vec<String> {
    if let Some((_, format, name)) = LIST_TARGETS.iter().find(|(t, ..)| *t == target) {
        let options = LoadOptions { format: *format, ..LoadOptions::default() };
        let _ = HashList::from_bytes(Path::new(name), bytes, &options);
        return Vec::new();
    }
    let mut said = Vec::new();
    let mut video = |result: Result<Decoded, FileError>| match result {
        Ok(decoded) => said.extend(decoded.incomplete.map(|e| e.to_string())),
        Err(error) => said.push(error.to_string()),
    };
    match target {
        "image_decode" => {
            let sniffed = sniff(bytes);
            let _ = jpeg_truncation(bytes);
            if let Some(format) = sniffed.image_format {
                let limits = DecodeLimits {
                    max_dimension: 8192,
                    max_alloc: 128 << 20,
                    ..DecodeLimits::default()
                };
                // The target fuzzes the built-in decoders; its findings go to the system's too.
                for decoders in [Decoders::BuiltinOnly, Decoders::detect()] {
                    said.extend(
                        decode_rgb(bytes, format, limits, decoders).err().map(|e| e.to_string()),
                    );
                }
            }
        }
        "animation" => match sniff(bytes).image_format {
            Some(format @ (ImageFormat::Gif | ImageFormat::WebP | ImageFormat::Png)) => {
                let _ = is_animated(bytes, format);
                video(decode_animation(bytes, format, &video_limits(), &|_| 1, &mut |_, _| {}));
            }
            Some(ImageFormat::Tiff) => {
                let _ = is_animated(bytes, ImageFormat::Tiff);
                video(decode_pages(bytes, &video_limits(), &mut |_, _| {}));
            }
            _ => {}
        },
        "h264" => {
            video(decode_h264_mp4(bytes, &video_limits(), &|_| 1, &mut |_, _| {}));
        }
        other => panic!("no fuzz target {other:?}: name regression files <target>-<what>"),
    }
    said
}

/// The target a regression file belongs to: the longest known target its name starts with.
fn target_of(file_name: &str) -> &'static str {
    let known = LIST_TARGETS.iter().map(|(t, ..)| *t).chain(["image_decode", "animation", "h264"]);
    known
        .filter(|t| file_name.strip_prefix(t).is_some_and(|rest| rest.starts_with('-')))
        .max_by_key(|t| t.len())
        .unwrap_or_else(|| panic!("{file_name}: not named <target>-<what> after a fuzz target"))
}

#[test]
fn every_fuzz_finding_returns_without_panicking() {
    // The decoders catch a panic and return it as their error, so that a hostile file costs
    // one file and not the scan: a finding that panics again comes back as an ordinary `Err`.
    // They all word it alike; one panic made here shows how.
    const MARK: &str = "a panic made by this test";
    let caught = within(Duration::from_secs(10), || -> u8 { panic!("{MARK}") });
    let caught = caught.expect("returned in time").expect_err("the panic is caught").to_string();
    let panicked = caught.strip_suffix(MARK).unwrap_or_else(|| panic!("{caught:?}"));
    assert!(panicked.contains("panicked"), "{caught:?}");

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bad/fuzz");
    assert!(dir.join("README.md").is_file(), "fixtures/bad/fuzz/README.md is missing");
    let mut failures = Vec::new();
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "README.md" {
            continue;
        }
        let target = target_of(&name);
        let bytes = std::fs::read(&path).unwrap();
        match catch_unwind(AssertUnwindSafe(|| replay(target, &bytes))) {
            Err(_) => failures.push(format!("{name}: the panic escaped")),
            Ok(said) => failures.extend(
                said.iter().filter(|s| s.contains(panicked)).map(|s| format!("{name}: {s}")),
            ),
        }
        replayed += 1;
    }
    println!("{replayed} fuzz findings replayed");
    assert!(failures.is_empty(), "panicked on: {failures:?}");
}

#[test]
fn regression_files_are_told_apart_by_target() {
    assert_eq!(target_of("list_te_csv-quote"), "list_te_csv");
    assert_eq!(target_of("h264-huge-stsz"), "h264");
    assert!(catch_unwind(|| target_of("list_te-x")).is_err());
}
