//! The hash columns of loaded lists, taken out of them once so that every lookup structure is
//! built from one place.
//!
//! Owns handing the lists' hashes (and orb1 signatures) over: [`ListedHashes::take`] leaves
//! the lists with their metadata (lines, ids, labels, qualities, sizes), and the structures
//! built from the columns read them side by side, in any order, until [`super::Index::build`]
//! consumes them, keeping the one sorted copy; the orb1 signatures, far the largest, are
//! taken out by the one structure that decodes them. Must not build any structure itself or
//! know how an algorithm is matched.

use crate::hash::{Algorithm, HashValue};
use crate::hashlist::HashList;

use super::EntryRef;

/// The hash columns of a set of lists, in list order.
#[derive(Debug, Default)]
pub struct ListedHashes {
    pub(super) lists: Vec<Columns>,
}

/// One list's columns.
#[derive(Debug)]
pub(super) struct Columns {
    /// The list's algorithm column, copied: each slot's length depends on it.
    pub(super) algorithms: Vec<Algorithm>,
    /// Hash bytes, left-aligned in a 32-byte slot, in row order; an orb1 slot holds its
    /// signature's SHA-256.
    pub(super) hashes: Vec<[u8; 32]>,
    /// `(row, signature bytes)` of the orb1 rows, in row order.
    signatures: Vec<(u32, Box<[u8]>)>,
}

impl Columns {
    /// The hash of row `row`.
    fn hash(&self, row: usize) -> HashValue {
        HashValue::from_bytes(&self.hashes[row][..self.algorithms[row].byte_len()])
    }
}

impl ListedHashes {
    /// Takes the hashes and orb1 signatures out of `lists`, whose entries keep everything
    /// else; entry `e` of list `l` is [`EntryRef`] `{ list: l, entry: e }` here.
    pub fn take(lists: &mut [HashList]) -> ListedHashes {
        let lists = lists
            .iter_mut()
            .map(|list| Columns {
                algorithms: list.entries.algorithms().to_vec(),
                hashes: list.entries.take_hashes(),
                signatures: list.entries.take_signatures(),
            })
            .collect();
        ListedHashes { lists }
    }

    /// Every entry of `algorithm`, in list order: where it is, and its hash (for orb1, its
    /// signature's SHA-256).
    pub fn of(&self, algorithm: Algorithm) -> impl Iterator<Item = (EntryRef, HashValue)> + '_ {
        self.lists.iter().enumerate().flat_map(move |(l, columns)| {
            let rows = columns.algorithms.iter().enumerate().filter(move |(_, a)| **a == algorithm);
            rows.map(move |(row, _)| {
                (EntryRef { list: l as u32, entry: row as u32 }, columns.hash(row))
            })
        })
    }

    /// Takes every orb1 entry out, in list order: where it is, its signature's SHA-256 (the id
    /// matches and reports name it by) and the signature's bytes, as the list's parser
    /// validated them. Handed over one at a time, so that a caller that decodes each and lets
    /// its bytes go never holds every signature twice.
    pub fn take_signatures(
        &mut self,
    ) -> impl Iterator<Item = (EntryRef, HashValue, Box<[u8]>)> + '_ {
        self.lists.iter_mut().enumerate().flat_map(|(l, columns)| {
            let signatures = std::mem::take(&mut columns.signatures);
            let columns = &*columns;
            signatures.into_iter().map(move |(row, bytes)| {
                let at = EntryRef { list: l as u32, entry: row };
                (at, columns.hash(row as usize), bytes)
            })
        })
    }
}
