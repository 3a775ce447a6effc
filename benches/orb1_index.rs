//! Keypoint lists at scale: `ORB1_BENCH_N` (default 10,000) listed signatures, first `orb1`
//! then `orb2`, matched through the LSH candidate index (`mediascreen::index::keypoints`) and
//! verification.
//!
//! The listed signatures are four real ones (fixture photos) among distractors made of real
//! descriptors: each distractor has as many keypoints as its format allows, at random places,
//! described by descriptors drawn from the fixture photos' own, so its bits are as skewed and
//! correlated as real ones, and it shares descriptors with the very photos that are queried
//! (harder than a real list, where an unrelated photo shares none exactly). Queries: a 70 %
//! crop of each planted photo, and four unrelated fixture photos, each timed through
//! `Matcher::match_hashes` on one thread (their orb1 signatures made beforehand: their cost is
//! per file, not per list).
//!
//! Each list is written to a temporary file and loaded by a fresh process of this bench, as
//! `scan --list` loads it, so that the memory it holds is the list's alone: in the process that
//! made the list, the heap it let go of would be counted too.
//!
//! Reported per format: the candidate tables' bytes and build time, list load and index time,
//! the memory held with the list loaded, queries per second, and (checked, panics otherwise)
//! every crop found and nothing else. Run with `cargo bench --bench orb1_index`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use image::imageops;
use mediascreen::hash::orb1::{Features, Format, Keypoint, Signature};
use mediascreen::hash::FileHashes;
use mediascreen::hashlist::HashList;
use mediascreen::index::keypoints::Candidates;
use mediascreen::matcher::{MatchOptions, Matcher};

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

const PLANTED: [&str; 4] = [
    "conformance/pdq/images/reg-test-input/dih/bridge-1-original.jpg",
    "conformance/pdq/images/reg-test-input/pen-and-coaster.png",
    "screening/distinct/astronaut.jpg",
    "screening/distinct/coffee.jpg",
];
const UNRELATED: [&str; 4] = [
    "screening/distinct/chelsea.jpg",
    "screening/distinct/rocket.jpg",
    "conformance/pdq/images/reg-test-input/labelme-subset/q0746.jpg",
    "conformance/pdq/images/reg-test-input/labelme-subset/q1050.jpg",
];
/// Each query is timed this many times.
const REPEAT: usize = 5;

/// Set, in the process that loads a list, to the list's path.
const LIST_VAR: &str = "ORB1_BENCH_LIST";

fn open(name: &str) -> image::RgbImage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    image::open(path).unwrap().to_rgb8()
}

/// A field of `/proc/self/status` in MiB: `VmHWM` (peak) or `VmRSS` (now).
fn rss_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find_map(|l| l.strip_prefix(field)).unwrap_or("NaN");
    line.trim().trim_end_matches("kB").trim().parse::<f64>().unwrap_or(f64::NAN) / 1024.0
}

/// The listed entries the planted photos sit at.
fn slots(n: usize) -> Vec<usize> {
    (0..PLANTED.len()).map(|i| (i * 2 + 1) * n / 8).collect()
}

fn main() {
    let n: usize = std::env::var("ORB1_BENCH_N").map_or(10_000, |v| v.parse().unwrap());
    match std::env::var(LIST_VAR) {
        Ok(list) => load_and_query(Path::new(&list), n),
        Err(_) => [Format::Orb1, Format::Orb2].into_iter().for_each(|f| make_list(f, n)),
    }
}

/// Makes the list of `n` signatures in `format`, then has a fresh process load and query it.
fn make_list(format: Format, n: usize) {
    let name = format.name();
    let budget = format.max_keypoints();
    let planted: Vec<Signature> = PLANTED
        .iter()
        .map(|p| match format {
            Format::Orb1 => Features::from_image(&open(p)).signature,
            Format::Orb2 => Signature::orb2(&open(p)),
        })
        .collect();
    let pool: Vec<_> = planted
        .iter()
        .flat_map(|s| s.descriptors.iter().copied())
        .chain(UNRELATED.iter().flat_map(|p| Features::from_image(&open(p)).signature.descriptors))
        .collect();
    let mut rng = Rng(0x0b1b_e5c4);
    let mut listed: Vec<Signature> = (0..n)
        .map(|_| {
            let keypoints = (0..budget)
                .map(|_| Keypoint {
                    x: rng.below(3200) as u16,
                    y: rng.below(2400) as u16,
                    level: rng.below(8) as u8,
                })
                .collect();
            let descriptors =
                (0..budget).map(|_| pool[rng.below(pool.len() as u64) as usize]).collect();
            Signature { format, width: 800, height: 600, keypoints, descriptors }
        })
        .collect();
    for (slot, signature) in slots(n).iter().zip(&planted) {
        listed[*slot] = signature.clone();
    }

    let started = Instant::now();
    let tables = Candidates::new(&listed).memory();
    println!(
        "{name}: candidate tables alone: {:.1} MB, built in {:.2} s",
        tables as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let path = std::env::temp_dir().join(format!("orb1_index-{}-{name}.csv", std::process::id()));
    let mut csv = String::from("algorithm,hash,id\n");
    for (i, s) in listed.iter().enumerate() {
        csv.push_str(&format!("{name},{},e{i}\n", s.to_base64()));
    }
    let signature_bytes: usize = listed.iter().map(|s| s.to_bytes().len()).sum();
    println!(
        "{name}: list: {n} signatures of up to {budget} keypoints, {:.1} MB of CSV, {:.1} MB of signatures",
        csv.len() as f64 / 1e6,
        signature_bytes as f64 / 1e6
    );
    std::fs::write(&path, csv).unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .env(LIST_VAR, &path)
        .env("ORB1_BENCH_N", n.to_string())
        .status();
    std::fs::remove_file(&path).unwrap();
    assert!(status.unwrap().success(), "the {name} list's process failed");
}

/// Loads the list at `path` as `scan --list` does, and times its queries.
fn load_and_query(path: &Path, n: usize) {
    let crop = |name: &str| {
        let image = open(name);
        let (w, h) = image.dimensions();
        imageops::crop_imm(&image, w / 10, h / 5, w * 7 / 10, h * 7 / 10).to_image()
    };
    let slots = slots(n);
    let queries: Vec<(String, Option<usize>, FileHashes)> = PLANTED
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("crop of {p}"), Some(slots[i]), crop(p)))
        .chain(UNRELATED.iter().map(|p| (p.to_string(), None, open(p))))
        .map(|(name, expected, image)| {
            let hashes =
                FileHashes { orb1: Some(Features::from_image(&image)), ..FileHashes::default() };
            (name, expected, hashes)
        })
        .collect();

    let before = rss_mib("VmRSS:");
    let started = Instant::now();
    let list = HashList::load(path, &Default::default()).unwrap();
    let loaded = started.elapsed().as_secs_f64();
    let name = list.counts().into_keys().next().unwrap().to_string();
    let matcher = Matcher::new(vec![list], MatchOptions::default()).unwrap();
    let held = rss_mib("VmRSS:") - before;
    println!(
        "{name}: load {loaded:.2} s, index {:.2} s; peak RSS {:.0} MiB",
        started.elapsed().as_secs_f64() - loaded,
        rss_mib("VmHWM:")
    );
    println!(
        "{name}: memory held with the list loaded: {held:.0} MiB, {:.1} KB a listed signature (goal: at most 20 KB)",
        held * 1048.576 / n as f64
    );

    let started = Instant::now();
    for _ in 0..REPEAT {
        for (query, expected, hashes) in &queries {
            let found: Vec<String> = matcher
                .match_hashes(hashes)
                .matches
                .iter()
                .flat_map(|m| m.sources.iter().map(|s| format!("e{}", s.entry)))
                .collect();
            let wanted: Vec<String> = expected.iter().map(|e| format!("e{e}")).collect();
            assert_eq!(found, wanted, "{name}: {query}");
        }
    }
    let per_query = started.elapsed().as_secs_f64() / (REPEAT * queries.len()) as f64;
    println!(
        "{name}: {} queries x {REPEAT}: {:.1} ms a query, {:.0} queries/s on one thread (goal: at least 100); every crop found, nothing else",
        queries.len(),
        per_query * 1e3,
        1.0 / per_query
    );
}
