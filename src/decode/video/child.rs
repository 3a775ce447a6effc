//! What an ffmpeg or ffprobe child is given: the bytes it reads ([`Input`]) and the memory it
//! may take ([`decoder_bytes`], [`limit_data`]).
//!
//! Owns handing a child the file's bytes as mediascreen read and digested them, never its
//! path, and sizing and enforcing a child's share of the scan's memory budget
//! (docs/memory.md). Must not start, supervise or read from children: that is
//! [`super::ffmpeg`]'s.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::thread;

/// The bytes ffprobe and ffmpeg read: the file as mediascreen read it once, for its digests
/// too. Its path is never handed over: the file there may have been replaced since (a swap
/// that would give one file's digests and another's frames).
pub(super) enum Input {
    /// A sealed in-memory file holding the bytes (Linux): each child gets it as its standard
    /// input and opens it afresh through `/proc/self/fd/0`, so that it can seek (an MP4's
    /// index may sit at its end). Sealed, nothing can change the bytes, a child included.
    #[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
    Memory(File),
    /// The bytes, written to each child's standard input: where there are no in-memory
    /// files. A pipe cannot seek, so an MP4 with its index at the end fails (an error, never
    /// clean).
    Pipe(Arc<[u8]>),
}

impl Input {
    /// One copy of `bytes` for the children, held while they run.
    pub(super) fn new(bytes: &[u8]) -> Input {
        // Without /proc (some containers) a child could not open its standard input afresh.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if Path::new("/proc/self/fd").is_dir() {
            if let Ok(file) = sealed_memory_file(bytes) {
                return Input::Memory(file);
            }
        }
        Input::Pipe(Arc::from(bytes))
    }

    /// The input as ffmpeg and ffprobe name it.
    pub(super) fn url(&self) -> &'static str {
        match self {
            Input::Memory(_) => MEMORY_URL,
            Input::Pipe(_) => "pipe:0",
        }
    }

    /// A child's standard input.
    pub(super) fn stdin(&self) -> io::Result<Stdio> {
        Ok(match self {
            Input::Memory(file) => Stdio::from(file.try_clone()?),
            Input::Pipe(_) => Stdio::piped(),
        })
    }

    /// Writes the bytes into a spawned child's standard input when it is a pipe, on a thread
    /// that ends when they are written or the child stops reading (exits or is killed).
    pub(super) fn feed(&self, stdin: Option<ChildStdin>) {
        if let (Input::Pipe(bytes), Some(mut stdin)) = (self, stdin) {
            let bytes = Arc::clone(bytes);
            thread::spawn(move || {
                let _ = stdin.write_all(&bytes);
            });
        }
    }
}

/// How a child opens [`Input::Memory`]: its standard input, reopened (not read from where
/// it is), which is what makes it seekable on its own.
pub(super) const MEMORY_URL: &str = "file:/proc/self/fd/0";

/// A memfd holding `bytes`, sealed against any change.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn sealed_memory_file(bytes: &[u8]) -> io::Result<File> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // SAFETY: a NUL-terminated name and flags `memfd_create` knows; it returns a new
    // descriptor or -1.
    let fd = unsafe { libc::memfd_create(c"mediascreen-video".as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor that nothing else owns.
    let mut file = unsafe { File::from_raw_fd(fd) };
    file.write_all(bytes)?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: `fcntl` on a descriptor `file` owns, with an integer argument.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(file)
}

/// The data (heap and other private memory) an ffmpeg or ffprobe process takes before it
/// decodes anything: its libraries' state, its threads' stacks, its buffers for input.
pub(super) const FFMPEG_BASE_DATA: u64 = 128 << 20;

/// The data ffprobe may take besides [`FFMPEG_BASE_DATA`]: it decodes a frame or two to find
/// out what the stream is, and a frame is not known to be within the limits before then.
/// Enough for a frame of 8K video; a larger one fails to decode and is refused by its size.
pub(super) const PROBE_DATA: u64 = 144_000_000;

/// What ffmpeg holds to decode `width` x `height` frames stored as `pix_fmt`, past its
/// [`FFMPEG_BASE_DATA`]: up to 24 decoded frames (reference frames, the frames in flight
/// between the decoder, the filters and the output; 4K H.264 took 34 bytes a pixel, or
/// 23 frames of 1.5 bytes a pixel), and the RGB frames being converted and written.
pub(super) fn decoder_bytes(width: u32, height: u32, pix_fmt: &str) -> u64 {
    let pixels = u64::from(width) * u64::from(height);
    let frame = (pixels as f64 * frame_bytes_per_pixel(pix_fmt)).ceil() as u64;
    24 * frame + 8 * pixels
}

/// Bytes a pixel of one decoded frame stored as `pix_fmt` (ffmpeg's names: `yuv420p`,
/// `yuv422p10le`, `nv12`, `rgb48be`, `gbrapf32le`…): the samples a pixel has after chroma
/// subsampling, times the bytes a sample takes. A name not recognised counts as four 16-bit
/// samples, the most a common format has.
fn frame_bytes_per_pixel(pix_fmt: &str) -> f64 {
    let name = pix_fmt.trim_end_matches("le").trim_end_matches("be");
    let has = |parts: &[&str]| parts.iter().any(|part| name.contains(part));
    let starts = |parts: &[&str]| parts.iter().any(|part| name.starts_with(part));
    // The semi-planar and packed YUV formats are named by their layout, not their depth.
    let (samples, depth) = match name {
        "nv12" | "nv21" => (1.5, 1.0),
        "nv16" | "yuyv422" | "uyvy422" | "yvyu422" => (2.0, 1.0),
        "nv24" | "nv42" => (3.0, 1.0),
        _ if starts(&["p01"]) => (1.5, 2.0),
        _ if starts(&["p21", "y21", "nv20"]) => (2.0, 2.0),
        _ if starts(&["p41"]) => (3.0, 2.0),
        _ => {
            let samples = if has(&["420", "411", "410"]) {
                1.5
            } else if has(&["422", "440"]) || starts(&["ya"]) {
                2.0
            } else if starts(&["gray", "mono", "pal8"]) {
                1.0
            } else if has(&["444", "rgb", "bgr", "gbr", "xyz", "vuy", "ayuv"]) {
                // With alpha, or a padding byte (`rgb0`, `0bgr`).
                if has(&["a", "0rgb", "0bgr", "rgb0", "bgr0"]) {
                    4.0
                } else {
                    3.0
                }
            } else {
                return 8.0;
            };
            let bits = name.rsplit(|c: char| !c.is_ascii_digit()).next().unwrap_or_default();
            let depth = if has(&["f32"]) {
                4.0
            } else if has(&["f16"]) || matches!(bits, "9" | "10" | "12" | "14" | "16" | "48" | "64")
            {
                2.0
            } else {
                1.0
            };
            (samples, depth)
        }
    };
    samples * depth
}

/// Has `command`'s process refused data (heap and other private writable memory) past
/// `bytes`: whatever the file makes its decoder allocate, it then fails instead of taking
/// the machine's memory.
pub(super) fn limit_data(command: &mut Command, bytes: u64) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let limit =
            libc::rlimit { rlim_cur: bytes as libc::rlim_t, rlim_max: bytes as libc::rlim_t };
        // SAFETY: runs in the child between fork and exec, where only async-signal-safe
        // functions may be called: setrlimit is one, and nothing is allocated.
        unsafe {
            command.pre_exec(move || {
                if libc::setrlimit(libc::RLIMIT_DATA, &limit) == 0 {
                    Ok(())
                } else {
                    Err(io::Error::last_os_error())
                }
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (command, bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_take_the_bytes_their_pixel_format_stores() {
        let cases = [
            ("yuv420p", 1.5),
            ("yuvj420p", 1.5),
            ("yuv420p10le", 3.0),
            ("nv12", 1.5),
            ("p010le", 3.0),
            ("yuv422p10le", 4.0),
            ("yuyv422", 2.0),
            ("yuv444p", 3.0),
            ("yuv444p12be", 6.0),
            ("yuva444p", 4.0),
            ("gbrp", 3.0),
            ("gbrapf32le", 16.0),
            ("rgb24", 3.0),
            ("bgr0", 4.0),
            ("rgba64be", 8.0),
            ("rgb48le", 6.0),
            ("gray", 1.0),
            ("gray16le", 2.0),
            ("pal8", 1.0),
            ("", 8.0),
            ("something new", 8.0),
        ];
        for (pix_fmt, bytes) in cases {
            assert_eq!(frame_bytes_per_pixel(pix_fmt), bytes, "{pix_fmt}");
        }
        // 4K H.264 took 34 bytes a pixel in ffmpeg 5.1, single-threaded.
        assert_eq!(decoder_bytes(3840, 2160, "yuv420p") / (3840 * 2160), 44);
    }
}
