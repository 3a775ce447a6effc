//! Listed or unscreened content must never be reported clean (issue 23): corrupt JPEG data
//! that decoders pass over, media types that were not recognised, later frames and pages, and
//! videos that decode to a fraction of their frames.
//!
//! The pictures and videos in other formats are `fixtures/formats/` (made by
//! `fixtures/make_formats.py`); the damaged JPEGs and MP4s are made here from fixtures. The
//! listed picture is the bridge photograph of `hashlists/demo.csv`. Tests that need ffmpeg to
//! decode are `#[ignore = "needs ffmpeg"]`; `cargo test -- --include-ignored` runs them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod run;
use run::{command_in, root};

fn fixture(path: &str) -> PathBuf {
    root().join("fixtures").join(path)
}

/// One file's line of a `--format jsonl` scan.
struct Line {
    status: String,
    /// The error's reason, or a flagged file's `perceptual_error`.
    why: String,
    json: Value,
}

/// Scans `paths` against the demo list with `args`, returning the exit status and each file's
/// line by file name.
fn scan(paths: &[PathBuf], args: &[&str], env: &[(&str, &str)]) -> (i32, BTreeMap<String, Line>) {
    let output = command_in(root())
        .args(["scan", "--list", "hashlists/demo.csv", "--format", "jsonl"])
        .args(args)
        .args(paths)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let text = String::from_utf8(output.stdout).unwrap();
    let mut lines = BTreeMap::new();
    for line in text.lines() {
        let json: Value = serde_json::from_str(line).unwrap();
        if json["type"] != "file" {
            continue;
        }
        let name = json["path"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        let status = json["status"].as_str().unwrap().to_string();
        let why = json["reason"].as_str().or(json["perceptual_error"].as_str()).unwrap_or("");
        lines.insert(name, Line { status, why: why.to_string(), json });
    }
    assert!(!lines.is_empty(), "no file lines; stderr: {stderr}");
    (output.status.code().unwrap(), lines)
}

fn status<'a>(lines: &'a BTreeMap<String, Line>, name: &str) -> &'a Line {
    lines.get(name).unwrap_or_else(|| panic!("{name} is missing from the report"))
}

/// Asserts that `name` was flagged by the bridge's PDQ entry.
fn assert_flagged_as_bridge(lines: &BTreeMap<String, Line>, name: &str) {
    let line = status(lines, name);
    assert_eq!(line.status, "flagged", "{name}: {}", line.why);
    let ids: Vec<&str> =
        line.json["matches"].as_array().unwrap().iter().filter_map(|m| m["id"].as_str()).collect();
    assert!(ids.contains(&"demo-bridge"), "{name}: {ids:?}");
}

/// A deterministic byte generator (xorshift), so that the damaged files are the same on
/// every run.
struct Noise(u64);

impl Noise {
    fn byte(&mut self) -> u8 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 24) as u8
    }

    /// `n` bytes that read as entropy-coded JPEG data: every 0xFF followed by a stuffed 0x00,
    /// so that no marker ends the data early and no decoder sees a cut.
    fn entropy_data(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + n / 128);
        for _ in 0..n {
            let byte = self.byte();
            out.push(byte);
            if byte == 0xFF {
                out.push(0);
            }
        }
        out
    }
}

/// A JPEG's bytes up to the end of its first scan header (SOS), and the frame header's offset.
fn jpeg_headers(jpeg: &[u8]) -> (Vec<u8>, usize) {
    let find = |marker: u8| jpeg.windows(2).position(|w| w == [0xFF, marker]).unwrap();
    let sos = find(0xDA);
    let length = usize::from(u16::from_be_bytes([jpeg[sos + 2], jpeg[sos + 3]]));
    (jpeg[..sos + 2 + length].to_vec(), find(0xC0))
}

/// The damaged JPEGs of the issue, made from a listed one, in `dir`.
fn damaged_jpegs(dir: &Path) {
    let listed = fs::read(fixture("screening/edited/bridge-half-size.jpg")).unwrap();
    let (headers, sof) = jpeg_headers(&listed);
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let eoi = [0xFF, 0xD9];
    let write = |name: &str, parts: &[&[u8]]| fs::write(dir.join(name), parts.concat()).unwrap();
    // A third of the file, then an end-of-image marker: nothing says "truncated" but the data.
    write("third-with-eoi.jpg", &[&listed[..listed.len() / 3], &eoi]);
    // The listed picture's headers, then random (but well-stuffed) picture data.
    let scan_length = listed.len() - headers.len() - 2;
    write("random-scan.jpg", &[&headers, &noise.entropy_data(scan_length), &eoi]);
    // 8000x8000 and 65535x3051 declared, a kilobyte of data.
    let mut sized = |width: u16, height: u16| {
        let mut header = headers.clone();
        header[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
        header[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
        [header, noise.entropy_data(1024)].concat()
    };
    write("8000x8000-1k.jpg", &[&sized(8000, 8000), &eoi]);
    write("65535x3051-1k.jpg", &[&sized(65535, 3051)]);
    // The listed picture with the last tenth of its data damaged: what decoded still matches.
    let damaged_from = listed.len() - scan_length / 10;
    write(
        "damaged-tail.jpg",
        &[&listed[..damaged_from], &noise.entropy_data(listed.len() - 2 - damaged_from), &eoi],
    );
}

fn check_damaged_jpegs(decoders: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    damaged_jpegs(dir.path());
    let (code, lines) = scan(&[dir.path().to_path_buf()], decoders, &[]);
    // The damaged copy of the listed picture still matches: a match outranks the error.
    assert_eq!(code, 1);
    assert_flagged_as_bridge(&lines, "damaged-tail.jpg");
    let damaged = status(&lines, "damaged-tail.jpg");
    assert!(damaged.why.contains("JPEG"), "damaged-tail.jpg: {}", damaged.why);
    for name in ["third-with-eoi.jpg", "random-scan.jpg", "8000x8000-1k.jpg", "65535x3051-1k.jpg"] {
        let line = status(&lines, name);
        assert_eq!(line.status, "error", "{name} {decoders:?}: {}", line.why);
        assert!(line.why.contains("JPEG"), "{name} {decoders:?}: {}", line.why);
    }
    for name in ["8000x8000-1k.jpg", "65535x3051-1k.jpg"] {
        let why = &status(&lines, name).why;
        assert!(why.contains("cannot hold"), "{name}: {why}");
    }
    // Without the damaged copy, nothing matches: exit 2, the errors.
    fs::remove_file(dir.path().join("damaged-tail.jpg")).unwrap();
    let (code, lines) = scan(&[dir.path().to_path_buf()], decoders, &[]);
    assert_eq!(code, 2);
    assert!(lines.values().all(|line| line.status == "error"));
}

#[test]
fn corrupt_jpeg_data_is_an_error_and_what_decoded_is_still_matched() {
    check_damaged_jpegs(&[]);
}

#[test]
fn corrupt_jpeg_data_is_an_error_with_the_builtin_decoder_too() {
    check_damaged_jpegs(&["--builtin-decoders"]);
}

/// The pictures decoded in-process, the pictures and videos only ffmpeg decodes.
const IN_PROCESS: [&str; 6] = [
    "bridge.ppm",
    "bridge.pgm",
    "bridge.qoi",
    "bridge.tga",
    "bridge-no-footer.tga",
    "bridge-bigtiff.tif",
];
const THROUGH_FFMPEG: [&str; 9] = [
    "bridge.pcx",
    "bridge.ts",
    "bridge.ogv",
    "bridge-vp8.ivf",
    "bridge-vp9.ivf",
    "bridge.h264",
    "bridge.hevc",
    "bridge.y4m",
    "bridge-zip-prefix.ts",
];

/// `fixtures/formats/` in a scratch tree, with a transport stream behind a ZIP's signature.
fn formats() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(fixture("formats")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let ts = fs::read(fixture("formats/bridge.ts")).unwrap();
    let prefix = b"PK\x03\x04\x14\0\0\0\x08\0not a zip after all";
    fs::write(dir.path().join("bridge-zip-prefix.ts"), [&prefix[..], &ts].concat()).unwrap();
    dir
}

#[test]
fn pictures_in_formats_decoded_in_process_are_screened() {
    let dir = formats();
    let paths: Vec<PathBuf> = IN_PROCESS.iter().map(|name| dir.path().join(name)).collect();
    let (code, lines) = scan(&paths, &[], &[]);
    assert_eq!(code, 1);
    for name in IN_PROCESS {
        assert_flagged_as_bridge(&lines, name);
        assert_eq!(status(&lines, name).why, "", "{name}");
    }
    let media_type = |name: &str| status(&lines, name).json["media_type"].clone();
    assert_eq!(media_type("bridge.ppm"), "image/x-portable-pixmap");
    assert_eq!(media_type("bridge-no-footer.tga"), "image/x-tga");
    assert_eq!(media_type("bridge-bigtiff.tif"), "image/tiff");
}

#[test]
fn later_frames_and_pages_are_screened() {
    let dir = formats();
    let paths = ["bridge-second-frame.png", "bridge-second-page.tif"].map(|n| dir.path().join(n));
    let (code, lines) = scan(&paths, &[], &[]);
    assert_eq!(code, 1);
    // Found in the second frame (100 ms in) and on the second page (a page a second), not in
    // the first, which is an unrelated photograph.
    for (name, at) in [("bridge-second-frame.png", 0.1), ("bridge-second-page.tif", 1.0)] {
        assert_flagged_as_bridge(&lines, name);
        let matches = status(&lines, name).json["matches"].as_array().unwrap().clone();
        let ranges = &matches[0]["video"]["time_ranges"];
        assert_eq!(ranges, &serde_json::json!([[at, at]]), "{name}");
    }
}

#[test]
#[ignore = "needs ffmpeg"]
fn pictures_and_videos_only_ffmpeg_decodes_are_screened() {
    let dir = formats();
    let paths: Vec<PathBuf> = THROUGH_FFMPEG.iter().map(|name| dir.path().join(name)).collect();
    let (code, lines) = scan(&paths, &[], &[]);
    assert_eq!(code, 1);
    for name in THROUGH_FFMPEG {
        assert_flagged_as_bridge(&lines, name);
        assert_eq!(status(&lines, name).why, "", "{name}");
    }
    let media_type = |name: &str| status(&lines, name).json["media_type"].clone();
    assert_eq!(media_type("bridge-zip-prefix.ts"), "video/mp2t");
    assert_eq!(media_type("bridge.hevc"), "video/h265");
    assert_eq!(media_type("bridge.pcx"), "image/x-pcx");
}

#[test]
fn without_ffmpeg_what_only_ffmpeg_decodes_is_an_error_that_says_so() {
    let dir = formats();
    let paths: Vec<PathBuf> = THROUGH_FFMPEG.iter().map(|name| dir.path().join(name)).collect();
    let missing = dir.path().join("no-such-ffmpeg");
    let (code, lines) = scan(&paths, &[], &[("MEDIASCREEN_FFMPEG", missing.to_str().unwrap())]);
    assert_eq!(code, 2);
    for name in THROUGH_FFMPEG {
        let line = status(&lines, name);
        assert_eq!(line.status, "error", "{name}: {}", line.why);
        assert!(line.why.contains("install ffmpeg"), "{name}: {}", line.why);
    }
}

/// `mp4` with its sample-to-chunk table saying its one chunk holds one sample: ffmpeg then
/// decodes one frame, without a word, and the rest of the sample table is unread.
fn one_sample_a_chunk(mp4: &[u8]) -> Vec<u8> {
    let mut damaged = mp4.to_vec();
    let stsc = damaged.windows(4).position(|w| w == b"stsc").unwrap();
    // Box type, version and flags, entry count, first chunk, then samples per chunk.
    damaged[stsc + 16..stsc + 20].copy_from_slice(&1u32.to_be_bytes());
    damaged
}

#[test]
#[ignore = "needs ffmpeg"]
fn a_video_that_decodes_to_a_fraction_of_its_frames_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let clip = fs::read(fixture("video/chair-clip.mp4")).unwrap();
    fs::write(dir.path().join("one-of-210.mp4"), one_sample_a_chunk(&clip)).unwrap();
    // The listed bridge as an MP4, damaged the same way: its one frame still matches.
    let bridge = dir.path().join("bridge.mp4");
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(fixture("formats/bridge.ts"))
        .args(["-c", "copy"])
        .arg(&bridge)
        .status()
        .unwrap();
    assert!(made.success());
    fs::write(&bridge, one_sample_a_chunk(&fs::read(&bridge).unwrap())).unwrap();
    let (code, lines) = scan(&[dir.path().to_path_buf()], &[], &[]);
    assert_eq!(code, 1);
    let line = status(&lines, "one-of-210.mp4");
    assert_eq!(line.status, "error", "{}", line.why);
    assert!(line.why.contains("decoded 1 of 210 frames"), "{}", line.why);
    assert_flagged_as_bridge(&lines, "bridge.mp4");
    let why = &status(&lines, "bridge.mp4").why;
    assert!(why.contains("decoded 1 of 20 frames"), "{why}");
    // Whole, the clip decodes all its frames: flagged by its listed video, nothing missing.
    fs::write(dir.path().join("one-of-210.mp4"), &clip).unwrap();
    let (_, lines) = scan(&[dir.path().join("one-of-210.mp4")], &[], &[]);
    let line = status(&lines, "one-of-210.mp4");
    assert_eq!((line.status.as_str(), line.why.as_str()), ("flagged", ""));
}

#[test]
fn a_picture_type_nothing_here_decodes_is_an_error_naming_what_would() {
    let dir = tempfile::tempdir().unwrap();
    // The ftyp boxes of a HEIF and an AVIF photograph, and a bare JPEG XL codestream.
    fs::write(dir.path().join("photo.heic"), b"\0\0\0\x18ftypheic\0\0\0\0mif1heic").unwrap();
    fs::write(dir.path().join("photo.avif"), b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf").unwrap();
    fs::write(dir.path().join("photo.jxl"), b"\xff\x0a\xfa\x7f\x01\x90\x08\x06\x01\0").unwrap();
    let (code, lines) = scan(&[dir.path().to_path_buf()], &[], &[]);
    assert_eq!(code, 2);
    for (name, decoder) in
        [("photo.heic", "libheif"), ("photo.avif", "libheif"), ("photo.jxl", "libjxl")]
    {
        let line = status(&lines, name);
        assert_eq!(line.status, "error", "{name}: {}", line.why);
        assert!(line.why.contains(decoder), "{name}: {}", line.why);
    }
}
