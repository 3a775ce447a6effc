//! Matching one file's hashes against the loaded lists.
//!
//! Owns the matching policy: when a pair of hashes matches is [`rule`]'s, shared with
//! `mediascreen compare` ([`compare`]); here, finding the listed hashes each rule is asked
//! about (digests, perceptual hashes, PDQ through its rotated and mirrored variants, video
//! matching (`video`), keypoint matching of crops (`orb1`)), the allowlist, and the flood
//! guard over a whole scan. Returns at most one match per distinct listed hash (or listed
//! video), the closest, in a fixed order. Must not read files or compute hashes, and must not
//! decide what a match means for the exit status: that is the caller's.

pub mod compare;
mod orb1;
pub mod rule;
mod video;

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Reason, Result, Setting};
use crate::hash::orb1::verify::Comparison;
use crate::hash::pdq::Dihedral;
use crate::hash::vpdq::{self, VideoComparison};
use crate::hash::{Algorithm, FileHashes, HashValue};
use crate::hashlist::HashList;
use crate::index::{EntryRef, Index, ListedHashes};

use self::orb1::ListedSignatures;
use self::video::ListedVideos;

/// How matching is done. Defaults follow the reference implementations.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchOptions {
    /// Inclusive Hamming-distance thresholds that override
    /// [`Algorithm::default_threshold`].
    pub thresholds: BTreeMap<Algorithm, u32>,
    /// Also match the 7 rotated and mirrored variants of each PDQ hash. On by default.
    pub rotations: bool,
    /// PDQ hashes of lower quality are not matched, as the reference advises: they come from
    /// flat or tiny images and match unrelated content. Neither side of a pair may be under
    /// it, the scanned hash nor a listed one whose list records its quality ([`rule`]).
    /// Default 50.
    pub pdq_min_quality: u8,
    /// Flood guard: a listed hash matched by more than this many files… (default 50)
    pub flood_min_files: usize,
    /// …and by more than this share of the scanned files (default 0.05) is suspicious.
    pub flood_share: f64,
    /// When a scanned video matches a listed one.
    pub video: VideoMatchOptions,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            thresholds: BTreeMap::new(),
            rotations: true,
            pdq_min_quality: 50,
            flood_min_files: 50,
            flood_share: 0.05,
            video: VideoMatchOptions::default(),
        }
    }
}

/// When a scanned video matches a listed video (frame distance: the `vpdq` threshold).
#[derive(Clone, Debug, PartialEq)]
pub struct VideoMatchOptions {
    /// Flag when at least this percentage of the scanned video's distinct frames match…
    pub query_pct: f64,
    /// …or at least this percentage of the listed video's do…
    pub listed_pct: f64,
    /// …and at least this many distinct frames of the scanned video matched.
    pub min_frames: usize,
    /// Frames of lower PDQ quality, on either side, take no part.
    pub min_quality: u8,
    /// The scan's vPDQ sampling interval: a listed video hashed much more densely counts in
    /// stretches of this length (see [`crate::index::video::VideoIndex::new`]).
    pub seconds_per_hash: f64,
}

impl Default for VideoMatchOptions {
    /// python-threatexchange's 80 % and quality 50, applied to either side, 3 frames, and
    /// scans sampling one frame a second.
    fn default() -> Self {
        VideoMatchOptions {
            query_pct: vpdq::DEFAULT_MATCH_PCT,
            listed_pct: vpdq::DEFAULT_MATCH_PCT,
            min_frames: vpdq::DEFAULT_MIN_FRAMES,
            min_quality: vpdq::DEFAULT_MIN_QUALITY,
            seconds_per_hash: 1.0,
        }
    }
}

impl MatchOptions {
    /// The flood guard's rule: a listed hash that matched `contents` distinct contents of
    /// the `screened` files floods when they are more than [`MatchOptions::flood_min_files`]
    /// and more than [`MatchOptions::flood_share`] of the files.
    pub fn floods(&self, contents: usize, screened: usize) -> bool {
        contents > self.flood_min_files && contents as f64 > self.flood_share * screened as f64
    }

    /// The flood guard over a whole scan of `screened` files: given every match as the
    /// listed hash it names (`key`), the matched file's content (its SHA-256) and that
    /// hash's sources, the listed hashes that flood by [`MatchOptions::floods`], each with
    /// its tally. A list entry that matches a large part of an ordinary folder is far more
    /// likely a bad entry than a find; but a photo forwarded a hundred times is a hundred
    /// copies of one content, which one correct entry matches, so copies count once.
    pub fn flooding<K: Ord, C: Ord, S>(
        &self,
        matches: impl IntoIterator<Item = (K, C, S)>,
        screened: usize,
    ) -> BTreeMap<K, FloodTally<S>> {
        let mut counts: BTreeMap<K, (usize, BTreeSet<C>, S)> = BTreeMap::new();
        for (key, content, sources) in matches {
            match counts.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert((1, BTreeSet::from([content]), sources));
                }
                Entry::Occupied(mut slot) => {
                    let (files, contents, last) = slot.get_mut();
                    *files += 1;
                    contents.insert(content);
                    *last = sources;
                }
            }
        }
        counts
            .into_iter()
            .filter(|(_, (_, contents, _))| self.floods(contents.len(), screened))
            .map(|(key, (files, contents, sources))| {
                (key, FloodTally { files, contents: contents.len(), sources })
            })
            .collect()
    }

    /// Checks every option against its range: each threshold as
    /// [`MatchOptions::check_threshold`] says, the qualities from 0 to 100, the flood share a
    /// fraction, the video percentages from 0 to 100 and the sampling interval as
    /// [`MatchOptions::check_seconds_per_hash`] says. [`Matcher::new`] checks its options so; a
    /// program can check them first, before it loads any list.
    pub fn check(&self) -> Result<()> {
        for (&algorithm, &threshold) in &self.thresholds {
            MatchOptions::check_threshold(algorithm, threshold)?;
        }
        let between = |which, words: &str, value: f64, max: f64| {
            if (0.0..=max).contains(&value) {
                return Ok(());
            }
            Err(Error::setting(which, words, &format!(" must be between 0 and {max}")))
        };
        let quality = |which, words: &str, value: u8| between(which, words, value.into(), 100.0);
        let video = &self.video;
        quality(Setting::PdqMinQuality, "MatchOptions::pdq_min_quality", self.pdq_min_quality)?;
        between(Setting::FloodShare, "MatchOptions::flood_share", self.flood_share, 1.0)?;
        between(Setting::VideoQueryPct, "VideoMatchOptions::query_pct", video.query_pct, 100.0)?;
        between(Setting::VideoListedPct, "VideoMatchOptions::listed_pct", video.listed_pct, 100.0)?;
        quality(Setting::VideoMinQuality, "VideoMatchOptions::min_quality", video.min_quality)?;
        MatchOptions::check_seconds_per_hash(video.seconds_per_hash)
    }

    /// Checks a vPDQ sampling interval, `seconds_per_hash` as
    /// [`vpdq::frame_step`] takes it: a number of seconds, 0 (every frame) or more.
    pub fn check_seconds_per_hash(seconds_per_hash: f64) -> Result<()> {
        if seconds_per_hash >= 0.0 && seconds_per_hash.is_finite() {
            return Ok(());
        }
        let words = "the vPDQ sampling interval (seconds_per_hash)";
        Err(Error::setting(
            Setting::SecondsPerHash,
            words,
            " must be a number of seconds, 0 or more",
        ))
    }

    /// Checks `threshold` for `algorithm`: a Hamming distance, so at most the hash's bits,
    /// for an algorithm matched by distance (not a digest, matched exactly, nor orb1, by
    /// keypoints).
    pub fn check_threshold(algorithm: Algorithm, threshold: u32) -> Result<()> {
        let refused = |text: String| Error::Setting {
            which: Setting::Threshold(algorithm),
            reason: Reason::new(text),
        };
        if algorithm.is_digest() {
            return Err(refused(format!("{algorithm} is matched exactly and takes no threshold")));
        }
        if !algorithm.is_perceptual() {
            let text = format!("{algorithm} is matched by keypoints and takes no threshold");
            return Err(refused(text));
        }
        let bits = algorithm.byte_len() as u32 * 8;
        if threshold > bits {
            return Err(refused(format!(
                "{algorithm} threshold must be a whole number from 0 to {bits}"
            )));
        }
        Ok(())
    }

    /// The threshold in force for `algorithm` (0 for digests).
    pub fn threshold(&self, algorithm: Algorithm) -> u32 {
        if algorithm.is_digest() {
            return 0;
        }
        self.thresholds.get(&algorithm).copied().unwrap_or(algorithm.default_threshold())
    }
}

/// One distinct listed hash (or listed video) that a file matched.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    /// The algorithm that matched.
    pub algorithm: Algorithm,
    /// The listed hash; for a listed video, the hash of its first frame.
    pub hash: HashValue,
    /// Every list entry carrying that hash, in list order; for a listed video, its first
    /// frame's entry.
    pub sources: Vec<EntryRef>,
    /// Hamming distance (0 for digests); for videos, the closest pair of frames.
    pub distance: u32,
    /// Threshold in force.
    pub threshold: u32,
    /// For PDQ, how the scanned file relates to the listed image: [`Dihedral::Rot90`] means
    /// the file is the listed image rotated 90° counter-clockwise; `Orig` means as listed.
    pub orientation: Option<Dihedral>,
    /// The PDQ quality of the file's image or video frame that matched, for PDQ matches.
    pub quality: Option<u8>,
    /// Set by the flood guard when this listed hash matched too many files of the scan.
    pub suspicious: bool,
    /// Where in a scanned video the match is, when the file is a video.
    pub video: Option<VideoEvidence>,
    /// For orb1, what the keypoint comparison found (`distance` and `threshold` are then 0,
    /// and `orientation` is `Orig` or `FlipY`, the query mirrored left-right).
    pub keypoints: Option<Comparison>,
}

impl Match {
    /// A match of `hash` at `distance` under `threshold`, with nothing more to say: what
    /// a digest or a 64-bit perceptual hash finds. The other shapes set their evidence on it.
    pub fn new(
        algorithm: Algorithm,
        hash: HashValue,
        sources: Vec<EntryRef>,
        distance: u32,
        threshold: u32,
    ) -> Match {
        Match {
            algorithm,
            hash,
            sources,
            distance,
            threshold,
            orientation: None,
            quality: None,
            suspicious: false,
            video: None,
            keypoints: None,
        }
    }
}

/// Where a match lies in a scanned video.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoEvidence {
    /// For a listed video, how much of each video matched the other
    /// ([`VideoComparison::matched_query_frames`] is left empty: `time_ranges` says it).
    pub comparison: Option<VideoComparison>,
    /// The stretches of the scanned video that matched, `[start, end]` in seconds.
    pub time_ranges: Vec<(f64, f64)>,
}

/// What matching found for one file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MatchResult {
    /// Matches, ordered by distance, then list order (list, then line), then algorithm.
    pub matches: Vec<Match>,
    /// Matches suppressed by the allowlist, in the same order.
    pub allowed: Vec<Match>,
    /// Set when the file's PDQ quality was under the gate, so it was not matched by PDQ.
    pub pdq_below_quality: Option<u8>,
    /// Set to the image's keypoint count when the lists hold orb1 signatures but the image
    /// has too few keypoints to match any (a flat or tiny picture).
    pub orb1_too_few: Option<usize>,
}

/// A listed hash that the flood guard found matching too many files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flood {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The listed hash.
    pub hash: HashValue,
    /// Every list entry carrying it.
    pub sources: Vec<EntryRef>,
    /// How many files it matched.
    pub files: usize,
    /// How many distinct contents (by SHA-256) among them: what the guard counts.
    pub contents: usize,
}

/// How one listed hash fared over a whole scan ([`MatchOptions::flooding`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FloodTally<S> {
    /// How many files it matched.
    pub files: usize,
    /// How many distinct contents among them: what the guard counts.
    pub contents: usize,
    /// Its sources, as its last match gave them.
    pub sources: S,
}

/// Loaded lists, the allowlist, their indexes and the matching policy.
pub struct Matcher {
    lists: Vec<HashList>,
    index: Index,
    videos: ListedVideos,
    signatures: ListedSignatures,
    allow: Vec<HashList>,
    allow_index: Index,
    options: MatchOptions,
}

impl Matcher {
    /// Indexes `lists` for matching under `options`, with no allowlist; an option out of its
    /// range is an [`Error::Setting`] ([`MatchOptions::check`]).
    pub fn new(lists: Vec<HashList>, options: MatchOptions) -> Result<Matcher> {
        Matcher::with_allowlist(lists, Vec::new(), options)
    }

    /// Indexes `lists`, and `allow`: a match is suppressed when the listed hash, or the
    /// file's own hash of that algorithm, is exactly an allowlisted hash. Exact, not within a
    /// threshold, so that allowing one known false positive cannot hide its near neighbours.
    /// An option out of its range is an [`Error::Setting`] ([`MatchOptions::check`]).
    pub fn with_allowlist(
        mut lists: Vec<HashList>,
        mut allow: Vec<HashList>,
        options: MatchOptions,
    ) -> Result<Matcher> {
        options.check()?;
        // Every structure reads the hashes taken out of the lists; the orb1 signatures are
        // taken on by the one that decodes them, and the index, built last, keeps the rest.
        let mut listed = ListedHashes::take(&mut lists);
        let videos = ListedVideos::new(&lists, &listed, &options);
        let signatures = ListedSignatures::new(&mut listed);
        let index = Index::build(listed);
        let allow_index = Index::build(ListedHashes::take(&mut allow));
        // Parsing and decoding the lists freed as much as they keep.
        crate::allocator::release_free_pages();
        Ok(Matcher { lists, index, videos, signatures, allow, allow_index, options })
    }

    /// The loaded lists, in the order given, as the matcher holds them: their files, formats
    /// and each entry's algorithm, line, id, label, quality and size. Their hashes are the
    /// indexes' ([`ListedHashes::take`]): [`crate::hashlist::Entries::hash`] is `None` here.
    pub fn lists(&self) -> &[HashList] {
        &self.lists
    }

    /// The allowlists, in the order given.
    pub fn allowlists(&self) -> &[HashList] {
        &self.allow
    }

    /// The matching policy.
    pub fn options(&self) -> &MatchOptions {
        &self.options
    }

    /// Algorithms that at least one loaded list has entries for, and the digests the
    /// allowlists hold: the only ones worth computing for a scan.
    pub fn algorithms(&self) -> BTreeSet<Algorithm> {
        let listed = self.lists.iter().flat_map(|l| l.entries.algorithms().iter().copied());
        let allowed = self.allow.iter().flat_map(|l| l.entries.algorithms().iter().copied());
        listed.chain(allowed.filter(|a| a.is_digest())).collect()
    }

    /// The distinct listed hashes of a 256-bit perceptual algorithm (PDQ), as big-endian
    /// words, sorted: what a caller matching many files at once may index instead of them.
    pub fn listed_wide(&self, algorithm: Algorithm) -> &[[u64; 4]] {
        self.index.wide(algorithm)
    }

    /// The columns of the list that `at` points into.
    fn entries(&self, at: &EntryRef) -> &crate::hashlist::Entries {
        &self.lists[at.list as usize].entries
    }

    /// Of the entries carrying one listed PDQ hash, `distance` bits from a scanned hash of
    /// `quality`, those the PDQ rule lets it match (each entry with its own recorded
    /// quality), or `None` if none.
    fn pdq_sources(
        &self,
        sources: &[EntryRef],
        distance: u32,
        quality: u8,
    ) -> Option<Vec<EntryRef>> {
        let kept: Vec<EntryRef> = sources
            .iter()
            .copied()
            .filter(|at| {
                let listed = self.entries(at).quality(at.entry as usize);
                self.options.pdq_matches(distance, quality, listed)
            })
            .collect();
        (!kept.is_empty()).then_some(kept)
    }

    /// Whether the allowlists hold `hash` exactly.
    fn is_allowed(&self, algorithm: Algorithm, hash: &HashValue) -> bool {
        if algorithm.is_digest() {
            !self.allow_index.exact(algorithm, hash).is_empty()
        } else {
            !self.allow_index.within(algorithm, hash, 0).is_empty()
        }
    }

    /// Matches one file's hashes against every list.
    pub fn match_hashes(&self, hashes: &FileHashes) -> MatchResult {
        // Keyed by listed hash so that a hash reached through several orientations is
        // reported once, at its closest; ties go to the earlier orientation (`orig` first).
        let mut best: BTreeMap<(Algorithm, HashValue), Match> = BTreeMap::new();
        let mut offer = |m: Match| {
            let key = (m.algorithm, m.hash.clone());
            if best.get(&key).is_none_or(|old| m.distance < old.distance) {
                best.insert(key, m);
            }
        };

        for (&algorithm, value) in &hashes.values {
            let threshold = self.options.threshold(algorithm);
            if algorithm.is_digest() {
                // Lists that pin a size (ClamAV) match only a file of that size.
                let sources: Vec<EntryRef> = self
                    .index
                    .exact(algorithm, value)
                    .iter()
                    .copied()
                    .filter(|at| {
                        rule::size_fits(hashes.size, self.entries(at).size(at.entry as usize))
                    })
                    .collect();
                if !sources.is_empty() {
                    offer(Match::new(algorithm, value.clone(), sources, 0, threshold));
                }
            } else {
                for hit in self.index.within(algorithm, value, threshold) {
                    // The index searches at the threshold; the rule still decides.
                    if !self.options.within(algorithm, hit.distance) {
                        continue;
                    }
                    let sources = hit.sources.to_vec();
                    offer(Match::new(algorithm, hit.hash, sources, hit.distance, threshold));
                }
            }
        }

        let mut pdq_below_quality = None;
        if let Some(pdq) = &hashes.pdq {
            let quality = pdq.quality();
            if !self.options.pdq_quality_passes(Some(quality)) {
                pdq_below_quality = Some(quality);
            } else {
                let threshold = self.options.threshold(Algorithm::Pdq);
                for (hash, orientation) in self.options.pdq_variants(pdq) {
                    for hit in self.index.within(Algorithm::Pdq, &hash, threshold) {
                        let Some(sources) = self.pdq_sources(hit.sources, hit.distance, quality)
                        else {
                            continue;
                        };
                        offer(Match {
                            orientation: Some(orientation),
                            quality: Some(quality),
                            ..Match::new(Algorithm::Pdq, hit.hash, sources, hit.distance, threshold)
                        });
                    }
                }
            }
        }

        if let Some(video) = &hashes.video {
            self.match_video(video, &mut offer);
        }
        let orb1_too_few =
            hashes.orb1.as_ref().and_then(|query| self.match_orb1(query, &mut offer));

        // A file allowlisted by one of its digests is allowed whole: that is how a known
        // false positive is usually recorded.
        let file_allowed =
            hashes.values.iter().any(|(&a, hash)| a.is_digest() && self.is_allowed(a, hash));
        let own = |algorithm: Algorithm| match (algorithm, &hashes.pdq) {
            (Algorithm::Pdq, Some(pdq)) => Some(pdq.hash()),
            _ => hashes.values.get(&algorithm).cloned(),
        };
        let (mut allowed, mut matches): (Vec<Match>, Vec<Match>) =
            best.into_values().partition(|m| {
                file_allowed
                    || self.is_allowed(m.algorithm, &m.hash)
                    || own(m.algorithm).is_some_and(|own| self.is_allowed(m.algorithm, &own))
            });
        // Closest first, then in list order (the first list and line carrying the hash).
        let order = |m: &Match| (m.distance, m.sources[0], m.algorithm, m.hash.clone());
        matches.sort_by_key(order);
        allowed.sort_by_key(order);
        MatchResult { matches, allowed, pdq_below_quality, orb1_too_few }
    }

    /// The flood guard: finds listed hashes that matched more distinct contents than
    /// [`MatchOptions::flood_min_files`] and more than [`MatchOptions::flood_share`] of
    /// `scanned` files ([`MatchOptions::flooding`]), and marks their matches suspicious.
    /// `results` pairs each file's SHA-256 with its matches.
    pub fn flood_guard<'a>(
        &self,
        results: impl IntoIterator<Item = (&'a HashValue, &'a mut MatchResult)>,
        scanned: usize,
    ) -> Vec<Flood> {
        let mut results: Vec<(&HashValue, &mut MatchResult)> = results.into_iter().collect();
        let matches = results.iter().flat_map(|(content, result)| {
            result.matches.iter().map(move |m| ((m.algorithm, &m.hash), *content, &m.sources))
        });
        let floods: Vec<Flood> = (self.options.flooding(matches, scanned).into_iter())
            .map(|((algorithm, hash), tally)| Flood {
                algorithm,
                hash: hash.clone(),
                sources: tally.sources.clone(),
                files: tally.files,
                contents: tally.contents,
            })
            .collect();
        for (_, result) in &mut results {
            for m in &mut result.matches {
                m.suspicious =
                    floods.iter().any(|f| f.algorithm == m.algorithm && f.hash == m.hash);
            }
        }
        floods
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_out_of_range_are_refused_in_the_librarys_words() {
        let refused = |options: MatchOptions| match Matcher::new(Vec::new(), options) {
            Err(Error::Setting { which, reason }) => (which, reason.to_string()),
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("accepted"),
        };
        let flood = MatchOptions { flood_share: 7.0, ..MatchOptions::default() };
        let said = "MatchOptions::flood_share must be between 0 and 1";
        assert_eq!(refused(flood), (Setting::FloodShare, said.to_string()));
        let video = VideoMatchOptions { query_pct: f64::NAN, ..VideoMatchOptions::default() };
        let (which, _) = refused(MatchOptions { video, ..MatchOptions::default() });
        assert_eq!(which, Setting::VideoQueryPct);
        let thresholds = BTreeMap::from([(Algorithm::Pdq, 257)]);
        let (which, said) = refused(MatchOptions { thresholds, ..MatchOptions::default() });
        assert_eq!(which, Setting::Threshold(Algorithm::Pdq));
        assert_eq!(said, "pdq threshold must be a whole number from 0 to 256");
        assert!(MatchOptions::check_threshold(Algorithm::Md5, 0).is_err());
        assert!(MatchOptions::check_threshold(Algorithm::Phash, 64).is_ok());
        assert!(Matcher::new(Vec::new(), MatchOptions::default()).is_ok());
    }
}
