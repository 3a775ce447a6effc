//! vPDQ conformance on Meta's sample hashes in `fixtures/conformance/vpdq` (see
//! `fixtures/PROVENANCE.md`): the per-frame files of `vpdq/sample-hashes/` and the 16×16 match
//! matrix the reference-set maintainers computed with python-threatexchange's rules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use mediascreen::hash::vpdq::{self, VpdqFrame, DEFAULT_DISTANCE, DEFAULT_MIN_QUALITY};
use mediascreen::index::video;

/// The matrix's parameters, which are also mediascreen's defaults.
const DISTANCE: u32 = 31;
const MIN_QUALITY: u8 = 50;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/conformance/vpdq")
}

fn read(name: &str) -> String {
    let path = fixtures().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Every per-frame file, by video name, as text.
fn videos() -> BTreeMap<String, String> {
    let mut videos = BTreeMap::new();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(video) = name.strip_suffix(".txt").filter(|v| !v.starts_with("LICENSE")) {
            videos.insert(video.to_string(), read(&name));
        }
    }
    assert_eq!(videos.len(), 16, "expected the 16 native sample-hash files");
    videos
}

fn parse(video: &str, text: &str) -> Vec<VpdqFrame> {
    vpdq::parse_reference(text).unwrap_or_else(|e| panic!("{video}: {e}"))
}

#[test]
fn reference_files_round_trip_byte_for_byte() {
    for (video, text) in videos() {
        assert!(text.ends_with('\n'), "{video}: the reference ends every line with a newline");
        assert_eq!(vpdq::write_reference(&parse(&video, &text)), text, "{video}");
    }
}

#[test]
fn every_frame_is_sampled_with_the_reference_timestamp() {
    // The sample videos play at 30 fps and were hashed with `-r 0`, i.e. every frame.
    let step = vpdq::frame_step(0.0, 30.0);
    let mut lines = 0;
    for (video, text) in videos() {
        let frames = parse(&video, &text);
        let sampled = (0u64..).step_by(step as usize).take(frames.len());
        assert!(frames.iter().map(|f| f.frame).eq(sampled), "{video}: frame numbers");
        let recomputed: Vec<VpdqFrame> = frames
            .iter()
            .map(|f| VpdqFrame { timestamp: vpdq::timestamp(f.frame, 30.0), ..f.clone() })
            .collect();
        assert_eq!(vpdq::write_reference(&recomputed), text, "{video}: timestamps");
        lines += frames.len();
    }
    println!("vpdq: {lines} frames, every timestamp recomputed to the printed 3 decimals");
}

#[test]
fn match_matrix_agrees_with_python_threatexchange() {
    let frames: BTreeMap<String, Vec<VpdqFrame>> =
        videos().into_iter().map(|(video, text)| (video.clone(), parse(&video, &text))).collect();
    let matrix = read("vpdq_match_matrix_D31_Q50.csv");
    let mut rows = matrix.lines();
    let header = "query,compared,cpp_query_pct,cpp_compared_pct,pte_query_pct,pte_compared_pct,\
                  cpp_tool_query_pct,cpp_tool_target_pct";
    assert_eq!(rows.next(), Some(header));

    assert_eq!((DEFAULT_DISTANCE, DEFAULT_MIN_QUALITY), (DISTANCE, MIN_QUALITY));
    let started = Instant::now();
    // All 16 videos in one index, as a list of listed videos is matched in a scan.
    let names: Vec<&str> = frames.keys().map(String::as_str).collect();
    let index = video::VideoIndex::new(
        frames.values().map(|f| f.iter().map(|f| (f.hash.clone(), Some(f.quality), None))),
        MIN_QUALITY,
        0.0,
    );
    let results: BTreeMap<&str, BTreeMap<&str, vpdq::VideoComparison>> = frames
        .iter()
        .map(|(query, f)| {
            let found = index.search(f, DISTANCE, MIN_QUALITY);
            (query.as_str(), found.into_iter().map(|(v, c)| (names[v as usize], c)).collect())
        })
        .collect();
    let (mut pairs, mut mismatches) = (0, Vec::new());
    for row in rows {
        let fields: Vec<&str> = row.split(',').collect();
        let [query, compared, _, _, query_pct, compared_pct, _, _] = fields[..] else {
            panic!("bad matrix row {row:?}");
        };
        let c = video::compare(&frames[query], &frames[compared], DISTANCE, MIN_QUALITY);
        // The index of all videos reports a pair only when some frame matched.
        match results[query].get(compared) {
            Some(indexed) => assert_eq!(indexed, &c, "{query} vs {compared}"),
            None => assert_eq!(c.query_matched, 0, "{query} vs {compared}"),
        }
        let got = (format!("{:.2}", c.query_pct), format!("{:.2}", c.compared_pct));
        if got != (query_pct.to_string(), compared_pct.to_string()) {
            mismatches.push(format!("{query} vs {compared}: {got:?}, expected {row}"));
        }
        pairs += 1;
    }
    println!(
        "vpdq: {pairs} ordered pairs checked against pte_query_pct/pte_compared_pct, {} equal \
         ({:.0} ms)",
        pairs - mismatches.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(pairs, 256);
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}
