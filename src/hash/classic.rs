//! STUB (replaced by the real implementation)
use super::HashValue;
pub fn grey_from_rgb(rgb: &image::RgbImage) -> image::GrayImage {
    image::DynamicImage::ImageRgb8(rgb.clone()).to_luma8()
}
pub fn phash(_g: &image::GrayImage) -> HashValue {
    HashValue::from_bytes(vec![0u8; 8])
}
pub fn dhash(_g: &image::GrayImage) -> HashValue {
    HashValue::from_bytes(vec![0u8; 8])
}
pub fn ahash(_g: &image::GrayImage) -> HashValue {
    HashValue::from_bytes(vec![0u8; 8])
}
