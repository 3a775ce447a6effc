//! A list as its publisher means it: a feed of records, applied in order.
//!
//! Owns the one rule every keyed format shares. Hash-sharing programmes publish changes, not
//! snapshots: a StopNCII record turns `Withdrawn`, a Tech Against Terrorism entry comes back
//! with `deleted: true`, a later NCMEC page carries a `deletedImage` for an earlier entry, a
//! ThreatExchange row is marked a false positive. So within one list file, a record with a
//! key replaces every earlier record with the same key, and the list holds only the last
//! state of each key: its entries if that state is active, nothing if it is a removal. Where
//! both records carry the publisher's modification time, the newer one wins whatever the
//! order of the file (a tie goes to the later line). Records without a key (ClamAV lines,
//! native rows) stand alone. What each format uses as key and time is said in its module.
//! Must not parse: the parsers hand over [`Record`]s, and hygiene is applied by the caller.

use std::collections::HashMap;
use std::fmt;

use super::ListEntry;

/// Why a publisher's record says its hash must not be matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Removal {
    /// Withdrawn by the person or member who submitted it (StopNCII `Withdrawn`).
    Withdrawn,
    /// Deleted by the publisher (StopNCII `Deleted`, TAT `deleted`, NCMEC `deletedImage`).
    Deleted,
    /// Marked a false positive (ThreatExchange `false_positive`, `NEGATIVE_CLASS`).
    FalsePositive,
    /// Disputed by another member, and not confirmed (ThreatExchange `disputed`, `DISPUTED`).
    Disputed,
    /// Retired by its publisher for current engines (ClamAV's MaxFL).
    Retired,
}

impl Removal {
    /// The name used in reports and by `list check`.
    pub fn name(self) -> &'static str {
        match self {
            Removal::Withdrawn => "withdrawn",
            Removal::Deleted => "deleted",
            Removal::FalsePositive => "false_positive",
            Removal::Disputed => "disputed",
            Removal::Retired => "retired",
        }
    }
}

impl fmt::Display for Removal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A record's state as its publisher gives it.
#[derive(Clone, Debug, PartialEq)]
pub enum State {
    /// Match these entries (an NCMEC entry has one per fingerprint; may be none).
    Active(Vec<ListEntry>),
    /// Match nothing of this key, and say why.
    Removed {
        /// The kind of removal, counted in reports.
        removal: Removal,
        /// The publisher's words for it, shown by `list check`.
        reason: String,
    },
}

/// One record of a feed.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// What identifies the item across records; `None` for a record that stands alone.
    pub key: Option<String>,
    /// The publisher's modification time, in any unit consistent within the format.
    pub stamp: Option<f64>,
    /// 1-based line the record starts on.
    pub line: u64,
    /// What the record says.
    pub state: State,
}

/// A record whose last state is a removal: nothing of it is matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removed {
    /// 1-based line of the record that removed it.
    pub line: u64,
    /// The kind of removal.
    pub removal: Removal,
    /// The publisher's words for it.
    pub reason: String,
}

/// The last state of each key seen so far, and the records that stand alone.
#[derive(Default)]
pub(super) struct Feed {
    /// Records in arrival order; `None` where a later record of the same key replaced it.
    records: Vec<Option<Record>>,
    /// Where in `records` each key's current record is.
    latest: HashMap<String, usize>,
}

impl Feed {
    /// Applies `record` after everything applied before it.
    pub(super) fn apply(&mut self, record: Record) {
        let Some(key) = &record.key else {
            self.records.push(Some(record));
            return;
        };
        if let Some(&at) = self.latest.get(key) {
            let current = self.records[at].as_ref().expect("the latest record is kept");
            if let (Some(old), Some(new)) = (current.stamp, record.stamp) {
                if new < old {
                    return;
                }
            }
            self.records[at] = None;
        }
        self.latest.insert(key.clone(), self.records.len());
        self.records.push(Some(record));
    }

    /// Applies every record of `later` after these.
    pub(super) fn append(&mut self, later: Feed) {
        for record in later.records.into_iter().flatten() {
            self.apply(record);
        }
    }

    /// The last states, in the order their records came: the entries to load and the
    /// removals to report.
    pub(super) fn finish(self) -> (Vec<ListEntry>, Vec<Removed>) {
        let (mut entries, mut removed) = (Vec::new(), Vec::new());
        for record in self.records.into_iter().flatten() {
            match record.state {
                State::Active(active) => entries.extend(active),
                State::Removed { removal, reason } => {
                    removed.push(Removed { line: record.line, removal, reason })
                }
            }
        }
        (entries, removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{Algorithm, HashValue};

    fn active(key: &str, stamp: Option<f64>, line: u64) -> Record {
        let hash = HashValue::from_hex(Algorithm::Md5, &format!("{line:032x}")).unwrap();
        let entry = ListEntry::new(Algorithm::Md5, hash, line);
        Record { key: Some(key.into()), stamp, line, state: State::Active(vec![entry]) }
    }

    fn removed(key: &str, stamp: Option<f64>, line: u64) -> Record {
        let state = State::Removed { removal: Removal::Withdrawn, reason: "gone".into() };
        Record { key: Some(key.into()), stamp, line, state }
    }

    fn lines(feed: Feed) -> (Vec<u64>, Vec<u64>) {
        let (entries, removed) = feed.finish();
        (entries.iter().map(|e| e.line).collect(), removed.iter().map(|r| r.line).collect())
    }

    #[test]
    fn the_last_record_of_a_key_wins_in_file_order() {
        let mut feed = Feed::default();
        for record in [active("a", None, 1), active("b", None, 2), removed("a", None, 3)] {
            feed.apply(record);
        }
        feed.apply(active("b", None, 4));
        feed.apply(Record { key: None, ..active("", None, 5) });
        feed.apply(Record { key: None, ..active("", None, 6) });
        assert_eq!(lines(feed), (vec![4, 5, 6], vec![3]));
    }

    #[test]
    fn the_newest_stamp_wins_whatever_the_order() {
        let mut feed = Feed::default();
        feed.apply(removed("a", Some(20.0), 1));
        feed.apply(active("a", Some(10.0), 2));
        feed.apply(active("b", Some(10.0), 3));
        feed.apply(removed("b", Some(10.0), 4));
        // A record without a time is placed by its line.
        feed.apply(active("c", Some(30.0), 5));
        feed.apply(removed("c", None, 6));
        assert_eq!(lines(feed), (vec![], vec![1, 4, 6]));
    }

    #[test]
    fn appended_feeds_apply_after_this_one() {
        let (mut first, mut second) = (Feed::default(), Feed::default());
        first.apply(active("a", None, 1));
        second.apply(removed("a", None, 2));
        second.apply(active("b", None, 3));
        first.append(second);
        assert_eq!(lines(first), (vec![3], vec![2]));
    }
}
