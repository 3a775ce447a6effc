//! Matching scanned videos against a large vPDQ list (`mediascreen::index::video::VideoIndex`):
//! 10,000 listed videos of 60 frames each (600,000 frames, ten hours of video at one hash a
//! second), and 200 scanned videos of 60 frames, half of them noisy copies of a listed video
//! and half unrelated. Prints the index build time, the time per scanned video, and checks
//! that every copy, and nothing else, is found.
//!
//! Run with `cargo bench --bench video_index`.

#[path = "common/rng.rs"]
mod rng;

use std::time::Instant;

use mediascreen::hash::vpdq::{self, VpdqFrame};
use mediascreen::hash::HashValue;
use mediascreen::index::video::VideoIndex;
use rng::Rng;

const LISTED: usize = 10_000;
const FRAMES: usize = 60;
const QUERIES: usize = 200;

fn value(words: &[u64; 4]) -> HashValue {
    HashValue::from_bytes(words.iter().flat_map(|w| w.to_be_bytes()).collect::<Vec<_>>())
}

fn frames(hashes: &[[u64; 4]]) -> Vec<VpdqFrame> {
    (0..hashes.len())
        .map(|n| VpdqFrame {
            hash: value(&hashes[n]),
            quality: 100,
            frame: n as u64 * 30,
            timestamp: n as f64,
        })
        .collect()
}

fn main() {
    let mut rng = Rng(11);
    let listed: Vec<Vec<[u64; 4]>> =
        (0..LISTED).map(|_| (0..FRAMES).map(|_| rng.hash::<4>()).collect()).collect();
    let started = Instant::now();
    let index = VideoIndex::new(
        listed.iter().map(|video| video.iter().map(|h| (value(h), Some(100), None))),
        vpdq::DEFAULT_MIN_QUALITY,
        1.0,
    );
    println!("{LISTED} listed videos x {FRAMES} frames: index built in {:.2?}", started.elapsed());

    let queries: Vec<(Option<usize>, Vec<VpdqFrame>)> = (0..QUERIES)
        .map(|q| {
            if q % 2 == 0 {
                let source = rng.below(LISTED as u64) as usize;
                // A re-encode: every frame a few bits off, some of them past the threshold.
                let copy: Vec<[u64; 4]> = listed[source]
                    .iter()
                    .map(|h| {
                        let bits = if rng.below(10) == 0 { 40 } else { 8 + rng.below(16) };
                        rng.near(h, bits as u32)
                    })
                    .collect();
                (Some(source), frames(&copy))
            } else {
                (None, frames(&(0..FRAMES).map(|_| rng.hash::<4>()).collect::<Vec<_>>()))
            }
        })
        .collect();
    let started = Instant::now();
    let mut found = 0;
    for (source, query) in &queries {
        let matches: Vec<u32> = index
            .search(query, vpdq::DEFAULT_DISTANCE, vpdq::DEFAULT_MIN_QUALITY)
            .into_iter()
            .filter(|(_, c)| vpdq::is_match(c, vpdq::DEFAULT_MATCH_PCT, vpdq::DEFAULT_MATCH_PCT, 3))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(matches, source.map(|s| s as u32).into_iter().collect::<Vec<_>>());
        found += matches.len();
    }
    let elapsed = started.elapsed();
    println!(
        "{QUERIES} scanned videos of {FRAMES} frames: {:.2?} in all, {:.2?} per video; \
         {found} copies found, nothing else",
        elapsed,
        elapsed / QUERIES as u32
    );
}
