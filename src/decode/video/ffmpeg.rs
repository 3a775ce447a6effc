//! Video decoding through the `ffmpeg` and `ffprobe` commands, for what cannot be decoded
//! in-process (VP8/VP9/AV1, HEVC, WebM, Matroska, AVI…).
//!
//! Owns finding the commands when a caller asks ([`Ffmpeg::at`], [`Ffmpeg::detect`]), probing the first video stream, and running ffmpeg
//! so that its frames match the vPDQ reference's libav decode: no autorotation, every frame
//! passed through in decode order, RGB24 by swscale's area filter at native size. Also owns
//! keeping a child process on a leash: killed when the time limit passes or the caller stops
//! early, always reaped, its stderr drained so it cannot block, its memory limited to what its
//! room in the scan's budget allows (one decoding thread, `RLIMIT_DATA`). Must not hash, and
//! must never write anything to disk: ffmpeg reads the bytes mediascreen already read, never
//! the file's path, which may name another file by now (`Input`), and frames come back
//! through a pipe.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use image::RgbImage;
use serde::Deserialize;

use super::child::{decoder_bytes, limit_data, Input, FFMPEG_BASE_DATA, MEMORY_URL, PROBE_DATA};
use super::{short_of_declared, Deadline, Decoded, Step, VideoInfo, VideoLimits};
use crate::decode::room_for_decoder;
use crate::error::{FileError, Setting};

/// Environment variable naming the ffmpeg binary to use instead of the one on `PATH`, which
/// [`Ffmpeg::detect`] reads.
pub const FFMPEG_VARIABLE: &str = "MEDIASCREEN_FFMPEG";

/// How much of a child's stderr is kept: its first lines say what went wrong, the rest is
/// usually the same complaint repeated per frame.
const STDERR_KEPT: usize = 2048;

/// A working pair of `ffmpeg` and `ffprobe` commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ffmpeg {
    ffmpeg: PathBuf,
    ffprobe: PathBuf,
    version: String,
}

impl Ffmpeg {
    /// The ffmpeg named by [`FFMPEG_VARIABLE`] in the environment, else the one on `PATH`;
    /// `None` when it or its ffprobe does not run. A convenience for programs that let the
    /// environment choose: the library itself never calls it, it uses the ffmpeg it is given
    /// ([`crate::scan::HashOptions::ffmpeg`]).
    pub fn detect() -> Option<Ffmpeg> {
        Ffmpeg::detect_asking(&Ffmpeg::version_of)
    }

    /// [`Ffmpeg::detect`], with `version` asking each program found for its version (as
    /// [`Ffmpeg::version_of`] does, or through answers kept from an earlier run).
    pub fn detect_asking(version: &(dyn Fn(&Path) -> Option<String> + Sync)) -> Option<Ffmpeg> {
        let named = std::env::var_os(FFMPEG_VARIABLE).filter(|path| !path.is_empty());
        Ffmpeg::at_asking(named.map_or_else(|| PathBuf::from("ffmpeg"), PathBuf::from), version)
    }

    /// The ffmpeg at `ffmpeg` (a bare name is looked up on `PATH`), with the ffprobe beside
    /// it or else on `PATH`; `None` when either does not run.
    pub fn at(ffmpeg: impl Into<PathBuf>) -> Option<Ffmpeg> {
        Ffmpeg::at_asking(ffmpeg.into(), &Ffmpeg::version_of)
    }

    fn at_asking(
        ffmpeg: PathBuf,
        version: &(dyn Fn(&Path) -> Option<String> + Sync),
    ) -> Option<Ffmpeg> {
        let probe_name = PathBuf::from(format!("ffprobe{}", std::env::consts::EXE_SUFFIX));
        let beside = ffmpeg
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .map(|dir| dir.join(&probe_name));
        // Side by side: each start loads ffmpeg's many libraries, and every scan waits for both.
        let (ffmpeg, ffprobe) = std::thread::scope(|scope| {
            let ffprobe = scope.spawn(|| {
                (beside.into_iter().chain([probe_name]))
                    .filter_map(|ffprobe| locate(&ffprobe))
                    .find(|ffprobe| version(ffprobe).is_some())
            });
            let ffmpeg = locate(&ffmpeg).and_then(|path| Some((version(&path)?, path)));
            (ffmpeg, ffprobe.join().ok().flatten())
        });
        let (version, ffmpeg) = ffmpeg?;
        Some(Ffmpeg { ffmpeg, ffprobe: ffprobe?, version })
    }

    /// The first line of `program -version`, e.g. `ffmpeg version 5.1.9-0+deb12u1 …`, without
    /// the copyright notice that follows it; `None` when it does not run or says nothing.
    pub fn version_of(program: &Path) -> Option<String> {
        let output = Command::new(program)
            .arg("-version")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|output| output.status.success())?;
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text.lines().next()?;
        // Drop the copyright notice that follows the version on the same line.
        let line = line.split(" Copyright").next().unwrap_or(line).trim();
        (!line.is_empty()).then(|| line.to_string())
    }

    /// The first line of `ffmpeg -version`, e.g. `ffmpeg version 5.1.9-0+deb12u1 …`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The option that passes every decoded frame through untouched: `-fps_mode` replaced
    /// `-vsync` in ffmpeg 5.1, and the old name is on its way out.
    fn passthrough_option(&self) -> &'static str {
        let number = self.version.strip_prefix("ffmpeg version ").unwrap_or_default();
        let mut parts = number.split(|c: char| !c.is_ascii_digit()).map(str::parse::<u32>);
        match (parts.next(), parts.next()) {
            (Some(Ok(major)), Some(Ok(minor))) if (major, minor) < (5, 1) => "-vsync",
            // Git builds ("N-…") and anything newer.
            _ => "-fps_mode",
        }
    }
}

/// The program `program` names, as an absolute path: a bare name looked up on `PATH` as
/// running it would; `None` when there is no such file.
fn locate(program: &Path) -> Option<PathBuf> {
    let bare = program.components().count() == 1 && !program.has_root();
    let found = match bare {
        false => Some(program.to_path_buf()),
        true => std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| {
                let mut candidate = dir.join(program);
                if cfg!(windows) && candidate.extension().is_none() {
                    candidate.set_extension("exe");
                }
                candidate
            })
            .find(|candidate| is_executable(candidate)),
    };
    found.filter(|path| path.is_file()).and_then(|path| std::path::absolute(path).ok())
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Decodes the first video stream of the file whose bytes are `bytes` with `ffmpeg`, handing
/// every `step(fps)`-th frame to `on_frame` as RGB8, frames numbered from 0 in decode order.
/// ffprobe and ffmpeg read those bytes (`Input`), so what is decoded is what was digested.
///
/// The rate is the stream's `avg_frame_rate`, or `r_frame_rate` when that is unknown, as the
/// vPDQ reference takes it. `Err` means no frame could be decoded; a stream that breaks or
/// runs into a limit part way gives `Ok` with [`Decoded::incomplete`] set, after the frames
/// before the break. A picture size change part way is scaled to the first size by ffmpeg,
/// which keeps the frames aligned in the pipe.
pub fn decode_ffmpeg(
    ffmpeg: &Ffmpeg,
    bytes: &[u8],
    limits: &VideoLimits,
    step: Step<'_>,
    on_frame: &mut dyn FnMut(u64, &RgbImage),
) -> Result<Decoded, FileError> {
    decode_ffmpeg_as(ffmpeg, bytes, None, limits, step, on_frame)
}

/// [`decode_ffmpeg`], the bytes read by the demuxer `format` (ffmpeg's `-f`) when given rather
/// than the one ffmpeg's probing picks.
///
/// A video that decodes to far fewer frames than its container declares is
/// [`Decoded::incomplete`] ("decoded 1 of 210 frames…", see `short_of_declared`), as is one
/// ffmpeg complains about.
pub fn decode_ffmpeg_as(
    ffmpeg: &Ffmpeg,
    bytes: &[u8],
    format: Option<&str>,
    limits: &VideoLimits,
    step: Step<'_>,
    on_frame: &mut dyn FnMut(u64, &RgbImage),
) -> Result<Decoded, FileError> {
    decode_input(ffmpeg, &Input::new(bytes), format, limits, step, on_frame)
}

fn decode_input(
    ffmpeg: &Ffmpeg,
    input: &Input,
    format: Option<&str>,
    limits: &VideoLimits,
    step: Step<'_>,
    on_frame: &mut dyn FnMut(u64, &RgbImage),
) -> Result<Decoded, FileError> {
    let deadline = limits.deadline();
    let stream = probe(ffmpeg, input, format, limits, &deadline)?;
    let (width, height) = (stream.width, stream.height);
    let frame_bytes = frame_bytes(width, height, limits)?;
    let step = step(stream.fps).max(1);
    let last = limits.last_frame(stream.fps);
    // ffmpeg's frames count against the scan's memory as pictures do: it waits for room for
    // them, and may not take more.
    let decoder_bytes = decoder_bytes(width, height, &stream.pix_fmt);
    let _room = room_for_decoder(decoder_bytes + frame_bytes as u64, &limits.image, || {
        format!("a {width}x{height} {} video", stream.pix_fmt)
    })?;

    let mut command = Command::new(&ffmpeg.ffmpeg);
    limit_data(&mut command, FFMPEG_BASE_DATA + decoder_bytes);
    command.args(["-nostdin", "-v", "error", "-noautorotate"]);
    if limits.max_seconds.is_finite() {
        // A second beyond the limit, so that a longer video shows itself by a frame past the
        // last one wanted even when its timestamps do not start at zero.
        command.arg("-t").arg((limits.max_seconds + 1.0).to_string());
    }
    if let Some(format) = format {
        command.args(["-f", format]);
    }
    // One decoding thread: frame threading keeps frames in flight per thread (16 of them on
    // a large machine), beyond what the room above allows for.
    command.args(["-threads", "1", "-i", input.url()]);
    command.args(["-map", "0:v:0", ffmpeg.passthrough_option(), "passthrough"]);
    command.args(["-sws_flags", "area", "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"]);
    let mut child = Supervised::spawn(command, input, &deadline)?;

    let mut rgb = RgbImage::new(width, height);
    let mut frames = 0u64;
    let mut too_long = None;
    // Whether output was left unread: ffmpeg must then be killed, or it waits on the pipe.
    let mut left_unread = true;
    let broken = loop {
        match fill(&mut child.stdout, &mut rgb) {
            Ok(0) => {
                left_unread = false;
                break None;
            }
            Ok(n) if n < frame_bytes => {
                left_unread = false;
                break Some(FileError::corrupt("ffmpeg's output ended part way through a frame"));
            }
            Ok(_) => {}
            Err(e) => break Some(FileError::io(format!("reading ffmpeg's output: {e}"))),
        }
        if frames > last {
            too_long = Some(limits.too_long(frames));
            break None;
        }
        if frames.is_multiple_of(step) {
            on_frame(frames, &rgb);
        }
        frames += 1;
    };
    let outcome = child.finish(left_unread);
    let incomplete = if outcome.timed_out {
        Some(deadline.reason(frames))
    } else if too_long.is_some() {
        // ffmpeg was killed for it, so its exit says nothing about the file.
        too_long
    } else {
        // ffmpeg's own complaint says more than a short read does.
        outcome.error().map(FileError::corrupt).or(broken).or_else(|| {
            // `-t` cut it, with a rate too unclear to tell the last frame by its number.
            (stream.duration_s > limits.max_seconds + 1.0).then(|| limits.too_long(frames))
        })
    };
    // Frames lost without a word: a damaged index or stream that ffmpeg decodes a little of
    // and calls done.
    let incomplete = incomplete.or_else(|| {
        let wanted = |declared: u64| declared.min(last.saturating_add(1));
        match (stream.frames, stream.estimated_frames) {
            (Some(declared), _) => short_of_declared(frames, wanted(declared), true),
            (None, Some(estimate)) => short_of_declared(frames, wanted(estimate as u64), false),
            (None, None) => None,
        }
    });
    if frames == 0 {
        return Err(incomplete.unwrap_or_else(|| FileError::corrupt("ffmpeg decoded no frames")));
    }
    let info = VideoInfo { width, height, fps: stream.fps, duration_s: stream.duration_s, frames };
    Ok(Decoded { info, incomplete })
}

/// The size of one RGB24 frame, if a frame that size is within the limits.
fn frame_bytes(width: u32, height: u32, limits: &VideoLimits) -> Result<usize, FileError> {
    let too_large = || {
        let text = format!("{width}x{height} frames exceed the decoding limits");
        FileError::limit(Setting::DecodeBounds, text, "")
    };
    if width == 0 || height == 0 {
        return Err(FileError::corrupt("the video stream has no picture size"));
    }
    if width.max(height) > limits.image.max_dimension {
        return Err(too_large());
    }
    let bytes = u64::from(width) * u64::from(height) * 3;
    if bytes > limits.image.max_alloc {
        return Err(too_large());
    }
    usize::try_from(bytes).map_err(|_| too_large())
}

/// Fills `buffer` from `reader` as far as it goes, returning how much was read: less than its
/// length only at the end of the stream.
fn fill(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// What ffprobe says about the first video stream.
#[derive(Debug, PartialEq)]
struct Stream {
    width: u32,
    height: u32,
    /// How decoded frames are stored (`yuv420p`), empty when ffprobe does not say.
    pix_fmt: String,
    fps: f64,
    /// The file's duration (of its longest stream).
    duration_s: f64,
    /// The video stream's frame count, where the container declares one (MP4 and MOV count
    /// their samples, AVI its frames).
    frames: Option<u64>,
    /// The stream's own duration times its average frame rate, where the container gives
    /// both (an MPEG-TS does). Not the file's duration, which an audio track can outlast the
    /// video by, nor the nominal rate of a stream whose average is unknown (Theora and VP8
    /// encoders skip repeated frames, so their streams hold fewer than the nominal rate).
    estimated_frames: Option<f64>,
}

/// What ffprobe says about the first video stream of `input` (read by the demuxer `format`
/// when given), once its frames are known to be within `limits`.
fn probe(
    ffmpeg: &Ffmpeg,
    input: &Input,
    format: Option<&str>,
    limits: &VideoLimits,
    deadline: &Deadline,
) -> Result<Stream, FileError> {
    let _room = room_for_decoder(PROBE_DATA, &limits.image, || "probing a video".to_string())?;
    let mut command = Command::new(&ffmpeg.ffprobe);
    limit_data(&mut command, FFMPEG_BASE_DATA + PROBE_DATA);
    command.args(["-v", "error", "-select_streams", "v:0", "-show_entries"]);
    command.arg(
        "stream=codec_name,width,height,pix_fmt,avg_frame_rate,r_frame_rate,duration,nb_frames\
         :format=duration",
    );
    if let Some(format) = format {
        command.args(["-f", format]);
    }
    command.args(["-of", "json", input.url()]);
    let mut child = Supervised::spawn(command, input, deadline)?;
    let mut json = Vec::new();
    // The answer is a few hundred bytes; a megabyte means something is wrong.
    const ENOUGH: u64 = 1 << 20;
    let read = (&mut child.stdout).take(ENOUGH).read_to_end(&mut json);
    let outcome = child.finish(read.is_err() || json.len() as u64 >= ENOUGH);
    if outcome.timed_out {
        return Err(deadline.reason(0));
    }
    // A frame over the limits is refused for its size, which ffprobe gives even when it
    // could not decode the frame within its memory.
    let parsed = parse_probe(&json).map_err(FileError::corrupt);
    if let Ok(stream) = &parsed {
        limits.image.check_pixels(stream.width, stream.height)?;
    }
    if let Some(error) = outcome.error() {
        return Err(FileError::corrupt(format!("ffprobe: {error}")));
    }
    read.map_err(|e| FileError::io(format!("reading ffprobe's output: {e}")))?;
    parsed
}

fn parse_probe(json: &[u8]) -> Result<Stream, String> {
    #[derive(Deserialize)]
    struct Output {
        #[serde(default)]
        streams: Vec<ProbedStream>,
        format: Option<Format>,
    }
    #[derive(Deserialize)]
    struct ProbedStream {
        codec_name: Option<String>,
        width: Option<u32>,
        height: Option<u32>,
        pix_fmt: Option<String>,
        avg_frame_rate: Option<String>,
        r_frame_rate: Option<String>,
        duration: Option<String>,
        nb_frames: Option<String>,
    }
    #[derive(Deserialize)]
    struct Format {
        duration: Option<String>,
    }
    let output: Output =
        serde_json::from_slice(json).map_err(|e| format!("unreadable ffprobe output: {e}"))?;
    let stream = output.streams.into_iter().next().ok_or("no video stream")?;
    let (Some(width), Some(height)) = (stream.width, stream.height) else {
        let codec = stream.codec_name.as_deref().unwrap_or("unknown");
        return Err(format!("the video stream ({codec}) has no picture size"));
    };
    let average = stream.avg_frame_rate.as_deref().and_then(rational);
    let fps = average.or_else(|| stream.r_frame_rate.as_deref().and_then(rational)).unwrap_or(0.0);
    let seconds = |text: Option<String>| {
        text?.parse::<f64>().ok().filter(|duration| duration.is_finite() && *duration > 0.0)
    };
    let duration_s = seconds(output.format.and_then(|format| format.duration)).unwrap_or(0.0);
    let estimated_frames = seconds(stream.duration).zip(average).map(|(s, rate)| s * rate);
    let frames = stream.nb_frames.and_then(|n| n.parse::<u64>().ok()).filter(|&n| n > 0);
    let pix_fmt = stream.pix_fmt.unwrap_or_default();
    Ok(Stream { width, height, pix_fmt, fps, duration_s, frames, estimated_frames })
}

/// A positive frame rate written as ffmpeg does, `30000/1001`; `None` for `0/0`.
fn rational(text: &str) -> Option<f64> {
    let (numerator, denominator) = text.split_once('/')?;
    let rate = numerator.trim().parse::<f64>().ok()? / denominator.trim().parse::<f64>().ok()?;
    (rate.is_finite() && rate > 0.0).then_some(rate)
}

/// A running child whose stdout is read by the caller, whose stderr is drained on a thread,
/// and which a watchdog kills when the deadline passes. Dropping it kills and reaps the
/// child, so an early return or a panic in the caller leaves no process behind.
struct Supervised {
    child: Arc<Mutex<Child>>,
    stdout: ChildStdout,
    stderr: Option<JoinHandle<Vec<u8>>>,
    watchdog: Option<(Sender<()>, JoinHandle<bool>)>,
}

/// How a supervised child ended.
struct Outcome {
    /// `None` when it could not be waited for.
    status: Option<ExitStatus>,
    /// The start of what it wrote to stderr.
    stderr: Vec<u8>,
    /// Whether the watchdog killed it.
    timed_out: bool,
}

impl Outcome {
    /// What went wrong, if anything: the first line of stderr that says something, else a
    /// failed exit status.
    fn error(&self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.stderr);
        if let Some(line) = text.lines().map(str::trim).find(|line| !line.is_empty()) {
            return Some(without_input(&without_address(line)));
        }
        match self.status {
            Some(status) if status.success() => None,
            Some(status) => Some(format!("exited with {status}")),
            None => Some("could not be waited for".to_string()),
        }
    }
}

/// `line` without the context address ffmpeg puts in its prefixes (`[vp9 @ 0x55d0…]`), which
/// differs on every run and would make identical errors look different.
fn without_address(line: &str) -> String {
    if let (Some(at), Some(end)) = (line.find(" @ 0x"), line.find(']')) {
        if line.starts_with('[') && at < end {
            return format!("{}{}", &line[..at], &line[end..]);
        }
    }
    line.to_string()
}

/// `line` without the input's name in front (`file:/proc/self/fd/0: Invalid data…`), which
/// says nothing about the file the user knows.
fn without_input(line: &str) -> String {
    [MEMORY_URL, "pipe:0"]
        .iter()
        .find_map(|url| line.strip_prefix(url)?.strip_prefix(": "))
        .unwrap_or(line)
        .to_string()
}

impl Supervised {
    fn spawn(
        mut command: Command,
        input: &Input,
        deadline: &Deadline,
    ) -> Result<Supervised, FileError> {
        let program = Path::new(command.get_program()).display().to_string();
        let cannot_run = |e: io::Error| FileError::io(format!("cannot run {program}: {e}"));
        let mut child = command
            .stdin(input.stdin().map_err(cannot_run)?)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(cannot_run)?;
        input.feed(child.stdin.take());
        let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
            unreachable!("both pipes were requested");
        };
        let child = Arc::new(Mutex::new(child));
        // Without a reader the child blocks once the pipe is full and never finishes.
        let stderr = thread::spawn(move || {
            let mut kept = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut chunk) {
                let room = STDERR_KEPT.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
            kept
        });
        let (stop, stopped) = mpsc::channel::<()>();
        let watched = Arc::clone(&child);
        let remaining = deadline.remaining();
        let watchdog = thread::spawn(move || {
            let timed_out = stopped.recv_timeout(remaining) == Err(RecvTimeoutError::Timeout);
            if timed_out {
                let _ = lock(&watched).kill();
            }
            timed_out
        });
        Ok(Supervised { child, stdout, stderr: Some(stderr), watchdog: Some((stop, watchdog)) })
    }

    /// Waits for the child to exit and says how it ended. `kill` when its output is no longer
    /// wanted; otherwise it must have been read to the end, or the child could block on a full
    /// pipe until the deadline.
    fn finish(mut self, kill: bool) -> Outcome {
        self.end(kill)
    }

    fn end(&mut self, kill: bool) -> Outcome {
        if kill {
            let _ = lock(&self.child).kill();
        }
        // The watchdog stays on while waiting, so a child that closes its output but never
        // exits is still killed in time; waiting in short slices leaves it the lock.
        let status = loop {
            match lock(&self.child).try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) => thread::sleep(Duration::from_millis(5)),
                Err(_) => break None,
            }
        };
        let timed_out = self.watchdog.take().is_some_and(|(stop, watchdog)| {
            // Sending fails only if the watchdog has already given up waiting.
            let _ = stop.send(());
            watchdog.join().unwrap_or(true)
        });
        let stderr = self.stderr.take().and_then(|thread| thread.join().ok()).unwrap_or_default();
        Outcome { status, stderr, timed_out }
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if self.watchdog.is_some() {
            self.end(true);
        }
    }
}

fn lock(child: &Mutex<Child>) -> std::sync::MutexGuard<'_, Child> {
    child.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_output_gives_size_rate_and_duration() {
        let json = br#"{"programs": [], "streams": [{"codec_name": "h264", "width": 480,
            "height": 720, "r_frame_rate": "30/1", "avg_frame_rate": "30000/1001"}],
            "format": {"duration": "6.891000"}}"#;
        let stream = parse_probe(json).unwrap();
        assert_eq!((stream.width, stream.height, stream.duration_s), (480, 720, 6.891));
        assert_eq!((stream.frames, stream.estimated_frames), (None, None));
        assert!((stream.fps - 29.97).abs() < 0.001, "{}", stream.fps);
        let counted = br#"{"streams": [{"width": 2, "height": 2, "avg_frame_rate": "30/1",
            "duration": "7.000000", "nb_frames": "210"}]}"#;
        let stream = parse_probe(counted).unwrap();
        assert_eq!((stream.frames, stream.estimated_frames), (Some(210), Some(210.0)));
        let unknown_average = br#"{"streams": [{"width": 2, "height": 2,
            "avg_frame_rate": "0/0", "r_frame_rate": "25/1"}], "format": {}}"#;
        let stream = parse_probe(unknown_average).unwrap();
        assert_eq!((stream.fps, stream.duration_s), (25.0, 0.0));
        assert_eq!(parse_probe(br#"{"streams": []}"#), Err("no video stream".to_string()));
        assert!(parse_probe(br#"{"streams": [{"codec_name": "vp9"}]}"#)
            .unwrap_err()
            .contains("vp9"));
        assert!(parse_probe(b"not json").is_err());
    }

    #[test]
    fn rates_are_positive_rationals() {
        assert_eq!(rational("30/1"), Some(30.0));
        assert_eq!(rational("0/0"), None);
        assert_eq!(rational("1/0"), None);
        assert_eq!(rational("30"), None);
    }

    #[test]
    #[ignore = "needs ffmpeg"]
    fn a_pipe_serves_where_there_is_no_memory_file() {
        let ffmpeg = Ffmpeg::detect().expect("ffmpeg and ffprobe");
        let path =
            concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/video/pattern-sd-grey-bar-vp9.webm");
        let bytes = std::fs::read(path).unwrap();
        let limits = VideoLimits::default();
        let mut frames = [Vec::new(), Vec::new()];
        let inputs = [Input::new(&bytes), Input::Pipe(Arc::from(&bytes[..]))];
        #[cfg(target_os = "linux")]
        assert!(matches!(inputs[0], Input::Memory(_)), "Linux has in-memory files");
        for (input, frames) in inputs.iter().zip(&mut frames) {
            let decoded = decode_input(&ffmpeg, input, None, &limits, &|_| 1, &mut |n, rgb| {
                frames.push((n, rgb.as_raw().iter().map(|&b| u64::from(b)).sum::<u64>()));
            })
            .unwrap();
            assert_eq!((decoded.info.frames, decoded.incomplete), (120, None));
        }
        assert_eq!(frames[0], frames[1]);
    }

    #[test]
    fn error_lines_lose_the_input_name() {
        assert_eq!(
            without_input("file:/proc/self/fd/0: Invalid data found when processing input"),
            "Invalid data found when processing input"
        );
        assert_eq!(without_input("pipe:0: End of file"), "End of file");
        assert_eq!(without_input("[vp9] corrupt frame"), "[vp9] corrupt frame");
    }

    #[test]
    fn error_lines_lose_their_addresses() {
        assert_eq!(
            without_address("[matroska,webm @ 0x55d0c1a2b3c0] EBML header parsing failed"),
            "[matroska,webm] EBML header parsing failed"
        );
        assert_eq!(without_address("file:x: Invalid data"), "file:x: Invalid data");
    }

    #[test]
    fn old_ffmpeg_gets_the_old_passthrough_option() {
        let with = |version: &str| Ffmpeg {
            ffmpeg: PathBuf::new(),
            ffprobe: PathBuf::new(),
            version: version.to_string(),
        };
        assert_eq!(with("ffmpeg version 4.4.2-0ubuntu0.22.04.1").passthrough_option(), "-vsync");
        assert_eq!(with("ffmpeg version 5.1.9-0+deb12u1").passthrough_option(), "-fps_mode");
        assert_eq!(with("ffmpeg version N-113000-g1234").passthrough_option(), "-fps_mode");
    }

    #[test]
    fn frames_beyond_the_limits_are_refused() {
        let limits = VideoLimits::default();
        assert_eq!(frame_bytes(4, 2, &limits), Ok(24));
        assert!(frame_bytes(0, 2, &limits).is_err());
        assert!(frame_bytes(70_000, 2, &limits).is_err());
        assert!(frame_bytes(30_000, 30_000, &limits).is_err());
    }
}
