//! What a JPEG's bytes say about whether its picture is all there, and the built-in decoder
//! read strictly.
//!
//! Owns the three checks that keep a damaged JPEG from passing as a whole, screened picture
//! (both decoders fill in what is missing rather than fail): the end-of-image marker
//! ([`jpeg_truncation`]), the entropy-coded data's size against the blocks the header
//! declares ([`jpeg_data_shortfall`], before anything is allocated), and zune-jpeg's strict
//! reading ([`strict_jpeg`]); counting the MCUs the data holds is [`super::entropy`]'s. Must
//! not decide what a damaged file's outcome is: it says what is wrong, the caller reports it.

use image::RgbImage;

use super::{into_rgb8, DecodeLimits};

/// A JPEG decoded by zune-jpeg as `image` decodes it (same output layout, so the same
/// pixels), but with its entropy-coded data read strictly: `Err` with zune-jpeg's reason at
/// the first corrupt code, unexpected marker or premature end of the data, where `image`'s
/// lenient decode would fill the rest in. Headers are read leniently, as `image` does, so that
/// padding between segments, which harms no pixel, is not taken for damage.
pub(super) fn strict_jpeg(bytes: &[u8], limits: &DecodeLimits) -> Result<RgbImage, String> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    let options = DecoderOptions::default()
        .set_strict_mode(false)
        .set_max_width(limits.max_dimension as usize)
        .set_max_height(limits.max_dimension as usize);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    // zune-jpeg writes its messages as Rust debug strings, quoted.
    let reason =
        |e: zune_jpeg::errors::DecodeErrors| e.to_string().trim().trim_matches('"').to_string();
    decoder.decode_headers().map_err(reason)?;
    let input = decoder.input_colorspace().ok_or("no colour space")?;
    // `image`'s choice: these four as they are, anything else (YCbCr, CMYK…) as RGB.
    let output = match input {
        ColorSpace::RGB | ColorSpace::RGBA | ColorSpace::Luma | ColorSpace::LumaA => input,
        _ => ColorSpace::RGB,
    };
    decoder.set_options(decoder.options().jpeg_set_out_colorspace(output).set_strict_mode(true));
    let (width, height) = decoder.dimensions().ok_or("no dimensions")?;
    let size = (width as u64) * (height as u64) * output.num_components() as u64;
    if size > limits.max_alloc || width == 0 || height == 0 {
        return Err(format!("{width}x{height} cannot be decoded within the limits"));
    }
    let mut raw = vec![0u8; size as usize];
    decoder.decode_into(&mut raw).map_err(reason)?;
    let (width, height) = (width as u32, height as u32);
    let image = match output {
        ColorSpace::RGB => RgbImage::from_raw(width, height, raw).map(image::DynamicImage::from),
        ColorSpace::RGBA => image::RgbaImage::from_raw(width, height, raw).map(Into::into),
        ColorSpace::Luma => image::GrayImage::from_raw(width, height, raw).map(Into::into),
        _ => image::GrayAlphaImage::from_raw(width, height, raw).map(Into::into),
    };
    image.map(into_rgb8).ok_or_else(|| "decoded buffer of the wrong size".to_string())
}

/// Why a JPEG that decoded is nonetheless incomplete, if it is: JPEG decoders fill a
/// truncated image's missing rows with grey instead of failing, so a cut-off file would
/// otherwise pass as a whole, screened picture. Walks the marker segments to the end of the
/// entropy-coded data and looks for the end-of-image marker; and, as one can be appended to a
/// cut file, checks `jpeg_data_shortfall` too.
pub fn jpeg_truncation(bytes: &[u8]) -> Option<String> {
    const TRUNCATED: &str = "truncated JPEG (no end-of-image marker): hashed the part that decoded";
    let layout = jpeg_layout(bytes);
    if !layout.ended {
        return Some(TRUNCATED.to_string());
    }
    layout.shortfall()
}

/// Why a JPEG cannot hold the picture its header declares, if it cannot: in every
/// Huffman-coded JPEG each 8x8 block of each component codes its DC coefficient in at least
/// one bit, so a picture of more blocks than its entropy-coded data has bits is cut short (a
/// header declaring 8000x8000 pixels followed by a kilobyte). zune-jpeg fills such a picture
/// in without a word, even in strict mode; it is refused before any pixel is allocated.
pub(crate) fn jpeg_data_shortfall(bytes: &[u8]) -> Option<String> {
    jpeg_layout(bytes).shortfall()
}

/// What [`jpeg_layout`] finds.
struct JpegLayout {
    /// Whether the segments lead to an end-of-image marker.
    ended: bool,
    /// Width, height and 8x8 blocks of the first Huffman-coded frame.
    frame: Option<(u32, u32, u64)>,
    /// Bytes of entropy-coded data in the scans walked.
    data: u64,
}

impl JpegLayout {
    /// [`jpeg_data_shortfall`] of the walked file, so that one walk serves both checks.
    fn shortfall(&self) -> Option<String> {
        let (width, height, blocks) = self.frame?;
        let data = self.data;
        (data.saturating_mul(8) < blocks).then(|| {
            format!(
                "truncated JPEG: {data} bytes of picture data cannot hold the {blocks} blocks \
                 of a {width}x{height} picture"
            )
        })
    }
}

/// Walks a JPEG's marker segments, and its scans' entropy-coded data, as far as they go.
fn jpeg_layout(bytes: &[u8]) -> JpegLayout {
    let mut layout = JpegLayout { ended: false, frame: None, data: 0 };
    let mut at = 2; // after SOI
    loop {
        // Fill bytes (0xFF) may precede a marker.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return layout;
        };
        at += 2;
        match marker {
            0xD9 => {
                layout.ended = true;
                return layout;
            }
            // Standalone markers carry no length.
            0x01 | 0xD0..=0xD8 => continue,
            _ => {}
        }
        let length = match (bytes.get(at), bytes.get(at + 1)) {
            (Some(&high), Some(&low)) => usize::from(high) << 8 | usize::from(low),
            _ => return layout,
        };
        // Baseline, extended and progressive Huffman frames; the first one counts.
        if matches!(marker, 0xC0..=0xC2) && layout.frame.is_none() {
            layout.frame = bytes.get(at + 2..at + length.max(2)).and_then(frame_blocks);
        }
        at += length;
        if marker == 0xDA {
            // Entropy-coded data runs to the next marker that is not a stuffed byte (FF 00)
            // or a restart marker (FF D0-D7).
            let start = at;
            loop {
                let Some(ff) = bytes.get(at..).and_then(|rest| memchr::memchr(0xFF, rest)) else {
                    // Cut off inside the data: all of it to the end counts.
                    layout.data += bytes.len().saturating_sub(start) as u64;
                    return layout;
                };
                at += ff;
                match bytes.get(at + 1) {
                    Some(&next) if next != 0x00 && !(0xD0..=0xD7).contains(&next) => break,
                    Some(_) => at += 1,
                    None => {
                        layout.data += bytes.len().saturating_sub(start) as u64;
                        return layout;
                    }
                }
            }
            layout.data += at.saturating_sub(start) as u64;
        }
    }
}

/// The width, height and number of 8x8 blocks (all components) of a frame header's payload
/// (after its length), if it is well formed.
fn frame_blocks(header: &[u8]) -> Option<(u32, u32, u64)> {
    let height = u32::from(u16::from_be_bytes([*header.get(1)?, *header.get(2)?]));
    let width = u32::from(u16::from_be_bytes([*header.get(3)?, *header.get(4)?]));
    let count = usize::from(*header.get(5)?);
    let sampling: Vec<(u32, u32)> = header
        .get(6..6 + 3 * count)?
        .chunks_exact(3)
        .map(|component| (u32::from(component[1] >> 4), u32::from(component[1] & 15)))
        .collect();
    let h_max = sampling.iter().map(|s| s.0).max()?.max(1);
    let v_max = sampling.iter().map(|s| s.1).max()?.max(1);
    // A component's blocks as a non-interleaved scan codes them (no MCU padding, so never
    // more than an interleaved scan).
    let blocks = sampling
        .iter()
        .map(|&(h, v)| {
            let columns = (u64::from(width) * u64::from(h)).div_ceil(u64::from(h_max));
            let rows = (u64::from(height) * u64::from(v)).div_ceil(u64::from(v_max));
            columns.div_ceil(8) * rows.div_ceil(8)
        })
        .sum();
    Some((width, height, blocks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode_picture, decode_rgb, entropy, Decoders};
    use image::ImageFormat;

    #[test]
    fn truncated_jpegs_are_told_apart_from_whole_ones() {
        let whole = crate::testing::fixture("screening/distinct/coffee.jpg");
        assert_eq!(jpeg_truncation(&whole), None);
        let mut trailing = whole.clone();
        trailing.extend_from_slice(b"trailing data after the image, as some cameras write");
        assert_eq!(jpeg_truncation(&trailing), None);
        let builtin = |bytes: &[u8]| {
            decode_rgb(bytes, ImageFormat::Jpeg, DecodeLimits::default(), Decoders::BuiltinOnly)
        };
        let pixels = builtin(&whole).unwrap();
        for cut in [whole.len() / 3, whole.len() - 2, 100] {
            assert!(jpeg_truncation(&whole[..cut]).is_some(), "cut at {cut}");
        }
        // The built-in decoder does not notice a cut in the picture data, which is why the
        // check exists: cut at a third, it gives the whole size with the missing rows grey;
        // with only the end-of-image marker gone, the very pixels of the whole file. Should
        // it start refusing such files, the check would have nothing left to catch.
        let third = builtin(&whole[..whole.len() / 3]).expect("a third of the JPEG decodes");
        assert_eq!(third.dimensions(), pixels.dimensions());
        assert!(third.rows().next_back().unwrap().all(|pixel| pixel.0 == [128; 3]));
        assert_ne!(third, pixels);
        assert_eq!(builtin(&whole[..whole.len() - 2]).as_ref(), Ok(&pixels));
        // Cut inside its headers, there is no picture to give.
        assert!(builtin(&whole[..100]).is_err());
    }

    /// Every fixture JPEG, by content, with its file name.
    fn fixture_jpegs() -> Vec<(String, Vec<u8>)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut found: Vec<_> = walkdir::WalkDir::new(root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_file())
            .map(|entry| {
                let name = entry.path().file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(entry.path()).unwrap())
            })
            .filter(|(_, bytes)| image::guess_format(bytes).ok() == Some(ImageFormat::Jpeg))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn strict_jpeg_decoding_gives_images_pixels_and_refuses_only_damaged_files() {
        let limits = DecodeLimits::default();
        let (mut decoded, mut refused) = (0, Vec::new());
        for (name, bytes) in fixture_jpegs() {
            let lenient = image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg)
                .map(into_rgb8)
                .map_err(|e| e.to_string());
            match strict_jpeg(&bytes, &limits) {
                Ok(rgb) => {
                    assert_eq!(Ok(rgb), lenient, "{name}");
                    decoded += 1;
                }
                Err(_) => refused.push(name),
            }
        }
        // Photographs, progressive, CMYK, greyscale, odd sampling: all as `image` decodes
        // them; the two broken fixtures (which `image` refuses too) not.
        assert!(decoded >= 40, "only {decoded} fixture JPEGs decoded");
        assert_eq!(refused, ["corrupt.jpg", "truncated.jpg"]);
    }

    #[test]
    fn picture_data_cut_short_behind_an_end_marker_is_found() {
        let (mut checked, mut cut_found) = (0, 0);
        for (name, bytes) in fixture_jpegs() {
            if image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg).is_err() {
                continue;
            }
            // Whole files, baseline, progressive, with restart intervals: nothing to report.
            assert_eq!(entropy::entropy_damage(&bytes), None, "{name}");
            checked += 1;
            let (data_start, data_end) = {
                let sos = bytes.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
                (sos, bytes.len() - 2)
            };
            if data_end - data_start < 3000 {
                continue;
            }
            // Cut in the middle of the (first) scan, an end-of-image marker appended.
            let cut = [&bytes[..(data_start + data_end) / 2], &[0xFF, 0xD9][..]].concat();
            let damage = entropy::entropy_damage(&cut);
            let progressive = bytes.windows(2).any(|w| w == [0xFF, 0xC2]);
            if !progressive {
                let damage = damage.as_deref().unwrap_or_else(|| panic!("{name}: cut not found"));
                assert!(damage.starts_with("truncated JPEG"), "{name}: {damage}");
            }
            cut_found += usize::from(damage.is_some());
        }
        assert!(checked >= 40, "only {checked} fixture JPEGs checked");
        assert!(cut_found >= 20, "only {cut_found} cuts found");
        // And as the scan sees it, through the built-in decoder.
        let whole = crate::testing::fixture("screening/distinct/coffee.jpg");
        let cut = [&whole[..whole.len() / 3], &[0xFF, 0xD9][..]].concat();
        let limits = DecodeLimits::default();
        let picture = decode_picture(&cut, ImageFormat::Jpeg, limits, Decoders::BuiltinOnly);
        let damage = picture.unwrap().damage.unwrap();
        assert!(damage.to_string().contains("picture data ends after"), "{damage}");
    }
}
