//! Matching one file's hashes against the loaded lists.
//!
//! Owns the matching policy: exact equality for digests, Hamming distance at or under a
//! per-algorithm threshold for perceptual hashes, the PDQ quality gate, and dihedral (rotated
//! and mirrored) PDQ matching. Returns at most one match per list entry, the closest, in a
//! fixed order. Must not read files or compute hashes, and must not decide what a match means
//! for the exit status: that is the caller's.

use std::collections::{BTreeMap, BTreeSet};

use crate::hash::pdq::Dihedral;
use crate::hash::{Algorithm, FileHashes};
use crate::hashlist::HashList;
use crate::index::{EntryRef, Index};

/// How matching is done. Defaults follow the reference implementations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchOptions {
    /// Inclusive Hamming-distance thresholds that override
    /// [`Algorithm::default_threshold`].
    pub thresholds: BTreeMap<Algorithm, u32>,
    /// Also match the 7 rotated and mirrored variants of each PDQ hash. On by default.
    pub rotations: bool,
    /// PDQ hashes of lower quality are not matched perceptually, as the reference advises:
    /// they come from flat or tiny images and match unrelated content. Default 50.
    pub pdq_min_quality: u8,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions { thresholds: BTreeMap::new(), rotations: true, pdq_min_quality: 50 }
    }
}

impl MatchOptions {
    /// The threshold in force for `algorithm` (0 for digests).
    pub fn threshold(&self, algorithm: Algorithm) -> u32 {
        if algorithm.is_digest() {
            return 0;
        }
        self.thresholds.get(&algorithm).copied().unwrap_or(algorithm.default_threshold())
    }
}

/// One list entry that a file matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    /// The algorithm that matched.
    pub algorithm: Algorithm,
    /// The entry matched.
    pub entry: EntryRef,
    /// Hamming distance (0 for digests).
    pub distance: u32,
    /// Threshold in force.
    pub threshold: u32,
    /// For PDQ, how the scanned file relates to the listed image: [`Dihedral::Rot90`] means
    /// the file is the listed image rotated 90° counter-clockwise; `Orig` means as listed.
    pub orientation: Option<Dihedral>,
}

/// What matching found for one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MatchResult {
    /// Matches, ordered by distance, then algorithm, then list, then entry.
    pub matches: Vec<Match>,
    /// Set when the file's PDQ quality was under the gate, so it was not matched by PDQ.
    pub pdq_below_quality: Option<u8>,
}

/// Loaded lists plus their index and the matching policy.
#[derive(Debug)]
pub struct Matcher {
    lists: Vec<HashList>,
    index: Index,
    options: MatchOptions,
}

impl Matcher {
    /// Indexes `lists` for matching under `options`.
    pub fn new(lists: Vec<HashList>, options: MatchOptions) -> Matcher {
        let index = Index::build(&lists);
        Matcher { lists, index, options }
    }

    /// The loaded lists, in the order given.
    pub fn lists(&self) -> &[HashList] {
        &self.lists
    }

    /// The matching policy.
    pub fn options(&self) -> &MatchOptions {
        &self.options
    }

    /// Algorithms that at least one loaded list has entries for: the only ones worth
    /// computing for a scan.
    pub fn algorithms(&self) -> BTreeSet<Algorithm> {
        self.lists.iter().flat_map(|l| l.entries.iter().map(|e| e.algorithm)).collect()
    }

    /// Matches one file's hashes against every list.
    pub fn match_hashes(&self, hashes: &FileHashes) -> MatchResult {
        // Keyed by entry so that an entry reached by several orientations is reported once,
        // at its closest; ties go to the earlier orientation (`orig` first).
        let mut best: BTreeMap<EntryRef, Match> = BTreeMap::new();
        let mut offer = |m: Match| {
            let keep = best.get(&m.entry).is_none_or(|old| m.distance < old.distance);
            if keep {
                best.insert(m.entry, m);
            }
        };

        for (&algorithm, value) in &hashes.values {
            let threshold = self.options.threshold(algorithm);
            if algorithm.is_digest() {
                for &entry in self.index.exact(algorithm, value) {
                    offer(Match { algorithm, entry, distance: 0, threshold, orientation: None });
                }
            } else {
                for (entry, distance) in self.index.within(algorithm, value, threshold) {
                    offer(Match { algorithm, entry, distance, threshold, orientation: None });
                }
            }
        }

        let mut pdq_below_quality = None;
        if let Some(pdq) = &hashes.pdq {
            if pdq.quality() < self.options.pdq_min_quality {
                pdq_below_quality = Some(pdq.quality());
            } else {
                let threshold = self.options.threshold(Algorithm::Pdq);
                let variants: &[Dihedral] =
                    if self.options.rotations { &Dihedral::ALL } else { &[Dihedral::Orig] };
                for &variant in variants {
                    let hash = pdq.dihedral(variant);
                    for (entry, distance) in self.index.within(Algorithm::Pdq, &hash, threshold) {
                        offer(Match {
                            algorithm: Algorithm::Pdq,
                            entry,
                            distance,
                            threshold,
                            // The variant that matched undoes the file's transformation.
                            orientation: Some(variant.inverse()),
                        });
                    }
                }
            }
        }

        let mut matches: Vec<Match> = best.into_values().collect();
        matches.sort_by_key(|m| (m.distance, m.algorithm, m.entry));
        MatchResult { matches, pdq_below_quality }
    }
}
