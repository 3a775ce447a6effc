//! Fetching objects ahead of the scan's workers: many requests in flight (a bucket's latency,
//! not its bandwidth, is what a scan of small photos waits on), in the order the workers will
//! take the objects, with the bytes fetched but not yet taken held under a cap.
//!
//! Must not decide anything about an object: a fetch's error is handed to the worker as the
//! object's outcome. Objects over the scan's file-size limit are left to the worker, which
//! streams them.

use std::sync::{Arc, Condvar, Mutex};

use tokio::sync::Semaphore;

use super::client::{fetch, runtime};
use super::ObjectVersion;
use crate::error::FileError;
use crate::walk::{Candidate, CandidateKind};

/// The bytes fetched ahead and not yet taken by a worker, at most (one object bigger than
/// this is fetched alone).
const HELD: u64 = 16 << 20;

/// The semaphore counts KiB, so that its `u32` permits cover [`HELD`].
const UNIT: u64 = 1024;

type Fetched = Result<(Vec<u8>, ObjectVersion), FileError>;

/// Where one object's bytes wait for the worker that scans it.
#[derive(Debug, Default)]
pub(super) struct Slot {
    fetched: Mutex<Option<(Fetched, tokio::sync::OwnedSemaphorePermit)>>,
    ready: Condvar,
}

impl Slot {
    fn fill(&self, fetched: Fetched, held: tokio::sync::OwnedSemaphorePermit) {
        *self.fetched.lock().unwrap_or_else(|e| e.into_inner()) = Some((fetched, held));
        self.ready.notify_all();
    }

    /// Waits for the object's bytes and takes them, which frees their room under [`HELD`].
    pub(super) fn take(&self) -> Fetched {
        let mut fetched = self.fetched.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some((fetched, _held)) = fetched.take() {
                return fetched;
            }
            fetched = self.ready.wait(fetched).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// The fetching under way; dropping it stops fetching objects not yet started.
pub struct Prefetch {
    driver: tokio::task::JoinHandle<()>,
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// Starts fetching the objects among `candidates` of at most `max_file_size` bytes, in
/// `order` (the order the workers take candidates in), `concurrency` at a time. Each object
/// candidate so fetched is given the slot its worker will wait on. `None` if there is
/// nothing to fetch.
pub fn prefetch(
    candidates: &mut [Candidate],
    order: &[usize],
    concurrency: usize,
    max_file_size: u64,
) -> Option<Prefetch> {
    let mut jobs = Vec::new();
    for &i in order {
        if let CandidateKind::Object(object) = &mut candidates[i].kind {
            if (1..=max_file_size).contains(&object.listed.size) {
                let slot = Arc::new(Slot::default());
                jobs.push((object.as_ref().clone(), Arc::clone(&slot)));
                object.slot = Some(slot);
            }
        }
    }
    if jobs.is_empty() {
        return None;
    }
    let held = Arc::new(Semaphore::new((HELD / UNIT) as usize));
    let flights = Arc::new(Semaphore::new(concurrency.max(1)));
    // Room is taken in order, so the object the next free worker waits for is always the
    // one being fetched or next to be: the fetcher never waits on room that only a later
    // object's worker would free.
    let driver = runtime().spawn(async move {
        for (object, slot) in jobs {
            let units = object.listed.size.div_ceil(UNIT).clamp(1, HELD / UNIT) as u32;
            let (Ok(room), Ok(flight)) = (
                Arc::clone(&held).acquire_many_owned(units).await,
                Arc::clone(&flights).acquire_owned().await,
            ) else {
                return;
            };
            tokio::spawn(async move {
                let fetched = fetch(&object).await;
                drop(flight);
                slot.fill(fetched, room);
            });
        }
    });
    Some(Prefetch { driver })
}
