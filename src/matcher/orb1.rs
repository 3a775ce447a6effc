//! Matching a scanned image's `orb1` signatures against the listed `orb1` and `orb2` ones.
//!
//! Owns the listed signatures (decoded once, each distinct signature kept once with every
//! entry carrying it), which of them are verified for a query — the candidates that
//! [`crate::index::keypoints`] votes for, at every list size above [`CANDIDATES`]. Whether a
//! query matches one listed signature (as given or mirrored) is [`super::rule`]'s decision.
//! Must not decode or hash.

use std::collections::BTreeMap;

use super::{rule, Match, Matcher};
use crate::hash::orb1::verify::{self, Comparison};
use crate::hash::orb1::{Features, Signature};
use crate::hash::pdq::Dihedral;
use crate::hash::{Algorithm, HashValue};
use crate::index::keypoints::{self, Candidates};
use crate::index::{EntryRef, ListedHashes};

/// Listed signatures verified per query orientation: the index's best voted, or every one of
/// a list that has no more. A verification costs far more than making the query's signatures,
/// so even a list of a few dozen is not verified whole (`scripts/orb_eval.sh` checks that the
/// votes keep the right photo among them: its scan recall).
pub const CANDIDATES: usize = 8;

/// Once a listed signature is confirmed, candidates with fewer votes than this share
/// (numerator, denominator) of its votes are not verified. The right photo is nearly always
/// the most voted candidate of the orientation that matches (docs/performance.md, orb1), so a
/// copy is settled in a few verifications instead of up to 32 (both orientations of up to 16
/// candidates), with the same copies found and no wrong match (`scripts/orb_eval.sh`). A
/// second listing of the same picture, voted alike, is still verified; a query that matches
/// nothing is verified against each orientation's candidates in that orientation only (up to
/// 16).
pub const MATCHED_SHARE: (u64, u64) = (1, 2);

/// The distinct orb1 and orb2 signatures of the lists.
pub(super) struct ListedSignatures {
    signatures: Vec<Signature>,
    /// SHA-256 of each signature's bytes: its name in matches and reports.
    ids: Vec<HashValue>,
    /// Every entry carrying each signature, in list order.
    sources: Vec<Vec<EntryRef>>,
    /// Present when there are more than [`CANDIDATES`] signatures.
    candidates: Option<Candidates>,
}

/// A listed signature that a query matched.
pub(super) struct Hit<'a> {
    /// `orb1` or `orb2`: the listed signature's.
    pub algorithm: Algorithm,
    pub id: &'a HashValue,
    pub sources: &'a [EntryRef],
    pub comparison: Comparison,
    /// Whether it was the mirrored query that matched.
    pub mirrored: bool,
}

impl ListedSignatures {
    /// Decodes the orb1 and orb2 signatures that `hashes` holds, each distinct one once, taking
    /// their bytes out of it.
    pub(super) fn new(hashes: &mut ListedHashes) -> ListedSignatures {
        let mut by_id: BTreeMap<HashValue, usize> = BTreeMap::new();
        let mut listed = ListedSignatures {
            signatures: Vec::new(),
            ids: Vec::new(),
            sources: Vec::new(),
            candidates: None,
        };
        for (at, id, bytes) in hashes.take_signatures() {
            if let Some(&known) = by_id.get(&id) {
                listed.sources[known].push(at);
                continue;
            }
            // The parser validated these bytes.
            let signature = Signature::from_bytes(&bytes).expect("a validated signature");
            by_id.insert(id.clone(), listed.ids.len());
            listed.signatures.push(signature);
            listed.ids.push(id);
            listed.sources.push(vec![at]);
        }
        if listed.signatures.len() > CANDIDATES {
            listed.candidates = Some(Candidates::new(&listed.signatures));
        }
        listed
    }

    /// Returns true if and only if the lists hold no orb1 or orb2 signature.
    pub(super) fn is_empty(&self) -> bool {
        self.signatures.is_empty()
    }

    /// The listed signatures that `query` matches, in listed order.
    pub(super) fn search(&self, query: &Features) -> Vec<Hit<'_>> {
        let Some(index) = &self.candidates else {
            return (0..self.signatures.len())
                .filter_map(|i| {
                    let (comparison, mirrored) = rule::orb1_closest(query, &self.signatures[i]);
                    self.hit(i, comparison, mirrored)
                })
                .collect();
        };
        let orientations = [&query.signature, &query.mirrored];
        // (votes, listed signature, orientation): each orientation's CANDIDATES best voted,
        // verified most voted first.
        let mut queue: Vec<(u32, usize, usize)> = Vec::with_capacity(2 * CANDIDATES);
        for (o, signature) in orientations.iter().enumerate() {
            let votes = index.votes(signature);
            queue.extend(
                keypoints::ranked(&votes, CANDIDATES).into_iter().map(|i| (votes[i], i, o)),
            );
        }
        queue.sort_unstable_by_key(|&(votes, i, o)| (std::cmp::Reverse(votes), i, o));
        let mut done: BTreeMap<usize, [Option<Comparison>; 2]> = BTreeMap::new();
        let mut hits = BTreeMap::new();
        let mut confirmed = 0;
        for (votes, i, o) in queue {
            // See MATCHED_SHARE.
            if u64::from(votes) * MATCHED_SHARE.1 < u64::from(confirmed) * MATCHED_SHARE.0 {
                break;
            }
            let listed = &self.signatures[i];
            let compared = done.entry(i).or_default();
            if compared[o].is_some() || hits.contains_key(&i) {
                continue;
            }
            let comparison = verify::compare(orientations[o], listed);
            let matched = comparison.is_match();
            compared[o] = Some(comparison);
            if !matched {
                continue;
            }
            confirmed = confirmed.max(votes);
            // The other orientation too, so that the report keeps the one with more inliers
            // as when both are verified.
            let [plain, mirror] = [0, 1].map(|o| {
                compared[o].take().unwrap_or_else(|| verify::compare(orientations[o], listed))
            });
            hits.insert(i, rule::orb1_closer(plain, mirror));
        }
        hits.into_iter()
            .filter_map(|(i, (comparison, mirrored))| self.hit(i, comparison, mirrored))
            .collect()
    }

    fn hit(&self, i: usize, comparison: Comparison, mirrored: bool) -> Option<Hit<'_>> {
        comparison.is_match().then(|| Hit {
            algorithm: self.signatures[i].format.into(),
            id: &self.ids[i],
            sources: &self.sources[i],
            comparison,
            mirrored,
        })
    }
}

impl Matcher {
    /// Offers a match for each listed orb1 or orb2 signature that `query` matches, and returns
    /// the query's keypoint count when it has too few to match anything ([`verify::MIN_GOOD`]).
    pub(super) fn match_orb1(
        &self,
        query: &Features,
        offer: &mut impl FnMut(Match),
    ) -> Option<usize> {
        if self.signatures.is_empty() {
            return None;
        }
        // No comparison of so few keypoints can reach `MIN_GOOD` good matches: the rule
        // would refuse every one, and the report says why.
        if query.signature.len() < verify::MIN_GOOD {
            return Some(query.signature.len());
        }
        for hit in self.signatures.search(query) {
            offer(Match {
                orientation: Some(if hit.mirrored { Dihedral::FlipY } else { Dihedral::Orig }),
                keypoints: Some(hit.comparison),
                ..Match::new(hit.algorithm, hit.id.clone(), hit.sources.to_vec(), 0, 0)
            });
        }
        None
    }
}
