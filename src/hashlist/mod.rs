//! Hash lists: loading them, and the entries they hold.
//!
//! Owns the in-memory shape of a list ([`HashList`], [`ListEntry`]) and the rule that a list
//! loads completely or not at all: any line that does not parse is an [`Error::HashList`]
//! naming the file and line, and the run stops before scanning, because a half-loaded list
//! silently misses what its missing lines would have caught. Each on-disk format has its own
//! parser module; they normalise early (algorithm names, lower-case fixed-width hex) so that
//! nothing downstream sees raw text. Must not match or index: see [`crate::index`].

mod clamav;
mod detect;
mod entries;
mod feed;
mod json;
mod labels;
mod native;
mod ncmec;
mod plain;
mod stopncii;
mod sum;
mod tat;
mod te_csv;
mod te_dataset;
mod te_text;
mod text;
mod vpdq_text;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::error::{Error, Reason, Result, Setting};
use crate::hash::orb1::verify::MIN_GOOD;
use crate::hash::orb1::Signature;
use crate::hash::{Algorithm, HashValue};

pub use entries::Entries;
pub use feed::{Record, Removal, Removed, State};
pub use native::{native_rows, NativeRow, NativeWriter};

/// How much of a list is read to detect its format.
const DETECT_BYTES: u64 = 64 * 1024;

/// How much of a native list is read per chunk while parsing it.
const CHUNK_BYTES: u64 = 8 * 1024 * 1024;

/// The on-disk shapes of hash lists that mediascreen reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ListFormat {
    /// mediascreen's own CSV (`docs/hashlist-format.md`).
    Native,
    /// python-threatexchange's text: `<signal_type> <hash>` per line, as its file exchange
    /// reads and `dataset -P` prints (then with the collaboration and opinion after it).
    TeText,
    /// python-threatexchange's `dataset -P --csv`: `signal_type,signal_str,collab,category,tags`.
    TeDataset,
    /// ThreatExchange indicator CSV: `indicator,first_descriptor_id,added_on,labels`.
    TeCsv,
    /// StopNCII hash records (JSON array, or a fetch-response page holding them).
    StopNcii,
    /// Tech Against Terrorism's JSON hash list.
    Tat,
    /// NCMEC-style XML entries with a `fingerprints` map.
    Ncmec,
    /// ClamAV `.hdb`: `md5:size:name`.
    ClamAvHdb,
    /// ClamAV `.hsb`: `sha1|sha256:size:name`.
    ClamAvHsb,
    /// ClamAV `.fp`/`.sfp`: hash signatures of known-good files, an allowlist only.
    ClamAvFp,
    /// `md5sum`, `sha1sum` or `sha256sum` output: `<hex>  <file name>` per line.
    Sum,
    /// One bare hash per line.
    Plain,
    /// Meta's vPDQ hasher output: `frameNumber,quality,pdqHex,timestamp`, one video a file.
    VpdqText,
}

impl ListFormat {
    /// Every format, in the order the documentation gives them.
    pub const ALL: [ListFormat; 13] = [
        ListFormat::Native,
        ListFormat::TeText,
        ListFormat::TeDataset,
        ListFormat::TeCsv,
        ListFormat::StopNcii,
        ListFormat::Tat,
        ListFormat::Ncmec,
        ListFormat::ClamAvHdb,
        ListFormat::ClamAvHsb,
        ListFormat::ClamAvFp,
        ListFormat::Sum,
        ListFormat::Plain,
        ListFormat::VpdqText,
    ];

    /// The name the format goes by (in reports, and on the binary's command line).
    pub fn name(self) -> &'static str {
        match self {
            ListFormat::Native => "native",
            ListFormat::TeText => "te-text",
            ListFormat::TeDataset => "te-dataset",
            ListFormat::TeCsv => "te-csv",
            ListFormat::StopNcii => "stopncii",
            ListFormat::Tat => "tat",
            ListFormat::Ncmec => "ncmec",
            ListFormat::ClamAvHdb => "hdb",
            ListFormat::ClamAvHsb => "hsb",
            ListFormat::ClamAvFp => "fp",
            ListFormat::Sum => "sum",
            ListFormat::Plain => "plain",
            ListFormat::VpdqText => "vpdq-text",
        }
    }
}

impl fmt::Display for ListFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ListFormat {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        ListFormat::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(s.trim())).ok_or_else(
            || {
                let names: Vec<_> = ListFormat::ALL.iter().map(|f| f.name()).collect();
                format!("unknown list format {s:?} (known: {})", names.join(", "))
            },
        )
    }
}

/// How to load a list; the defaults detect everything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Force a format instead of detecting it.
    pub format: Option<ListFormat>,
    /// The algorithm of entries whose format does not say (plain lists, ThreatExchange CSV
    /// whose file name does not say).
    pub algorithm: Option<Algorithm>,
    /// Make entries refused by hygiene fatal instead of skipped with a warning.
    pub strict: bool,
    /// The list is an allowlist: a ClamAV false-positive database loads only
    /// then, since as a block list it would flag exactly the files known to be good.
    pub allowlist: bool,
}

/// What a parser reports for each record it reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// A well-formed entry that stands alone (hygiene is applied after the parser).
    Entry(ListEntry),
    /// A publisher's record, applied as the feed rule says (`feed`): keyed ones replace
    /// earlier records of their key, removals take the key's entries out.
    Record(Record),
    /// A well-formed record that mediascreen cannot use: of an algorithm it does not compute.
    /// Counted and warned about, not fatal.
    Refused {
        /// 1-based line (or the line a record starts on).
        line: u64,
        /// Why.
        reason: String,
    },
}

/// What every parser gets besides the bytes.
pub(crate) struct ParseContext<'a> {
    /// The list file, for error messages.
    pub path: &'a Path,
    /// [`LoadOptions::algorithm`], for formats that do not name their algorithm.
    pub algorithm: Option<Algorithm>,
}

impl ParseContext<'_> {
    /// A fatal, located parse error.
    pub fn error(&self, line: u64, reason: impl Into<Reason>) -> Error {
        Error::HashList { path: self.path.to_path_buf(), line, reason: reason.into() }
    }
}

/// An entry that parsed but was not loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// 1-based line.
    pub line: u64,
    /// Why it was not loaded.
    pub reason: String,
}

/// One loaded hash list.
#[derive(Clone, Debug)]
pub struct HashList {
    /// The path the list was loaded from, as given.
    pub path: PathBuf,
    /// SHA-256 of the list file, so a report says exactly which list version was used.
    pub sha256: HashValue,
    /// The format it was read as.
    pub format: ListFormat,
    /// The entries, in file order.
    pub entries: Entries,
    /// Entries that parsed but cannot be used (hygiene, unsupported algorithms), by line.
    pub refused: Vec<Refusal>,
    /// Records whose publisher took them back (withdrawn, deleted, marked false positive,
    /// retired): the last state of their key, in file order.
    pub removed: Vec<Removed>,
}

/// One hash in a list, as a parser produces it (stored by column in [`Entries`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ListEntry {
    /// Which algorithm the hash belongs to.
    pub algorithm: Algorithm,
    /// The hash.
    pub hash: HashValue,
    /// The list's identifier for the item, if it has one.
    pub id: Option<String>,
    /// A free-text label (category, source), if any.
    pub label: Option<String>,
    /// The hash's quality as its producer reported it (PDQ: 0–100), if given.
    pub quality: Option<u8>,
    /// For video frames, the frame's time in seconds, if given.
    pub timestamp: Option<f64>,
    /// The file size the hash applies to, for lists that pin it (ClamAV): a file matches
    /// only if its size is equal too.
    pub size: Option<u64>,
    /// The 1-based line of the list file the entry came from.
    pub line: u64,
}

impl ListEntry {
    /// An entry with only an algorithm, a hash and a line; the rest unset.
    pub fn new(algorithm: Algorithm, hash: HashValue, line: u64) -> ListEntry {
        ListEntry {
            algorithm,
            hash,
            id: None,
            label: None,
            quality: None,
            timestamp: None,
            size: None,
            line,
        }
    }
}

impl HashList {
    /// Loads the list at `path`: detects its format (unless `options.format` says), parses
    /// it, and applies hygiene. A malformed record is a fatal [`Error::HashList`]; a record
    /// refused by hygiene is kept in [`HashList::refused`], or fatal when `options.strict`.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<HashList> {
        let file = std::fs::File::open(path)
            .map_err(|error| Error::Io { path: path.to_path_buf(), error })?;
        HashList::read(path, file, options)
    }

    /// [`HashList::load`] for a list already in memory: `name` stands for the file's path,
    /// in detection (a `.hdb`/`.hsb` extension is decisive), in error messages and in
    /// [`HashList::path`]. Everything else is exactly as for a file.
    pub fn from_bytes(name: &Path, bytes: &[u8], options: &LoadOptions) -> Result<HashList> {
        HashList::read(name, bytes, options)
    }

    /// Detects, parses and applies hygiene to the list that `source` reads, `path` naming it.
    fn read(path: &Path, mut source: impl Read, options: &LoadOptions) -> Result<HashList> {
        let io = |error| Error::Io { path: path.to_path_buf(), error };
        let mut bytes = Vec::new();
        (&mut source).take(DETECT_BYTES).read_to_end(&mut bytes).map_err(io)?;
        let cx = ParseContext { path, algorithm: options.algorithm };
        if let Some(reason) = detect::unusable(path) {
            return Err(cx.error(0, reason));
        }
        if let Some(reason) = detect::not_a_list(&bytes, bytes.len() < DETECT_BYTES as usize) {
            return Err(cx.error(0, reason));
        }
        let format = match options.format {
            Some(format) => format,
            None => detect::detect(path, &bytes).ok_or_else(|| {
                let head = "cannot tell the list's format; name it with ";
                cx.error(0, Reason::calling(Setting::ListFormat, head, "LoadOptions::format", ""))
            })?,
        };
        if format == ListFormat::ClamAvFp && !options.allowlist {
            let head = "a ClamAV allowlist (signatures of known-good files); pass it with ";
            let words = "LoadOptions::allowlist";
            return Err(cx.error(0, Reason::calling(Setting::Allowlist, head, words, "")));
        }

        let mut loaded = Collector::default();
        // The list's digest is for the report; on a big list it costs as much as parsing, so
        // it runs on the other core meanwhile.
        let mut hasher = Sha256::new();
        if format == ListFormat::Native {
            // Native lists are the big ones: parse them a chunk of whole lines at a time.
            let mut parser = native::Parser::default();
            let mut unhashed = 0;
            loop {
                let read = (&mut source).take(CHUNK_BYTES).read_to_end(&mut bytes).map_err(io)?;
                let cut = match read {
                    0 => bytes.len(),
                    _ => bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1),
                };
                let (_, parsed) = rayon::join(
                    || hasher.update(&bytes[unhashed..]),
                    || parser.feed_parallel(&cx, &bytes[..cut], &mut loaded),
                );
                parsed?;
                bytes.drain(..cut);
                unhashed = bytes.len();
                if read == 0 {
                    break;
                }
            }
            parser.finish(&cx)?;
        } else {
            source.read_to_end(&mut bytes).map_err(io)?;
            let (_, parsed) = rayon::join(
                || hasher.update(&bytes),
                || parse(format, &cx, &bytes, &mut |item| loaded.take(item)),
            );
            parsed?;
        }
        let (entries, refused, removed) = loaded.finish();
        if options.strict {
            if let Some(first) = refused.first() {
                let head = format!("{} (", first.reason);
                let strict =
                    Reason::calling(Setting::StrictLists, &head, "LoadOptions::strict", ")");
                return Err(cx.error(first.line, strict));
            }
        }
        let sha256 = HashValue::from_bytes(hasher.finalize().to_vec());
        Ok(HashList { path: path.to_path_buf(), sha256, format, entries, refused, removed })
    }

    /// Number of entries per algorithm, in [`Algorithm`] order.
    pub fn counts(&self) -> std::collections::BTreeMap<Algorithm, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for &algorithm in self.entries.algorithms() {
            *counts.entry(algorithm).or_insert(0) += 1;
        }
        counts
    }

    /// Number of records removed by their publisher, per kind of removal.
    pub fn removed_counts(&self) -> std::collections::BTreeMap<Removal, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for removed in &self.removed {
            *counts.entry(removed.removal).or_insert(0) += 1;
        }
        counts
    }
}

/// Where parsed items go: entries that stand alone, the feed of keyed records, and refusals
/// (by the format or by hygiene).
#[derive(Default)]
pub(crate) struct Collector {
    entries: Entries,
    feed: feed::Feed,
    refused: Vec<Refusal>,
}

impl Collector {
    /// Keeps one parsed item.
    pub(crate) fn take(&mut self, item: Item) {
        match item {
            Item::Entry(entry) => self.accept(entry),
            Item::Record(record) => self.feed.apply(record),
            Item::Refused { line, reason } => self.refused.push(Refusal { line, reason }),
        }
    }

    /// Applies hygiene to an entry that is to be loaded, and keeps it or its refusal.
    fn accept(&mut self, entry: ListEntry) {
        match degenerate(&entry) {
            None => self.entries.push(&entry),
            Some(reason) => self.refused.push(Refusal { line: entry.line, reason }),
        }
    }

    /// Keeps everything `later` collected, after what this one holds.
    pub(crate) fn append(&mut self, later: Collector) {
        self.entries.append(later.entries);
        self.feed.append(later.feed);
        self.refused.extend(later.refused);
    }

    /// The entries to load (those standing alone, then the keyed records' last states), the
    /// refusals by line, and the removals.
    fn finish(mut self) -> (Entries, Vec<Refusal>, Vec<Removed>) {
        let (active, removed) = std::mem::take(&mut self.feed).finish();
        for entry in active {
            self.accept(entry);
        }
        self.entries.finish();
        self.refused.sort_by_key(|refusal| refusal.line);
        (self.entries, self.refused, removed)
    }
}

/// The shape every format's parser has.
#[cfg(test)]
type ParseFn = fn(&ParseContext<'_>, &[u8], &mut dyn FnMut(Item)) -> Result<()>;

/// Runs `parser` over `text` and returns every item, for the parsers' unit tests.
#[cfg(test)]
pub(crate) fn parse_items(
    parser: ParseFn,
    name: &str,
    algorithm: Option<Algorithm>,
    text: &str,
) -> Result<Vec<Item>> {
    let cx = ParseContext { path: Path::new(name), algorithm };
    let mut items = Vec::new();
    parser(&cx, text.as_bytes(), &mut |item| items.push(item))?;
    Ok(items)
}

/// The first entry an item loads, for the parsers' unit tests.
#[cfg(test)]
pub(crate) fn active(item: &Item) -> &ListEntry {
    match item {
        Item::Entry(entry) => entry,
        Item::Record(Record { state: State::Active(entries), .. }) if !entries.is_empty() => {
            &entries[0]
        }
        other => panic!("not an entry: {other:?}"),
    }
}

/// [`parse_items`] for a text whose records are all accepted: their entries.
#[cfg(test)]
pub(crate) fn parse_entries(
    parser: ParseFn,
    name: &str,
    algorithm: Option<Algorithm>,
    text: &str,
) -> Result<Vec<ListEntry>> {
    let items = parse_items(parser, name, algorithm, text)?;
    Ok(items
        .into_iter()
        .flat_map(|item| match item {
            Item::Entry(entry) => vec![entry],
            Item::Record(Record { state: State::Active(entries), .. }) => entries,
            other => panic!("{name}: unexpected {other:?}"),
        })
        .collect())
}

/// Runs the parser for `format`.
fn parse(
    format: ListFormat,
    cx: &ParseContext<'_>,
    bytes: &[u8],
    out: &mut dyn FnMut(Item),
) -> Result<()> {
    match format {
        ListFormat::Native => native::parse(cx, bytes, out),
        ListFormat::TeText => te_text::parse(cx, bytes, out),
        ListFormat::TeDataset => te_dataset::parse(cx, bytes, out),
        ListFormat::TeCsv => te_csv::parse(cx, bytes, out),
        ListFormat::StopNcii => stopncii::parse(cx, bytes, out),
        ListFormat::Tat => tat::parse(cx, bytes, out),
        ListFormat::Ncmec => ncmec::parse(cx, bytes, out),
        ListFormat::ClamAvHdb | ListFormat::ClamAvHsb | ListFormat::ClamAvFp => {
            clamav::parse(cx, bytes, out)
        }
        ListFormat::Sum => sum::parse(cx, bytes, out),
        ListFormat::Plain => plain::parse(cx, bytes, out),
        ListFormat::VpdqText => vpdq_text::parse(cx, bytes, out),
    }
}

/// Why a perceptual entry would match featureless images rather than the content it stands
/// for, if it would. Hashes of blank or flat images are all zeros or all ones, or nearly so,
/// and such an entry floods a moderator with false matches. The bound is the one in the
/// issue for PDQ (fewer than 32 of 256 bits set or unset), scaled to each hash's width.
fn degenerate(entry: &ListEntry) -> Option<String> {
    if entry.algorithm.is_digest() {
        return None;
    }
    if entry.algorithm.keypoint_format().is_some() {
        let keypoints = Signature::from_bytes(entry.hash.as_bytes()).map_or(0, |s| s.len());
        return (keypoints < MIN_GOOD).then(|| {
            let algorithm = entry.algorithm;
            format!("{algorithm} signature with {keypoints} keypoints: too few to ever match ({MIN_GOOD} needed)")
        });
    }
    let bits = entry.algorithm.byte_len() as u32 * 8;
    let ones = entry.hash.count_ones();
    let minority = ones.min(bits - ones);
    (minority < bits / 8).then(|| {
        format!(
            "degenerate {} hash ({ones} of {bits} bits set): it would match featureless images",
            entry.algorithm
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::orb1::Format;

    #[test]
    fn degenerate_perceptual_hashes_are_refused() {
        let entry = |algorithm, hex: &str| {
            ListEntry::new(algorithm, HashValue::from_hex(algorithm, hex).unwrap(), 1)
        };
        let zeros = "0".repeat(64);
        assert!(degenerate(&entry(Algorithm::Pdq, &zeros)).is_some());
        assert!(degenerate(&entry(Algorithm::Pdq, &"f".repeat(64))).is_some());
        // 31 bits set: still degenerate; 32: accepted.
        let few = format!("{}{}", "0".repeat(56), "7fffffff");
        assert!(degenerate(&entry(Algorithm::Pdq, &few)).is_some());
        let enough = format!("{}{}", "0".repeat(56), "ffffffff");
        assert!(degenerate(&entry(Algorithm::Pdq, &enough)).is_none());
        assert!(degenerate(&entry(Algorithm::Phash, "8000000000000000")).is_some());
        assert!(degenerate(&entry(Algorithm::Phash, "aca29c1c33dc23d7")).is_none());
        // Digests are never degenerate: an empty file's MD5 is a real, matchable digest.
        assert!(degenerate(&entry(Algorithm::Md5, "d41d8cd98f00b204e9800998ecf8427e")).is_none());
        // An orb1 or orb2 signature with too few keypoints can never match.
        for format in [Format::Orb1, Format::Orb2] {
            let flat = Signature {
                format,
                width: 800,
                height: 600,
                keypoints: vec![],
                descriptors: vec![],
            };
            let algorithm = Algorithm::from(format);
            let entry = ListEntry::new(algorithm, HashValue::from_bytes(flat.to_bytes()), 1);
            let why = degenerate(&entry).unwrap();
            assert!(why.starts_with(&format!("{algorithm} signature with 0 keypoints")), "{why}");
        }
    }

    #[test]
    fn lists_in_memory_load_as_their_files_do() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("hashlists");
        for name in ["demo.csv", "demo.hdb", "ncmec.xml", "stopncii.json", "te_HASH_PDQ.csv"] {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).unwrap();
            let options = LoadOptions::default();
            let (file, memory) = (
                HashList::load(&path, &options).unwrap(),
                HashList::from_bytes(&path, &bytes, &options).unwrap(),
            );
            assert_eq!((memory.format, &memory.sha256), (file.format, &file.sha256), "{name}");
            let rows = |list: &HashList| format!("{:?} {:?}", list.entries, list.refused);
            assert_eq!(rows(&memory), rows(&file), "{name}");
            assert_eq!(memory.path, path);
        }
        // The name alone decides a ClamAV extension, and names the list in errors.
        let md5 = b"ad5148579e2a0886849021264351a52a:9559:Name\n";
        let hdb = HashList::from_bytes(Path::new("x.hdb"), md5, &Default::default()).unwrap();
        assert_eq!((hdb.format, hdb.entries.len()), (ListFormat::ClamAvHdb, 1));
        let forced = LoadOptions { format: Some(ListFormat::Native), ..Default::default() };
        let error = HashList::from_bytes(Path::new("mem.txt"), md5, &forced).unwrap_err();
        assert!(error.to_string().contains("mem.txt"), "{error}");
        assert!(HashList::from_bytes(Path::new("e"), b"", &Default::default()).is_err());
    }

    /// Pieces of every format's syntax, for text that reaches past the first check.
    const PIECES: [&str; 30] = [
        "pdq ",
        "vpdq [\"",
        "video_md5 ",
        "url ",
        "md5",
        "sha256",
        "'Sample Data' ",
        "\"It's\" ",
        "POSITIVE_CLASS ",
        "NEGATIVE_CLASS",
        "DISPUTED",
        "false_positive",
        "\\",
        "\n",
        "  ",
        " *",
        ":",
        ":*:",
        ":73:",
        ",",
        "\"",
        "[",
        "]",
        "(",
        ") = ",
        "#",
        "ad5148579e2a0886849021264351a52a",
        "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
        "signal_type,signal_str,collab,category,tags\n",
        "algorithm,hash,id,label,quality,timestamp\n",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Every parser, forced or detected, on text made of list syntax: an error at worst,
        /// never a panic (the fuzz targets go further).
        #[test]
        fn no_parser_panics_on_list_like_text(
            pieces in proptest::collection::vec(proptest::sample::select(&PIECES[..]), 0..40),
            pick in 0..=ListFormat::ALL.len(),
        ) {
            let format = ListFormat::ALL.get(pick).copied();
            let options = LoadOptions { format, allowlist: true, ..LoadOptions::default() };
            let _ = HashList::from_bytes(Path::new("list"), pieces.concat().as_bytes(), &options);
        }
    }

    #[test]
    fn formats_have_unique_names_that_parse() {
        for format in ListFormat::ALL {
            assert_eq!(format.name().parse::<ListFormat>().unwrap(), format);
        }
        assert!("xml".parse::<ListFormat>().is_err());
    }
}
