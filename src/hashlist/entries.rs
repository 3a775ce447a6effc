//! Column storage for a list's entries.
//!
//! Owns keeping millions of entries small: one column per field, and the optional fields
//! (ids, labels, quality, timestamps, sizes) cost nothing until some entry has one. The hash
//! column can be handed over to the index, which keeps its own sorted copy, so a big list is
//! not held twice. `orb1` and `orb2` signatures, far longer than a hash slot, go to a column
//! of their own (the slot holds their SHA-256), handed over to their index the same way. Must
//! not parse or validate: entries arrive as [`ListEntry`] values that a parser and hygiene
//! have already accepted.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::hash::{Algorithm, HashValue};

use super::ListEntry;

/// A list's entries, by column. Entry `i` is row `i` of every column.
#[derive(Clone, Debug, Default)]
pub struct Entries {
    algorithms: Vec<Algorithm>,
    /// Hash bytes, left-aligned in a 32-byte slot; empty once taken by the index.
    hashes: Vec<[u8; 32]>,
    /// 1-based line numbers; u32 because a list of four billion lines is not a list.
    lines: Vec<u32>,
    ids: Strings,
    labels: Labels,
    quality: Optional<u8>,
    timestamp: Optional<f64>,
    size: Optional<u64>,
    /// `(row, signature bytes)` of the orb1 and orb2 rows, in row order.
    signatures: Vec<(u32, Box<[u8]>)>,
}

/// A column of optional values that allocates nothing until the first value arrives.
#[derive(Clone, Debug, Default)]
struct Optional<T>(Vec<Option<T>>);

impl<T: Copy> Optional<T> {
    fn append(&mut self, rows: usize, other: Optional<T>) {
        if !other.0.is_empty() {
            self.0.resize(rows, None);
            self.0.extend(other.0);
        }
    }

    fn set(&mut self, row: usize, value: Option<T>) {
        if let Some(value) = value {
            self.0.resize(row, None);
            self.0.push(Some(value));
        }
    }

    fn get(&self, row: usize) -> Option<T> {
        self.0.get(row).copied().flatten()
    }
}

/// Optional strings as one text buffer plus an end offset per row (rows without a string
/// are empty), created on the first string.
#[derive(Clone, Debug, Default)]
struct Strings {
    ends: Vec<u32>,
    text: String,
}

impl Strings {
    fn append(&mut self, rows: usize, other: Strings) {
        if other.ends.is_empty() {
            return;
        }
        let base = self.text.len() as u32;
        self.ends.resize(rows, base);
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|end| end + base));
    }

    fn set(&mut self, row: usize, value: Option<&str>) {
        if let Some(value) = value {
            let end = self.text.len() as u32;
            self.ends.resize(row, end);
            self.text.push_str(value);
            self.ends.push(self.text.len() as u32);
        }
    }

    fn get(&self, row: usize) -> Option<&str> {
        let end = *self.ends.get(row)? as usize;
        let start = if row == 0 { 0 } else { self.ends[row - 1] as usize };
        (end > start).then(|| &self.text[start..end])
    }
}

/// Labels repeat (a category per entry), so each distinct one is stored once.
#[derive(Clone, Debug, Default)]
struct Labels {
    rows: Optional<u32>,
    names: Vec<Box<str>>,
    lookup: HashMap<Box<str>, u32>,
}

impl Labels {
    fn append(&mut self, rows: usize, other: Labels) {
        for (row, id) in other.rows.0.iter().enumerate() {
            if let Some(id) = id {
                self.set(rows + row, Some(&other.names[*id as usize]));
            }
        }
    }

    fn set(&mut self, row: usize, value: Option<&str>) {
        let Some(value) = value else { return };
        let id = match self.lookup.get(value) {
            Some(&id) => id,
            None => {
                let id = self.names.len() as u32;
                self.names.push(value.into());
                self.lookup.insert(value.into(), id);
                id
            }
        };
        self.rows.set(row, Some(id));
    }

    fn get(&self, row: usize) -> Option<&str> {
        self.rows.get(row).map(|id| &*self.names[id as usize])
    }
}

impl Entries {
    /// Appends an entry.
    pub fn push(&mut self, entry: &ListEntry) {
        let row = self.algorithms.len();
        let mut slot = [0u8; 32];
        if entry.algorithm.keypoint_format().is_some() {
            slot.copy_from_slice(&Sha256::digest(entry.hash.as_bytes()));
            self.signatures.push((row as u32, entry.hash.as_bytes().into()));
        } else {
            slot[..entry.hash.as_bytes().len()].copy_from_slice(entry.hash.as_bytes());
        }
        self.algorithms.push(entry.algorithm);
        self.hashes.push(slot);
        self.lines.push(u32::try_from(entry.line).unwrap_or(u32::MAX));
        self.ids.set(row, entry.id.as_deref());
        self.labels.set(row, entry.label.as_deref());
        self.quality.set(row, entry.quality);
        self.timestamp.set(row, entry.timestamp);
        self.size.set(row, entry.size);
    }

    /// Appends every entry of `other` after these.
    pub fn append(&mut self, other: Entries) {
        let rows = self.len();
        self.algorithms.extend(other.algorithms);
        self.hashes.extend(other.hashes);
        self.lines.extend(other.lines);
        self.ids.append(rows, other.ids);
        self.labels.append(rows, other.labels);
        self.quality.append(rows, other.quality);
        self.timestamp.append(rows, other.timestamp);
        self.size.append(rows, other.size);
        let shifted = other.signatures.into_iter().map(|(row, s)| (row + rows as u32, s));
        self.signatures.extend(shifted);
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.algorithms.len()
    }

    /// Returns true if and only if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.algorithms.is_empty()
    }

    /// Every entry's algorithm, in row order.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// The hash of row `row`, or `None` once the hashes were taken by the index.
    pub fn hash(&self, row: usize) -> Option<HashValue> {
        let slot = self.hashes.get(row)?;
        Some(HashValue::from_bytes(&slot[..self.algorithms[row].byte_len()]))
    }

    /// Hands the hash column over (left-aligned 32-byte slots, row order), leaving none.
    pub fn take_hashes(&mut self) -> Vec<[u8; 32]> {
        std::mem::take(&mut self.hashes)
    }

    /// Hands the orb1 and orb2 signatures over as `(row, bytes)` in row order, leaving none.
    pub fn take_signatures(&mut self) -> Vec<(u32, Box<[u8]>)> {
        std::mem::take(&mut self.signatures)
    }

    /// 1-based line of row `row` in the list file.
    pub fn line(&self, row: usize) -> u64 {
        u64::from(self.lines[row])
    }

    /// The id of row `row`, if it has one.
    pub fn id(&self, row: usize) -> Option<&str> {
        self.ids.get(row)
    }

    /// The label of row `row`, if it has one.
    pub fn label(&self, row: usize) -> Option<&str> {
        self.labels.get(row)
    }

    /// The producer's quality for row `row`, if given.
    pub fn quality(&self, row: usize) -> Option<u8> {
        self.quality.get(row)
    }

    /// The video timestamp of row `row`, if given.
    pub fn timestamp(&self, row: usize) -> Option<f64> {
        self.timestamp.get(row)
    }

    /// The file size row `row` is pinned to, if any.
    pub fn size(&self, row: usize) -> Option<u64> {
        self.size.get(row)
    }

    /// Stops the label interner's lookup table from outliving loading.
    pub(super) fn finish(&mut self) {
        self.labels.lookup = HashMap::new();
        self.algorithms.shrink_to_fit();
        self.hashes.shrink_to_fit();
        self.lines.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_columns_round_trip_and_stay_empty_when_unused() {
        let mut entries = Entries::default();
        let hash = |hex: &str| HashValue::from_hex(Algorithm::Phash, hex).unwrap();
        entries.push(&ListEntry::new(Algorithm::Phash, hash("aca29c1c33dc23d7"), 2));
        let mut second = ListEntry::new(Algorithm::Phash, hash("0123456789abcdef"), 3);
        second.id = Some("case-1".into());
        second.label = Some("cat".into());
        second.size = Some(9559);
        entries.push(&second);
        let mut third = ListEntry::new(Algorithm::Md5, HashValue::from_bytes(vec![7; 16]), 5);
        third.label = Some("cat".into());
        entries.push(&third);

        assert_eq!(entries.len(), 3);
        assert_eq!((entries.id(0), entries.id(1), entries.id(2)), (None, Some("case-1"), None));
        assert_eq!(
            (entries.label(0), entries.label(1), entries.label(2)),
            (None, Some("cat"), Some("cat"))
        );
        assert_eq!(entries.labels.names.len(), 1);
        assert_eq!((entries.size(0), entries.size(1), entries.size(2)), (None, Some(9559), None));
        assert_eq!(entries.quality(1), None);
        assert!(entries.quality.0.is_empty() && entries.timestamp.0.is_empty());
        assert_eq!(entries.hash(1).unwrap().to_hex(), "0123456789abcdef");
        assert_eq!(entries.hash(2).unwrap().as_bytes(), &[7; 16]);
        assert_eq!(entries.line(2), 5);
        let mut joined = entries.clone();
        joined.append(entries.clone());
        assert_eq!(joined.len(), 6);
        assert_eq!((joined.id(4), joined.id(3), joined.id(5)), (Some("case-1"), None, None));
        assert_eq!((joined.label(3), joined.label(5)), (None, Some("cat")));
        assert_eq!((joined.size(4), joined.line(5)), (Some(9559), 5));
        assert_eq!(joined.labels.names.len(), 1);
        // A long orb1 signature keeps its bytes apart; its slot holds their SHA-256.
        let signature = HashValue::from_bytes(vec![9u8; 100]);
        let mut orb1 = Entries::default();
        orb1.push(&ListEntry::new(Algorithm::Orb1, signature.clone(), 7));
        let mut joined = entries.clone();
        joined.append(orb1);
        assert_eq!(joined.hash(3).unwrap().as_bytes(), &Sha256::digest(signature.as_bytes())[..]);
        assert_eq!(joined.take_signatures(), [(3, signature.as_bytes().into())]);

        assert_eq!(entries.take_hashes().len(), 3);
        assert_eq!(entries.hash(0), None);
    }
}
