//! Compares every query image with every listed image by `orb1` (or by the listed images'
//! `orb2` signatures, as a scan against an orb2 list does), for `scripts/orb_eval.sh`.
//!
//! Usage: `orb1_pairs LISTED.txt QUERIES.txt [orb1|orb2] > pairs.tsv`, each file one image
//! path a line.
//! Writes one line per (query, listed) pair: `query listed good inliers mirrored matched`
//! (0-based line numbers of the two files; the better orientation's figures), then on stderr
//! the mean time to make a listed signature, a query's two signatures, and one comparison:
//! CPU time of the thread doing it, so that other jobs on a busy machine do not count.

use std::io::Write;
use std::path::Path;

use mediascreen::hash::orb1::verify::Comparison;
use mediascreen::hash::orb1::{Features, Signature};
use mediascreen::matcher::rule::orb1_closest;
use rayon::prelude::*;

/// One query's comparison with each listed image (the better orientation, and whether it
/// was the mirrored one), the milliseconds its signatures took, and those its comparisons took.
type QueryRow = (Vec<(Comparison, bool)>, f64, f64);

/// CPU time of the calling thread, in milliseconds.
fn thread_ms() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec for the call to fill in.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 * 1e3 + t.tv_nsec as f64 / 1e6
}

/// Decodes `path` (EXIF orientation ignored, as `scan` does).
fn decode(path: &str) -> image::RgbImage {
    image::ImageReader::open(Path::new(path))
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| e.to_string())
        .and_then(|r| r.decode().map_err(|e| e.to_string()))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .to_rgb8()
}

/// `make` of the picture at `path`, and the milliseconds it took (the decoding not counted).
fn timed<T>(path: &str, make: impl Fn(&image::RgbImage) -> T) -> (T, f64) {
    let rgb = decode(path);
    let started = thread_ms();
    let made = make(&rgb);
    (made, thread_ms() - started)
}

fn lines(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (listed, queries, orb2) = match &args[1..] {
        [listed, queries] => (listed, queries, false),
        [listed, queries, format] if format == "orb1" || format == "orb2" => {
            (listed, queries, format == "orb2")
        }
        _ => panic!("usage: orb1_pairs LISTED.txt QUERIES.txt [orb1|orb2]"),
    };
    let (listed, queries) = (lines(listed), lines(queries));
    let listed: Vec<(Signature, f64)> = listed
        .par_iter()
        .map(|p| match orb2 {
            false => timed(p, |rgb| Features::from_image(rgb).signature),
            true => timed(p, Signature::orb2),
        })
        .collect();
    let build_ms = listed.iter().map(|(_, ms)| ms).sum::<f64>() / listed.len() as f64;
    let rows: Vec<QueryRow> = queries
        .par_iter()
        .map(|path| {
            let (query, query_ms) = timed(path, Features::from_image);
            let started = thread_ms();
            let pairs = listed.iter().map(|(l, _)| orb1_closest(&query, l)).collect();
            (pairs, query_ms, thread_ms() - started)
        })
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (q, (pairs, _, _)) in rows.iter().enumerate() {
        for (l, (c, mirrored)) in pairs.iter().enumerate() {
            let (m, matched) = (u8::from(*mirrored), u8::from(c.is_match()));
            writeln!(out, "{q}\t{l}\t{}\t{}\t{m}\t{matched}", c.good, c.inliers).unwrap();
        }
    }
    let n = rows.len() as f64;
    let query_ms = rows.iter().map(|r| r.1).sum::<f64>() / n;
    let compare_ms = rows.iter().map(|r| r.2).sum::<f64>() / n / (2 * listed.len()) as f64;
    eprintln!("build_ms_per_listed\t{build_ms:.2}");
    eprintln!("query_ms_two_orientations\t{query_ms:.2}");
    eprintln!("compare_ms_per_pair_orientation\t{compare_ms:.3}");
}
