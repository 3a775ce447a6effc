//! The parallel driver of a scan: the walk's candidates, cut to the scan's budget, worked on
//! by a pool of threads, results handed on in walk order.
//!
//! Owns the order work is started in (which need not be the walk's) and the order results
//! come out in (always the walk's, so output does not depend on the thread count), and starts
//! fetching bucket objects ahead of the workers. Must not look into a file: sizes come from
//! metadata and listings.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::error::{Reason, Setting};
use crate::options::ScanOptions;
use crate::walk::{walk, Candidate, CandidateKind};

/// Walks `roots`, applies the scan's budget ([`ScanOptions::max_files`],
/// [`ScanOptions::max_scan_size`]), shows `walked` the candidates, and runs
/// `work` on every candidate on `threads` threads (0 = one per CPU), in `work_order`. Each
/// result goes to `emit` in walk order as soon as it and every result before it are done, so
/// output can stream and still not depend on the thread count. Once `stop` is set,
/// candidates not yet started are not worked on: `emit` gets `None` for them.
pub fn for_each_candidate<T, F>(
    roots: &[PathBuf],
    options: &ScanOptions,
    stop: &AtomicBool,
    work: F,
    walked: impl FnOnce(&[Candidate]),
    mut emit: impl FnMut(Candidate, Option<T>),
) where
    T: Send,
    F: Fn(&Candidate) -> T + Sync + Send,
{
    let mut candidates = walk(roots, options.follow_symlinks, &options.filter);
    candidates.extend(crate::bucket::named(&options.objects));
    apply_budget(&mut candidates, options);
    walked(&candidates);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()
        .expect("building a thread pool only fails if threads cannot be spawned");
    let order = work_order(&candidates);
    // Stops fetching when dropped, after every worker is done.
    #[cfg(feature = "buckets")]
    let _prefetch = crate::bucket::prefetch(
        &mut candidates,
        &order,
        match options.io_concurrency {
            0 => crate::options::DEFAULT_IO_CONCURRENCY,
            n => n,
        },
        options.hashing.max_file_size,
    );
    let (sender, receiver) = mpsc::channel();
    std::thread::scope(|scope| {
        let candidates = &candidates;
        scope.spawn(move || {
            // Every thread takes the next file in `order` as soon as it is free.
            let next = AtomicUsize::new(0);
            pool.broadcast(|_| {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = (!stop.load(Ordering::Relaxed)).then(|| work(&candidates[i]));
                    // The receiver lives until every sender is gone.
                    let _ = sender.send((i, result));
                }
            });
            drop(sender);
        });
        let mut pending = BTreeMap::new();
        let mut next = 0;
        for (i, result) in receiver {
            pending.insert(i, result);
            while let Some(result) = pending.remove(&next) {
                emit(candidates[next].clone(), result);
                next += 1;
            }
        }
    });
}

/// A candidate's size as the walk or listing knows it, without opening it; 0 for one that
/// cannot be inspected here (it fails properly when it is read).
fn size(candidate: &Candidate) -> u64 {
    match &candidate.kind {
        CandidateKind::File => std::fs::metadata(&candidate.path).map_or(0, |m| m.len()),
        CandidateKind::Object(object) => object.listed.size,
        _ => 0,
    }
}

/// Whether a candidate is to be read (a file or an object), and so counts in the budget.
fn is_read(candidate: &Candidate) -> bool {
    matches!(candidate.kind, CandidateKind::File | CandidateKind::Object(_))
}

/// How many of the last files [`work_order`] reorders.
const FINAL_FILES: usize = 64;

/// The order in which candidates are worked on: walk order, but for the last
/// [`FINAL_FILES`], which go largest first. A scan lasts until its last file is done, and a
/// big picture started near the end keeps one core decoding while the others wait (1.5 s of
/// an 18 s corpus run); started ahead of the small files around it, it overlaps with them.
/// Elsewhere walk order stays: results stream out in it, and sorting whole batches by size
/// started their biggest pictures side by side, which raised the peak memory by tens of MB.
/// A file that cannot be inspected sorts last and fails properly when it is read.
fn work_order(candidates: &[Candidate]) -> Vec<usize> {
    let tail = candidates.len().saturating_sub(FINAL_FILES);

    let sizes: Vec<u64> = candidates[tail..].iter().map(size).collect();
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order[tail..].sort_by_key(|&i| (std::cmp::Reverse(sizes[i - tail]), i));
    order
}

/// Marks the files past [`ScanOptions::max_files`], or past [`ScanOptions::max_scan_size`]
/// bytes in walk order, as
/// skipped: a budget cut in walk order leaves the same files out whatever the thread count.
fn apply_budget(candidates: &mut [Candidate], options: &ScanOptions) {
    let (mut files, mut bytes) = (0u64, 0u64);
    for candidate in candidates.iter_mut().filter(|c| is_read(c)) {
        files += 1;
        if options.max_files.is_some_and(|max| files > max) {
            let head =
                format!("not scanned: past the {}-file limit", options.max_files.unwrap_or(0));
            candidate.kind = CandidateKind::OverBudget(Reason::naming(Setting::MaxFiles, head, ""));
            continue;
        }
        if let Some(max) = options.max_scan_size {
            // A file that cannot be inspected here fails properly when it is read.
            bytes += size(candidate);
            if bytes > max {
                let head = format!("not scanned: past the {max}-byte limit");
                let reason = Reason::naming(Setting::MaxScanSize, head, "");
                candidate.kind = CandidateKind::OverBudget(reason);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_files_are_worked_on_largest_first_and_ties_keep_walk_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: String, size: usize| {
            let path = dir.path().join(name);
            std::fs::write(&path, vec![0u8; size]).unwrap();
            Candidate { path, kind: CandidateKind::File, id: None }
        };
        let mut candidates: Vec<Candidate> =
            (0..10).map(|i| file(format!("early{i}"), 10 * i)).collect();
        candidates.extend((10..FINAL_FILES).map(|i| file(format!("late{i}"), 1)));
        candidates.extend([
            file("a".into(), 10),
            Candidate { path: dir.path().join("gone"), kind: CandidateKind::File, id: None },
            file("b".into(), 300),
            Candidate {
                path: dir.path().join("c"),
                kind: CandidateKind::Skip(Reason::new("link")),
                id: None,
            },
            file("d".into(), 10),
            file("e".into(), 2000),
        ]);
        let order = work_order(&candidates);
        let early: Vec<usize> = (0..6).collect();
        assert_eq!(order[..6], early[..], "walk order before the last files");
        let n = candidates.len();
        // The last 64: sizes 2000 and 300, then 90 down to 60 (early6..9), then 10 and 10.
        let last: Vec<usize> = [n - 1, n - 4, 9, 8, 7, 6]
            .into_iter()
            .chain([n - 6, n - 2])
            .chain(10..FINAL_FILES)
            .chain([n - 5, n - 3])
            .collect();
        assert_eq!(order[6..], last[..]);
    }
}
