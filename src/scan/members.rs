//! Screening a file's bytes, and when they are an archive, its members', archives nested in
//! it opened in turn.
//!
//! Owns the reports of an archive: the archive itself (its digests matched, and why its
//! members were not all screened, if they were not), then each member in the archive's order,
//! depth first; reading members within the archive limits ([`ArchiveLimits`]); and handing
//! each member's decoding to the thread pool while the next is read, with the bytes held by
//! waiting members bounded. Archives are read on one thread, in order, so which member a
//! limit stops at does not depend on the thread count. Must not write anything anywhere: a
//! member lives in memory from its decompressor to its hashes.
//!
//! [`ArchiveLimits`]: crate::archive::ArchiveLimits

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{BufReader, Cursor, Read, Seek};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{
    hash_bytes, panicked, scanned, stream_digests, FileReport, HashOptions, HashedFile, Outcome,
    Screened, Stage,
};
use crate::archive::{self, Entry, EntryKind, Flow, Format, Meter, Tripped};
use crate::context::{index_kind, Contexts};
use crate::error::{FileError, Setting};
use crate::hash::Algorithm;
use crate::matcher::Matcher;
use crate::sniff::sniff;

/// Bytes of members read and waiting for a worker, past which the reading waits (working on
/// them itself): enough to keep every core busy (a hundred photos), little next to what the
/// workers hold while they decode.
const HELD_CAP: u64 = 32 << 20;

/// The report of a file given to the scan whose bytes are `bytes`, then, if it is an
/// archive, its members' reports, with the chat context that message indexes among them give
/// the others.
pub(super) fn screen(
    path: PathBuf,
    contents: Container,
    algorithms: &BTreeSet<Algorithm>,
    matcher: &Matcher,
    options: &HashOptions,
) -> Screened {
    let hashing = Hashing { algorithms, matcher, options };
    let media_type = match &contents {
        Container::Held(bytes) => sniff(bytes).media_type,
        Container::OnDisk { own, .. } => own.media_type,
    };
    let Some(format) = archive::format(media_type) else {
        let outcome = match contents {
            Container::Held(bytes) => hashing.outcome(bytes),
            Container::OnDisk { own, .. } => scanned(&own, matcher),
        };
        return Screened { files: vec![FileReport::new(path, outcome)], warnings: Vec::new() };
    };
    let reports = Reports { held: AtomicU64::new(0), done: Mutex::new(Vec::new()) };
    let (contexts, warnings) = rayon::scope(|scope| {
        let meter = Meter::new(options.archive);
        let mut reader = Reader {
            hashing: &hashing,
            reports: &reports,
            scope,
            meter: &meter,
            next: 0,
            contexts: Contexts::new(),
            warnings: Vec::new(),
        };
        let chain = vec![path.to_string_lossy().into_owned()];
        reader.container(path, chain, contents, format, 0);
        (reader.contexts, reader.warnings)
    });
    let mut done = reports.done.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    done.sort_by_key(|(order, _)| *order);
    let files = done
        .into_iter()
        .map(|(_, mut report)| {
            report.context = contexts.get(&report.path).cloned().map(Box::new);
            report
        })
        .collect();
    Screened { files, warnings }
}

/// An archive's bytes: held in memory, or (a file given to the scan too big to hold) read
/// from the open file, its own hashes already streamed.
pub(super) enum Container {
    Held(Vec<u8>),
    OnDisk { file: std::fs::File, own: Box<HashedFile> },
}

/// What an archive is read from.
trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// A member's bytes, shared with the hash of the archive they make: `Cursor` needs
/// `AsRef<[u8]>`, which `Arc<Vec<u8>>` is not.
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// What a member's bytes are hashed and matched with.
struct Hashing<'a> {
    algorithms: &'a BTreeSet<Algorithm>,
    matcher: &'a Matcher,
    options: &'a HashOptions,
}

impl Hashing<'_> {
    /// The outcome of a file (not an archive to open) whose bytes are `bytes`. A bug of ours
    /// on one member costs that member, not the archive.
    fn outcome(&self, bytes: Vec<u8>) -> Outcome {
        catch_unwind(AssertUnwindSafe(|| {
            let hashed = hash_bytes(Arc::new(bytes), self.algorithms, self.options);
            scanned(&hashed, self.matcher)
        }))
        .unwrap_or_else(|panic| panicked(&*panic))
    }
}

/// The reports of one file's archives, as their members are done, each with its place in
/// the archive order.
struct Reports {
    /// Bytes of members handed to workers and not yet hashed.
    held: AtomicU64,
    done: Mutex<Vec<(usize, FileReport)>>,
}

impl Reports {
    fn push(&self, order: usize, report: FileReport) {
        let mut done = self.done.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        done.push((order, report));
    }
}

/// Reads one file's archives, member after member, on the thread that was given the file.
struct Reader<'s, 'a, 'm> {
    hashing: &'s Hashing<'a>,
    reports: &'s Reports,
    scope: &'m rayon::Scope<'s>,
    meter: &'m Meter,
    /// The place of the next report in the archive order.
    next: usize,
    /// What the chat indexes among the members say of the others.
    contexts: Contexts,
    warnings: Vec<String>,
}

impl<'s> Reader<'s, '_, '_> {
    fn place(&mut self) -> usize {
        self.next += 1;
        self.next - 1
    }

    /// Reports the archive at `path` (a file given to the scan, or a member `depth` levels
    /// down), whose bytes are `contents`, and its members.
    fn container(
        &mut self,
        path: PathBuf,
        chain: Vec<String>,
        contents: Container,
        format: Format,
        depth: u32,
    ) {
        let place = self.place();
        let (algorithms, options) = (self.hashing.algorithms, self.hashing.options);
        let (own, source): (_, Box<dyn ReadSeek>) = match contents {
            Container::Held(bytes) => {
                let bytes = Arc::new(bytes);
                let own = hash_bytes(Arc::clone(&bytes), algorithms, options);
                (own, Box::new(Cursor::new(SharedBytes(bytes))))
            }
            Container::OnDisk { file, own } => (*own, Box::new(BufReader::new(file))),
        };
        let limits = *self.meter.limits();
        let unread = if depth >= limits.max_depth {
            Some(FileError::limit(
                Setting::ArchiveDepth,
                format!(
                    "an archive nested {} deep, past the limit of {}",
                    depth + 1,
                    limits.max_depth
                ),
                ": its members were not screened",
            ))
        } else {
            self.members(&path, &chain, source, format, depth)
        };
        let mut outcome = scanned(&own, self.hashing.matcher);
        if let Outcome::Scanned { perceptual_error, .. } = &mut outcome {
            *perceptual_error = unread;
        }
        // A file on disk is named by its path alone; its members carry the chain.
        let chain = if depth == 0 { Vec::new() } else { chain };
        self.reports.push(
            place,
            FileReport { path, chain, context: None, object: None, from_store: None, outcome },
        );
    }

    /// Reports the members of the archive `source`; why not all were screened, if so.
    fn members(
        &mut self,
        path: &Path,
        chain: &[String],
        source: Box<dyn ReadSeek>,
        format: Format,
        depth: u32,
    ) -> Option<FileError> {
        let limits = *self.meter.limits();
        let mut members = 0u64;
        let mut unread = None;
        let name = chain.last().map_or("", String::as_str);
        let meter = self.meter;
        let opened = archive::open(format, source, name, meter, &mut |entry: Entry| {
            members += 1;
            if members > limits.max_members {
                unread = Some(FileError::limit(
                    Setting::ArchiveMembers,
                    format!("more than {} members", limits.max_members),
                    &format!(": {} and the members after it were not screened", entry.name),
                ));
                return Flow::Stop;
            }
            let mut member_path = OsString::from(path.as_os_str());
            member_path.push("!/");
            member_path.push(&entry.name);
            let member_path = PathBuf::from(member_path);
            let mut member_chain = chain.to_vec();
            member_chain.push(entry.name);
            let place = self.place();
            let report = |outcome| FileReport {
                path: member_path.clone(),
                chain: member_chain.clone(),
                context: None,
                object: None,
                from_store: None,
                outcome,
            };
            let data = match entry.kind {
                EntryKind::NotAFile(reason) => {
                    let outcome = Outcome::Skipped { reason: reason.into(), over_budget: false };
                    self.reports.push(place, report(outcome));
                    return Flow::Next;
                }
                EntryKind::Unreadable(error) => {
                    self.reports.push(place, report(Outcome::Error { stage: Stage::Read, error }));
                    return Flow::Next;
                }
                EntryKind::File { data } => data,
            };
            let max = self.hashing.options.max_file_size;
            let mut held = Vec::new();
            let mut flow = Flow::Next;
            let mut read =
                (&mut *data).take(max.saturating_add(1)).read_to_end(&mut held).map(|_| None);
            if matches!(read, Ok(None)) && held.len() as u64 > max {
                read = stream_digests(&held, data, self.hashing.algorithms, max).map(Some);
            }
            let outcome = match read {
                Ok(None) => {
                    self.index(&member_path, &held);
                    if let Some(format) = archive::format(sniff(&held).media_type) {
                        let held = Container::Held(held);
                        self.container(
                            member_path.clone(),
                            member_chain.clone(),
                            held,
                            format,
                            depth + 1,
                        );
                    } else {
                        self.hand_over(place, member_path.clone(), member_chain.clone(), held);
                    }
                    return Flow::Next;
                }
                Ok(Some(streamed)) => scanned(&streamed, self.hashing.matcher),
                Err(error) => {
                    let error = match meter.take_tripped() {
                        Some(tripped) => {
                            let error = meter.limit_error(tripped, held.len() as u64);
                            flow = match tripped {
                                Tripped::Expanded => {
                                    unread = Some(error.clone());
                                    Flow::Stop
                                }
                                Tripped::Ratio => Flow::Abandoned(Setting::ArchiveRatio),
                            };
                            error
                        }
                        None => archive::damaged("the member", error),
                    };
                    Outcome::Error { stage: Stage::Read, error }
                }
            };
            self.reports.push(place, report(outcome));
            flow
        });
        unread.or(opened.err())
    }

    /// Reads the member at `path` for chat context if it is a chat export's message index.
    fn index(&mut self, path: &Path, bytes: &[u8]) {
        let Some(name) = path.file_name() else { return };
        let Some(kind) = index_kind(name, &bytes[..bytes.len().min(64 * 1024)]) else { return };
        if let Err(warning) = self.contexts.add(path, kind, bytes) {
            let path = path.display();
            self.warnings.push(format!("{path}: not read as a chat index: {warning}"));
        }
    }

    /// Hands a member's bytes to the thread pool to be hashed and matched, once the members
    /// waiting hold few enough bytes (until then this thread works on them itself).
    fn hand_over(&mut self, place: usize, path: PathBuf, chain: Vec<String>, bytes: Vec<u8>) {
        let size = bytes.len() as u64;
        let reports = self.reports;
        while reports.held.load(Ordering::Acquire) > 0
            && reports.held.load(Ordering::Acquire) + size > HELD_CAP
        {
            if rayon::yield_now() != Some(rayon::Yield::Executed) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        reports.held.fetch_add(size, Ordering::AcqRel);
        let hashing = self.hashing;
        self.scope.spawn(move |_| {
            let outcome = hashing.outcome(bytes);
            reports.held.fetch_sub(size, Ordering::AcqRel);
            reports.push(
                place,
                FileReport { path, chain, context: None, object: None, from_store: None, outcome },
            );
        });
    }
}
