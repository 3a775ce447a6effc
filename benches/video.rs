//! Single-threaded speed of H.264 decoding (`mediascreen::decode::video::decode_h264_mp4`)
//! on the 720p High-profile sample video, for issue 19's goal: vPDQ at its default interval
//! at least 10x real time per core.
//!
//! Three figures, each the fastest of 3 passes in CPU time of the thread running it (other
//! jobs on a shared machine stretch wall time, and the decoder is single-threaded): every
//! frame decoded and converted to RGB, that plus a PDQ hash of every frame at native size
//! (vPDQ at `--vpdq-interval 0`), and vPDQ at its default of one hash a second, which leaves
//! out the frames neither hashed nor referred to. The last is given in seconds of video
//! screened per CPU second, against the goal.
//!
//! Run with `cargo bench --bench video` (or `scripts/bench.sh video`).

use std::path::Path;
use std::time::{Duration, Instant};

use mediascreen::decode::video::{decode_h264_mp4, VideoLimits};
use mediascreen::hash::pdq::PdqFeatures;
use mediascreen::hash::vpdq;

const VIDEO: &str = "fixtures/conformance/videos/doorknob-hd-no-bar.mp4";
const RUNS: usize = 3;
/// Issue 19's goal for vPDQ at the default interval, in times real time per core.
const GOAL: f64 = 10.0;

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec for the call to fill in.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec.unsigned_abs(), t.tv_nsec.unsigned_abs().try_into().unwrap_or(0))
}

/// The least CPU time of `RUNS` passes, that pass's wall time, and the frames it counted.
fn fastest(mut pass: impl FnMut() -> u64) -> (Duration, Duration, u64) {
    (0..RUNS)
        .map(|_| {
            let (cpu, wall) = (thread_cpu(), Instant::now());
            let frames = pass();
            (thread_cpu() - cpu, wall.elapsed(), frames)
        })
        .min()
        .expect("RUNS is not zero")
}

/// Prints a pass's figures; returns its CPU seconds.
fn report(what: &str, (cpu, wall, frames): (Duration, Duration, u64)) -> f64 {
    println!(
        "{what:<30} {frames} frames in {cpu:.2?} CPU ({wall:.2?} wall): {:.0} frames/s per core",
        frames as f64 / cpu.as_secs_f64()
    );
    cpu.as_secs_f64()
}

fn main() {
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(VIDEO))
        .expect("sample video present");
    let decode = |step: u64, on_frame: &mut dyn FnMut(u64, &image::RgbImage)| {
        let decoded = decode_h264_mp4(&bytes, &VideoLimits::default(), &|_| step, on_frame)
            .expect("sample decodes");
        assert_eq!(decoded.incomplete, None);
        decoded.info
    };
    let info = decode(1, &mut |_, _| {});
    println!(
        "{VIDEO}: {}x{}, {} frames, {:.3} fps",
        info.width, info.height, info.frames, info.fps
    );

    report("decode + RGB, every frame", fastest(|| decode(1, &mut |_, _| {}).frames));
    let pdq = |_: u64, rgb: &image::RgbImage| {
        std::hint::black_box(PdqFeatures::from_image(rgb).hash());
    };
    report(
        "decode + RGB + PDQ, every frame",
        fastest(|| decode(1, &mut |n, rgb| pdq(n, rgb)).frames),
    );
    let step = vpdq::frame_step(1.0, info.fps);
    let mut hashed = 0;
    let cpu = report(
        "vPDQ at 1 hash/s (default)",
        fastest(|| {
            hashed = 0;
            decode(step, &mut |n, rgb| {
                pdq(n, rgb);
                hashed += 1;
            })
            .frames
        }),
    );
    let speed = info.frames as f64 / info.fps / cpu;
    println!(
        "{:<30} {hashed} frames hashed: {speed:.1}x real time per core (goal {GOAL:.0}x){}",
        "vPDQ at 1 hash/s:",
        if speed >= GOAL { "" } else { ": goal missed" }
    );
}
