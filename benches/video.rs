//! Single-threaded speed of H.264 decoding (`mediascreen::decode::video::decode_h264_mp4`)
//! on the 720p High-profile sample video.
//!
//! Four figures, each the fastest of 3 passes (other jobs on a shared machine only ever slow
//! a pass down): decoding alone with no frame wanted, decoding plus RGB conversion of every
//! frame, that plus a PDQ hash of every frame at native size (vPDQ at `--vpdq-interval 0`),
//! and vPDQ at its default of one hash a second, in frames hashed and seconds of video
//! screened per second.
//!
//! Run with `cargo bench --bench video`; pin it to one core with `taskset -c 0` for a
//! one-core figure (the decoder itself is single-threaded).

use std::path::Path;
use std::time::{Duration, Instant};

use mediascreen::decode::video::{decode_h264_mp4, VideoLimits};
use mediascreen::hash::pdq::PdqFeatures;
use mediascreen::hash::vpdq;

const VIDEO: &str = "fixtures/conformance/videos/doorknob-hd-no-bar.mp4";
const RUNS: usize = 3;

fn fastest(mut pass: impl FnMut() -> u64) -> (Duration, u64) {
    (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let frames = pass();
            (started.elapsed(), frames)
        })
        .min()
        .expect("RUNS is not zero")
}

fn report(what: &str, (elapsed, frames): (Duration, u64)) {
    println!(
        "{what:<28} {frames} frames in {elapsed:.2?}: {:.0} frames/s",
        frames as f64 / elapsed.as_secs_f64()
    );
}

fn main() {
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(VIDEO))
        .expect("sample video present");
    // A step this large converts frame 0 only: decoding alone.
    let decode = |step: u64, on_frame: &mut dyn FnMut(u64, &image::RgbImage)| {
        let decoded = decode_h264_mp4(&bytes, &VideoLimits::default(), &|_| step, on_frame)
            .expect("sample decodes");
        assert_eq!(decoded.incomplete, None);
        decoded.info
    };
    let info = decode(u64::MAX, &mut |_, _| {});
    println!(
        "{VIDEO}: {}x{}, {} frames, {:.3} fps",
        info.width, info.height, info.frames, info.fps
    );

    report("decode only", fastest(|| decode(u64::MAX, &mut |_, _| {}).frames));
    report("decode + RGB", fastest(|| decode(1, &mut |_, _| {}).frames));
    report(
        "decode + RGB + PDQ",
        fastest(|| {
            decode(1, &mut |_, rgb| {
                std::hint::black_box(PdqFeatures::from_image(rgb).hash());
            })
            .frames
        }),
    );
    let step = vpdq::frame_step(1.0, info.fps);
    let mut hashed = 0;
    let (elapsed, frames) = fastest(|| {
        hashed = 0;
        decode(step, &mut |_, rgb| {
            std::hint::black_box(PdqFeatures::from_image(rgb).hash());
            hashed += 1;
        })
        .frames
    });
    report("vPDQ at 1 hash/s", (elapsed, frames));
    let seconds = frames as f64 / info.fps;
    println!(
        "{:<28} {hashed} frames hashed: {:.1} s of video screened per second",
        "",
        seconds / elapsed.as_secs_f64()
    );
}
