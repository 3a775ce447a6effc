//! The byte and text form of a [`Signature`]: what an `orb1` or `orb2` row of a native list
//! carries in its `hash` column.
//!
//! Owns the layout and its validation. All integers little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | `b"ORB"` and the version ([`Format::version`]: 1 for `orb1`, 2 for `orb2`) |
//! | 2, 2 | frame width and height, pixels |
//! | 2 | keypoint count `n` (at most [`Format::max_keypoints`]) |
//! | 5 × n | per keypoint: x, y (u16, quarter pixels), pyramid level (u8) |
//! | 32 × n | per keypoint: the descriptor, four u64 words |
//!
//! The text form is standard base64 (RFC 4648, padded). Must not know how signatures are
//! made or compared.

use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, PAD};
use base64::Engine;

use super::{Descriptor, Format, Keypoint, Signature, FRAME, LEVELS};

/// Bytes before the keypoints.
const HEADER: usize = 10;

/// Bytes per keypoint: position and level, then descriptor.
const PER_KEYPOINT: usize = 5 + 32;

/// Standard padded base64. Bits past the last byte are ignored when read, as the decoder
/// written here before the crate ignored them, so every list it read still reads.
const BASE64: GeneralPurpose =
    GeneralPurpose::new(&STANDARD, PAD.with_decode_allow_trailing_bits(true));

/// Why bytes or text are not an orb1 or orb2 signature.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The text is not standard padded base64.
    #[error("not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The bytes do not start with the `ORB` magic.
    #[error("not an orb1 or orb2 signature (no ORB header)")]
    NoHeader,
    /// A version this build does not read.
    #[error("signature of version {0}, expected 1 (orb1) or 2 (orb2)")]
    Version(u8),
    /// The frame is not [`FRAME`] pixels on its long side.
    #[error("signature frame {width}×{height} is not {FRAME} on its long side")]
    Frame {
        /// Its width.
        width: u16,
        /// Its height.
        height: u16,
    },
    /// More keypoints than a signature of its format holds.
    #[error("{found} keypoints, more than {}'s {}", .format.name(), .format.max_keypoints())]
    TooManyKeypoints {
        /// The signature's format.
        format: Format,
        /// The keypoints it counts.
        found: usize,
    },
    /// The length does not fit the keypoint count.
    #[error("{found} bytes for {keypoints} keypoints, expected {expected}")]
    Length {
        /// The bytes there are.
        found: usize,
        /// The keypoints the header counts.
        keypoints: usize,
        /// The bytes they take.
        expected: usize,
    },
    /// A keypoint lies outside the frame, or on a pyramid level there is not.
    #[error("keypoint {0} lies outside the frame or pyramid")]
    Keypoint(usize),
}

impl Signature {
    /// The signature's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + PER_KEYPOINT * self.len());
        out.extend_from_slice(b"ORB");
        out.push(self.format.version());
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
    pub fn from_bytes(bytes: &[u8]) -> Result<Signature, SignatureError> {
        let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        if bytes.len() < HEADER || &bytes[..3] != b"ORB" {
            return Err(SignatureError::NoHeader);
        }
        let format = Format::from_version(bytes[3]).ok_or(SignatureError::Version(bytes[3]))?;
        let (width, height, n) = (u16_at(4), u16_at(6), usize::from(u16_at(8)));
        let frame = FRAME as u16;
        if width.max(height) != frame || width.min(height) == 0 {
            return Err(SignatureError::Frame { width, height });
        }
        if n > format.max_keypoints() {
            return Err(SignatureError::TooManyKeypoints { format, found: n });
        }
        let expected = HEADER + PER_KEYPOINT * n;
        if bytes.len() != expected {
            return Err(SignatureError::Length { found: bytes.len(), keypoints: n, expected });
        }
        let mut keypoints = Vec::with_capacity(n);
        for at in (HEADER..HEADER + 5 * n).step_by(5) {
            let k = Keypoint { x: u16_at(at), y: u16_at(at + 2), level: bytes[at + 4] };
            if k.x >= 4 * width || k.y >= 4 * height || usize::from(k.level) >= LEVELS {
                return Err(SignatureError::Keypoint(keypoints.len()));
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
        Ok(Signature { format, width, height, keypoints, descriptors })
    }

    /// The base64 text of [`Signature::to_bytes`].
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.to_bytes())
    }

    /// Reads the text of [`Signature::to_base64`].
    pub fn from_base64(text: &str) -> Result<Signature, SignatureError> {
        Signature::from_bytes(&BASE64.decode(text)?)
    }
}
