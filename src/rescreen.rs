//! `rescreen`: matching every file a hash store recorded against today's lists, from the
//! hashes it kept, without touching the files ("did we ever see anything on the new list?").
//!
//! Owns turning a store's records into the same per-file outcomes a scan gives, so the usual
//! report is built from them: each content matched once (copies share it), on every core, in
//! batches as the store streams them. A file whose stored hashes lack an algorithm the lists
//! need is an error (`not_in_store`), never clean. Must not read, stat or decode a recorded
//! file, and must not write to the store.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::error::{FileError, FileErrorKind};
use crate::hash::{Algorithm, FileHashes};
use crate::matcher::{MatchResult, Matcher};
use crate::outcome::{FileReport, Outcome, Scan, Stage};
use crate::scan::{computed_algorithms, Observer};
use crate::store::{Recorded, RecordedContent, StoreError};

/// Contents matched per batch: enough to keep every core busy, few enough that a store of
/// millions is never held whole.
const BATCH: usize = 4096;

/// What matching one content found, kept only when it is not plainly clean.
#[derive(Clone)]
struct Found {
    result: MatchResult,
    error: Option<FileError>,
}

/// Matches every file `recorded` holds against `matcher`, telling `observer` of each in path
/// order, and applies the flood guard over them all. Stops early once `stop` is set (the
/// files not reached are counted in [`Scan::not_scanned`]).
pub fn rescreen(
    recorded: &Recorded,
    matcher: &Matcher,
    stop: &AtomicBool,
    observer: &mut dyn Observer,
) -> Result<Scan, StoreError> {
    let needed = computed_algorithms(matcher);
    let mut found: HashMap<i64, Found> = HashMap::new();
    let contents = &recorded.contents;
    recorded.hashes(BATCH, |batch| {
        let results: Vec<(i64, Found)> = batch
            .into_par_iter()
            .filter_map(|(id, hashes)| {
                matched(&contents[&id], hashes, &needed, matcher).map(|f| (id, f))
            })
            .collect();
        found.extend(results);
        !stop.load(Ordering::Relaxed)
    })?;
    observer.walked(recorded.files.len());
    let mut files = Vec::with_capacity(recorded.files.len());
    for file in &recorded.files {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let content = &recorded.contents[&file.content];
        let outcome = match &content.result {
            Some(result) => {
                let found = found.get(&file.content).cloned();
                let found = found.unwrap_or(Found { result: MatchResult::default(), error: None });
                Outcome::Scanned {
                    size: content.size,
                    media_type: result.media_type,
                    sha256: content.sha256.clone(),
                    result: found.result,
                    perceptual_error: found.error,
                }
            }
            None => Outcome::Error {
                stage: Stage::Read,
                error: FileError::new(
                    FileErrorKind::NotInStore,
                    "the store kept only its SHA-256 (an archive, whose members only a scan \
                     screens; a file too big to hold; or one its last scan could not hash): \
                     scan it again",
                ),
            },
        };
        let mut report = FileReport::new(file.path.clone(), outcome);
        observer.file(&mut report);
        files.push(report);
    }
    let not_scanned = recorded.files.len() - files.len();
    let screened = files.iter().filter(|f| matches!(f.outcome, Outcome::Scanned { .. })).count();
    let results = files.iter_mut().filter_map(|file| match &mut file.outcome {
        Outcome::Scanned { sha256, result, .. } if !result.matches.is_empty() => {
            Some((&*sha256, result))
        }
        _ => None,
    });
    let floods = matcher.flood_guard(results, screened);
    Ok(Scan { files, algorithms: needed, floods, not_scanned })
}

/// One content's matches and what kept it from being fully screened; `None` when it is
/// simply clean.
fn matched(
    content: &RecordedContent,
    mut hashes: FileHashes,
    needed: &BTreeSet<Algorithm>,
    matcher: &Matcher,
) -> Option<Found> {
    let result = content.result.as_ref()?;
    hashes.values.entry(Algorithm::Sha256).or_insert_with(|| content.sha256.clone());
    let missing: Vec<&str> = needed
        .iter()
        .filter(|a| **a != Algorithm::Sha256 && !result.algorithms.contains(a))
        .map(|a| a.name())
        .collect();
    let error = result.error.clone().or_else(|| {
        (!missing.is_empty()).then(|| {
            let made: Vec<&str> = result.algorithms.iter().map(|a| a.name()).collect();
            FileError::new(
                FileErrorKind::NotInStore,
                format!(
                    "the store has no {} hash of it (its last scan made {}): not screened by \
                     {}; scan it again with --store to add them",
                    missing.join(", "),
                    made.join(", "),
                    if missing.len() == 1 { "that algorithm" } else { "those algorithms" },
                ),
            )
        })
    });
    let result = matcher.match_hashes(&hashes);
    let clean = result == MatchResult::default() && error.is_none();
    (!clean).then_some(Found { result, error })
}
