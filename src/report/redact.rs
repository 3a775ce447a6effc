//! `--redact-paths`: file paths replaced by a keyed hash, for reports that leave the operator.
//!
//! Owns the redacted form of a path. A folder's name can itself say whose it is ("chat export
//! of …"), so shared reports carry `hmac-sha256:HEX` instead: the HMAC-SHA256, under the
//! operator's key, of the path's bytes as the scan would have reported them. Whoever holds the
//! key can find a file again (`printf %s PATH | openssl dgst -sha256 -hmac KEY`); whoever does
//! not cannot test guesses of the path. Must not be used for anything but paths: hashes of
//! content stay as they are, since they are what a report is for.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::outcome::FileReport;

/// The name of the redaction, as the report's `settings.path_redaction` gives it.
pub const ALGORITHM: &str = "hmac-sha256";

/// The operator's key for redacting paths.
#[derive(Clone)]
pub struct PathKey(Hmac<Sha256>);

impl PathKey {
    /// A key of any length; `None` for an empty key, which would protect nothing.
    pub fn new(key: &[u8]) -> Option<PathKey> {
        if key.is_empty() {
            return None;
        }
        Some(PathKey(Hmac::new_from_slice(key).expect("HMAC takes a key of any length")))
    }

    /// `hmac-sha256:` and the hex HMAC of the path's bytes.
    pub fn redact(&self, path: &Path) -> PathBuf {
        let mut mac = self.0.clone();
        mac.update(path.as_os_str().as_encoded_bytes());
        let hex = hex::encode(mac.finalize().into_bytes());
        PathBuf::from(format!("{ALGORITHM}:{hex}"))
    }

    /// `file` as a shared report may show it: its path redacted, each level of its archive
    /// chain by the path down to it (so members of one archive can still be grouped), and of
    /// its chat context only the app, message id and time (who sent it, to which chat, are
    /// names too).
    pub fn redact_file(&self, file: &mut FileReport) {
        file.path = self.redact(&file.path);
        let mut down_to = OsString::new();
        for (level, name) in file.chain.iter_mut().enumerate() {
            if level > 0 {
                down_to.push("!/");
            }
            down_to.push(&*name);
            *name = self.redact(Path::new(&down_to)).to_string_lossy().into_owned();
        }
        if let Some(context) = &mut file.context {
            (context.chat, context.sender, context.sender_id) = (None, None, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_their_keyed_hash() {
        let key = PathKey::new(b"key").unwrap();
        // RFC 4231-style check against an independent computation:
        // printf %s 'The quick brown fox jumps over the lazy dog' | openssl dgst -sha256 -hmac key
        assert_eq!(
            key.redact(Path::new("The quick brown fox jumps over the lazy dog")),
            PathBuf::from(
                "hmac-sha256:f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
            )
        );
        let other = PathKey::new(b"another key").unwrap();
        assert_ne!(key.redact(Path::new("a/b.jpg")), other.redact(Path::new("a/b.jpg")));
        assert!(PathKey::new(b"").is_none());
    }
}
