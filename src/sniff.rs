//! Content typing by magic bytes.
//!
//! Owns the decision of what a file *is*, taken from its first bytes and never from its name:
//! a JPEG named `.txt` is an image, a text file named `.jpg` is not. Must not decode anything
//! beyond the signature.

use image::ImageFormat;

/// What a file's bytes say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sniffed {
    /// MIME type, `application/octet-stream` when the signature is unknown.
    pub media_type: &'static str,
    /// The still-image decoder to use, when the format is one mediascreen decodes.
    pub image_format: Option<ImageFormat>,
}

impl Sniffed {
    /// Returns true if and only if the bytes are an image or video that mediascreen would
    /// need to decode for perceptual hashes, whether or not it can.
    pub fn is_visual_media(&self) -> bool {
        self.media_type.starts_with("image/") || self.media_type.starts_with("video/")
    }
}

/// Types `bytes` by their signature.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    let media_type = iso_3gpp(bytes)
        .or_else(|| infer::get(bytes).map(|t| t.mime_type()))
        .unwrap_or("application/octet-stream");
    let image_format = match media_type {
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/png" => Some(ImageFormat::Png),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        "image/bmp" => Some(ImageFormat::Bmp),
        "image/tiff" => Some(ImageFormat::Tiff),
        _ => None,
    };
    Sniffed { media_type, image_format }
}

/// 3GPP and 3GPP2 files (old phones' and some messengers' videos) are MP4's container under
/// their own `ftyp` brand, which `infer` does not know: without this they would pass as
/// unknown bytes and be matched by digest only.
fn iso_3gpp(bytes: &[u8]) -> Option<&'static str> {
    let brand = bytes.get(4..11)?;
    match brand {
        [b'f', b't', b'y', b'p', b'3', b'g', b'p'] => Some("video/3gpp"),
        [b'f', b't', b'y', b'p', b'3', b'g', b'2'] => Some("video/3gpp2"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_content_not_name() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png).image_format, Some(ImageFormat::Png));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF\0").media_type, "image/jpeg");
        let text = sniff(b"just some text, not a picture");
        assert_eq!(text.media_type, "application/octet-stream");
        assert!(text.image_format.is_none() && !text.is_visual_media());
        assert!(sniff(b"").image_format.is_none());
        assert_eq!(sniff(b"\0\0\0\x20ftyp3gp6\0\0\x01\0").media_type, "video/3gpp");
        assert_eq!(sniff(b"\0\0\0\x20ftyp3g2a\0\0\x01\0").media_type, "video/3gpp2");
    }
}
