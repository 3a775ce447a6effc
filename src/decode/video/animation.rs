//! Animated GIF, WebP and PNG (APNG) decoded as video, so that their frames can be hashed
//! with vPDQ and matched against listed videos and pictures; and the pages of a multi-page
//! TIFF, handed over the same way so that every page is screened.
//!
//! Owns telling an animation from a still picture, the frame rate an animation plays at, and
//! handing over its composited full-canvas frames as RGB8, numbered and limited like any other
//! video's. Must not hash; the first frame as a still image is the image decoder's business.

use std::io::{BufRead, Cursor, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::codecs::gif::GifDecoder;
use image::codecs::png::PngDecoder;
use image::codecs::tiff::TiffDecoder;
use image::codecs::webp::WebPDecoder;
use image::{
    AnimationDecoder, DynamicImage, Frames, ImageDecoder, ImageFormat, RgbImage, RgbaImage,
};

use super::{Decoded, Step, VideoInfo, VideoLimits};
use crate::decode::{into_rgb8, panic_reason, room_for_decoder, DecodeLimits};
use crate::error::{FileError, FileErrorKind, Setting};

/// GIF delays are in hundredths of a second; browsers and ffmpeg play those under this as
/// [`GIF_DEFAULT_DELAY`], since many GIFs say 0 and mean "as the viewer likes".
const GIF_MIN_DELAY: u16 = 2;
const GIF_DEFAULT_DELAY: u16 = 10;

/// Returns true if `bytes`, sniffed as `format`, are an animation: a GIF of more than one
/// frame, a WebP flagged as animated, a PNG with an animation control chunk (APNG), or a
/// TIFF of more than one page. Cheap: no picture is decoded.
pub fn is_animated(bytes: &[u8], format: ImageFormat) -> bool {
    let run = || match format {
        ImageFormat::Gif => gif_frames(Cursor::new(bytes), Some(2)).is_ok_and(|gif| gif.count > 1),
        ImageFormat::WebP => image_webp::WebPDecoder::new(Cursor::new(bytes))
            .is_ok_and(|decoder| decoder.is_animated()),
        ImageFormat::Png => apng_timing(bytes).is_some(),
        ImageFormat::Tiff => TiffPages::new(bytes).is_some_and(|pages| pages.take(2).count() > 1),
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
) -> Result<Decoded, FileError> {
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
    let decode = || -> Result<(), FileError> {
        for frame in animation.decoder {
            if frames > last {
                return Err(limits.too_long(frames));
            }
            deadline.check(frames)?;
            let frame =
                frame.map_err(|e| FileError::image(e).prefixed(&format!("frame {frames}: ")))?;
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
        return Err(incomplete.unwrap_or_else(|| FileError::corrupt("the animation has no frames")));
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
) -> Result<(Animation<'a>, (u32, u32)), FileError> {
    let (decoder, frames, duration_ms, dimensions, largest_frame) = match format {
        ImageFormat::Gif => {
            let gif = check_gif_frames(Cursor::new(bytes), &limits.image, None)?;
            let mut decoder = GifDecoder::new(Cursor::new(bytes)).map_err(FileError::image)?;
            let dimensions = check_canvas(&mut decoder, limits)?;
            (decoder.into_frames(), gif.count, gif.duration_ms, dimensions, gif.largest)
        }
        ImageFormat::WebP => {
            let mut decoder = WebPDecoder::new(Cursor::new(bytes)).map_err(FileError::image)?;
            let dimensions = check_canvas(&mut decoder, limits)?;
            // `WebPDecoder` derefs to nothing, so the counts come from a second, header-only
            // parse. A WebP frame lies within the canvas.
            let header =
                image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(FileError::corrupt)?;
            let frames = u64::from(header.num_frames()).max(1);
            let canvas = u64::from(dimensions.0) * u64::from(dimensions.1);
            (decoder.into_frames(), frames, header.loop_duration(), dimensions, canvas)
        }
        ImageFormat::Png => {
            let (frames, duration_ms) =
                apng_timing(bytes).ok_or_else(|| FileError::corrupt("not an animated PNG"))?;
            let mut decoder = PngDecoder::new(Cursor::new(bytes)).map_err(FileError::image)?;
            let dimensions = check_canvas(&mut decoder, limits)?;
            let frames_of = decoder.apng().map_err(FileError::image)?.into_frames();
            // The png crate refuses a frame that does not lie within the canvas.
            let canvas = u64::from(dimensions.0) * u64::from(dimensions.1);
            (frames_of, frames.max(1), duration_ms, dimensions, canvas)
        }
        other => {
            let media_type = other.to_mime_type().to_string();
            let text = format!("{other:?} is not an animation format");
            return Err(FileError::new(FileErrorKind::Unsupported { media_type }, text));
        }
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
) -> Result<(u32, u32), FileError> {
    decoder.set_limits(limits.image.image_limits()).map_err(FileError::image)?;
    let (width, height) = decoder.dimensions();
    limits.image.check_pixels(width, height)?;
    if u64::from(width) * u64::from(height) * 4 > limits.image.max_alloc {
        let text = format!("{width}x{height} frames exceed the decoding limits");
        return Err(FileError::limit(Setting::DecodeBounds, text, ""));
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
) -> Result<GifFrames, FileError> {
    let mut options = gif::DecodeOptions::new();
    options.skip_frame_decoding(true);
    let mut decoder = options.read_info(reader).map_err(FileError::corrupt)?;
    let mut gif = GifFrames { count: 0, duration_ms: 0, largest: 0 };
    while let Some(frame) = decoder.next_frame_info().map_err(FileError::corrupt)? {
        let (width, height) = (u32::from(frame.width), u32::from(frame.height));
        let at = format!("frame {}: ", gif.count);
        limits.check_pixels(width, height).map_err(|e| e.prefixed(&at))?;
        if u64::from(width) * u64::from(height) * 4 > limits.max_alloc {
            let text = format!("{at}{width}x{height} exceeds the decoding limits");
            return Err(FileError::limit(Setting::DecodeBounds, text, ""));
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
pub(crate) fn gif_frames(reader: impl Read, at_most: Option<u64>) -> Result<GifFrames, FileError> {
    let unlimited =
        DecodeLimits { max_dimension: u32::MAX, max_alloc: u64::MAX, max_pixels: u64::MAX };
    check_gif_frames(reader, &unlimited, at_most)
}

/// An APNG's frame count (its animation control chunk's) and total play time in
/// milliseconds (its frame control chunks' delays, read as browsers read them: a zero
/// denominator is hundredths, delays under 20 ms are 100 ms, as for GIF); `None` for a PNG
/// that is no animation (no animation control chunk before the picture data). Reads chunk
/// headers only.
fn apng_timing(bytes: &[u8]) -> Option<(u64, u64)> {
    let mut at = 8usize; // after the signature
    let mut frames = None;
    let (mut delays, mut duration_ms) = (0u64, 0u64);
    while let Some(header) = bytes.get(at..at.checked_add(8)?) {
        let length = u32::from_be_bytes(header[..4].try_into().ok()?) as usize;
        let data = bytes.get(at + 8..(at + 8).checked_add(length)?);
        match (&header[4..8], data) {
            (b"acTL", Some(data)) if frames.is_none() => {
                frames = Some(u64::from(u32::from_be_bytes(data.get(..4)?.try_into().ok()?)));
            }
            (b"IDAT", _) if frames.is_none() => return None,
            (b"fcTL", Some(data)) if frames.is_some_and(|frames| delays < frames) => {
                let field =
                    |at: usize| data.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
                let (numerator, denominator) = (field(20)?, field(22)?);
                let denominator = if denominator == 0 { 100 } else { denominator };
                let ms = u64::from(numerator) * 1000 / u64::from(denominator);
                duration_ms += if ms < u64::from(GIF_MIN_DELAY) * 10 {
                    u64::from(GIF_DEFAULT_DELAY) * 10
                } else {
                    ms
                };
                delays += 1;
            }
            (b"IEND", _) => break,
            _ => {}
        }
        at = at.checked_add(12)?.checked_add(length)?;
    }
    Some((frames?, duration_ms))
}

/// Decodes every page of the TIFF (or BigTIFF) in `bytes`, in file order, handing each to
/// `on_frame` as RGB8, numbered from 0. A multi-page TIFF is screened as an animation of its
/// pages: every page is hashed, whatever the sampling step (pages are few, and each is a
/// picture of its own), and matched against listed pictures and videos as video frames are.
/// A page a second is the frame rate, so that a page's timestamp is its number.
///
/// `Err` means no page could be decoded; a page that cannot be decoded (or is over the
/// limits) makes the result [`Decoded::incomplete`], and the pages after it are still decoded.
pub fn decode_pages(
    bytes: &[u8],
    limits: &VideoLimits,
    on_frame: &mut dyn FnMut(u64, &RgbImage),
) -> Result<Decoded, FileError> {
    const FPS: f64 = 1.0;
    let deadline = limits.deadline();
    let pages = TiffPages::new(bytes).ok_or_else(|| FileError::corrupt("not a TIFF"))?;
    let last = limits.last_frame(FPS);
    let (mut page, mut first_error) = (0u64, None);
    let mut dimensions = None;
    for offset in pages {
        if page > last {
            first_error = first_error.or_else(|| Some(limits.too_long(page)));
            break;
        }
        if let Err(reason) = deadline.check(page) {
            first_error = first_error.or(Some(reason));
            break;
        }
        let run = || decode_page(bytes, offset, limits);
        match catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|p| Err(panic_reason(&*p))) {
            Ok(rgb) => {
                dimensions.get_or_insert(rgb.dimensions());
                on_frame(page, &rgb);
            }
            Err(reason) => {
                first_error =
                    first_error.or_else(|| Some(reason.prefixed(&format!("page {page}: "))))
            }
        }
        page += 1;
    }
    let Some((width, height)) = dimensions else {
        return Err(first_error.unwrap_or_else(|| FileError::corrupt("the TIFF has no pages")));
    };
    let info = VideoInfo { width, height, fps: FPS, duration_s: page as f64 / FPS, frames: page };
    Ok(Decoded { info, incomplete: first_error })
}

/// The page whose image file directory is at `offset`, decoded by `image`'s TIFF decoder as
/// if it were the first.
fn decode_page(bytes: &[u8], offset: u64, limits: &VideoLimits) -> Result<RgbImage, FileError> {
    let reader = FirstPage::new(bytes, offset).ok_or_else(|| FileError::corrupt("not a TIFF"))?;
    let mut decoder = TiffDecoder::new(reader).map_err(FileError::image)?;
    decoder.set_limits(limits.image.image_limits()).map_err(FileError::image)?;
    let (width, height) = decoder.dimensions();
    limits.image.check_pixels(width, height)?;
    let image = DynamicImage::from_decoder(decoder).map_err(FileError::image)?;
    Ok(into_rgb8(image))
}

/// The offsets of a TIFF's image file directories, one a page, read from the chain that
/// starts in the header (classic TIFF and BigTIFF, either byte order). Stops at the end of
/// the chain, at a directory that lies outside the file, or where the chain loops back.
struct TiffPages<'a> {
    bytes: &'a [u8],
    little: bool,
    big: bool,
    next: u64,
    seen: std::collections::HashSet<u64>,
}

impl<'a> TiffPages<'a> {
    fn new(bytes: &'a [u8]) -> Option<TiffPages<'a>> {
        let little = match bytes.get(..2)? {
            b"II" => true,
            b"MM" => false,
            _ => return None,
        };
        let mut pages = TiffPages { bytes, little, big: false, next: 0, seen: Default::default() };
        pages.big = match pages.number(2, 2)? {
            42 => false,
            43 => true,
            _ => return None,
        };
        pages.next = if pages.big { pages.number(8, 8)? } else { pages.number(4, 4)? };
        Some(pages)
    }

    /// The unsigned number of `size` bytes at `at`, in the file's byte order.
    fn number(&self, at: u64, size: usize) -> Option<u64> {
        let at = usize::try_from(at).ok()?;
        let field = self.bytes.get(at..at.checked_add(size)?)?;
        let fold = |n: u64, &b: &u8| n << 8 | u64::from(b);
        Some(if self.little {
            field.iter().rev().fold(0, fold)
        } else {
            field.iter().fold(0, fold)
        })
    }
}

impl Iterator for TiffPages<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let at = self.next;
        if at == 0 || !self.seen.insert(at) {
            return None;
        }
        let (count_size, entry_size, offset_size) = if self.big { (8, 20, 8) } else { (2, 12, 4) };
        let count = self.number(at, count_size)?;
        let link = count.checked_mul(entry_size)?.checked_add(at + count_size as u64)?;
        // A directory without a readable link to the next is the last.
        self.next = self.number(link, offset_size).unwrap_or(0);
        Some(at)
    }
}

/// The bytes of a TIFF with the header's first-directory offset pointing at another page's
/// directory, read without copying the file: what `image`'s decoder, which decodes the first
/// page only, reads to decode that page.
struct FirstPage<'a> {
    bytes: &'a [u8],
    header: [u8; 16],
    header_len: usize,
    at: usize,
}

impl<'a> FirstPage<'a> {
    fn new(bytes: &'a [u8], offset: u64) -> Option<FirstPage<'a>> {
        let pages = TiffPages::new(bytes)?;
        let (header_len, offset_at) = if pages.big { (16, 8) } else { (8, 4) };
        let mut header = [0u8; 16];
        header[..header_len].copy_from_slice(bytes.get(..header_len)?);
        let size = header_len - offset_at;
        let value = if pages.big { offset } else { u64::from(u32::try_from(offset).ok()?) };
        let encoded = if pages.little { value.to_le_bytes() } else { value.to_be_bytes() };
        let encoded = if pages.little { &encoded[..size] } else { &encoded[8 - size..] };
        header[offset_at..header_len].copy_from_slice(encoded);
        Some(FirstPage { bytes, header, header_len, at: 0 })
    }
}

impl BufRead for FirstPage<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(if self.at < self.header_len {
            &self.header[self.at..self.header_len]
        } else {
            self.bytes.get(self.at..).unwrap_or_default()
        })
    }

    fn consume(&mut self, amount: usize) {
        self.at = self.at.saturating_add(amount);
    }
}

impl Read for FirstPage<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl Seek for FirstPage<'_> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let at = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => (self.bytes.len() as u64).checked_add_signed(delta),
            SeekFrom::Current(delta) => (self.at as u64).checked_add_signed(delta),
        };
        let invalid = || std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek out of range");
        self.at = usize::try_from(at.ok_or_else(invalid)?).map_err(|_| invalid())?;
        Ok(self.at as u64)
    }
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
        let bytes = crate::testing::fixture("video/testsrc-10fps.webp");
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
        assert_eq!(error.kind, FileErrorKind::Limit { which: Setting::MaxPixels });
        assert!(error.to_string().starts_with("frame 0: 40x30"), "{error}");
        let video = VideoLimits { image: limits, ..VideoLimits::default() };
        let error = decode_animation(&bytes, ImageFormat::Gif, &video, &|_| 1, &mut |_, _| {});
        assert!(error.unwrap_err().to_string().contains("frame 0: 40x30"));
        let still = crate::decode::decode_rgb(
            &bytes,
            ImageFormat::Gif,
            limits,
            crate::decode::Decoders::BuiltinOnly,
        );
        assert!(still.unwrap_err().to_string().contains("frame 0: 40x30"));
        // Within the limits it decodes, at the screen's size.
        let enough = DecodeLimits { max_pixels: 1200, ..DecodeLimits::default() };
        assert_eq!(check_gif_frames(Cursor::new(&bytes), &enough, None).unwrap().largest, 1200);
        // The picture's room counts the frame as well as the screen.
        assert_eq!(crate::decode::room_for(&bytes, ImageFormat::Gif).0, 16 + 1200);
    }

    #[test]
    fn rgba_frames_become_rgb_in_their_own_buffer() {
        let rgba = RgbaImage::from_fn(5, 3, |x, y| Rgba([x as u8, y as u8, 7, 9 * x as u8]));
        let expected = image::DynamicImage::ImageRgba8(rgba.clone()).into_rgb8();
        assert_eq!(rgba_into_rgb(rgba), expected);
    }

    fn fixture(path: &str) -> Vec<u8> {
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
    }

    #[test]
    fn apng_frames_are_counted_and_timed_from_their_chunks() {
        let apng = fixture("fixtures/formats/bridge-second-frame.png");
        // Pillow's default delay is 0, which plays as 100 ms.
        assert_eq!(apng_timing(&apng), Some((2, 200)));
        assert!(is_animated(&apng, ImageFormat::Png));
        assert_eq!(apng_timing(&fixture("fuzz/seeds/animation/three-frames.apng")), Some((3, 300)));
        let still = fixture("fuzz/seeds/images/tiny.png");
        assert_eq!(apng_timing(&still), None);
        assert!(!is_animated(&still, ImageFormat::Png));
        let (decoded, seen) = decode(&apng, ImageFormat::Png, 1);
        assert_eq!((decoded.info.frames, decoded.info.fps), (2, 10.0));
        assert_eq!((seen.len(), seen[1].1.dimensions()), (2, (128, 80)));
        assert_ne!(seen[0].1, seen[1].1);
    }

    #[test]
    fn every_page_of_a_tiff_is_a_frame() {
        let two = fixture("fixtures/formats/bridge-second-page.tif");
        assert_eq!(TiffPages::new(&two).unwrap().count(), 2);
        assert!(is_animated(&two, ImageFormat::Tiff));
        let big = fixture("fixtures/formats/bridge-bigtiff.tif");
        assert_eq!(TiffPages::new(&big).unwrap().count(), 1);
        assert!(!is_animated(&big, ImageFormat::Tiff));
        let mut pages = Vec::new();
        let decoded =
            decode_pages(&two, &VideoLimits::default(), &mut |n, rgb| pages.push((n, rgb.clone())))
                .unwrap();
        assert_eq!(decoded.incomplete, None);
        assert_eq!((decoded.info.frames, decoded.info.fps), (2, 1.0));
        assert_eq!(pages.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [0, 1]);
        assert_ne!(pages[0].1, pages[1].1);
        // The second page, decoded as if it were the first, is what `image` gives for a TIFF
        // of that page alone: the header is all that differs.
        let first = crate::decode::decode_rgb(
            &two,
            ImageFormat::Tiff,
            Default::default(),
            crate::decode::Decoders::BuiltinOnly,
        )
        .unwrap();
        assert_eq!(pages[0].1, first);
        // A directory chain that loops back ends where it loops.
        let mut looped = two.clone();
        let first_ifd = u32::from_le_bytes(looped[4..8].try_into().unwrap()) as usize;
        let entries = u16::from_le_bytes([looped[first_ifd], looped[first_ifd + 1]]) as usize;
        let link = first_ifd + 2 + 12 * entries;
        looped[link..link + 4].copy_from_slice(&(first_ifd as u32).to_le_bytes());
        assert_eq!(TiffPages::new(&looped).unwrap().count(), 1);
        assert!(TiffPages::new(b"II*\0").is_none());
        assert!(TiffPages::new(b"GIF89a").is_none());
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
        let incomplete = decoded.incomplete.unwrap();
        assert_eq!(incomplete.kind, FileErrorKind::Limit { which: Setting::MaxVideoSeconds });
        let limits = VideoLimits { timeout: std::time::Duration::ZERO, ..VideoLimits::default() };
        let error = decode_animation(&bytes, ImageFormat::Gif, &limits, &|_| 1, &mut |_, _| {})
            .unwrap_err();
        assert_eq!(error.kind, FileErrorKind::Timeout);
        assert_eq!(error.reason.setting(), Some(Setting::FileTimeout));
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
