//! Exact digests (MD5, SHA-1, SHA-256) of a file's raw bytes.
//!
//! Owns nothing but the digest arithmetic, all asked-for digests fed from the same bytes as
//! they are read ([`Digester`]): the caller hands in the bytes it reads for the decoder, or
//! streams a file too big to decode, so a file is read once. Must not open files or look at
//! content types: every file is digested whatever it is.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::{Algorithm, HashValue};

/// The digests asked for, computed together over bytes fed in pieces.
#[derive(Default)]
pub struct Digester {
    md5: Option<Md5>,
    sha1: Option<Sha1>,
    sha256: Option<Sha256>,
}

impl Digester {
    /// A digester for the digest algorithms among `algorithms` (others are ignored).
    pub fn new(algorithms: impl IntoIterator<Item = Algorithm>) -> Digester {
        let mut digester = Digester::default();
        for algorithm in algorithms {
            match algorithm {
                Algorithm::Md5 => digester.md5 = Some(Md5::new()),
                Algorithm::Sha1 => digester.sha1 = Some(Sha1::new()),
                Algorithm::Sha256 => digester.sha256 = Some(Sha256::new()),
                _ => {}
            }
        }
        digester
    }

    /// Feeds the next piece of the bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        // Piece by piece, every digest in turn, so that each piece is read from the CPU's
        // cache after the first digest rather than from memory three times.
        for piece in bytes.chunks(32 * 1024) {
            if let Some(d) = &mut self.md5 {
                d.update(piece);
            }
            if let Some(d) = &mut self.sha1 {
                d.update(piece);
            }
            if let Some(d) = &mut self.sha256 {
                d.update(piece);
            }
        }
    }

    /// The digests of everything fed, by algorithm.
    pub fn finish(self) -> Vec<(Algorithm, HashValue)> {
        let value = |bytes: &[u8]| HashValue::from_bytes(bytes.to_vec());
        let md5 = self.md5.map(|d| (Algorithm::Md5, value(&d.finalize())));
        let sha1 = self.sha1.map(|d| (Algorithm::Sha1, value(&d.finalize())));
        let sha256 = self.sha256.map(|d| (Algorithm::Sha256, value(&d.finalize())));
        [md5, sha1, sha256].into_iter().flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_gives_the_well_known_digests() {
        let digests = Digester::new(Algorithm::ALL).finish();
        let hex = |a| digests.iter().find(|(x, _)| *x == a).unwrap().1.to_hex();
        assert_eq!(hex(Algorithm::Md5), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(Algorithm::Sha1), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(Algorithm::Sha256),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(digests.len(), 3);
    }

    #[test]
    fn pieces_digest_as_the_whole() {
        let whole = b"the quick brown fox jumps over the lazy dog".repeat(100);
        let mut at_once = Digester::new([Algorithm::Md5, Algorithm::Sha256]);
        at_once.update(&whole);
        let mut pieces = Digester::new([Algorithm::Md5, Algorithm::Sha256]);
        for chunk in whole.chunks(7) {
            pieces.update(chunk);
        }
        assert_eq!(at_once.finish(), pieces.finish());
    }
}
