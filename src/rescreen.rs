//! `rescreen`: matching every file a hash store recorded against today's lists, from the
//! hashes it kept, without touching the files ("did we ever see anything on the new list?").
//!
//! Owns turning a store's records into the same per-file outcomes a scan gives, so the usual
//! report is built from them: each content matched once (copies share it), on every core, in
//! batches as the store streams them. A file whose stored hashes lack an algorithm the lists
//! need is an error (`not_in_store`), never clean. Must not read, stat or decode a recorded
//! file, and must not write to the store.
//!
//! A scan asks the list's index about each file: eight PDQ queries a picture (its rotations
//! and mirror images). Against a list shorter than the store that is backwards, so the PDQ
//! variants of a chunk of stored contents are indexed instead and each listed hash asked
//! once (`candidates`); only the contents it finds are matched by PDQ, the rest by their
//! other hashes, and every match is still decided by the matcher, as in a scan.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::error::{FileError, FileErrorKind};
use crate::hash::{Algorithm, FileHashes};
use crate::index::{words, Mih};
use crate::matcher::{MatchResult, Matcher};
use crate::outcome::{FileReport, Outcome, Scan, Stage};
use crate::scan::{computed_algorithms, Observer};
use crate::store::{Recorded, RecordedContent, StoreError};

/// Contents matched per batch: enough to keep every core busy, few enough that a store of
/// millions is never held whole.
const BATCH: usize = 4096;

/// Stored PDQ variants indexed at a time when the list is the smaller side: the index of
/// 2M hashes takes about 200 MB, and each listed hash is asked once per chunk.
const CHUNK_VARIANTS: usize = 1 << 21;

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
    let listed = matcher.listed_wide(Algorithm::Pdq);
    // Whichever side is asked fewer times: each query costs about the same either way.
    let per_content = if matcher.options().rotations { 8 } else { 1 };
    let stored = recorded.contents.values().filter(|c| c.result.is_some()).count() * per_content;
    let reverse = !listed.is_empty() && listed.len() < stored.min(CHUNK_VARIANTS);
    let mut found: HashMap<i64, Found> = HashMap::new();
    let contents = &recorded.contents;
    let match_all = |batch: Vec<(i64, FileHashes)>, pdq: Option<&[bool]>| -> Vec<(i64, Found)> {
        batch
            .into_par_iter()
            .enumerate()
            .filter_map(|(i, (id, mut hashes))| {
                let passes = hashes
                    .pdq
                    .as_ref()
                    .is_some_and(|p| matcher.options().pdq_quality_passes(Some(p.quality())));
                // No listed PDQ hash is near any variant: only the other hashes are asked.
                if passes && pdq.is_some_and(|candidate| !candidate[i]) {
                    hashes.pdq = None;
                }
                matched(&contents[&id], hashes, &needed, matcher).map(|f| (id, f))
            })
            .collect()
    };
    let mut chunk: Vec<(i64, FileHashes)> = Vec::new();
    let mut variants = 0;
    recorded.hashes(BATCH, |batch| {
        if !reverse {
            found.extend(match_all(batch, None));
        } else {
            variants += batch.iter().filter(|(_, h)| h.pdq.is_some()).count() * per_content;
            chunk.extend(batch);
            if variants >= CHUNK_VARIANTS {
                let candidate = candidates(&chunk, listed, matcher);
                found.extend(match_all(std::mem::take(&mut chunk), Some(&candidate)));
                variants = 0;
            }
        }
        !stop.load(Ordering::Relaxed)
    })?;
    if !chunk.is_empty() {
        let candidate = candidates(&chunk, listed, matcher);
        found.extend(match_all(chunk, Some(&candidate)));
    }
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

/// Which of `chunk`'s contents have a PDQ variant (of those the matcher asks about) within
/// the PDQ threshold of a `listed` hash: the stored variants indexed, each listed hash asked.
fn candidates(chunk: &[(i64, FileHashes)], listed: &[[u64; 4]], matcher: &Matcher) -> Vec<bool> {
    let options = matcher.options();
    let mut pairs: Vec<([u64; 4], u32)> = chunk
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, (_, hashes))| {
            let pdq = hashes.pdq.as_ref().filter(|p| options.pdq_quality_passes(Some(p.quality())));
            let variants = pdq.map(|p| options.pdq_variants(p)).unwrap_or_default();
            variants.into_iter().map(move |(hash, _)| (words::<4>(hash.as_bytes()), i as u32))
        })
        .collect();
    pairs.par_sort_unstable();
    // Distinct hashes for the index; `owners[starts[k]..starts[k + 1]]` hold hash k.
    let mut distinct: Vec<[u64; 4]> = Vec::new();
    let mut starts: Vec<u32> = Vec::new();
    for (n, (hash, _)) in pairs.iter().enumerate() {
        if distinct.last() != Some(hash) {
            distinct.push(*hash);
            starts.push(n as u32);
        }
    }
    starts.push(pairs.len() as u32);
    let index = Mih::new(distinct);
    let threshold = options.threshold(Algorithm::Pdq);
    let hits: Vec<u32> = listed
        .par_iter()
        .flat_map_iter(|query| {
            let mut out = Vec::new();
            index.search(query, threshold, &mut out);
            out.into_iter().map(|(id, _)| id)
        })
        .collect();
    let mut candidate = vec![false; chunk.len()];
    for id in hits {
        let owners = &pairs[starts[id as usize] as usize..starts[id as usize + 1] as usize];
        owners.iter().for_each(|&(_, owner)| candidate[owner as usize] = true);
    }
    candidate
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
