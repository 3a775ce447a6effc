//! Single-threaded speed of H.264 decoding (`mediascreen::decode::video::decode_h264_mp4`)
//! on the 720p High-profile sample video.
//!
//! Three figures, each the fastest of 3 passes (other jobs on a shared machine only ever slow
//! a pass down): decoding alone with no frame wanted, decoding plus RGB conversion of every
//! frame, and that plus a PDQ hash of every frame at native size, as vPDQ does.
//!
//! Run with `cargo bench --bench video`; pin it to one core with `taskset -c 0` for a
//! one-core figure (the decoder itself is single-threaded).

use std::path::Path;
use std::time::{Duration, Instant};

use mediascreen::decode::video::{decode_h264_mp4, VideoLimits};
use mediascreen::hash::pdq::PdqFeatures;

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
}
