//! Peak memory of scans of hostile files (issue 23: memory bounded by what a picture
//! legitimately needs, whatever the thread count and input).
//!
//! Each hostile file is made here at run time, a few KB to a few MB that ask a decoder for
//! gigabytes: a PNG whose metadata inflates to 2 GiB, a GIF whose 64x64 screen holds a
//! 15000x15000 frame, animated WebPs with canvases of tens of megapixels, and (with ffmpeg)
//! a 16000x14000 H.264 stream. Each scan runs the binary and follows its peak resident memory,
//! its ffmpeg and ffprobe children's included, which must stay within the budget of
//! docs/memory.md (and, where the case allows, well under it); every hostile file must end as
//! an error with its reason, never clean. Linux only: memory is read from `/proc`.
#![cfg(target_os = "linux")]

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod run;
use run::{command_in, root};

const MIB: u64 = 1 << 20;

/// The budget of docs/memory.md for a scan of files of a few MB against a small list, on
/// `threads` workers with `--max-pixels max_pixels`: the process and its list, a worker's file
/// and an ffmpeg child per worker, and 12 bytes for each pixel of room.
fn budget(threads: u64, max_pixels: u64) -> u64 {
    96 * MIB + threads * 64 * MIB + 12 * max_pixels.max(12_000_000 * threads)
}

/// What a scan reported and the most memory it held.
struct Scan {
    /// The file lines of the JSON Lines report.
    files: Vec<Value>,
    /// Peak resident memory of the process plus its children, in bytes.
    peak: u64,
}

impl Scan {
    /// The report of the file named `name`.
    fn file(&self, name: &str) -> &Value {
        self.files
            .iter()
            .find(|file| file["path"].as_str().is_some_and(|path| path.ends_with(name)))
            .unwrap_or_else(|| panic!("{name} is not in the report"))
    }

    /// Asserts that `name` is an error whose reason contains every one of `words`.
    fn assert_error(&self, name: &str, words: &[&str]) {
        let file = self.file(name);
        let reason = file["reason"].as_str().unwrap_or_default();
        assert_eq!(file["status"], "error", "{name}: {file}");
        for word in words {
            assert!(reason.contains(word), "{name}: {word:?} not in {reason:?}");
        }
    }

    fn assert_peak_under(&self, limit: u64, what: &str) {
        println!("{what}: peak {} MiB (limit {} MiB)", self.peak / MIB, limit / MIB);
        assert!(
            self.peak < limit,
            "{what}: peak {} MiB, over {} MiB",
            self.peak / MIB,
            limit / MIB
        );
    }
}

/// Scans `dir` against the demo list with `args`, following the peak memory of the process
/// tree: the process's own high-water mark plus those of its children alive at the time,
/// polled, and the kernel's account of the process and its reaped children at the end.
#[allow(clippy::zombie_processes, reason = "reaped by wait4, which also gives its peak memory")]
fn run_scan(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Scan {
    let mut child = command_in(root())
        .args(["scan", "--list", "hashlists/demo.csv", "--format", "jsonl"])
        .args(args)
        .arg(dir)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let pid = child.id() as i32;
    let started = Instant::now();
    let mut peak = 0;
    let maxrss = loop {
        peak = peak.max(tree_high_water(pid));
        let mut status = 0;
        // SAFETY: an all-zero rusage is valid, and wait4 is given valid pointers.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        match unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) } {
            0 => {}
            reaped if reaped == pid => break usage.ru_maxrss as u64 * 1024,
            _ => panic!("wait4: {}", std::io::Error::last_os_error()),
        }
        if started.elapsed() > Duration::from_secs(900) {
            child.kill().unwrap();
            let _ = child.wait();
            panic!("the scan of {} took more than 15 minutes", dir.display());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let files = reader
        .join()
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|line| line["type"] == "file")
        .collect();
    Scan { files, peak: peak.max(maxrss) }
}

/// The high-water mark of `pid` plus those of its children, in bytes.
fn tree_high_water(pid: i32) -> u64 {
    let high_water = |pid: &str| -> u64 {
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kib = status.lines().find_map(|line| line.strip_prefix("VmHWM:"));
        kib.and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024)
    };
    let mut total = high_water(&pid.to_string());
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let stat = fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // pid (command) state ppid …: the command may hold spaces and parentheses.
        let parent = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1));
        if parent == Some(pid.to_string().as_str()) {
            total += high_water(&name);
        }
    }
    total
}

/// A PNG chunk, its CRC included.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    out
}

/// A zlib stream of `mib` MiB of zeros, about 1 KB a MiB: one MiB compressed with a full flush
/// (its blocks stand alone), repeated, and a final empty block.
fn zlib_zeros(mib: u64) -> Vec<u8> {
    let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
    let mut block = Vec::with_capacity(64 << 10);
    let input = vec![0u8; 1 << 20];
    compress.compress_vec(&input, &mut block, flate2::FlushCompress::Full).unwrap();
    assert_eq!(compress.total_in(), 1 << 20);
    let mut out = vec![0x78, 0xda];
    for _ in 0..mib {
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&[0x03, 0x00]);
    // Adler-32 of zeros: 1, and the byte count.
    let adler = (((mib << 20) % 65521) << 16 | 1) as u32;
    out.extend_from_slice(&adler.to_be_bytes());
    out
}

/// A 64x64 PNG with `ancillary` chunks after its header.
fn png_with(ancillary: &[Vec<u8>]) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8, 90]));
    let mut png = Vec::new();
    picture.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    // Signature (8) and IHDR (25).
    let mut out = png[..33].to_vec();
    ancillary.iter().for_each(|chunk| out.extend_from_slice(chunk));
    out.extend_from_slice(&png[33..]);
    out
}

#[test]
fn png_metadata_bombs_are_errors_inflated_no_further_than_their_cap() {
    let dir = tempfile::tempdir().unwrap();
    let profile = chunk(b"iCCP", &[b"bomb\0\0".as_slice(), &zlib_zeros(2048)].concat());
    for i in 0..4 {
        fs::write(
            dir.path().join(format!("iccp-{i}.png")),
            png_with(std::slice::from_ref(&profile)),
        )
        .unwrap();
    }
    let text = chunk(b"zTXt", &[b"Comment\0\0".as_slice(), &zlib_zeros(64)].concat());
    fs::write(dir.path().join("ztxt.png"), png_with(&[text])).unwrap();
    let international =
        chunk(b"iTXt", &[b"Note\0\x01\0en\0\0".as_slice(), &zlib_zeros(64)].concat());
    fs::write(dir.path().join("itxt.png"), png_with(&[international])).unwrap();
    // A real profile's size is left alone.
    let small = chunk(b"iCCP", &[b"sRGB\0\0".as_slice(), &zlib_zeros(1)].concat());
    fs::write(dir.path().join("profile.png"), png_with(&[small])).unwrap();

    let scan = run_scan(dir.path(), &["-j", "4"], &[]);
    for i in 0..4 {
        scan.assert_error(&format!("iccp-{i}.png"), &["iCCP", "16 MiB", "screened without it"]);
    }
    scan.assert_error("ztxt.png", &["zTXt"]);
    scan.assert_error("itxt.png", &["iTXt"]);
    assert_eq!(scan.file("profile.png")["status"], "clean");
    // Was about 1 GiB a worker: the png crate inflated each profile to its 1 GiB allowance.
    scan.assert_peak_under(160 * MIB, "4 PNGs with 2 GiB profiles, 4 threads");
    scan.assert_peak_under(budget(4, 200_000_000), "the budget");
}

/// A GIF whose 64x64 screen holds one `width` x `height` frame of colour 0: its LZW codes are
/// written here, each for one more pixel than the last up to the 4096-entry table, so that a
/// frame of 225 megapixels takes 85 KB.
fn gif_with_large_frame(width: u16, height: u16) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&[64, 0, 64, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    out.push(0x2c);
    for value in [0, 0, width, height] {
        out.extend_from_slice(&value.to_le_bytes());
    }
    out.extend_from_slice(&[0, 2]); // no local palette; LZW minimum code size 2
    let (mut codes, mut bits, mut pending) = (Vec::new(), 0u32, 0u64);
    let mut emit = |code: u64, size: u32| {
        pending |= code << bits;
        bits += size;
        while bits >= 8 {
            codes.push(pending as u8);
            pending >>= 8;
            bits -= 8;
        }
    };
    // Clear is 4, end 5; code 6 on is the run of one more zero than the code before.
    let (mut size, mut next) = (3, 6u64);
    emit(4, size);
    emit(0, size);
    let total = u64::from(width) * u64::from(height);
    let (mut done, mut last) = (1u64, 1u64);
    while done < total {
        let run = if next < 4096 { last + 1 } else { last }.min(total - done);
        if next < 4096 {
            next += 1;
            if next > 1 << size && size < 12 {
                size += 1;
            }
        }
        emit(if run == 1 { 0 } else { run + 4 }, size);
        done += run;
        last = run;
    }
    emit(5, size);
    if bits > 0 {
        codes.push(pending as u8);
    }
    for block in codes.chunks(255) {
        out.push(block.len() as u8);
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&[0, 0x3b]);
    out
}

#[test]
fn a_gif_frame_larger_than_its_screen_counts_by_its_own_size() {
    let dir = tempfile::tempdir().unwrap();
    let giant = gif_with_large_frame(15000, 15000);
    fs::write(dir.path().join("giant-a.gif"), &giant).unwrap();
    fs::write(dir.path().join("giant-b.gif"), &giant).unwrap();
    let scan = run_scan(dir.path(), &["-j", "4"], &[]);
    for name in ["giant-a.gif", "giant-b.gif"] {
        scan.assert_error(name, &["frame 0: 15000x15000", "--max-pixels"]);
    }
    // Was 1.1 GB a file: the frame was decoded at its own size.
    scan.assert_peak_under(160 * MIB, "two GIFs with 225-megapixel frames, 4 threads");

    // --max-pixels was ignored for such a frame.
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("frame.gif"), gif_with_large_frame(400, 300)).unwrap();
    let scan = run_scan(dir.path(), &["--max-pixels", "10000"], &[]);
    scan.assert_error("frame.gif", &["frame 0: 400x300", "over the 10000 limit (--max-pixels)"]);
}

/// Bits written from the least significant up, as VP8L reads them.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    pending: u64,
    count: u32,
}

impl Bits {
    fn put(&mut self, value: u64, count: u32) {
        self.pending |= value << self.count;
        self.count += count;
        while self.count >= 8 {
            self.bytes.push(self.pending as u8);
            self.pending >>= 8;
            self.count -= 8;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.count > 0 {
            self.bytes.push(self.pending as u8);
        }
        self.bytes
    }
}

/// A lossless WebP bitstream of `width` x `height` pixels of one colour: each of its five
/// prefix codes has a single symbol, so a pixel takes no bits at all.
fn vp8l_one_colour(width: u32, height: u32, [red, green, blue, alpha]: [u8; 4]) -> Vec<u8> {
    let mut bits = Bits { bytes: vec![0x2f], ..Bits::default() };
    bits.put(u64::from(width - 1), 14);
    bits.put(u64::from(height - 1), 14);
    bits.put(1, 1); // alpha used
    bits.put(0, 3); // version
    bits.put(0, 1); // no transform
    bits.put(0, 1); // no colour cache
    bits.put(0, 1); // no meta prefix codes
    for symbol in [green, red, blue, alpha, 0] {
        bits.put(1, 1); // simple code
        bits.put(0, 1); // of one symbol
        bits.put(1, 1); // of eight bits
        bits.put(u64::from(symbol), 8);
    }
    bits.finish()
}

fn riff_chunk(tag: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// An animated WebP of `frames` one-colour frames covering a `width` x `height` canvas: a few
/// dozen bytes a frame.
fn animated_webp(width: u32, height: u32, frames: u32) -> Vec<u8> {
    let u24 = |value: u32| value.to_le_bytes()[..3].to_vec();
    let mut vp8x = vec![0x12, 0, 0, 0]; // animation, alpha
    vp8x.extend(u24(width - 1));
    vp8x.extend(u24(height - 1));
    let mut body = riff_chunk(b"VP8X", &vp8x);
    body.extend(riff_chunk(b"ANIM", &[0; 6]));
    for i in 0..frames {
        let mut frame = [u24(0), u24(0), u24(width - 1), u24(height - 1), u24(100)].concat();
        frame.push(0);
        let colour = [(i * 6) as u8, 100, 200, 255];
        frame.extend(riff_chunk(b"VP8L", &vp8l_one_colour(width, height, colour)));
        body.extend(riff_chunk(b"ANMF", &frame));
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(4 + body.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend(body);
    out
}

#[test]
fn animations_wait_for_room_beside_each_other() {
    // The issue's file: 1.9 KB, a 14000x14000 canvas, 40 frames (2 GB and two minutes a
    // worker). Its canvas is held to --max-pixels.
    let dir = tempfile::tempdir().unwrap();
    let issue = animated_webp(14000, 14000, 40);
    assert!(issue.len() < 2000, "{}", issue.len());
    fs::write(dir.path().join("canvas.webp"), &issue).unwrap();
    let scan = run_scan(dir.path(), &["--max-pixels", "100000000"], &[]);
    scan.assert_error("canvas.webp", &["14000x14000", "--max-pixels"]);
    scan.assert_peak_under(160 * MIB, "a 14000x14000 animation over --max-pixels");

    // Three animations within the limits, each 30 megapixels of canvas (360 MB while it
    // decodes), on three workers: side by side they took three times that; each waits for
    // room as a picture of its size does.
    let dir = tempfile::tempdir().unwrap();
    let animation = animated_webp(5500, 5500, 2);
    for i in 0..3 {
        fs::write(dir.path().join(format!("animation-{i}.webp")), &animation).unwrap();
    }
    let max_pixels = 40_000_000;
    let scan = run_scan(dir.path(), &["-j", "3", "--max-pixels", &max_pixels.to_string()], &[]);
    for i in 0..3 {
        assert_eq!(scan.file(&format!("animation-{i}.webp"))["status"], "clean");
    }
    scan.assert_peak_under(budget(3, max_pixels), "three 30-megapixel animations, 3 threads");
}

/// Runs ffmpeg with `args`, which must succeed.
fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .status()
        .expect("ffmpeg");
    assert!(status.success(), "ffmpeg {args:?}");
}

#[test]
#[ignore = "needs ffmpeg"]
fn video_frames_over_the_limits_are_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    // 16000x14000 H.264: ffmpeg took 5 GB for it under --max-pixels 1000000. In Matroska it
    // goes straight to ffmpeg; in MP4 to the in-process decoder first.
    let colour = "color=c=gray:s=16000x14000:r=1";
    let x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-threads", "1"];
    ffmpeg(
        &[&["-f", "lavfi", "-i", colour, "-frames:v", "1"], &x264[..], &[&path("huge.mkv")]]
            .concat(),
    );
    ffmpeg(&["-i", &path("huge.mkv"), "-c", "copy", &path("huge.mp4")]);
    let hd = "testsrc2=s=1600x900:r=10";
    ffmpeg(
        &[&["-f", "lavfi", "-i", hd, "-frames:v", "10"], &x264[..], &[&path("hd.mp4")]].concat(),
    );
    ffmpeg(&["-i", &path("hd.mp4"), "-c", "copy", &path("hd.mkv")]);

    let max_pixels = 1_000_000;
    let scan = run_scan(dir.path(), &["-j", "4", "--max-pixels", &max_pixels.to_string()], &[]);
    for name in ["huge.mkv", "huge.mp4"] {
        scan.assert_error(name, &["16000x14000", "over the 1000000 limit (--max-pixels)"]);
    }
    for name in ["hd.mkv", "hd.mp4"] {
        scan.assert_error(name, &["1600x900", "over the 1000000 limit (--max-pixels)"]);
    }
    scan.assert_peak_under(400 * MIB, "16000x14000 and 1600x900 H.264 under --max-pixels 1000000");
    scan.assert_peak_under(budget(4, max_pixels), "the budget");

    // In-process alone, the parameter sets' size is checked before openh264 allocates for it.
    let without = [("MEDIASCREEN_FFMPEG", "/nonexistent/ffmpeg")];
    let scan_alone = run_scan(dir.path(), &["--max-pixels", "1000000"], &without);
    for (name, size) in [("hd.mp4", "1600x900"), ("huge.mp4", "16000x14000")] {
        scan_alone.assert_error(name, &[size, "over the 1000000 limit (--max-pixels)"]);
    }

    // Within the limits, the 900p video decodes, through ffmpeg (under its memory limit) and
    // in-process alike.
    fs::remove_file(path("huge.mkv")).unwrap();
    fs::remove_file(path("huge.mp4")).unwrap();
    let scan = run_scan(dir.path(), &["-j", "2"], &[]);
    for name in ["hd.mkv", "hd.mp4"] {
        assert_eq!(scan.file(name)["status"], "clean", "{}", scan.file(name));
    }
}
