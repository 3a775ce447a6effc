//! Matching a scanned video's sampled frames: against listed videos (vPDQ) and against
//! listed images (PDQ entries: a known picture shown in a video).
//!
//! Owns grouping a list's vPDQ rows into videos (rows of one list sharing an `id` are one
//! video; rows without an id, one per line, as python-threatexchange writes a whole video on
//! one line), and the time ranges reported with every video match. Whether a scanned video
//! matches a listed one, or a frame a listed picture, is [`super::rule`]'s decision. Must not
//! decode or hash: frames arrive hashed in a [`VideoHash`].

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use super::{Match, MatchOptions, Matcher, VideoEvidence};
use crate::hash::vpdq::VideoHash;
use crate::hash::{Algorithm, HashValue};
use crate::hashlist::HashList;
use crate::index::video::{ListedFrame, VideoIndex};
use crate::index::{EntryRef, ListedHashes};

/// The videos that the lists' vPDQ rows describe, indexed together.
pub(super) struct ListedVideos {
    index: VideoIndex,
    /// Per video id of `index`: its first row, and that row's hash, which names the video
    /// wherever a match is keyed by hash (the flood guard, the allowlist).
    videos: Vec<(EntryRef, HashValue)>,
}

impl ListedVideos {
    /// Groups the vPDQ rows of `lists`, whose hashes `listed` holds, into videos and indexes
    /// their frames as `options` compare them.
    pub(super) fn new(
        lists: &[HashList],
        listed: &ListedHashes,
        options: &MatchOptions,
    ) -> ListedVideos {
        let mut videos = Vec::new();
        let mut frames: Vec<Vec<ListedFrame>> = Vec::new();
        let mut by_id: HashMap<(u32, Result<&str, u64>), usize> = HashMap::new();
        for (at, hash) in listed.of(Algorithm::Vpdq) {
            let (entries, row) = (&lists[at.list as usize].entries, at.entry as usize);
            let key = entries.id(row).ok_or_else(|| entries.line(row));
            let video = *by_id.entry((at.list, key)).or_insert_with(|| {
                videos.push((at, hash.clone()));
                frames.push(Vec::new());
                frames.len() - 1
            });
            frames[video].push((hash, entries.quality(row), entries.timestamp(row)));
        }
        ListedVideos { index: options.index_videos(frames), videos }
    }
}

impl Matcher {
    /// Offers the matches of a scanned video's frames: one per listed video that it matches,
    /// and one per listed PDQ image that some frame matches, both by [`super::rule`].
    pub(super) fn match_video(&self, video: &VideoHash, offer: &mut impl FnMut(Match)) {
        let distance = self.options.threshold(Algorithm::Vpdq);
        let listed = &self.videos;
        if !listed.index.is_empty() {
            for (id, mut comparison) in self.options.compare_videos(&listed.index, &video.frames) {
                if !self.options.video_matches(&comparison) {
                    continue;
                }
                let matched = std::mem::take(&mut comparison.matched_query_frames);
                let (first, hash) = &listed.videos[id as usize];
                let closest = comparison.closest.unwrap_or(0);
                offer(Match {
                    video: Some(VideoEvidence {
                        time_ranges: video.time_ranges(&matched),
                        comparison: Some(comparison),
                    }),
                    ..Match::new(Algorithm::Vpdq, hash.clone(), vec![*first], closest, distance)
                });
            }
        }
        self.match_frames_to_images(video, offer);
    }

    fn match_frames_to_images(&self, video: &VideoHash, offer: &mut impl FnMut(Match)) {
        let threshold = self.options.threshold(Algorithm::Pdq);
        // A still scene repeats one hash for many frames: search each distinct hash once.
        // Every frame hashed: for an animation, those between the samples too.
        let every = video.every_frame();
        let frames_of = self.options.pdq_frames(&every);
        // Per listed hash: the closest frame's distance and quality, and every frame in reach.
        let mut found: BTreeMap<HashValue, (u32, u8, Vec<usize>, Vec<EntryRef>)> = BTreeMap::new();
        for (hash, frames) in frames_of {
            let quality = every[frames[0]].quality;
            for hit in self.index.within(Algorithm::Pdq, hash, threshold) {
                let Some(sources) = self.pdq_sources(hit.sources, hit.distance, quality) else {
                    continue;
                };
                let slot =
                    found.entry(hit.hash).or_insert_with(|| (u32::MAX, 0, Vec::new(), sources));
                if (hit.distance, Reverse(quality)) < (slot.0, Reverse(slot.1)) {
                    (slot.0, slot.1) = (hit.distance, quality);
                }
                slot.2.extend(&frames);
            }
        }
        for (hash, (distance, quality, frames, sources)) in found {
            offer(Match {
                quality: Some(quality),
                video: Some(VideoEvidence {
                    comparison: None,
                    time_ranges: video.every_frame_ranges(&every, &frames),
                }),
                ..Match::new(Algorithm::Pdq, hash, sources, distance, threshold)
            });
        }
    }
}
