//! Hash algorithms and hash values.
//!
//! Owns the names of the algorithms mediascreen knows ([`Algorithm`]), the value type every
//! hash is carried in ([`HashValue`]: bytes in the order their hex string is written), and the
//! per-family implementations in the submodules. It must not read files or decode images or
//! video: callers hand it bytes ([`digest`]), decoded pixels ([`pdq`], [`classic`], [`orb1`])
//! or hashed video frames ([`vpdq`]).

pub mod classic;
pub mod digest;
pub mod orb1;
pub mod pdq;
pub mod vpdq;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use self::pdq::PdqFeatures;
use self::vpdq::VideoHash;

/// A hash algorithm that can appear in a hash list or be computed by `mediascreen hash`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    /// Meta's 256-bit PDQ image hash.
    Pdq,
    /// PDQ of sampled video frames (see [`vpdq`]); lists carry one row per frame, the rows of
    /// one video sharing an id.
    Vpdq,
    /// 64-bit DCT hash, hex-compatible with Python imagehash's `phash`.
    Phash,
    /// 64-bit difference hash, hex-compatible with Python imagehash's `dhash`.
    Dhash,
    /// 64-bit average hash, hex-compatible with Python imagehash's `average_hash`.
    Ahash,
    /// MD5 of the file's bytes.
    Md5,
    /// SHA-1 of the file's bytes.
    Sha1,
    /// SHA-256 of the file's bytes.
    Sha256,
    /// Keypoints and their descriptors ([`orb1`]), matched geometrically so that crops of a
    /// listed image match. Lists carry the whole signature; its SHA-256 stands for it in the
    /// index and in reports.
    Orb1,
    /// `orb1`'s recipe with fewer keypoints ([`orb1::Format::Orb2`]), for lists that must
    /// hold less: matched against the scanned picture's `orb1` signatures.
    Orb2,
}

impl Algorithm {
    /// Every algorithm, in the order used for output.
    pub const ALL: [Algorithm; 10] = [
        Algorithm::Pdq,
        Algorithm::Vpdq,
        Algorithm::Phash,
        Algorithm::Dhash,
        Algorithm::Ahash,
        Algorithm::Md5,
        Algorithm::Sha1,
        Algorithm::Sha256,
        Algorithm::Orb1,
        Algorithm::Orb2,
    ];

    /// The canonical lower-case name used in lists, reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Pdq => "pdq",
            Algorithm::Vpdq => "vpdq",
            Algorithm::Phash => "phash",
            Algorithm::Dhash => "dhash",
            Algorithm::Ahash => "ahash",
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Orb1 => "orb1",
            Algorithm::Orb2 => "orb2",
        }
    }

    /// Length of the hash in bytes (for `orb1` and `orb2`, of the SHA-256 that identifies a
    /// signature).
    pub fn byte_len(self) -> usize {
        match self {
            Algorithm::Pdq | Algorithm::Vpdq | Algorithm::Sha256 => 32,
            Algorithm::Orb1 | Algorithm::Orb2 => 32,
            Algorithm::Phash | Algorithm::Dhash | Algorithm::Ahash => 8,
            Algorithm::Md5 => 16,
            Algorithm::Sha1 => 20,
        }
    }

    /// Returns true if and only if this algorithm is matched by Hamming distance rather than
    /// by equality.
    pub fn is_perceptual(self) -> bool {
        matches!(
            self,
            Algorithm::Pdq
                | Algorithm::Vpdq
                | Algorithm::Phash
                | Algorithm::Dhash
                | Algorithm::Ahash
        )
    }

    /// The keypoint signature format, for `orb1` and `orb2`: listed as whole signatures and
    /// matched geometrically, by [`orb1::verify`].
    pub fn keypoint_format(self) -> Option<orb1::Format> {
        match self {
            Algorithm::Orb1 => Some(orb1::Format::Orb1),
            Algorithm::Orb2 => Some(orb1::Format::Orb2),
            _ => None,
        }
    }

    /// Returns true if and only if this is a cryptographic digest of the raw file bytes.
    pub fn is_digest(self) -> bool {
        matches!(self, Algorithm::Md5 | Algorithm::Sha1 | Algorithm::Sha256)
    }

    /// The default Hamming-distance threshold (inclusive) for perceptual algorithms: PDQ's
    /// reference "confident match" of 31, and 8 of 64 bits for the imagehash family.
    pub const fn default_threshold(self) -> u32 {
        match self {
            Algorithm::Pdq | Algorithm::Vpdq => 31,
            Algorithm::Phash | Algorithm::Dhash | Algorithm::Ahash => 8,
            Algorithm::Md5 | Algorithm::Sha1 | Algorithm::Sha256 => 0,
            Algorithm::Orb1 | Algorithm::Orb2 => 0,
        }
    }
}

impl From<orb1::Format> for Algorithm {
    fn from(format: orb1::Format) -> Algorithm {
        match format {
            orb1::Format::Orb1 => Algorithm::Orb1,
            orb1::Format::Orb2 => Algorithm::Orb2,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Algorithm {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// The error returned when an algorithm name is not recognised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown algorithm {0:?} (known: pdq, vpdq, phash, dhash, ahash, md5, sha1, sha256, orb1, orb2)")]
pub struct UnknownAlgorithm(pub String);

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Case-insensitive; accepts the spellings lists commonly use (`md-5`, `sha-256`, …).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Lists repeat the canonical spelling millions of times; skip the folding for it.
        if let Some(&algorithm) = Algorithm::ALL.iter().find(|a| a.name() == s) {
            return Ok(algorithm);
        }
        let folded: String = s.trim().chars().filter(|c| !matches!(c, '-' | '_')).collect();
        Ok(match folded.to_ascii_lowercase().as_str() {
            "pdq" => Algorithm::Pdq,
            "vpdq" => Algorithm::Vpdq,
            "phash" => Algorithm::Phash,
            "dhash" => Algorithm::Dhash,
            "ahash" | "averagehash" => Algorithm::Ahash,
            "md5" => Algorithm::Md5,
            "sha1" => Algorithm::Sha1,
            "sha256" => Algorithm::Sha256,
            "orb1" => Algorithm::Orb1,
            "orb2" => Algorithm::Orb2,
            _ => return Err(UnknownAlgorithm(s.trim().to_string())),
        })
    }
}

/// A hash value: its bytes in the order its hex string is written (big-endian), so
/// `to_hex` round-trips the hex that lists carry and equality is plain byte equality.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HashValue(Box<[u8]>);

/// Why a hex string is not a valid hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// The string has the wrong number of hex digits for the algorithm.
    #[error("expected {expected} hex digits for {algorithm}, found {found}")]
    Length {
        /// Algorithm the hash was read for.
        algorithm: Algorithm,
        /// Hex digits the algorithm needs.
        expected: usize,
        /// Characters found.
        found: usize,
    },
    /// A character is not a hex digit.
    #[error("{0:?} is not a hex digit")]
    Digit(char),
}

impl HashValue {
    /// Wraps bytes given in hex order.
    pub fn from_bytes(bytes: impl Into<Box<[u8]>>) -> HashValue {
        HashValue(bytes.into())
    }

    /// Parses hex (either case) of exactly the algorithm's length.
    pub fn from_hex(algorithm: Algorithm, hex: &str) -> Result<HashValue, HexError> {
        let expected = algorithm.byte_len() * 2;
        if hex.len() != expected {
            return Err(HexError::Length { algorithm, expected, found: hex.chars().count() });
        }
        let mut bytes = vec![0u8; expected / 2];
        if hex::decode_to_slice(hex, &mut bytes).is_err() {
            let bad = hex.chars().find(|c| !c.is_ascii_hexdigit()).unwrap_or('?');
            return Err(HexError::Digit(bad));
        }
        Ok(HashValue(bytes.into()))
    }

    /// The bytes, in hex order.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// Number of differing bits. Both values must have the same length.
    pub fn distance(&self, other: &HashValue) -> u32 {
        debug_assert_eq!(self.0.len(), other.0.len());
        self.0.iter().zip(other.0.iter()).map(|(a, b)| (a ^ b).count_ones()).sum()
    }

    /// Number of set bits.
    pub fn count_ones(&self) -> u32 {
        self.0.iter().map(|b| b.count_ones()).sum()
    }
}

impl fmt::Debug for HashValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HashValue({})", self.to_hex())
    }
}

impl fmt::Display for HashValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Everything computed for one file: what the matcher and `mediascreen hash` consume.
#[derive(Debug, Default)]
pub struct FileHashes {
    /// The file's size in bytes (some lists pin it alongside a digest).
    pub size: u64,
    /// Digests and 64-bit perceptual hashes, by algorithm.
    pub values: BTreeMap<Algorithm, HashValue>,
    /// PDQ features, kept whole so that dihedral variants can be derived on demand.
    pub pdq: Option<PdqFeatures>,
    /// The sampled frames of a video or animation, when PDQ or vPDQ was asked for.
    pub video: Option<VideoHash>,
    /// The image's `orb1` signatures, as given and mirrored, when orb1 was asked for (or
    /// orb2 lists are matched).
    pub orb1: Option<orb1::Features>,
    /// The image's `orb2` signature, when orb2 was asked for (to list it).
    pub orb2: Option<orb1::Signature>,
}

impl FileHashes {
    /// The signature in `format` that a list made from this file carries, if it was made.
    pub fn listed_signature(&self, format: orb1::Format) -> Option<&orb1::Signature> {
        match format {
            orb1::Format::Orb1 => self.orb1.as_ref().map(|features| &features.signature),
            orb1::Format::Orb2 => self.orb2.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_round_trip_and_fold_case() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.name().parse::<Algorithm>().unwrap(), alg);
        }
        assert_eq!("SHA-256".parse::<Algorithm>().unwrap(), Algorithm::Sha256);
        assert_eq!(" PDQ ".parse::<Algorithm>().unwrap(), Algorithm::Pdq);
        assert!("pdna".parse::<Algorithm>().is_err());
    }

    #[test]
    fn hex_round_trips_and_is_validated() {
        let h = HashValue::from_hex(Algorithm::Phash, "ACa29c1c33dc23d7").unwrap();
        assert_eq!(h.to_hex(), "aca29c1c33dc23d7");
        assert!(matches!(
            HashValue::from_hex(Algorithm::Phash, "aca29c1c33dc23"),
            Err(HexError::Length { expected: 16, found: 14, .. })
        ));
        assert_eq!(
            HashValue::from_hex(Algorithm::Phash, "aca29c1c33dc23zz"),
            Err(HexError::Digit('z'))
        );
    }

    #[test]
    fn distance_counts_differing_bits() {
        let a = HashValue::from_hex(Algorithm::Phash, "0000000000000000").unwrap();
        let b = HashValue::from_hex(Algorithm::Phash, "ff00000000000001").unwrap();
        assert_eq!(a.distance(&b), 9);
        assert_eq!(b.count_ones(), 9);
    }
}
