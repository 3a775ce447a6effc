//! `mediascreen hash`: files to rows of a native list on standard output, and on standard
//! error what each kind of file got, so that a person building a list sees what it will and
//! will not match. Must not match anything: that is `scan`'s.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result};

use mediascreen::hash::Algorithm;
use mediascreen::hashlist::{native_rows, NativeRow, NativeWriter};
use mediascreen::report::printable;
use mediascreen::scan::{self, HashedFile};
use mediascreen::walk::{Candidate, CandidateKind};

use crate::cli::{described, HashConfig, IdFrom};
use crate::{interrupt_flag, ExitStatus};

pub fn run_hash(mut config: HashConfig) -> Result<ExitStatus> {
    let stop = interrupt_flag();
    crate::cli::find_ffmpeg(&mut config.scan.hashing);
    let destination = "writing the list to standard output";
    let mut out = NativeWriter::new(std::io::stdout().lock()).context(destination)?;
    let (mut tally, mut write_error) = (HashTally::default(), None);
    // The content's SHA-256 is computed for its id even when its rows are not asked for.
    let mut computed = config.algorithms.clone();
    if config.id_from == IdFrom::Sha256 {
        computed.insert(Algorithm::Sha256);
    }
    let hash =
        |candidate: &Candidate| scan::hash_candidate(candidate, &computed, &config.scan.hashing);
    // The first file written under each name or content id, to tell a repeat from a clash.
    let mut written: HashMap<String, PathBuf> = HashMap::new();
    // Rows go out as each file is done, in walk order, so a long run can be piped onwards.
    let walked = |_: &[_]| {};
    scan::for_each_candidate(
        &config.paths,
        &config.scan,
        stop,
        hash,
        walked,
        |candidate, outcome| {
            let raw = candidate.path.to_string_lossy();
            // Names come from outside: on stderr, escaped as the JSON escapes them.
            let path = printable(&raw);
            let file = match outcome {
                Some(Ok(file)) => file,
                Some(Err(reason)) => {
                    // As in a scan, a path skipped by the walk is named but is no error.
                    if let CandidateKind::Skip(_) = candidate.kind {
                        eprintln!(
                            "mediascreen: {path}: skipped: {}",
                            printable(&described(&reason))
                        );
                        tally.skipped += 1;
                    } else {
                        eprintln!("mediascreen: {path}: {}", printable(&described(&reason)));
                        tally.errors += 1;
                    }
                    return;
                }
                // Not hashed: the run was interrupted.
                None => {
                    tally.not_hashed += 1;
                    return;
                }
            };
            let id = match config.id_from {
                IdFrom::Path => raw.to_string(),
                IdFrom::Name => candidate
                    .path
                    .file_name()
                    .map_or_else(|| raw.to_string(), |name| name.to_string_lossy().into_owned()),
                IdFrom::Sha256 => match file.hashes.values.get(&Algorithm::Sha256) {
                    Some(sha256) => sha256.to_hex(),
                    None => {
                        eprintln!("mediascreen: {path}: no SHA-256 to name it by");
                        tally.errors += 1;
                        return;
                    }
                },
            };
            if id.contains(['\n', '\r']) {
                eprintln!(
                    "mediascreen: {path}: its name holds a line break, which a list id cannot \
                     (--id-from sha256 names it by its content)"
                );
                tally.errors += 1;
                return;
            }
            let rows = native_rows(&id, &config.label, &config.algorithms, &file.hashes);
            let kind = HashedKind::of(&file);
            let got: BTreeSet<Algorithm> = rows.iter().map(|(algorithm, _)| *algorithm).collect();
            let missing: Vec<&str> = (config.algorithms.iter())
                .filter(|a| kind.takes(**a) && !got.contains(a))
                .map(|a| a.name())
                .collect();
            if let Some(reason) = &file.perceptual_error {
                eprintln!("mediascreen: {path}: {}", printable(&described(reason)));
                tally.errors += 1;
            } else if !missing.is_empty() {
                eprintln!(
                    "mediascreen: {path}: {}: no {} hash",
                    file.media_type,
                    missing.join(", ")
                );
                tally.errors += 1;
            } else if let Some(needed) = kind.needs().filter(|_| got.iter().all(|a| a.is_digest()))
            {
                // Not an error: the algorithms given were taken as they are.
                let outcome = match got.iter().map(|a| a.name()).collect::<Vec<_>>() {
                    names if names.is_empty() => "no hash written".to_string(),
                    names => {
                        format!("only {}, so only exact copies can match it", names.join(", "))
                    }
                };
                eprintln!(
                    "mediascreen: warning: {path}: a {} ({}) takes {needed}, not in --algorithms: \
                     {outcome}",
                    kind.name(1),
                    file.media_type
                );
            }
            // Paths are ids apart already; names may clash, and contents repeat.
            if config.id_from != IdFrom::Path {
                match written.get(&id) {
                    // The same content: the same rows again.
                    Some(_) if config.id_from == IdFrom::Sha256 => {
                        tally.duplicates += 1;
                        return;
                    }
                    Some(first) => eprintln!(
                        "mediascreen: warning: {path}: id {id:?} is also {}'s: reports cannot \
                         tell them apart, and vpdq rows sharing an id are read as one video \
                         (--id-from path or sha256 keeps ids apart)",
                        printable(&first.to_string_lossy())
                    ),
                    None => {
                        written.insert(id, candidate.path.clone());
                    }
                }
            }
            tally.add(kind, &rows);
            if write_error.is_none() {
                if let Err(e) = out.write(&rows) {
                    stop.store(true, Ordering::Relaxed);
                    write_error = Some(e);
                }
            }
        },
    );
    if let Some(e) = write_error {
        return Err(anyhow::Error::new(e).context(destination));
    }
    out.flush().context(destination)?;
    let interrupted = stop.load(Ordering::Relaxed);
    if !config.quiet && (tally.hashed() > 0 || interrupted) {
        eprintln!("mediascreen: {}", tally.summary(&config.algorithms));
    }
    if interrupted {
        eprintln!(
            "mediascreen: interrupted: {} files not hashed; the rows written are whole",
            tally.not_hashed
        );
        return Ok(ExitStatus::Interrupted);
    }
    // A list with no entries would be refused by `scan`: no use passing it on as a success.
    if tally.rows == 0 {
        let none = "the list written has no entries (scan refuses such a list)";
        if tally.hashed() > 0 {
            let names: Vec<&str> = config.algorithms.iter().map(|a| a.name()).collect();
            anyhow::bail!("no file gave a {} hash: {none}", names.join(" or "));
        }
        if tally.errors + tally.skipped > 0 {
            anyhow::bail!("no file could be hashed: {none}");
        }
        anyhow::bail!("no files to hash; check the paths given");
    }
    Ok(if tally.errors > 0 { ExitStatus::Error } else { ExitStatus::Clean })
}

/// What `mediascreen hash` tells a file to be, by what it could compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum HashedKind {
    /// A still picture (an animation's first frame, without vPDQ).
    Picture,
    Video,
    /// An animated GIF or WebP, hashed as a picture and as a video.
    Animation,
    /// Neither: only digests apply.
    Other,
}

impl HashedKind {
    fn of(file: &HashedFile) -> HashedKind {
        match file.media_type {
            t if t.starts_with("video/") => HashedKind::Video,
            t if t.starts_with("image/") && file.hashes.video.is_some() => HashedKind::Animation,
            t if t.starts_with("image/") => HashedKind::Picture,
            _ => HashedKind::Other,
        }
    }

    /// Whether `algorithm` can be computed for a file of this kind.
    fn takes(self, algorithm: Algorithm) -> bool {
        algorithm.is_digest()
            || match self {
                HashedKind::Picture => algorithm != Algorithm::Vpdq,
                HashedKind::Video => algorithm == Algorithm::Vpdq,
                HashedKind::Animation => true,
                HashedKind::Other => false,
            }
    }

    /// The hash that lets an edited copy of a file of this kind match, if any.
    fn needs(self) -> Option<&'static str> {
        match self {
            HashedKind::Picture => Some("pdq (or phash, dhash, ahash, orb1, orb2)"),
            HashedKind::Video | HashedKind::Animation => Some("vpdq"),
            HashedKind::Other => None,
        }
    }

    fn name(self, count: usize) -> String {
        let name = match self {
            HashedKind::Picture => "picture",
            HashedKind::Video => "video",
            HashedKind::Animation => "animation",
            HashedKind::Other => "other file",
        };
        match count {
            1 => name.to_string(),
            _ => format!("{name}s"),
        }
    }
}

/// What a `mediascreen hash` run wrote, for its closing line.
#[derive(Default)]
struct HashTally {
    /// Per kind: files, the algorithms they got rows of, vPDQ frames.
    kinds: BTreeMap<HashedKind, (usize, BTreeSet<Algorithm>, usize)>,
    rows: usize,
    /// Files hashed that got no row.
    empty: usize,
    errors: usize,
    skipped: usize,
    /// Files whose id was already written with the same rows.
    duplicates: usize,
    not_hashed: usize,
}

impl HashTally {
    fn add(&mut self, kind: HashedKind, rows: &[NativeRow]) {
        let (files, got, frames) = self.kinds.entry(kind).or_default();
        *files += 1;
        got.extend(rows.iter().map(|(algorithm, _)| *algorithm));
        *frames += rows.iter().filter(|(algorithm, _)| *algorithm == Algorithm::Vpdq).count();
        self.rows += rows.len();
        self.empty += usize::from(rows.is_empty());
    }

    /// Files hashed (with rows or not), the duplicates not written included.
    fn hashed(&self) -> usize {
        self.kinds.values().map(|(files, ..)| files).sum::<usize>() + self.duplicates
    }

    /// One line: how many files of each kind got which hashes, then what went wrong.
    fn summary(&self, algorithms: &BTreeSet<Algorithm>) -> String {
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let kinds: Vec<String> = (self.kinds.iter())
            .map(|(kind, (files, got, frames))| {
                let mut hashes: Vec<String> = (got.iter())
                    .filter(|a| !a.is_digest())
                    .map(|a| match a {
                        Algorithm::Vpdq => format!("vpdq, {}", plural(*frames, "frame")),
                        a => a.name().to_string(),
                    })
                    .collect();
                if hashes.is_empty() {
                    let digests = got.iter().any(|a| a.is_digest());
                    hashes.push(if digests { "digests only" } else { "no hash" }.to_string());
                }
                format!("{files} {} ({})", kind.name(*files), hashes.join(", "))
            })
            .collect();
        let mut line =
            format!("hashed {} into {}", plural(self.hashed(), "file"), plural(self.rows, "row"));
        if !kinds.is_empty() {
            line += &format!(": {}", kinds.join(", "));
        }
        let digests: Vec<&str> =
            algorithms.iter().filter(|a| a.is_digest()).map(|a| a.name()).collect();
        if !digests.is_empty() && self.rows > 0 {
            line += &format!("; {} of each", digests.join(", "));
        }
        let mut problems = Vec::new();
        if self.errors > 0 {
            problems.push(format!("{} (named above)", plural(self.errors, "error")));
        }
        if self.skipped > 0 {
            problems.push(format!("{} skipped (named above)", self.skipped));
        }
        if self.empty > 0 {
            problems.push(format!("{} without a hash", plural(self.empty, "file")));
        }
        if self.duplicates > 0 {
            let copies = plural(self.duplicates, "file");
            problems.push(format!("{copies} identical to one already written (not repeated)"));
        }
        if !problems.is_empty() {
            line += &format!("; {}", problems.join(", "));
        }
        line
    }
}
