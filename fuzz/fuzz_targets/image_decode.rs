//! A still image as the scan sees it: typed by [`sniff`], decoded by [`decode_rgb`] under
//! small [`DecodeLimits`], and checked for truncation by [`jpeg_truncation`].
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediascreen::decode::{decode_rgb, jpeg_truncation, DecodeLimits, Decoders};
use mediascreen::sniff::sniff;

fuzz_target!(
    init: {
        // libfuzzer-sys aborts on every panic, even one the library catches; `decode_rgb`
        // turns a decoder's panic into an error, as a scan needs. Only a panic that escapes
        // (the harness's own catch_unwind then aborts) or a real abort is a finding.
        std::panic::set_hook(Box::new(|info| eprintln!("panic (caught unless fatal): {info}")));
    },
    |data: &[u8]| {
        let sniffed = sniff(data);
        let _ = sniffed.is_visual_media();
        // Every byte string, not only JPEGs: the scan calls it on whatever sniffed as JPEG,
        // and it must not trust the marker lengths.
        let _ = jpeg_truncation(data);
        if let Some(format) = sniffed.image_format {
            // Small enough that several decodes at the limit fit in libFuzzer's RSS cap.
            let limits = DecodeLimits { max_dimension: 8192, max_alloc: 128 << 20, ..DecodeLimits::default() };
            // The built-in decoders, which ship in the binary: the system's C libraries are
            // not instrumented, so the fuzzer could not steer into them anyway.
            let _ = decode_rgb(data, format, limits, Decoders::BuiltinOnly);
        }
    }
);
