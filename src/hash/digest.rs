//! Exact digests (MD5, SHA-1, SHA-256) of a file's raw bytes.
//!
//! Owns nothing but the digest arithmetic: the caller hands in the bytes it already read for
//! the decoder, so a file is read once. Must not open files or look at content types: every
//! file is digested whatever it is.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::{Algorithm, HashValue};

/// The digest of `bytes` under `algorithm`, or `None` when `algorithm` is not a digest.
pub fn digest(algorithm: Algorithm, bytes: &[u8]) -> Option<HashValue> {
    let out: Vec<u8> = match algorithm {
        Algorithm::Md5 => Md5::digest(bytes).to_vec(),
        Algorithm::Sha1 => Sha1::digest(bytes).to_vec(),
        Algorithm::Sha256 => Sha256::digest(bytes).to_vec(),
        _ => return None,
    };
    Some(HashValue::from_bytes(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_gives_the_well_known_digests() {
        let hex = |a| digest(a, b"").unwrap().to_hex();
        assert_eq!(hex(Algorithm::Md5), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(Algorithm::Sha1), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(Algorithm::Sha256),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(digest(Algorithm::Pdq, b"").is_none());
    }
}
