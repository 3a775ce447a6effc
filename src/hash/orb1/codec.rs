//! The byte and text form of a [`Signature`]: what an `orb1` row of a native list carries in
//! its `hash` column.
//!
//! Owns the layout and its validation. All integers little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | `b"ORB"` and the version ([`VERSION`]) |
//! | 2, 2 | frame width and height, pixels |
//! | 2 | keypoint count `n` (at most [`MAX_KEYPOINTS`]) |
//! | 5 × n | per keypoint: x, y (u16, quarter pixels), pyramid level (u8) |
//! | 32 × n | per keypoint: the descriptor, four u64 words |
//!
//! The text form is standard base64 (RFC 4648, padded), written and read here: it is a few
//! lines, and it keeps lists free of a second dependency for one column. Must not know how
//! signatures are made or compared.

use super::{Descriptor, Keypoint, Signature, FRAME, LEVELS, MAX_KEYPOINTS, VERSION};

/// Bytes before the keypoints.
const HEADER: usize = 10;

/// Bytes per keypoint: position and level, then descriptor.
const PER_KEYPOINT: usize = 5 + 32;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Each byte's value as a base64 digit, or 64 when it is not one.
const DIGITS: [u8; 256] = {
    let mut table = [64u8; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

impl Signature {
    /// The signature's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + PER_KEYPOINT * self.len());
        out.extend_from_slice(b"ORB");
        out.push(VERSION);
        for n in [self.width, self.height, self.len() as u16] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        for k in &self.keypoints {
            out.extend_from_slice(&k.x.to_le_bytes());
            out.extend_from_slice(&k.y.to_le_bytes());
            out.push(k.level);
        }
        for d in &self.descriptors {
            d.iter().for_each(|word| out.extend_from_slice(&word.to_le_bytes()));
        }
        out
    }

    /// Reads bytes written by [`Signature::to_bytes`], checking every field.
    pub fn from_bytes(bytes: &[u8]) -> Result<Signature, String> {
        let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        if bytes.len() < HEADER || &bytes[..3] != b"ORB" {
            return Err("not an orb1 signature (no ORB header)".to_string());
        }
        if bytes[3] != VERSION {
            return Err(format!("orb1 signature of version {}, expected {VERSION}", bytes[3]));
        }
        let (width, height, n) = (u16_at(4), u16_at(6), usize::from(u16_at(8)));
        let frame = FRAME as u16;
        if width.max(height) != frame || width.min(height) == 0 {
            return Err(format!("orb1 frame {width}×{height} is not {FRAME} on its long side"));
        }
        if n > MAX_KEYPOINTS {
            return Err(format!("{n} keypoints, more than orb1's {MAX_KEYPOINTS}"));
        }
        if bytes.len() != HEADER + PER_KEYPOINT * n {
            return Err(format!(
                "{} bytes for {n} keypoints, expected {}",
                bytes.len(),
                HEADER + PER_KEYPOINT * n
            ));
        }
        let mut keypoints = Vec::with_capacity(n);
        for at in (HEADER..HEADER + 5 * n).step_by(5) {
            let k = Keypoint { x: u16_at(at), y: u16_at(at + 2), level: bytes[at + 4] };
            if k.x >= 4 * width || k.y >= 4 * height || usize::from(k.level) >= LEVELS {
                return Err(format!(
                    "keypoint {} lies outside the frame or pyramid",
                    keypoints.len()
                ));
            }
            keypoints.push(k);
        }
        let descriptors = bytes[HEADER + 5 * n..]
            .chunks_exact(32)
            .map(|chunk| {
                let mut d: Descriptor = [0; 4];
                for (word, b) in d.iter_mut().zip(chunk.chunks_exact(8)) {
                    *word = u64::from_le_bytes(b.try_into().expect("8 bytes"));
                }
                d
            })
            .collect();
        Ok(Signature { width, height, keypoints, descriptors })
    }

    /// The base64 text of [`Signature::to_bytes`].
    pub fn to_base64(&self) -> String {
        let bytes = self.to_bytes();
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
            for i in 0..4 {
                let c = if i <= chunk.len() {
                    ALPHABET[(n >> (18 - 6 * i) & 63) as usize]
                } else {
                    b'='
                };
                out.push(char::from(c));
            }
        }
        out
    }

    /// Reads the text of [`Signature::to_base64`].
    pub fn from_base64(text: &str) -> Result<Signature, String> {
        let text = text.as_bytes();
        if !text.len().is_multiple_of(4) {
            return Err("base64 length is not a multiple of 4".to_string());
        }
        let mut bytes = Vec::with_capacity(text.len() / 4 * 3);
        for (i, quad) in text.chunks_exact(4).enumerate() {
            let last = (i + 1) * 4 == text.len();
            let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
            if pad > 2 || (pad > 0 && !last) {
                return Err("misplaced base64 padding".to_string());
            }
            let mut n = 0u32;
            for &c in &quad[..4 - pad] {
                let v = DIGITS[usize::from(c)];
                if v == 64 {
                    return Err(format!("{:?} is not a base64 character", char::from(c)));
                }
                n = n << 6 | u32::from(v);
            }
            n <<= 6 * pad as u32;
            bytes.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
        }
        Signature::from_bytes(&bytes)
    }
}
