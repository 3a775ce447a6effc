//! The per-file pipeline and its parallel driver.
//!
//! Owns reading each file exactly once, and from those bytes: sniffing, digests, decoding and
//! perceptual hashes (only the algorithms asked for), then matching. It owns the pool of
//! workers that scan files side by side (a decoder's own watchdog thread is `decode`'s);
//! results always come back in walk order, so output does not depend on the thread count. A
//! problem with one file becomes that file's [`Outcome`]; it never stops the scan. What a
//! scan returns ([`Scan`]) and what it is given ([`ScanOptions`]) are defined below it, so
//! the report reads them without calling in here. Must not write anywhere, least of all into
//! the scanned tree.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read, Seek};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use image::ImageFormat;

use crate::archive;
use crate::bucket::{self, ObjectVersion};
use crate::context::{index_kind, Contexts};
use crate::decode::video::{decode_video, is_animated};
use crate::decode::{
    decode_heif, decode_picture, heif, jpeg_truncation, panic_text, png_ancillary_bomb, room_for,
    timed_out, within,
};
use crate::error::{FileError, FileErrorKind, Setting};
use crate::hash::digest::Digester;
use crate::hash::pdq::PdqFeatures;
use crate::hash::vpdq::{self, VideoHash, VpdqFrame};
use crate::hash::{classic, orb1, Algorithm, FileHashes, HashValue};
use crate::matcher::Matcher;
use crate::read::{open_regular, read_sized, same_size};
use crate::sniff::{container, missing_decoder, sniff};
use crate::walk::{Candidate, CandidateKind};

mod driver;
mod members;
mod stored;

pub use driver::for_each_candidate;

pub use crate::options::{HashOptions, ScanOptions, DEFAULT_IO_CONCURRENCY};
pub use crate::outcome::{FileReport, FromStore, Outcome, Scan, Stage, Status};

/// How long past its time limit a video's decoding is waited for: its decoders stop at the
/// limit themselves and hand over what they decoded, which takes a moment.
const VIDEO_GRACE: Duration = Duration::from_secs(5);

/// A file's bytes, typed and hashed (its size is in [`FileHashes::size`]).
#[derive(Debug)]
pub struct HashedFile {
    /// MIME type from the content's signature.
    pub media_type: &'static str,
    /// The hashes that were asked for and could be computed.
    pub hashes: FileHashes,
    /// Why perceptual hashes were asked for but could not be computed, or were computed from
    /// an incomplete image (a truncated JPEG), or why the file's contents were not looked
    /// into (an archive), if so. Digests are valid either way.
    pub perceptual_error: Option<FileError>,
}

/// Reads `path` once and computes `algorithms` from those bytes. A video is decoded, and its
/// sampled frames hashed, only when vPDQ is asked for. A file over
/// [`HashOptions::max_file_size`] is streamed through the digests and not decoded. A link at
/// `path` is followed (the caller named it); a file the walk found goes through
/// [`hash_candidate`] instead. An archive's own hashes are computed, not its members' (a
/// scan screens those too).
pub fn hash_file(
    path: &Path,
    algorithms: &BTreeSet<Algorithm>,
    options: &HashOptions,
) -> Result<HashedFile, FileError> {
    let (file, size) = open_regular(path, None)?;
    Ok(hash_contents(read_opened(file, size, algorithms, options)?, algorithms, options))
}

/// [`hash_file`] for a file the walk found: what is read is the file the walk saw at the path
/// ([`Candidate::id`]), never a link, FIFO or other file put there since, which is an error
/// ("changed during the scan"). A candidate the walk did not take as a file is `Err` with the
/// walk's reason (of kind [`FileErrorKind::Io`] for a path skipped or left out).
pub fn hash_candidate(
    candidate: &Candidate,
    algorithms: &BTreeSet<Algorithm>,
    options: &HashOptions,
) -> Result<HashedFile, FileError> {
    Ok(hash_contents(read_candidate(candidate, algorithms, options)?, algorithms, options))
}

/// A file's bytes as read: held whole, or (over [`HashOptions::max_file_size`]) streamed
/// through the digests, or, for an archive over [`ARCHIVE_HELD`], streamed through the
/// digests and left open for its members to be read from the file.
enum Contents {
    Held(Vec<u8>),
    Streamed(Box<HashedFile>),
    Archive(File, Box<HashedFile>),
}

/// Archives up to this size are read into memory whole, as other files are; a bigger one is
/// read from the file (twice: its digests, then its members), so that a chat export of
/// gigabytes costs no more memory than its members.
const ARCHIVE_HELD: u64 = 64 << 20;

fn hash_contents(
    contents: Contents,
    algorithms: &BTreeSet<Algorithm>,
    options: &HashOptions,
) -> HashedFile {
    match contents {
        Contents::Held(bytes) => hash_bytes(Arc::new(bytes), algorithms, options),
        Contents::Streamed(hashed) | Contents::Archive(_, hashed) => *hashed,
    }
}

/// The bytes of the file the walk found as `candidate` (see [`hash_candidate`]).
fn read_candidate(
    candidate: &Candidate,
    algorithms: &BTreeSet<Algorithm>,
    options: &HashOptions,
) -> Result<Contents, FileError> {
    match &candidate.kind {
        CandidateKind::File => {
            let (file, size) = open_regular(&candidate.path, candidate.id.as_ref())?;
            read_opened(file, size, algorithms, options)
        }
        CandidateKind::Skip(reason) | CandidateKind::OverBudget(reason) => {
            Err(FileError { kind: FileErrorKind::Io, reason: reason.clone() })
        }
        CandidateKind::Error(error) => Err(error.clone()),
        CandidateKind::Object(object) => Ok(read_object(object, algorithms, options)?.0),
    }
}

/// The bytes of a bucket object (held, or over [`HashOptions::max_file_size`] streamed
/// through the digests), and the version that was read.
fn read_object(
    object: &bucket::Object,
    algorithms: &BTreeSet<Algorithm>,
    options: &HashOptions,
) -> Result<(Contents, ObjectVersion), FileError> {
    let (body, version) = bucket::read(object, options.max_file_size)?;
    let contents = match body {
        bucket::Body::Held(bytes) => Contents::Held(bytes),
        bucket::Body::Streamed(mut stream) => Contents::Streamed(Box::new(
            stream_digests(&[], &mut stream, algorithms, options.max_file_size)
                .map_err(FileError::io)?,
        )),
    };
    Ok((contents, version))
}

/// The bytes of an opened file that `fstat` said was `size` bytes. At most that many bytes
/// and one more are read, so that a file which yields more than it said (one still being
/// written) is an error, not a read without end.
fn read_opened(
    mut file: File,
    size: u64,
    algorithms: &BTreeSet<Algorithm>,
    options: &HashOptions,
) -> Result<Contents, FileError> {
    if size <= ARCHIVE_HELD.min(options.max_file_size) {
        return Ok(Contents::Held(read_sized(&mut file, size)?));
    }
    // A look at the start tells an archive, which is read from the file, from the rest.
    let mut head = Vec::new();
    (&mut file).take(64 * 1024).read_to_end(&mut head).map_err(FileError::io)?;
    let archive = archive::format(sniff(&head).media_type).is_some();
    if !archive && size <= options.max_file_size {
        let rest = size.saturating_sub(head.len() as u64);
        head.reserve_exact(usize::try_from(rest).unwrap_or(usize::MAX));
        (&mut file).take(rest).read_to_end(&mut head).map_err(FileError::io)?;
        same_size(head.len() as u64, size, &mut file)?;
        return Ok(Contents::Held(head));
    }
    let mut limited = (&mut file).take(size.saturating_sub(head.len() as u64));
    let mut hashed = stream_digests(&head, &mut limited, algorithms, options.max_file_size)
        .map_err(FileError::io)?;
    same_size(hashed.hashes.size, size, &mut file)?;
    if archive {
        // Opened from the file: not an error for being big.
        hashed.perceptual_error = None;
        file.seek(std::io::SeekFrom::Start(0)).map_err(FileError::io)?;
        return Ok(Contents::Archive(file, Box::new(hashed)));
    }
    Ok(Contents::Streamed(Box::new(hashed)))
}

/// A file's bytes (a file's on disk, or an archive member's), typed and hashed: `algorithms`
/// computed from them, the perceptual ones from the decoded picture or video.
pub(crate) fn hash_bytes(
    bytes: Arc<Vec<u8>>,
    algorithms: &BTreeSet<Algorithm>,
    options: &HashOptions,
) -> HashedFile {
    let mut digester = Digester::new(algorithms.iter().copied());
    digester.update(&bytes);
    let sniffed = sniff(&bytes);
    let mut hashes = FileHashes { size: bytes.len() as u64, ..FileHashes::default() };
    hashes.values.extend(digester.finish());

    let image_algorithms = image_algorithms(algorithms);
    let mut perceptual_error = unopened(sniffed.media_type);
    let is_video = sniffed.media_type.starts_with("video/");
    // An animated GIF, WebP or PNG is a picture (its first frame) and a video (all its
    // frames); so is a multi-page TIFF (its first page, and all its pages).
    let is_animation = || {
        sniffed.image_format.is_some_and(|f| {
            matches!(f, ImageFormat::Gif | ImageFormat::WebP | ImageFormat::Png | ImageFormat::Tiff)
                && is_animated(&bytes, f)
        })
    };
    // A picture only ffmpeg reads (PCX, PSD…) is decoded as a video: its first frame is the
    // picture, hashed as any other; all its frames are its video.
    let ffmpeg_picture = sniffed.is_ffmpeg_picture();
    let vpdq = algorithms.contains(&Algorithm::Vpdq);
    let keep_first = ffmpeg_picture && !image_algorithms.is_empty();
    if (vpdq && (is_video || ffmpeg_picture || is_animation())) || keep_first {
        let (bytes, media_type) = (Arc::clone(&bytes), sniffed.media_type);
        let video_options = options.clone();
        let timeout = options.video.timeout;
        // The decoders stop themselves at the time limit with what they have; this only
        // catches one stuck inside a single frame, so it waits a little longer.
        let hashed = within(timeout + VIDEO_GRACE, move || {
            hash_video(&bytes, media_type, &video_options, keep_first)
        });
        let first;
        (hashes.video, perceptual_error, first) = match hashed {
            Some(Ok(hashed)) => hashed,
            Some(Err(panic)) => (None, Some(panic), None),
            None => (None, Some(timed_out(timeout)), None),
        };
        if !vpdq {
            hashes.video = None;
        }
        if let Some(first) = first {
            perceptual_hashes(&first, &image_algorithms, &mut hashes);
        }
    }
    if !image_algorithms.is_empty() && !is_video {
        match sniffed.image_format {
            Some(format) => {
                let _room = room_for(&bytes, format);
                let (shared, limits) = (Arc::clone(&bytes), options.video.image);
                let (timeout, decoders) = (options.video.timeout, options.decoders);
                let decoded =
                    within(timeout, move || decode_picture(&shared, format, limits, decoders))
                        .unwrap_or_else(|| Err(timed_out(timeout)))
                        .and_then(|decoded| decoded);
                match decoded {
                    Ok(picture) => {
                        perceptual_hashes(&picture.rgb, &image_algorithms, &mut hashes);
                        // Hashed all the same: a cut-off or corrupt copy can still match, and
                        // a match outranks the error. Unmatched, the file is not reported
                        // clean.
                        if format == ImageFormat::Jpeg {
                            perceptual_error = perceptual_error
                                .or_else(|| jpeg_truncation(&bytes).map(FileError::corrupt));
                        }
                        if format == ImageFormat::Png {
                            perceptual_error = perceptual_error.or_else(|| {
                                let (_, reason) = png_ancillary_bomb(&bytes)?;
                                let kind = FileErrorKind::Limit { which: Setting::DecodeBounds };
                                Some(FileError::new(kind, reason))
                            });
                        }
                        perceptual_error = perceptual_error.or(picture.damage);
                    }
                    Err(reason) => perceptual_error = perceptual_error.or(Some(reason)),
                }
            }
            // Decoded above, through ffmpeg.
            None if ffmpeg_picture => {}
            None if heif::decodes(sniffed.media_type) => {
                let (limits, timeout) = (options.video.image, options.video.timeout);
                match decode_heif(&bytes, sniffed.media_type, limits, timeout, options.decoders) {
                    Ok(picture) => {
                        perceptual_hashes(&picture.rgb, &image_algorithms, &mut hashes);
                        perceptual_error = perceptual_error.or(picture.damage);
                    }
                    Err(reason) => perceptual_error = perceptual_error.or(Some(reason)),
                }
            }
            None if sniffed.is_visual_media() => {
                let decoder = missing_decoder(sniffed.media_type)
                    .unwrap_or("a decoder mediascreen does not have");
                perceptual_error = Some(FileError::new(
                    FileErrorKind::Unsupported { media_type: sniffed.media_type.to_string() },
                    format!(
                        "{} cannot be decoded here ({decoder} would decode it), so only exact \
                         digests were matched",
                        sniffed.media_type
                    ),
                ));
            }
            // Not a picture or a video: exact digests are all there is to match.
            None => {}
        }
    }
    HashedFile { media_type: sniffed.media_type, hashes, perceptual_error }
}

/// The image hashes among `algorithms`.
fn image_algorithms(algorithms: &BTreeSet<Algorithm>) -> Vec<Algorithm> {
    algorithms
        .iter()
        .copied()
        .filter(|a| {
            matches!(
                a,
                Algorithm::Pdq
                    | Algorithm::Phash
                    | Algorithm::Dhash
                    | Algorithm::Ahash
                    | Algorithm::Orb1
                    | Algorithm::Orb2
            )
        })
        .collect()
}

/// The hashes of a file over [`HashOptions::max_file_size`], `head` then `rest`: its digests,
/// streamed without holding the file, and, if it is a picture or video that the lists would
/// need decoded, the reason it was not.
pub(crate) fn stream_digests(
    head: &[u8],
    rest: &mut dyn Read,
    algorithms: &BTreeSet<Algorithm>,
    max_file_size: u64,
) -> std::io::Result<HashedFile> {
    const SNIFF_BYTES: usize = 64 * 1024;
    let mut digester = Digester::new(algorithms.iter().copied());
    digester.update(head);
    let mut start = head[..head.len().min(SNIFF_BYTES)].to_vec();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = head.len() as u64;
    loop {
        let read = match rest.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if start.len() < SNIFF_BYTES {
            start.extend_from_slice(&buffer[..read.min(SNIFF_BYTES - start.len())]);
        }
        digester.update(&buffer[..read]);
        size += read as u64;
    }
    let sniffed = sniff(&start);
    let mut hashes = FileHashes { size, ..FileHashes::default() };
    hashes.values.extend(digester.finish());
    let decodable = algorithms.iter().any(|a| !a.is_digest());
    let perceptual_error = if decodable && sniffed.is_visual_media() {
        Some(FileError::limit(
            Setting::MaxFileSize,
            format!("{size} bytes is over the {max_file_size}-byte limit"),
            ": not decoded, only exact digests were matched",
        ))
    } else if archive::format(sniffed.media_type).is_some() {
        Some(FileError::limit(
            Setting::MaxFileSize,
            format!("{size} bytes is over the {max_file_size}-byte limit"),
            ": the archive was not opened (archives are opened in memory), only its own \
             digests were matched",
        ))
    } else {
        unopened(sniffed.media_type)
    };
    Ok(HashedFile { media_type: sniffed.media_type, hashes, perceptual_error })
}

/// Why a container of other files that mediascreen cannot open (a RAR or CAB archive, an
/// old Office file…) is not clean: its members were not looked into, whatever the lists
/// hold. Its own digests are still matched. `None` for what is not a container, or is one
/// that [`archive`] opens.
fn unopened(media_type: &'static str) -> Option<FileError> {
    let name = container(media_type).filter(|_| archive::format(media_type).is_none())?;
    let kind = FileErrorKind::Unsupported { media_type: media_type.to_string() };
    let reason = format!(
        "{name}: mediascreen cannot open it, so its contents were not screened (extract it \
         and scan the folder); only the file's own digests were matched"
    );
    Some(FileError::new(kind, reason))
}

/// Decodes a video and hashes its sampled frames with PDQ. Returns the frames hashed, if the
/// video could be decoded at all, why they are not the whole video, if they are not, and,
/// when `keep_first`, its first frame.
fn hash_video(
    bytes: &[u8],
    media_type: &str,
    options: &HashOptions,
    keep_first: bool,
) -> (Option<VideoHash>, Option<FileError>, Option<image::RgbImage>) {
    // A video's frames are sampled, as the vPDQ reference samples them. An animation (GIF,
    // WebP, APNG), a TIFF's pages or a picture ffmpeg reads has the frames between the samples
    // hashed too: each is a picture on its own for as long as it shows, however short (a
    // listed picture shown for 100 ms between two samples would never be seen otherwise),
    // and they are few and small next to a video's. They are matched against listed
    // pictures only: comparisons of videos keep to the samples, as the lists were made.
    let every_frame = !media_type.starts_with("video/");
    let seconds_per_hash = options.seconds_per_hash;
    let (mut frames, mut between) = (Vec::new(), Vec::new());
    let mut first = None;
    let sampled = std::cell::Cell::new(1);
    let step = |fps| {
        sampled.set(vpdq::frame_step(seconds_per_hash, fps));
        if every_frame {
            1
        } else {
            sampled.get()
        }
    };
    let ffmpeg = options.ffmpeg.as_ref();
    let decoded =
        decode_video(ffmpeg, bytes, media_type, &options.video, &step, &mut |frame, rgb| {
            let features = PdqFeatures::from_image(rgb);
            let (hash, quality) = (features.hash(), features.quality());
            // The frame rate, and so the timestamp, is known once decoding is done.
            let hashed = VpdqFrame { hash, quality, frame, timestamp: 0.0 };
            if frame.is_multiple_of(sampled.get()) {
                frames.push(hashed);
            } else {
                between.push(hashed);
            }
            if keep_first && frame == 0 {
                first = Some(rgb.clone());
            }
        });
    let decoded = match decoded {
        Ok(decoded) => decoded,
        Err(reason) => return (None, Some(reason), None),
    };
    let fps = decoded.info.fps;
    for frame in frames.iter_mut().chain(&mut between) {
        frame.timestamp = vpdq::timestamp(frame.frame, fps);
    }
    let error = decoded.incomplete.or_else(|| {
        frames.is_empty().then(|| FileError::corrupt("the video has no decodable frames"))
    });
    (Some(VideoHash { frames, fps, seconds_per_hash, between }), error, first)
}

fn perceptual_hashes(rgb: &image::RgbImage, algorithms: &[Algorithm], hashes: &mut FileHashes) {
    // Pillow-style grey is shared by the three 64-bit hashes, so make it at most once.
    let mut grey = None;
    for &algorithm in algorithms {
        let hasher: fn(&image::GrayImage) -> HashValue = match algorithm {
            Algorithm::Pdq => {
                hashes.pdq = Some(PdqFeatures::from_image(rgb));
                continue;
            }
            Algorithm::Phash => classic::phash,
            Algorithm::Dhash => classic::dhash,
            Algorithm::Ahash => classic::ahash,
            Algorithm::Orb1 => {
                hashes.orb1 = Some(orb1::Features::from_image(rgb));
                continue;
            }
            Algorithm::Orb2 => {
                hashes.orb2 = Some(orb1::Signature::orb2(rgb));
                continue;
            }
            _ => continue,
        };
        let grey = grey.get_or_insert_with(|| classic::grey_from_rgb(rgb));
        hashes.values.insert(algorithm, hasher(grey));
    }
}

/// The algorithms a scan against `matcher` computes for each file: those its lists need, and
/// SHA-256 for the report.
pub fn computed_algorithms(matcher: &Matcher) -> BTreeSet<Algorithm> {
    let mut algorithms = matcher.algorithms();
    algorithms.insert(Algorithm::Sha256);
    // A listed picture can turn up as a frame of a video: PDQ lists are matched against
    // video frames too, which the vPDQ hash samples.
    if algorithms.contains(&Algorithm::Pdq) {
        algorithms.insert(Algorithm::Vpdq);
    }
    // A listed orb2 signature is compared with the scanned picture's orb1 signatures (see
    // `orb1::Format`): there is no orb2 signature of a scanned picture to make.
    if algorithms.remove(&Algorithm::Orb2) {
        algorithms.insert(Algorithm::Orb1);
    }
    algorithms
}

/// Scans `roots` against `matcher`, then applies the flood guard over the whole scan.
pub fn scan(roots: &[PathBuf], matcher: &Matcher, options: &ScanOptions) -> Scan {
    struct Quiet;
    impl Observer for Quiet {}
    scan_streaming(roots, matcher, options, &AtomicBool::new(false), &mut Quiet)
}

/// What a caller of [`scan_streaming`] hears while the scan runs.
pub trait Observer {
    /// The walk is done: `paths` paths will be dealt with (or left, if the scan is stopped).
    fn walked(&mut self, _paths: usize) {}
    /// Something a person should know that is no file's outcome: a chat export's message
    /// index that could not be read (its files are screened all the same, without context).
    fn warning(&mut self, _text: &str) {}
    /// One file is decided; files come in walk order. The observer may rewrite the file's
    /// path (to redact it), or name the settings its reasons point to
    /// ([`Outcome::name_settings`]), before the scan keeps it for the report.
    fn file(&mut self, _file: &mut FileReport) {}
}

/// [`scan`], telling `observer` how many paths the walk found and then each file's report in
/// walk order as soon as it is decided (before the flood guard, which needs the whole scan),
/// and stopping early once `stop` is set: files already started are finished, the rest
/// counted in [`Scan::not_scanned`].
pub fn scan_streaming(
    roots: &[PathBuf],
    matcher: &Matcher,
    options: &ScanOptions,
    stop: &AtomicBool,
    observer: &mut dyn Observer,
) -> Scan {
    let algorithms = computed_algorithms(matcher);
    let mut files = Vec::new();
    let mut not_scanned = 0;
    // Set once the walk is done, read as each file is emitted.
    let contexts = std::cell::RefCell::new(Contexts::new());
    // Both callbacks below speak to the observer, one after the other.
    let observer = std::cell::RefCell::new(observer);
    for_each_candidate(
        roots,
        options,
        stop,
        |candidate| {
            // A bug of ours on one hostile file must cost that file, not the scan.
            catch_unwind(AssertUnwindSafe(|| match &options.store {
                Some(store) => {
                    stored::scan_one(candidate, &algorithms, matcher, &options.hashing, &store.0)
                }
                None => scan_one(candidate, &algorithms, matcher, &options.hashing),
            }))
            .unwrap_or_else(|panic| {
                Screened::one(FileReport::new(candidate.path.clone(), panicked(&*panic)))
            })
        },
        |candidates| {
            observer.borrow_mut().walked(candidates.len());
            let warn = &mut |text: &str| observer.borrow_mut().warning(text);
            *contexts.borrow_mut() = chat_contexts(candidates, warn);
        },
        |_, screened| match screened {
            Some(Screened { files: reports, warnings }) => {
                for text in warnings {
                    observer.borrow_mut().warning(&text);
                }
                for mut file in reports {
                    if file.context.is_none() {
                        file.context = contexts.borrow().get(&file.path).cloned().map(Box::new);
                    }
                    observer.borrow_mut().file(&mut file);
                    files.push(file);
                }
            }
            None => not_scanned += 1,
        },
    );
    // Only files screened fully count as the flood guard's whole, so that shards' reports,
    // which carry that count (clean + flagged), can be merged into this same result.
    let scanned = files
        .iter()
        .filter(|f| matches!(f.outcome.status(), Status::Clean | Status::Flagged))
        .count();
    let results = files.iter_mut().filter_map(|f| match &mut f.outcome {
        Outcome::Scanned { sha256, result, .. } => Some((&*sha256, result)),
        _ => None,
    });
    let floods = matcher.flood_guard(results, scanned);
    Scan { files, algorithms, floods, not_scanned }
}

/// What the scan of one file given to it found: its report, then, if it is an archive, its
/// members' reports, in the archive's order (nested archives' members after their archive's
/// report), and what a person should be warned of (a chat index in it that could not be read).
#[derive(Debug)]
pub struct Screened {
    /// The reports, in order.
    pub files: Vec<FileReport>,
    /// Warnings, in order.
    pub warnings: Vec<String>,
}

impl Screened {
    fn one(file: FileReport) -> Screened {
        Screened { files: vec![file], warnings: Vec::new() }
    }
}

/// Scans one candidate of a walk against `matcher` (what [`scan`] does with each),
/// computing `algorithms` (see [`computed_algorithms`]).
pub fn scan_one(
    candidate: &Candidate,
    algorithms: &BTreeSet<Algorithm>,
    matcher: &Matcher,
    options: &HashOptions,
) -> Screened {
    let outcome = match &candidate.kind {
        CandidateKind::Skip(reason) => {
            Outcome::Skipped { reason: reason.clone(), over_budget: false }
        }
        CandidateKind::OverBudget(reason) => {
            Outcome::Skipped { reason: reason.clone(), over_budget: true }
        }
        CandidateKind::Error(error) => Outcome::Error { stage: Stage::Walk, error: error.clone() },
        CandidateKind::File => {
            return screen_contents(
                candidate,
                read_candidate(candidate, algorithms, options),
                algorithms,
                matcher,
                options,
            )
        }
        CandidateKind::Object(object) => {
            let (contents, version) = match read_object(object, algorithms, options) {
                Ok((contents, version)) => (Ok(contents), version),
                Err(error) => (Err(error), object.listed.clone()),
            };
            let mut screened = screen_contents(candidate, contents, algorithms, matcher, options);
            screened.files[0].object = Some(Box::new(version));
            return screened;
        }
    };
    Screened::one(FileReport::new(candidate.path.clone(), outcome))
}

/// The reports of a file (or object) read as `contents`: its own, then, for an archive,
/// its members'.
fn screen_contents(
    candidate: &Candidate,
    contents: Result<Contents, FileError>,
    algorithms: &BTreeSet<Algorithm>,
    matcher: &Matcher,
    options: &HashOptions,
) -> Screened {
    let path = candidate.path.clone();
    let container = match contents {
        Err(error) => {
            return Screened::one(FileReport::new(
                path,
                Outcome::Error { stage: Stage::Read, error },
            ))
        }
        Ok(Contents::Streamed(file)) => {
            return Screened::one(FileReport::new(path, scanned(&file, matcher)))
        }
        Ok(Contents::Held(bytes)) => members::Container::Held(bytes),
        Ok(Contents::Archive(file, own)) => members::Container::OnDisk { file, own },
    };
    members::screen(path, container, algorithms, matcher, options)
}

/// Largest message index read for chat context: a full Telegram export's `result.json` of
/// years of messages runs to hundreds of MB.
const MAX_INDEX_SIZE: u64 = 1 << 30;

/// The chat contexts that the message indexes among `candidates` give the files they
/// reference, read before any file is screened (an index sorts after the media folders it
/// names). A malformed or unreadable index is a warning; its files are screened all the same.
fn chat_contexts(candidates: &[Candidate], warn: &mut dyn FnMut(&str)) -> Contexts {
    const HEAD: u64 = 64 * 1024;
    let mut contexts = Contexts::new();
    for candidate in candidates.iter().filter(|c| c.kind == CandidateKind::File) {
        let Some(name) = candidate.path.file_name() else { continue };
        // A look at the name, then at the head, before the whole: a tree of notes or JSON
        // files is not read twice.
        let lower = name.to_string_lossy().to_lowercase();
        let json = lower.ends_with(".json");
        if !(json
            || lower == "_chat.txt"
            || (lower.ends_with(".txt") && lower.contains("whatsapp")))
        {
            continue;
        }
        let Ok(mut file) = File::open(&candidate.path) else { continue };
        let mut bytes = Vec::new();
        if (&mut file).take(HEAD).read_to_end(&mut bytes).is_err() {
            continue;
        }
        let Some(kind) = index_kind(name, &bytes) else { continue };
        if file.take(MAX_INDEX_SIZE).read_to_end(&mut bytes).is_err() {
            continue;
        }
        if let Err(warning) = contexts.add(&candidate.path, kind, &bytes) {
            warn(&format!("{}: not read as a chat index: {warning}", candidate.path.display()));
        }
    }
    contexts
}

/// The outcome of a file hashed whole: its hashes matched.
fn scanned(file: &HashedFile, matcher: &Matcher) -> Outcome {
    Outcome::Scanned {
        size: file.hashes.size,
        media_type: file.media_type,
        sha256: file.hashes.values[&Algorithm::Sha256].clone(),
        result: matcher.match_hashes(&file.hashes),
        perceptual_error: file.perceptual_error.clone(),
    }
}

/// The outcome of a file that a bug of ours panicked on.
fn panicked(panic: &(dyn std::any::Any + Send)) -> Outcome {
    Outcome::Error {
        stage: Stage::Decode,
        error: FileError::new(
            FileErrorKind::DecoderPanic,
            format!("internal error, please report it: {}", panic_text(panic)),
        ),
    }
}
