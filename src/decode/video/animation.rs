//! Animated GIF and WebP decoded as video, so that their frames can be hashed with vPDQ.
//!
//! Owns telling an animation from a still picture, the frame rate an animation plays at, and
//! handing over its composited full-canvas frames as RGB8, numbered and limited like any other
//! video's. Must not hash; the first frame as a still image is the image decoder's business.

use std::io::{Cursor, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::codecs::gif::GifDecoder;
use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, Frames, ImageDecoder, ImageFormat, RgbImage, RgbaImage};

use super::{Decoded, Step, VideoInfo, VideoLimits};
use crate::decode::{panic_reason, room_for_decoder, DecodeLimits};

/// GIF delays are in hundredths of a second; browsers and ffmpeg play those under this as
/// [`GIF_DEFAULT_DELAY`], since many GIFs say 0 and mean "as the viewer likes".
const GIF_MIN_DELAY: u16 = 2;
const GIF_DEFAULT_DELAY: u16 = 10;

/// Returns true if `bytes`, sniffed as `format`, are an animation: a GIF of more than one
/// frame, or a WebP flagged as animated. Cheap: no picture is decoded.
pub fn is_animated(bytes: &[u8], format: ImageFormat) -> bool {
    let run = || match format {
        ImageFormat::Gif => gif_frames(Cursor::new(bytes), Some(2)).is_ok_and(|gif| gif.count > 1),
        ImageFormat::WebP => image_webp::WebPDecoder::new(Cursor::new(bytes))
            .is_ok_and(|decoder| decoder.is_animated()),
        _ => false,
    };
    catch_unwind(run).unwrap_or(false)
}

/// Decodes the animated GIF or WebP in `bytes`, handing every `step(fps)`-th frame to
/// `on_frame` as RGB8 (alpha dropped, as for still images), frames numbered from 0.
///
/// The rate is the frame count over the total play time. `Err` means no frame could be
/// decoded; a file that breaks or runs into a limit part way gives `Ok` with
/// [`Decoded::incomplete`] set, after the frames before the break.
pub fn decode_animation(
    bytes: &[u8],
    format: ImageFormat,
    limits: &VideoLimits,
    step: Step<'_>,
    on_frame: &mut dyn FnMut(u64, &RgbImage),
) -> Result<Decoded, String> {
    let deadline = limits.deadline();
    // A hostile file must cost one error, not the whole scan, even if a dependency panics.
    let (animation, (width, height)) =
        catch_unwind(AssertUnwindSafe(|| open(bytes, format, limits)))
            .unwrap_or_else(|panic| Err(panic_reason(&*panic)))?;
    // Held until the last frame is done: the canvas is as big as a picture of its size, and
    // an animation waits for room beside the others as a picture does.
    let _room = room_for_decoder(animation.bytes, &limits.image, || {
        format!("a {width}x{height} animation")
    })?;
    let duration_s = animation.duration_ms as f64 / 1000.0;
    let fps = if duration_s > 0.0 { animation.frames as f64 / duration_s } else { 0.0 };
    let step = step(fps).max(1);
    let last = limits.last_frame(fps);

    let mut frames = 0u64;
    let decode = || -> Result<(), String> {
        for frame in animation.decoder {
            if frames > last {
                return Err(limits.too_long(frames));
            }
            deadline.check(frames)?;
            let frame = frame.map_err(|e| format!("frame {frames}: {e}"))?;
            if frames.is_multiple_of(step) {
                on_frame(frames, &rgba_into_rgb(frame.into_buffer()));
            }
            frames += 1;
        }
        Ok(())
    };
    let incomplete = catch_unwind(AssertUnwindSafe(decode))
        .unwrap_or_else(|panic| Err(panic_reason(&*panic)))
        .err();
    if frames == 0 {
        return Err(incomplete.unwrap_or_else(|| "the animation has no frames".to_string()));
    }
    let info = VideoInfo { width, height, fps, duration_s, frames };
    Ok(Decoded { info, incomplete })
}

/// `rgba` as RGB8 in its own buffer, alpha dropped: a second buffer the size of a canvas
/// would be a third of the memory the animation takes.
fn rgba_into_rgb(rgba: RgbaImage) -> RgbImage {
    let (width, height) = rgba.dimensions();
    let mut raw = rgba.into_raw();
    for pixel in 0..raw.len() / 4 {
        raw.copy_within(pixel * 4..pixel * 4 + 3, pixel * 3);
    }
    raw.truncate(raw.len() / 4 * 3);
    RgbImage::from_raw(width, height, raw).expect("three bytes a pixel")
}

/// An animation ready to decode, with what its headers say about its length and about what
/// decoding it takes.
struct Animation<'a> {
    decoder: Frames<'a>,
    frames: u64,
    duration_ms: u64,
    /// The bytes its decoder holds at once: the canvas, the frame being drawn on it and the
    /// frame handed over, four bytes a pixel each.
    bytes: u64,
}

fn open<'a>(
    bytes: &'a [u8],
    format: ImageFormat,
    limits: &VideoLimits,
) -> Result<(Animation<'a>, (u32, u32)), String> {
    let (decoder, frames, duration_ms, dimensions, largest_frame) = match format {
        ImageFormat::Gif => {
            let gif = check_gif_frames(Cursor::new(bytes), &limits.image, None)?;
            let mut decoder = GifDecoder::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
            let dimensions = check_canvas(&mut decoder, limits)?;
            (decoder.into_frames(), gif.count, gif.duration_ms, dimensions, gif.largest)
        }
        ImageFormat::WebP => {
            let mut decoder = WebPDecoder::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
            let dimensions = check_canvas(&mut decoder, limits)?;
            // `WebPDecoder` derefs to nothing, so the counts come from a second, header-only
            // parse. A WebP frame lies within the canvas.
            let header =
                image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
            let frames = u64::from(header.num_frames()).max(1);
            let canvas = u64::from(dimensions.0) * u64::from(dimensions.1);
            (decoder.into_frames(), frames, header.loop_duration(), dimensions, canvas)
        }
        other => return Err(format!("{other:?} is not an animation format")),
    };
    let canvas = u64::from(dimensions.0) * u64::from(dimensions.1);
    let bytes = 4 * (2 * canvas + largest_frame);
    Ok((Animation { decoder, frames, duration_ms, bytes }, dimensions))
}

/// The canvas size, once it is known to be within the limits: every frame is composited onto
/// a full canvas of RGBA.
fn check_canvas(
    decoder: &mut impl ImageDecoder,
    limits: &VideoLimits,
) -> Result<(u32, u32), String> {
    decoder.set_limits(limits.image.image_limits()).map_err(|e| e.to_string())?;
    let (width, height) = decoder.dimensions();
    limits.image.check_pixels(width, height)?;
    if u64::from(width) * u64::from(height) * 4 > limits.image.max_alloc {
        return Err(format!("{width}x{height} frames exceed the decoding limits"));
    }
    Ok((width, height))
}

/// What the frame headers of a GIF say.
pub(crate) struct GifFrames {
    /// Frames read.
    pub count: u64,
    /// Their total play time.
    pub duration_ms: u64,
    /// The pixels of the largest: a frame may be larger than the logical screen, and is
    /// decoded at its own size.
    pub largest: u64,
}

/// The frames of the GIF `reader` reads, stopping after `at_most` if given, read without
/// decompressing any picture, once each is known to be within `limits` by its own size.
pub(crate) fn check_gif_frames(
    reader: impl Read,
    limits: &DecodeLimits,
    at_most: Option<u64>,
) -> Result<GifFrames, String> {
    let mut options = gif::DecodeOptions::new();
    options.skip_frame_decoding(true);
    let mut decoder = options.read_info(reader).map_err(|e| e.to_string())?;
    let mut gif = GifFrames { count: 0, duration_ms: 0, largest: 0 };
    while let Some(frame) = decoder.next_frame_info().map_err(|e| e.to_string())? {
        let (width, height) = (u32::from(frame.width), u32::from(frame.height));
        limits.check_pixels(width, height).map_err(|e| format!("frame {}: {e}", gif.count))?;
        if u64::from(width) * u64::from(height) * 4 > limits.max_alloc {
            return Err(format!(
                "frame {}: {width}x{height} exceeds the decoding limits",
                gif.count
            ));
        }
        gif.largest = gif.largest.max(u64::from(width) * u64::from(height));
        let delay = if frame.delay < GIF_MIN_DELAY { GIF_DEFAULT_DELAY } else { frame.delay };
        gif.duration_ms += u64::from(delay) * 10;
        gif.count += 1;
        if Some(gif.count) == at_most {
            break;
        }
    }
    Ok(gif)
}

/// [`check_gif_frames`] with no limits but the format's own.
pub(crate) fn gif_frames(reader: impl Read, at_most: Option<u64>) -> Result<GifFrames, String> {
    let unlimited =
        DecodeLimits { max_dimension: u32::MAX, max_alloc: u64::MAX, max_pixels: u64::MAX };
    check_gif_frames(reader, &unlimited, at_most)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame, Rgba};

    /// A GIF of `delays_ms.len()` frames, frame `i` a flat grey of `i * 40` (wrapping).
    fn gif(delays_ms: &[u32]) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut encoder = GifEncoder::new(&mut bytes);
        for (i, &ms) in delays_ms.iter().enumerate() {
            let grey = (i as u8).wrapping_mul(40);
            let canvas = RgbaImage::from_pixel(8, 6, Rgba([grey, grey, grey, 255]));
            let delay = Delay::from_numer_denom_ms(ms, 1);
            encoder.encode_frame(Frame::from_parts(canvas, 0, 0, delay)).unwrap();
        }
        drop(encoder);
        bytes
    }

    #[test]
    fn gif_frames_are_counted_and_short_delays_count_as_100_ms() {
        let bytes = gif(&[100, 100, 0, 10, 200]);
        let all = gif_frames(Cursor::new(&bytes), None).unwrap();
        assert_eq!((all.count, all.duration_ms, all.largest), (5, 100 + 100 + 100 + 100 + 200, 48));
        let two = gif_frames(Cursor::new(&bytes), Some(2)).unwrap();
        assert_eq!((two.count, two.duration_ms), (2, 200));
        assert!(is_animated(&bytes, ImageFormat::Gif));
        assert!(!is_animated(&gif(&[100]), ImageFormat::Gif));
        assert!(!is_animated(&bytes[..20], ImageFormat::Gif));
        assert!(!is_animated(&bytes, ImageFormat::Png));
    }

    /// Decodes `bytes` with every `step`-th frame kept.
    fn decode(bytes: &[u8], format: ImageFormat, step: u64) -> (Decoded, Vec<(u64, RgbImage)>) {
        let mut seen = Vec::new();
        let decoded =
            decode_animation(bytes, format, &VideoLimits::default(), &|_| step, &mut |n, rgb| {
                seen.push((n, rgb.clone()))
            })
            .unwrap();
        (decoded, seen)
    }

    #[test]
    fn gif_frames_come_as_drawn_at_the_rate_they_play() {
        let (decoded, seen) = decode(&gif(&[100, 100, 0, 100, 100]), ImageFormat::Gif, 2);
        assert_eq!(decoded.incomplete, None);
        let info = decoded.info;
        assert_eq!((info.width, info.height, info.frames), (8, 6, 5));
        assert_eq!((info.fps, info.duration_s), (10.0, 0.5));
        let greys: Vec<(u64, u8)> =
            seen.iter().map(|(n, rgb)| (*n, rgb.get_pixel(3, 3)[0])).collect();
        assert_eq!(greys, [(0, 0), (2, 80), (4, 160)]);
    }

    #[test]
    fn animated_webp_is_decoded_frame_by_frame() {
        let bytes = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/video/testsrc-10fps.webp"),
        )
        .unwrap();
        assert!(is_animated(&bytes, ImageFormat::WebP));
        let (decoded, seen) = decode(&bytes, ImageFormat::WebP, 1);
        assert_eq!(decoded.incomplete, None);
        assert_eq!((decoded.info.width, decoded.info.height), (64, 48));
        assert_eq!((decoded.info.frames, decoded.info.fps), (10, 10.0));
        assert_eq!(seen.iter().map(|(n, _)| *n).collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
        // The pattern's counter moves every frame.
        assert!(seen.windows(2).all(|pair| pair[0].1 != pair[1].1));
    }

    /// A GIF with a `screen` the size given, holding one all-black frame of `frame`.
    fn gif_with_frame(screen: (u16, u16), frame: (u16, u16)) -> Vec<u8> {
        let mut out = Vec::new();
        let palette = [0, 0, 0, 255, 255, 255];
        let mut encoder = gif::Encoder::new(&mut out, screen.0, screen.1, &palette).unwrap();
        let pixels = usize::from(frame.0) * usize::from(frame.1);
        let frame = gif::Frame {
            width: frame.0,
            height: frame.1,
            buffer: vec![0; pixels].into(),
            ..gif::Frame::default()
        };
        encoder.write_frame(&frame).unwrap();
        encoder.write_frame(&frame).unwrap();
        drop(encoder);
        out
    }

    #[test]
    fn a_frame_larger_than_the_screen_counts_by_its_own_size() {
        let bytes = gif_with_frame((4, 4), (40, 30));
        let limits = DecodeLimits { max_pixels: 1000, ..DecodeLimits::default() };
        let error = check_gif_frames(Cursor::new(&bytes), &limits, None).err().unwrap();
        assert!(error.contains("frame 0: 40x30") && error.contains("--max-pixels"), "{error}");
        let video = VideoLimits { image: limits, ..VideoLimits::default() };
        let error = decode_animation(&bytes, ImageFormat::Gif, &video, &|_| 1, &mut |_, _| {});
        assert!(error.unwrap_err().contains("frame 0: 40x30"));
        let still = crate::decode::decode_rgb(
            &bytes,
            ImageFormat::Gif,
            limits,
            crate::decode::Decoders::BuiltinOnly,
        );
        assert!(still.unwrap_err().contains("frame 0: 40x30"));
        // Within the limits it decodes, at the screen's size.
        let enough = DecodeLimits { max_pixels: 1200, ..DecodeLimits::default() };
        assert_eq!(check_gif_frames(Cursor::new(&bytes), &enough, None).unwrap().largest, 1200);
        // The picture's room counts the frame as well as the screen.
        assert_eq!(crate::decode::room_for(&bytes, ImageFormat::Gif).pixels(), 16 + 1200);
    }

    #[test]
    fn rgba_frames_become_rgb_in_their_own_buffer() {
        let rgba = RgbaImage::from_fn(5, 3, |x, y| Rgba([x as u8, y as u8, 7, 9 * x as u8]));
        let expected = image::DynamicImage::ImageRgba8(rgba.clone()).into_rgb8();
        assert_eq!(rgba_into_rgb(rgba), expected);
    }

    #[test]
    fn limits_and_damage_stop_an_animation() {
        let bytes = gif(&[100; 30]);
        let limits = VideoLimits { max_seconds: 1.0, ..VideoLimits::default() };
        let mut seen = 0;
        let decoded =
            decode_animation(&bytes, ImageFormat::Gif, &limits, &|_| 1, &mut |_, _| seen += 1)
                .unwrap();
        assert_eq!(seen, 10);
        assert!(decoded.incomplete.unwrap().contains("--max-video-seconds"));
        let limits = VideoLimits { timeout: std::time::Duration::ZERO, ..VideoLimits::default() };
        let error = decode_animation(&bytes, ImageFormat::Gif, &limits, &|_| 1, &mut |_, _| {})
            .unwrap_err();
        assert!(error.contains("--file-timeout"), "{error}");
        assert!(decode_animation(
            &bytes[..bytes.len() / 2],
            ImageFormat::Gif,
            &VideoLimits::default(),
            &|_| 1,
            &mut |_, _| {}
        )
        .is_err());
        let small = VideoLimits {
            image: crate::decode::DecodeLimits { max_dimension: 4, ..Default::default() },
            ..VideoLimits::default()
        };
        assert!(decode_animation(&bytes, ImageFormat::Gif, &small, &|_| 1, &mut |_, _| {}).is_err());
    }
}
