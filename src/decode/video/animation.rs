//! Animated GIF and WebP decoded as video, so that their frames can be hashed with vPDQ.
//!
//! Owns telling an animation from a still picture, the frame rate an animation plays at, and
//! handing over its composited full-canvas frames as RGB8, numbered and limited like any other
//! video's. Must not hash; the first frame as a still image is the image decoder's business.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::codecs::gif::GifDecoder;
use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, DynamicImage, Frames, ImageDecoder, ImageFormat, RgbImage};

use super::{Decoded, Step, VideoInfo, VideoLimits};
use crate::decode::panic_reason;

/// GIF delays are in hundredths of a second; browsers and ffmpeg play those under this as
/// [`GIF_DEFAULT_DELAY`], since many GIFs say 0 and mean "as the viewer likes".
const GIF_MIN_DELAY: u16 = 2;
const GIF_DEFAULT_DELAY: u16 = 10;

/// Returns true if `bytes`, sniffed as `format`, are an animation: a GIF of more than one
/// frame, or a WebP flagged as animated. Cheap: no picture is decoded.
pub fn is_animated(bytes: &[u8], format: ImageFormat) -> bool {
    let run = || match format {
        ImageFormat::Gif => gif_frames(bytes, Some(2)).is_ok_and(|(frames, _)| frames > 1),
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
                let rgb = DynamicImage::ImageRgba8(frame.into_buffer()).into_rgb8();
                on_frame(frames, &rgb);
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

/// An animation ready to decode, with what its headers say about its length.
struct Animation<'a> {
    decoder: Frames<'a>,
    frames: u64,
    duration_ms: u64,
}

fn open<'a>(
    bytes: &'a [u8],
    format: ImageFormat,
    limits: &VideoLimits,
) -> Result<(Animation<'a>, (u32, u32)), String> {
    let (decoder, frames, duration_ms, dimensions) = match format {
        ImageFormat::Gif => {
            let (frames, duration_ms) = gif_frames(bytes, None)?;
            let mut decoder = GifDecoder::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
            let dimensions = check_canvas(&mut decoder, limits)?;
            (decoder.into_frames(), frames, duration_ms, dimensions)
        }
        ImageFormat::WebP => {
            let mut decoder = WebPDecoder::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
            let dimensions = check_canvas(&mut decoder, limits)?;
            // `WebPDecoder` derefs to nothing, so the counts come from a second, header-only
            // parse.
            let header =
                image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
            let frames = u64::from(header.num_frames()).max(1);
            (decoder.into_frames(), frames, header.loop_duration(), dimensions)
        }
        other => return Err(format!("{other:?} is not an animation format")),
    };
    Ok((Animation { decoder, frames, duration_ms }, dimensions))
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

/// The number of frames of a GIF, stopping after `at_most` if given, and their total play
/// time in milliseconds, read without decompressing any picture.
fn gif_frames(bytes: &[u8], at_most: Option<u64>) -> Result<(u64, u64), String> {
    let mut options = gif::DecodeOptions::new();
    options.skip_frame_decoding(true);
    let mut decoder = options.read_info(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let (mut frames, mut duration_ms) = (0u64, 0u64);
    while let Some(frame) = decoder.next_frame_info().map_err(|e| e.to_string())? {
        let delay = if frame.delay < GIF_MIN_DELAY { GIF_DEFAULT_DELAY } else { frame.delay };
        duration_ms += u64::from(delay) * 10;
        frames += 1;
        if Some(frames) == at_most {
            break;
        }
    }
    Ok((frames, duration_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame, Rgba, RgbaImage};

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
        assert_eq!(gif_frames(&bytes, None), Ok((5, 100 + 100 + 100 + 100 + 200)));
        assert_eq!(gif_frames(&bytes, Some(2)), Ok((2, 200)));
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
