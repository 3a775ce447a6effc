//! Still-image decoding of untrusted bytes.
//!
//! Owns turning a sniffed image into RGB8 pixels under resource limits, and containing
//! decoder panics so that one hostile file becomes one error instead of a dead scan. Must not
//! hash, resize or reorient: PDQ is computed on the full-size pixels as stored (EXIF
//! orientation ignored, as the reference does), and lists are made the same way.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::{ImageFormat, ImageReader, Limits, RgbImage};

/// Bounds on what one decode may allocate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest width or height accepted.
    pub max_dimension: u32,
    /// Largest allocation the decoder may make, in bytes.
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    /// 65,535 px a side and 1 GiB: enough for any real photograph, small enough that a
    /// decompression bomb fails fast instead of exhausting memory.
    fn default() -> Self {
        DecodeLimits { max_dimension: 65_535, max_alloc: 1 << 30 }
    }
}

/// Decodes `bytes`, already sniffed as `format`, to RGB8. Alpha is dropped without
/// compositing and wider samples are narrowed, as the reference tools' RGB conversion does.
/// Animated formats yield their first frame.
pub fn decode_rgb(
    bytes: &[u8],
    format: ImageFormat,
    limits: DecodeLimits,
) -> Result<RgbImage, String> {
    let run = || -> Result<RgbImage, String> {
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        let mut image_limits = Limits::default();
        image_limits.max_image_width = Some(limits.max_dimension);
        image_limits.max_image_height = Some(limits.max_dimension);
        image_limits.max_alloc = Some(limits.max_alloc);
        reader.limits(image_limits);
        let image = reader.decode().map_err(|e| e.to_string())?;
        if image.width() == 0 || image.height() == 0 {
            return Err("image has no pixels".to_string());
        }
        Ok(image.into_rgb8())
    };
    // A panicking codec is a bug in a dependency, but a hostile file must not take the
    // whole scan down with it.
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(format!("decoder panicked: {what}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_and_truncated_images_are_errors() {
        assert!(decode_rgb(b"\xff\xd8\xff\xe0garbage", ImageFormat::Jpeg, DecodeLimits::default())
            .is_err());
        let mut png = Vec::new();
        RgbImage::new(4, 4).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        assert_eq!(
            decode_rgb(&png, ImageFormat::Png, DecodeLimits::default()).unwrap().dimensions(),
            (4, 4)
        );
        assert!(
            decode_rgb(&png[..png.len() / 2], ImageFormat::Png, DecodeLimits::default()).is_err()
        );
    }

    #[test]
    fn limits_refuse_oversized_images() {
        let mut png = Vec::new();
        RgbImage::new(64, 8).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        let tight = DecodeLimits { max_dimension: 32, ..DecodeLimits::default() };
        assert!(decode_rgb(&png, ImageFormat::Png, tight).is_err());
    }
}
