//! Buckets as a source of files: `s3://`, `gs://`, `az://` (and `abfs://`), and `https://`
//! URLs among the paths a scan is given, and the objects S3 event notifications name.
//!
//! Owns telling a URL from a path ([`is_url`]), turning a URL into the objects under it in
//! key order ([`list`], applying the walk's [`Filter`] to keys and sizes before anything is
//! fetched), reading one object's bytes ([`read`]: the version that was listed, whole or as a
//! stream, never trusting a declared size), and fetching ahead of the workers with many
//! requests in flight under a cap on the bytes held ([`prefetch`]). Credentials and endpoints
//! come from the platform's environment as its CLI reads them; they never reach a report,
//! a log or an error's text. Must not write to a bucket, nor anything of an object to disk,
//! and must not decode or match: a read object is handed to the scan as bytes.
//!
//! Everything that talks to a store is in `client`, behind the `buckets` cargo feature;
//! without it a URL is an error that says so.

use std::path::Path;

use serde::Serialize;

use crate::error::FileError;
use crate::walk::{Candidate, Filter};

pub mod event;

#[cfg(feature = "buckets")]
mod client;
#[cfg(feature = "buckets")]
mod prefetch;

#[cfg(feature = "buckets")]
pub use prefetch::{prefetch, Prefetch};

/// The URL schemes read as buckets (or, for `http(s)`, as single objects).
const SCHEMES: [&str; 7] = ["s3", "gs", "az", "abfs", "abfss", "https", "http"];

/// Whether a path argument is a URL of an object store rather than a local path: it starts
/// with one of the schemes read here and `://` (a local folder cannot be named `s3:` and a
/// slash without `./` in front of it).
pub fn is_url(path: &Path) -> bool {
    let Some(text) = path.to_str() else { return false };
    text.split_once("://").is_some_and(|(scheme, _)| SCHEMES.contains(&scheme))
}

/// The version of an object that was read, as a report names it, so that a pipeline acts on
/// exactly what was screened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjectVersion {
    /// The ETag as the store gave it, quotes included (for a multipart upload it is not an
    /// MD5 of the content: never a hash to match).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The version id, in a versioned bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// When the object was last written (RFC 3339, UTC).
    pub last_modified: String,
    /// Its size in bytes, as the store declared it.
    #[serde(skip)]
    pub size: u64,
}

/// One object to screen: where it is, and the version the listing (or the event) saw.
#[derive(Clone, Debug)]
pub struct Object {
    /// The object's key, exactly as stored.
    pub key: String,
    /// What the listing saw; reading checks the object is still this version.
    pub listed: ObjectVersion,
    /// Whether the version id is to be asked for (an event names one): otherwise the latest
    /// version is read and checked against the listed ETag.
    pub pinned: bool,
    #[cfg(feature = "buckets")]
    store: client::Store,
    /// Where the prefetcher leaves the bytes, once [`prefetch`] has been started.
    #[cfg(feature = "buckets")]
    slot: Option<std::sync::Arc<prefetch::Slot>>,
}

impl PartialEq for Object {
    /// Objects compare by what they are, not by how they will be read.
    fn eq(&self, other: &Object) -> bool {
        (&self.key, &self.listed, self.pinned) == (&other.key, &other.listed, other.pinned)
    }
}

impl Eq for Object {}

/// An object's bytes as [`read`] hands them over.
pub enum Body {
    /// The whole object, at most [`HashOptions::max_file_size`](crate::scan::HashOptions)
    /// bytes.
    Held(Vec<u8>),
    /// A bigger object, as a stream to digest without holding it.
    Streamed(Box<dyn std::io::Read + Send>),
}

/// The objects `url` names, in key order, as the walk's candidates: an object's own URL for
/// a key that exists, else every object under it as a folder (`s3://bucket/photos` lists
/// `photos/…`). `filter` applies to the keys below that folder; a key already in `seen` is
/// not yielded again. A listing that fails (no such bucket, access denied, a dropped
/// connection) is an error candidate named by the URL, after the objects listed until then.
pub fn list(
    url: &str,
    filter: &Filter,
    seen: &mut std::collections::HashSet<String>,
) -> Vec<Candidate> {
    #[cfg(feature = "buckets")]
    return client::list(url, filter, seen);
    #[cfg(not(feature = "buckets"))]
    {
        let _ = (filter, seen);
        vec![not_built(url)]
    }
}

/// The objects the events name, at the versions they name, as candidates.
pub fn named(objects: &[event::EventObject]) -> Vec<Candidate> {
    #[cfg(feature = "buckets")]
    return client::named(objects);
    #[cfg(not(feature = "buckets"))]
    objects.iter().map(|o| not_built(&format!("s3://{}/{}", o.bucket, o.key))).collect()
}

/// The bytes of `object`: held whole up to `max_file_size`, a stream beyond. `Err` if the
/// object is gone, changed since it was listed, cannot be read with these credentials, or
/// came back shorter or longer than the store said.
pub fn read(object: &Object, max_file_size: u64) -> Result<(Body, ObjectVersion), FileError> {
    #[cfg(feature = "buckets")]
    return client::read(object, max_file_size);
    #[cfg(not(feature = "buckets"))]
    {
        let _ = (object, max_file_size);
        Err(not_built_error())
    }
}

#[cfg(not(feature = "buckets"))]
fn not_built(url: &str) -> Candidate {
    Candidate {
        path: url.into(),
        kind: crate::walk::CandidateKind::Error(not_built_error()),
        id: None,
    }
}

#[cfg(not(feature = "buckets"))]
fn not_built_error() -> FileError {
    FileError::new(
        crate::error::FileErrorKind::Unsupported { media_type: "bucket".into() },
        "this mediascreen was built without bucket support (the `buckets` cargo feature)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths_by_their_scheme() {
        for url in ["s3://b/k", "gs://b", "az://c/p", "abfss://c@a.dfs.core.windows.net/p"] {
            assert!(is_url(Path::new(url)), "{url}");
        }
        for path in ["s3:/b", "./s3://b", "photos", "ftp://host/x", "/abs/s3://x"] {
            assert!(!is_url(Path::new(path)), "{path}");
        }
    }
}
