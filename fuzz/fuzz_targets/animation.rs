//! Animated GIF, WebP and PNG (APNG) decoded as video by [`decode_animation`], and a TIFF's
//! pages by [`decode_pages`], with the limits short.
#![no_main]

use std::time::Duration;

use image::ImageFormat;
use libfuzzer_sys::fuzz_target;
use mediascreen::decode::video::{decode_animation, decode_pages, is_animated, VideoLimits};
use mediascreen::decode::DecodeLimits;
use mediascreen::sniff::sniff;

fuzz_target!(
    init: {
        // libfuzzer-sys aborts on every panic, even one the library catches; the decoder
        // turns a dependency's panic into an error, as a scan needs. Only a panic that escapes
        // (the harness's own catch_unwind then aborts) or a real abort is a finding.
        std::panic::set_hook(Box::new(|info| eprintln!("panic (caught unless fatal): {info}")));
    },
    |data: &[u8]| {
        let format = match sniff(data).image_format {
            Some(
                format @ (ImageFormat::Gif | ImageFormat::WebP | ImageFormat::Png | ImageFormat::Tiff),
            ) => format,
            _ => return,
        };
        let _ = is_animated(data, format);
        let limits = VideoLimits {
            max_seconds: 2.0,
            timeout: Duration::from_secs(2),
            image: DecodeLimits { max_dimension: 4096, max_alloc: 64 << 20, ..DecodeLimits::default() },
        };
        // Every frame converted, as a step of 1 (the most work a caller can ask for).
        if format == ImageFormat::Tiff {
            let _ = decode_pages(data, &limits, &mut |_, _| {});
        } else {
            let _ = decode_animation(data, format, &limits, &|_| 1, &mut |_, _| {});
        }
    }
);
