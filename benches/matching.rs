//! End-to-end list benchmark for the figures: a native CSV list of N random PDQ
//! hashes (default 10,000,000) is written, loaded with `HashList::load`, indexed with
//! `Index::build`, and queried 10,000 times at threshold 31 — a few hundred queries planted
//! within distance ≤ 31 of a listed hash, the rest random. A sample of queries is also
//! answered by a linear scan to give the brute-force rate and to check the index against it.
//!
//! Run: `cargo bench --bench matching` (set `MATCHING_BENCH_N` for a smaller list). It
//! prints load, build and query times, the speed-up over brute force, and the process's peak
//! resident memory (VmHWM). It writes its list under the system temp folder and removes it.

use std::io::{BufWriter, Write};
use std::time::Instant;

use mediascreen::hash::{Algorithm, HashValue};
use mediascreen::hashlist::{HashList, LoadOptions};
use mediascreen::index::{Index, ListedHashes};
use rayon::prelude::*;

const QUERIES: usize = 10_000;
const PLANTED: usize = 300;
const THRESHOLD: u32 = 31;
const BRUTE_FORCE_SAMPLE: usize = 20;

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

fn hex(words: &[u64; 4]) -> String {
    words.iter().map(|w| format!("{w:016x}")).collect()
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

fn main() {
    let n: usize =
        std::env::var("MATCHING_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000);
    let path = std::env::temp_dir().join(format!("mediascreen-bench-{n}.csv"));

    // The planted queries: a listed hash with 0..=31 bits flipped; the line it is on.
    let mut rng = Rng(0x6d65_6469_6173_6372);
    let planted_at: Vec<usize> = (0..PLANTED).map(|_| (rng.next() as usize) % n).collect();
    let mut planted: Vec<([u64; 4], u64)> = Vec::new();
    {
        let started = Instant::now();
        let mut out = BufWriter::new(std::fs::File::create(&path).expect("temp file"));
        writeln!(out, "algorithm,hash").unwrap();
        let mut sorted = planted_at.clone();
        sorted.sort_unstable();
        let mut next = sorted.iter().peekable();
        for i in 0..n {
            let hash = rng.hash::<4>();
            writeln!(out, "pdq,{}", hex(&hash)).unwrap();
            while next.peek() == Some(&&i) {
                next.next();
                planted.push((hash, i as u64 + 2));
            }
        }
        out.flush().unwrap();
        println!("generated {n} entries in {:.2} s", started.elapsed().as_secs_f64());
    }
    let mut queries: Vec<([u64; 4], Option<u64>)> = planted
        .iter()
        .map(|&(hash, line)| {
            let flips = rng.below(u64::from(THRESHOLD) + 1) as u32;
            let hash = rng.near(&hash, flips);
            (hash, Some(line))
        })
        .collect();
    while queries.len() < QUERIES {
        queries.push((rng.hash::<4>(), None));
    }
    let queries: Vec<(HashValue, Option<u64>)> = queries
        .into_iter()
        .map(|(h, line)| (HashValue::from_hex(Algorithm::Pdq, &hex(&h)).unwrap(), line))
        .collect();
    println!("peak RSS before loading: {:.0} MiB", peak_rss_mib());

    let started = Instant::now();
    let list = HashList::load(&path, &LoadOptions::default()).expect("list loads");
    let load_s = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    println!("loaded {} entries in {load_s:.2} s", list.entries.len());

    let started = Instant::now();
    let mut lists = [list];
    let index = Index::build(ListedHashes::take(&mut lists));
    let build_s = started.elapsed().as_secs_f64();
    println!("indexed in {build_s:.2} s");

    let run =
        |(query, _): &(HashValue, Option<u64>)| index.within(Algorithm::Pdq, query, THRESHOLD);
    let started = Instant::now();
    let answers: Vec<Vec<(u64, u32)>> = queries
        .par_iter()
        .map(|q| run(q).iter().map(|h| (u64::from(h.sources[0].entry) + 2, h.distance)).collect())
        .collect();
    let parallel_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let single: usize = queries.iter().map(|q| run(q).len()).sum();
    let single_s = started.elapsed().as_secs_f64();

    // Every planted query finds its line; no random query finds anything (at 10M random
    // 256-bit hashes, a chance hit within 31 bits has probability about 1e-27).
    let mut found_planted = 0;
    for ((_, line), answer) in queries.iter().zip(&answers) {
        match line {
            Some(line) => {
                assert!(answer.iter().any(|(l, _)| l == line), "planted line {line} not found");
                found_planted += 1;
            }
            None => assert!(answer.is_empty(), "unexpected match {answer:?}"),
        }
    }
    assert_eq!(single, answers.iter().map(Vec::len).sum::<usize>());

    let started = Instant::now();
    let sample: Vec<&(HashValue, Option<u64>)> =
        queries.iter().step_by(QUERIES / BRUTE_FORCE_SAMPLE).take(BRUTE_FORCE_SAMPLE).collect();
    for (i, (query, _)) in sample.iter().enumerate() {
        let linear = index.within_linear(Algorithm::Pdq, query, THRESHOLD);
        let fast = index.within(Algorithm::Pdq, query, THRESHOLD);
        assert_eq!(linear, fast, "index and linear scan differ on sample query {i}");
    }
    let brute_s = started.elapsed().as_secs_f64() / BRUTE_FORCE_SAMPLE as f64 * QUERIES as f64;

    println!("{found_planted} of {PLANTED} planted queries found; no random query matched");
    println!(
        "{QUERIES} queries at threshold {THRESHOLD}: {parallel_s:.2} s on {} threads, {single_s:.2} s on 1 thread",
        rayon::current_num_threads()
    );
    println!(
        "brute force (extrapolated from {BRUTE_FORCE_SAMPLE} queries, 1 thread): {brute_s:.1} s; speed-up {:.0}x (1 thread vs 1 thread)",
        brute_s / single_s
    );
    println!("peak RSS: {:.0} MiB", peak_rss_mib());
}
