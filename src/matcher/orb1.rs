//! Matching a scanned image's `orb1` signatures against the listed ones.
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
use crate::index::keypoints::Candidates;
use crate::index::{EntryRef, ListedHashes};

/// Listed signatures verified per query orientation: the index's best voted, or every one of
/// a list that has no more. A verification costs far more than making the query's signatures,
/// so even a list of a few dozen is not verified whole (`scripts/orb_eval.sh` checks that the
/// votes keep the right photo among them: its scan recall).
pub const CANDIDATES: usize = 8;

/// The distinct orb1 signatures of the lists.
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
    pub id: &'a HashValue,
    pub sources: &'a [EntryRef],
    pub comparison: Comparison,
    /// Whether it was the mirrored query that matched.
    pub mirrored: bool,
}

impl ListedSignatures {
    /// Decodes the orb1 signatures that `hashes` holds, each distinct one once.
    pub(super) fn new(hashes: &ListedHashes) -> ListedSignatures {
        let mut by_id: BTreeMap<HashValue, usize> = BTreeMap::new();
        let mut listed = ListedSignatures {
            signatures: Vec::new(),
            ids: Vec::new(),
            sources: Vec::new(),
            candidates: None,
        };
        for (at, id, bytes) in hashes.signatures() {
            if let Some(&known) = by_id.get(&id) {
                listed.sources[known].push(at);
                continue;
            }
            // The parser validated these bytes.
            let signature = Signature::from_bytes(bytes).expect("a validated signature");
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

    /// Returns true if and only if the lists hold no orb1 signature.
    pub(super) fn is_empty(&self) -> bool {
        self.signatures.is_empty()
    }

    /// The listed signatures that `query` matches, in listed order.
    pub(super) fn search(&self, query: &Features) -> Vec<Hit<'_>> {
        let chosen: Vec<usize> = match &self.candidates {
            None => (0..self.signatures.len()).collect(),
            Some(index) => {
                let mut chosen = index.best(&query.signature, CANDIDATES);
                chosen.extend(index.best(&query.mirrored, CANDIDATES));
                chosen.sort_unstable();
                chosen.dedup();
                chosen
            }
        };
        chosen
            .into_iter()
            .filter_map(|i| {
                let (comparison, mirrored) = rule::orb1_closest(query, &self.signatures[i]);
                comparison.is_match().then(|| Hit {
                    id: &self.ids[i],
                    sources: &self.sources[i],
                    comparison,
                    mirrored,
                })
            })
            .collect()
    }
}

impl Matcher {
    /// Offers a match for each listed orb1 signature that `query` matches, and returns the
    /// query's keypoint count when it has too few to match anything ([`verify::MIN_GOOD`]).
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
                ..Match::new(Algorithm::Orb1, hit.id.clone(), hit.sources.to_vec(), 0, 0)
            });
        }
        None
    }
}
