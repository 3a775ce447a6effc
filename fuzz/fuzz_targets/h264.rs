//! MP4/MOV demuxing and in-process H.264 decoding by [`decode_h264_mp4`], with the limits
//! short.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use mediascreen::decode::video::{decode_h264_mp4, VideoLimits};
use mediascreen::decode::DecodeLimits;

fuzz_target!(
    init: {
        // libfuzzer-sys aborts on every panic, even one the library catches; the decoder
        // turns a dependency's panic into an error, as a scan needs. Only a panic that escapes
        // (the harness's own catch_unwind then aborts) or a real abort is a finding.
        std::panic::set_hook(Box::new(|info| eprintln!("panic (caught unless fatal): {info}")));
    },
    |data: &[u8]| {
        let limits = VideoLimits {
            max_seconds: 2.0,
            timeout: Duration::from_secs(2),
            image: DecodeLimits { max_dimension: 4096, max_alloc: 64 << 20, ..DecodeLimits::default() },
        };
        // Every frame, then every other: a step over 1 leaves the frames neither sampled nor
        // referred to undecoded, a path of its own through the container and the decoder.
        for step in [1, 2] {
            let _ = decode_h264_mp4(data, &limits, &|_| step, &mut |_, _| {});
        }
    }
);
