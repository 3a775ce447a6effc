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
//! and mirror images). Against a list much shorter than the store that costs the most, so
//! first each content's PDQ variants are asked only whether any listed hash is near: of a
//! short list through a [`NearFilter`], of a longer one (shorter than the variants stored)
//! by bucketing a chunk of stored variants and asking each listed hash once ([`near_any`]).
//! Only the contents found near are matched by PDQ, the rest by their other hashes, and
//! every match is still decided by the matcher, as in a scan.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::error::{FileError, FileErrorKind};
use crate::hash::{Algorithm, FileHashes};
use crate::index::{near_any, words, NearFilter};
use crate::matcher::{MatchResult, Matcher};
use crate::outcome::{FileReport, Outcome, Scan, Stage};
use crate::scan::{computed_algorithms, Observer};
use crate::store::{Recorded, RecordedContent, StoreError};

/// Contents matched per batch: enough to keep every core busy, few enough that a store of
/// millions is never held whole.
const BATCH: usize = 4096;

/// Stored PDQ variants sifted at a time: the chunk's contents wait in memory for it, and
/// against a long list each listed hash is asked once per chunk.
const CHUNK_VARIANTS: usize = 1 << 21;

/// Memory a [`NearFilter`] may take: about 45,000 listed hashes at PDQ's usual threshold.
const NEAR_FILTER_BYTES: usize = 128 << 20;

/// What matching one content found, kept only when it is not plainly clean.
#[derive(Clone)]
struct Found {
    result: MatchResult,
    error: Option<FileError>,
}

/// How contents' PDQ variants are first asked whether any listed hash is near, before the
/// matcher matches the ones that are.
enum Sift {
    /// Not at all: the matcher asks the list's index about every variant.
    Matcher,
    /// A short list, through its [`NearFilter`], a chunk of stored contents at a time (its
    /// buckets stay cached only while many hashes ask about one band).
    Near(NearFilter),
    /// A list shorter than the variants stored: chunks of them bucketed, each listed hash
    /// asked once per chunk ([`near_any`]).
    Chunks,
}

impl Sift {
    /// Whichever side is asked fewer times, cheapest first.
    fn choose(listed: &[[u64; 4]], stored_variants: usize, threshold: u32) -> Sift {
        if listed.is_empty() || listed.len() >= stored_variants {
            return Sift::Matcher;
        }
        if let Some(filter) = NearFilter::new(listed, threshold, NEAR_FILTER_BYTES) {
            return Sift::Near(filter);
        }
        match listed.len() < CHUNK_VARIANTS {
            true => Sift::Chunks,
            false => Sift::Matcher,
        }
    }

    /// Which of `chunk`'s contents have a PDQ variant (of those the matcher asks about)
    /// within the PDQ threshold of a `listed` hash.
    fn candidates(
        &self,
        chunk: &[(i64, FileHashes)],
        listed: &[[u64; 4]],
        matcher: &Matcher,
    ) -> Vec<bool> {
        let (variants, owners) = variants(chunk, matcher);
        let near = match self {
            Sift::Near(filter) => {
                let part = variants.len().div_ceil(rayon::current_num_threads()).max(1);
                variants.par_chunks(part).flat_map_iter(|v| filter.near(v)).collect()
            }
            // Too wide a threshold to probe: every content is asked by the matcher.
            _ => near_any(&variants, listed, matcher.options().threshold(Algorithm::Pdq))
                .unwrap_or_else(|| vec![true; variants.len()]),
        };
        let mut candidate = vec![false; chunk.len()];
        owners
            .iter()
            .zip(near)
            .filter(|(_, near)| *near)
            .for_each(|(&o, _)| candidate[o as usize] = true);
        candidate
    }
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
    let stored = recorded.contents.iter().filter(|(_, c)| c.result.is_some()).count();
    let listed = matcher.listed_wide(Algorithm::Pdq);
    let threshold = matcher.options().threshold(Algorithm::Pdq);
    let sift = Sift::choose(listed, stored * variants_per_content(matcher), threshold);
    rescreen_with(recorded, matcher, stop, observer, &sift)
}

/// PDQ variants the matcher asks about a picture: its rotations and mirror images, or itself.
fn variants_per_content(matcher: &Matcher) -> usize {
    matcher.options().pdq_transforms().len()
}

fn rescreen_with(
    recorded: &Recorded,
    matcher: &Matcher,
    stop: &AtomicBool,
    observer: &mut dyn Observer,
    sift: &Sift,
) -> Result<Scan, StoreError> {
    let needed = computed_algorithms(matcher);
    let listed = matcher.listed_wide(Algorithm::Pdq);
    let per_content = variants_per_content(matcher);
    let mut found: HashMap<i64, Found> = HashMap::new();
    let contents = &recorded.contents;
    let options = matcher.options();
    let match_all = |batch: Vec<(i64, FileHashes)>, pdq: Option<&[bool]>| -> Vec<(i64, Found)> {
        batch
            .into_par_iter()
            .enumerate()
            .filter_map(|(i, (id, mut hashes))| {
                let passes = (hashes.pdq.as_ref())
                    .is_some_and(|p| options.pdq_quality_passes(Some(p.quality())));
                // No listed PDQ hash is near any variant: only the other hashes are asked.
                if passes && pdq.is_some_and(|candidate| !candidate[i]) {
                    hashes.pdq = None;
                }
                matched(&contents[id], hashes, &needed, matcher).map(|f| (id, f))
            })
            .collect()
    };
    // The store is read on a thread of its own while the batches read before it are sifted
    // and matched on every core: reading is one core's work.
    // The reader may run about one chunk of pictures ahead of matching.
    let (sender, batches) = std::sync::mpsc::sync_channel(CHUNK_VARIANTS / per_content / BATCH);
    let wanted = &needed;
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            recorded.hashes(BATCH, wanted, |batch| {
                sender.send(batch).is_ok() && !stop.load(Ordering::Relaxed)
            })
        });
        let mut chunk: Vec<(i64, FileHashes)> = Vec::new();
        let mut variants = 0;
        for batch in batches {
            if matches!(sift, Sift::Matcher) {
                found.extend(match_all(batch, None));
                continue;
            }
            variants += batch.iter().filter(|(_, h)| h.pdq.is_some()).count() * per_content;
            chunk.extend(batch);
            if variants >= CHUNK_VARIANTS {
                let candidate = sift.candidates(&chunk, listed, matcher);
                found.extend(match_all(std::mem::take(&mut chunk), Some(&candidate)));
                variants = 0;
            }
        }
        if !chunk.is_empty() {
            let candidate = sift.candidates(&chunk, listed, matcher);
            found.extend(match_all(chunk, Some(&candidate)));
        }
        reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    observer.walked(recorded.files.len());
    let mut files = Vec::with_capacity(recorded.files.len());
    for file in &recorded.files {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let content = &recorded.contents[file.content];
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

/// The PDQ variants the matcher would ask about of each of `contents` (whose quality
/// passes), each with the position of its content.
fn variants(contents: &[(i64, FileHashes)], matcher: &Matcher) -> (Vec<[u64; 4]>, Vec<u32>) {
    let options = matcher.options();
    contents
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, (_, hashes))| {
            let pdq = hashes.pdq.as_ref().filter(|p| options.pdq_quality_passes(Some(p.quality())));
            let transforms = pdq.map_or(&[][..], |_| options.pdq_transforms());
            let pdq = pdq.into_iter().flat_map(|p| transforms.iter().map(|&d| p.dihedral_bytes(d)));
            pdq.map(move |bytes| (words::<4>(&bytes), i as u32))
        })
        .unzip()
}

/// One content's matches and what kept it from being fully screened; `None` when it is
/// simply clean.
fn matched(
    content: &RecordedContent,
    hashes: FileHashes,
    needed: &BTreeSet<Algorithm>,
    matcher: &Matcher,
) -> Option<Found> {
    let result = content.result.as_ref()?;
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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::{Path, PathBuf};

    use sha2::Digest;

    use super::*;
    use crate::hash::pdq::{Dihedral, PdqFeatures};
    use crate::hash::HashValue;
    use crate::hashlist::{HashList, LoadOptions};
    use crate::matcher::MatchOptions;
    use crate::store::{Store, Stored};

    struct Quiet;
    impl Observer for Quiet {}

    fn next(seed: &mut u64) -> u64 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        *seed >> 33
    }

    fn features(seed: &mut u64) -> PdqFeatures {
        let mut bytes = vec![100u8];
        for _ in 0..256 {
            let c = (next(seed) % 20_000) as f32 / 100.0 - 100.0;
            bytes.extend_from_slice(&c.to_le_bytes());
        }
        PdqFeatures::from_bytes(&bytes).expect("a quality byte and 256 coefficients")
    }

    /// `hash` with `bits` of its leading bits flipped: within PDQ's threshold for `bits` ≤ 31,
    /// packed into as few bands as it can be.
    fn near(hash: &HashValue, bits: usize) -> String {
        let mut bytes = hash.as_bytes().to_vec();
        (0..bits).for_each(|k| bytes[k / 8] ^= 0x80 >> (k % 8));
        hex::encode(bytes)
    }

    /// The same report whichever way the PDQ variants are sifted: every near copy of a stored
    /// content's hash, as stored or rotated, flagged, and nothing else.
    #[test]
    fn every_sift_flags_the_same_files() {
        let dir = tempfile::tempdir().unwrap();
        let store_path = dir.path().join("audit.db");
        let store = Store::for_scan(&store_path, &[], |_| "test setup".into()).unwrap();
        let algorithms: BTreeSet<Algorithm> = [Algorithm::Pdq, Algorithm::Sha256].into();
        let mut seed = 9;
        let mut list = String::from("algorithm,hash\n");
        let mut expected = Vec::new();
        for n in 0..400u32 {
            let path = PathBuf::from(format!("/audit/{n:03}.jpg"));
            let sha256 = HashValue::from_bytes(sha2::Sha256::digest(n.to_le_bytes()).to_vec());
            let pdq = features(&mut seed);
            // Listed: near copies of some contents' hashes, as stored and as rotated.
            let listed = match n % 40 {
                0 => Some(near(&pdq.hash(), 31)),
                1 => Some(near(&pdq.dihedral(Dihedral::Rot90), 12)),
                _ => None,
            };
            if let Some(hash) = listed {
                list.push_str(&format!("pdq,{hash}\n"));
                expected.push(path.clone());
            }
            let mut hashes = FileHashes { size: 1, pdq: Some(pdq), ..FileHashes::default() };
            hashes.values.insert(Algorithm::Sha256, sha256.clone());
            let stored = Stored { media_type: "image/jpeg", hashes, error: None };
            store.record(&path, None, &sha256, 1, Some((&algorithms, stored)));
        }
        for _ in 0..50 {
            list.push_str(&format!("pdq,{}\n", hex::encode(features(&mut seed).hash().as_bytes())));
        }
        store.finish().unwrap();
        let list_path = dir.path().join("list.csv");
        std::fs::File::create(&list_path).unwrap().write_all(list.as_bytes()).unwrap();
        let list = HashList::load(&list_path, &LoadOptions::default()).unwrap();
        let matcher = Matcher::new(vec![list], MatchOptions::default()).unwrap();
        let listed = matcher.listed_wide(Algorithm::Pdq);
        let recorded = Recorded::read(&store_path).unwrap();
        let filter = NearFilter::new(listed, 31, usize::MAX).unwrap();
        for sift in [Sift::Matcher, Sift::Near(filter), Sift::Chunks] {
            let stop = AtomicBool::new(false);
            let scan = rescreen_with(&recorded, &matcher, &stop, &mut Quiet, &sift).unwrap();
            let flagged: Vec<&Path> = (scan.files.iter())
                .filter(|f| matches!(&f.outcome, Outcome::Scanned { result, .. } if !result.matches.is_empty()))
                .map(|f| f.path.as_path())
                .collect();
            assert_eq!(flagged, expected, "every near copy flagged, nothing else");
        }
    }
}
