//! Throughput, exactness and memory of the Hamming index (`mediascreen::index::mih::Mih`)
//! at list scale, checked against the acceptance figures.
//!
//! Two runs, each on random hashes from a fixed-seed generator:
//! - PDQ width: `MIH_BENCH_N` (default 10,000,000) 256-bit hashes, 10,000 queries at t = 31;
//! - 64-bit width: `MIH_BENCH_N64` (default 1,000,000) hashes, 10,000 queries at t = 8.
//!
//! Of the queries, 300 are planted (a stored hash with 0..=t random bits flipped) and the
//! rest random. Reported: index build time; all queries through `search` on 2 threads and
//! on 1 (fastest of 3 passes, wall and CPU time: on a shared machine other jobs only ever
//! slow a pass down); `search_linear` on a 20-query sample, extrapolated to all queries;
//! speed-up; index heap bytes; process peak RSS; and, for the PDQ run at 10M, the issue's
//! acceptance limits (≤ 2 s on 2 threads, ≥ 50× brute force, index ≤ 1.0e9 bytes). Checked
//! (panics otherwise): both thread counts agree, every planted query finds its hash at the
//! planted distance, every reported distance is right, nothing else matches (PDQ width;
//! chance matches are possible, and counted, at 64 bits), and the sample equals the scan.
//!
//! Run with `cargo bench --bench index` (release build; about a minute at 10M, ~1 GB of
//! memory). For a quick run: `MIH_BENCH_N=1000000 cargo bench --bench index`.

use std::time::Instant;

use mediascreen::index::Mih;
use rayon::prelude::*;

const QUERIES: usize = 10_000;
const PLANTED: usize = 300;
const BRUTE_SAMPLE: usize = 20;
/// Timed query passes are repeated and the fastest kept.
const RUNS: usize = 3;

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

fn distance<const W: usize>(a: &[u64; W], b: &[u64; W]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(value) => value.parse().unwrap_or_else(|_| panic!("{name} must be a count")),
        Err(_) => default,
    }
}

/// CPU time of the whole process so far, from /proc (clock ticks of 10 ms): on a shared
/// machine wall time alone overstates the cost when other jobs take the cores.
fn process_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 =
        after_name.split_whitespace().skip(11).take(2).filter_map(|f| f.parse::<u64>().ok()).sum();
    ticks as f64 / 100.0
}

fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Expected number of chance matches of one random query: n · P(Binomial(bits, ½) ≤ t).
fn chance_matches(n: usize, bits: u32, threshold: u32) -> f64 {
    let mut choose = 1.0f64;
    let mut total = 0.0;
    for k in 0..=threshold.min(bits) {
        if k > 0 {
            choose *= f64::from(bits - k + 1) / f64::from(k);
        }
        total += choose;
    }
    n as f64 * total / 2f64.powi(bits as i32)
}

/// Wall and CPU seconds of the fastest of `RUNS` runs of `work`, and its result: other jobs
/// on a shared machine only ever slow a run down.
fn best_of<T>(mut work: impl FnMut() -> T) -> (T, Timing) {
    let mut best: Option<(T, Timing)> = None;
    for _ in 0..RUNS {
        let (started, cpu_started) = (Instant::now(), process_cpu_s());
        let result = work();
        let timing = Timing {
            wall_s: started.elapsed().as_secs_f64(),
            cpu_s: process_cpu_s() - cpu_started,
        };
        if best.as_ref().is_none_or(|(_, fastest)| timing.wall_s < fastest.wall_s) {
            best = Some((result, timing));
        }
    }
    best.expect("RUNS > 0")
}

struct Timing {
    wall_s: f64,
    cpu_s: f64,
}

struct Planted {
    query: usize,
    id: u32,
    distance: u32,
}

fn run<const W: usize>(label: &str, n: usize, threshold: u32, seed: u64) {
    println!("== {label}: {n} random {}-bit hashes, {QUERIES} queries, t = {threshold}", 64 * W);
    let mut rng = Rng(seed);
    let mut hashes: Vec<[u64; W]> = (0..n).map(|_| rng.hash()).collect();
    hashes.sort_unstable();
    hashes.dedup();

    let started = Instant::now();
    let mih = Mih::new(hashes);
    let build_s = started.elapsed().as_secs_f64();
    println!("build: {build_s:.2} s for {} distinct hashes", mih.len());

    // Planted queries are spread evenly so the brute-force sample below contains some.
    let mut queries = Vec::with_capacity(QUERIES);
    let mut planted = Vec::with_capacity(PLANTED);
    for query in 0..QUERIES {
        if query % (QUERIES / PLANTED) == 0 && planted.len() < PLANTED {
            let id = rng.below(mih.len() as u64) as u32;
            let distance = rng.below(u64::from(threshold) + 1) as u32;
            queries.push(rng.near(mih.hash(id), distance));
            planted.push(Planted { query, id, distance });
        } else {
            queries.push(rng.hash());
        }
    }

    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("thread pool");
    let search = |query: &[u64; W]| {
        let mut out = Vec::new();
        mih.search(query, threshold, &mut out);
        out
    };
    let (results, two_threads) =
        best_of(|| pool.install(|| queries.par_iter().map(search).collect::<Vec<_>>()));
    let (single, one_thread) = best_of(|| queries.iter().map(search).collect::<Vec<_>>());
    assert!(results == single, "2-thread and 1-thread results differ");

    let sample: Vec<usize> = planted
        .iter()
        .map(|p| p.query)
        .take(BRUTE_SAMPLE / 2)
        .chain((0..QUERIES).filter(|q| q % (QUERIES / PLANTED) != 0).take(BRUTE_SAMPLE / 2))
        .collect();
    let started = Instant::now();
    let brute: Vec<Vec<(u32, u32)>> = sample
        .iter()
        .map(|&query| {
            let mut out = Vec::new();
            mih.search_linear(&queries[query], threshold, &mut out);
            out
        })
        .collect();
    let brute_s = started.elapsed().as_secs_f64() * QUERIES as f64 / sample.len() as f64;
    for (&query, expected) in sample.iter().zip(&brute) {
        assert_eq!(&results[query], expected, "query {query} differs from the linear scan");
    }

    for p in &planted {
        assert!(
            results[p.query].contains(&(p.id, p.distance)),
            "planted query {} missed id {} at distance {}",
            p.query,
            p.id,
            p.distance
        );
    }
    let mut total = 0;
    for (query, found) in queries.iter().zip(&results) {
        for &(id, d) in found {
            assert!(d <= threshold && distance(mih.hash(id), query) == d, "wrong distance");
        }
        total += found.len();
    }
    let unplanted = total - planted.len();
    let expected_chance = chance_matches(mih.len(), 64 * W as u32, threshold) * QUERIES as f64;
    if W >= 4 {
        assert_eq!(unplanted, 0, "matches beyond the planted ones");
    }

    let per_query_us = one_thread.wall_s / QUERIES as f64 * 1e6;
    println!(
        "queries (best of {RUNS}): {:.3} s on 2 threads (CPU {:.2} s), {:.3} s on 1 \
         (CPU {:.2} s; {per_query_us:.1} µs/query)",
        two_threads.wall_s, two_threads.cpu_s, one_thread.wall_s, one_thread.cpu_s
    );
    println!(
        "brute force: {brute_s:.2} s extrapolated from {} queries ({:.1} µs/query); \
         speed-up {:.0}x (2 threads), {:.0}x (1 thread)",
        sample.len(),
        brute_s / QUERIES as f64 * 1e6,
        brute_s / two_threads.wall_s,
        brute_s / one_thread.wall_s
    );
    println!(
        "exactness: {} planted found, {unplanted} other matches (chance expects {expected_chance:.2}), \
         sample equals linear scan",
        planted.len()
    );
    println!("index heap: {} bytes ({:.1} MB)", mih.heap_bytes(), mih.heap_bytes() as f64 / 1e6);
    if W == 4 && n >= 10_000_000 {
        let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
        println!(
            "acceptance: ≤ 2 s on 2 threads {}, ≥ 50x brute force {}, index ≤ 1.0e9 bytes {}",
            verdict(two_threads.wall_s <= 2.0),
            verdict(brute_s / two_threads.wall_s >= 50.0),
            verdict(mih.heap_bytes() as f64 <= 1.0e9)
        );
    }
    match peak_rss_bytes() {
        Some(bytes) => {
            println!("process peak RSS so far: {bytes} bytes ({:.1} MB)", bytes as f64 / 1e6)
        }
        None => println!("process peak RSS: unavailable"),
    }
}

fn main() {
    run::<4>("PDQ", env_usize("MIH_BENCH_N", 10_000_000), 31, 1);
    run::<1>("64-bit", env_usize("MIH_BENCH_N64", 1_000_000), 8, 2);
}
