//! One file of a scan with a hash store (`--store`): a file whose identity the store
//! recorded unchanged is not opened, a known content is read for its SHA-256 and not decoded,
//! and what is computed is recorded.
//!
//! Owns the order of those steps; the store owns when a stored result may stand in. A bucket
//! object is read each time and recorded by its URL; a known content of one is not decoded.
//! Archives are screened as without a store (their members are decoded again), and only the
//! archive itself is recorded. Must not change what the report says of a file, apart
//! from [`FileReport::from_store`].

use std::collections::BTreeSet;
use std::sync::Arc;

use sha2::Digest;

use super::{
    hash_bytes, read_candidate, read_object, scanned, screen_contents, Contents, HashedFile,
    Screened,
};
use crate::archive;
use crate::bucket::ObjectVersion;
use crate::hash::{Algorithm, HashValue};
use crate::matcher::Matcher;
use crate::options::HashOptions;
use crate::outcome::{FileReport, FromStore, Outcome};
use crate::sniff::sniff;
use crate::store::{Identity, Store, Stored};
use crate::walk::{Candidate, CandidateKind};

/// [`super::scan_one`] with `store`.
pub(super) fn scan_one(
    candidate: &Candidate,
    algorithms: &BTreeSet<Algorithm>,
    matcher: &Matcher,
    options: &HashOptions,
    store: &Store,
) -> Screened {
    let (contents, identity, version) = match &candidate.kind {
        CandidateKind::File => {
            let identity = identity(candidate);
            if let Some(identity) = &identity {
                if let Some(stored) = store.unchanged(&candidate.path, identity, algorithms) {
                    return from_store(candidate, stored, matcher, FromStore::Unchanged, None);
                }
            }
            (read_candidate(candidate, algorithms, options), identity, None)
        }
        // An object is read each time (its ETag is not kept yet); a known content is not
        // decoded again.
        CandidateKind::Object(object) => match read_object(object, algorithms, options) {
            Ok((contents, version)) => (Ok(contents), None, Some(Box::new(version))),
            Err(error) => (Err(error), None, Some(Box::new(object.listed.clone()))),
        },
        _ => return super::scan_one(candidate, algorithms, matcher, options),
    };
    let bytes = match contents {
        Ok(Contents::Held(bytes)) if archive::format(sniff(&bytes).media_type).is_none() => bytes,
        other => {
            let mut screened = screen_contents(candidate, other, algorithms, matcher, options);
            if let Some(Outcome::Scanned { sha256, size, .. }) =
                screened.files.first().map(|f| &f.outcome)
            {
                store.record(&candidate.path, identity, sha256, *size, None);
            }
            screened.files[0].object = version;
            return screened;
        }
    };
    let sha256 = HashValue::from_bytes(sha2::Sha256::digest(&bytes).to_vec());
    if let Some(stored) = store.known_content(&sha256, algorithms) {
        store.record(&candidate.path, identity, &sha256, bytes.len() as u64, None);
        return from_store(candidate, stored, matcher, FromStore::Content, version);
    }
    let hashed = hash_bytes(Arc::new(bytes), algorithms, options);
    let mut report = FileReport::new(candidate.path.clone(), scanned(&hashed, matcher));
    report.object = version;
    let size = hashed.hashes.size;
    let computed = Stored::keepable(hashed.perceptual_error.as_ref()).then_some(Stored {
        media_type: hashed.media_type,
        hashes: hashed.hashes,
        error: hashed.perceptual_error,
    });
    store.record(&candidate.path, identity, &sha256, size, computed.map(|c| (algorithms, c)));
    Screened::one(report)
}

/// The identity of the file the walk found as `candidate`, as the walk saw it: a file changed
/// since is read, and recorded, as it is by then; the next scan sees the change.
fn identity(candidate: &Candidate) -> Option<Identity> {
    candidate.id.map(|id| Identity {
        device: id.dev,
        inode: id.ino,
        size: id.size,
        mtime_ns: id.mtime_ns,
        ctime_ns: id.ctime_ns,
    })
}

/// The report of a file whose hashes came from the store.
fn from_store(
    candidate: &Candidate,
    stored: Stored,
    matcher: &Matcher,
    how: FromStore,
    object: Option<Box<ObjectVersion>>,
) -> Screened {
    let file = HashedFile {
        media_type: stored.media_type,
        hashes: stored.hashes,
        perceptual_error: stored.error,
    };
    let mut report = FileReport::new(candidate.path.clone(), scanned(&file, matcher));
    report.from_store = Some(how);
    report.object = object;
    Screened::one(report)
}
