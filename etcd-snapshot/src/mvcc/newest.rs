//! The newest entry of every key: the fold under every scan of the key space.
//!
//! The `key` bucket is in revision order, so a scan keeps, per key, the newest entry seen so
//! far. Each run of records (one per worker) folds into [`NewestPerKey`]; the runs are then
//! sorted together by key and folded again ([`merge_runs`]).
//!
//! Memory is what bounds the size of a scan, so the per-key state is kept in fixed-size
//! chunks: growing a vector by doubling would copy it and briefly hold it twice.

use std::hash::BuildHasher;

use rayon::prelude::*;

use super::store::KeyHistory;
use super::{key_sort, Record};

/// Histories per chunk (about 400 KB).
const HISTORY_CHUNK: usize = 1 << 12;

/// Bytes per chunk of key copies.
const KEY_CHUNK: usize = 1 << 20;

/// Index tables start this large: growing from a handful of slots to tens of thousands
/// costs more than the memory (16 B a slot).
const INITIAL_INDEX_SLOTS: usize = 1 << 12;

/// A vector that grows by whole chunks, never moving what it holds.
struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    chunk: usize,
}

impl<T> Chunked<T> {
    fn new(chunk: usize) -> Self {
        Chunked { chunks: Vec::new(), chunk }
    }

    fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    /// Appends `value` and returns its index.
    fn push(&mut self, value: T) -> usize {
        let full = self.chunks.last().is_none_or(|c| c.len() == self.chunk);
        if full {
            self.chunks.push(Vec::with_capacity(self.chunk));
        }
        let last = self.chunks.len() - 1;
        self.chunks[last].push(value);
        last * self.chunk + self.chunks[last].len() - 1
    }

    fn get(&self, index: usize) -> &T {
        &self.chunks[index / self.chunk][index % self.chunk]
    }

    fn get_mut(&mut self, index: usize) -> &mut T {
        &mut self.chunks[index / self.chunk][index % self.chunk]
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

/// Copies of keys, packed in chunks of [`KEY_CHUNK`] bytes.
#[derive(Default)]
struct KeyCopies {
    chunks: Vec<Vec<u8>>,
}

impl KeyCopies {
    /// Copies `key` and returns where the copy starts: chunk number and offset.
    fn push(&mut self, key: &[u8]) -> (u32, u32) {
        let fits = self.chunks.last().is_some_and(|c| c.capacity() - c.len() >= key.len());
        if !fits {
            self.chunks.push(Vec::with_capacity(KEY_CHUNK.max(key.len())));
        }
        let last = self.chunks.len() - 1;
        let chunk = &mut self.chunks[last];
        let start = chunk.len();
        chunk.extend_from_slice(key);
        (last as u32, start as u32)
    }

    fn get(&self, (chunk, start): (u32, u32), len: usize) -> &[u8] {
        &self.chunks[chunk as usize][start as usize..start as usize + len]
    }
}

/// The newest entry of each key of one run of records, in order of first appearance, with
/// copies of the keys.
///
/// The copies are made while the key is in cache (just hashed). Lookups and the sort then
/// compare keys in a few MB of consecutive memory instead of paying a cache and TLB miss per
/// comparison in a multi-GB mapping.
pub(crate) struct NewestPerKey<'a> {
    histories: Chunked<KeyHistory<'a>>,
    /// Where the copy of `histories[i].key` is.
    copy_at: Chunked<(u32, u32)>,
    copies: KeyCopies,
}

impl<'a> NewestPerKey<'a> {
    fn new() -> Self {
        NewestPerKey {
            histories: Chunked::new(HISTORY_CHUNK),
            copy_at: Chunked::new(HISTORY_CHUNK),
            copies: KeyCopies::default(),
        }
    }

    fn key_copy(&self, index: usize) -> &[u8] {
        self.copies.get(*self.copy_at.get(index), self.histories.get(index).key.len())
    }
}

/// Slots of the per-run key index: the key's hash and its place in
/// [`NewestPerKey::histories`]. Keeping the hash means growing the table never hashes a key
/// again (which would read it from the mapping); equal hashes are confirmed on the copies.
type KeyIndex = hashbrown::HashTable<(u64, u32)>;

/// The newest entry ≤ `at` of every key starting with `prefix`, from records in revision
/// order (records past `at` end the fold).
pub(crate) fn newest_per_key<'a>(
    records: impl Iterator<Item = Record<'a>>,
    prefix: &[u8],
    at: i64,
) -> NewestPerKey<'a> {
    // foldhash: several times faster than SipHash on this hot path, and etcd keys are not
    // hash-flooding input worth SipHash's cost; its seed is still random per process.
    let hasher = foldhash::fast::RandomState::default();
    let mut index = KeyIndex::with_capacity(INITIAL_INDEX_SLOTS);
    let mut newest = NewestPerKey::new();
    for record in records {
        if record.revision_key.revision.main > at {
            break;
        }
        let key = record.kv.key;
        if !key.starts_with(prefix) {
            continue;
        }
        let hash = hasher.hash_one(key);
        let found = index.find(hash, |&(h, i)| h == hash && newest.key_copy(i as usize) == key);
        let slot = match found {
            Some(&(_, i)) => i as usize,
            None => {
                let at = newest.copies.push(key);
                newest.copy_at.push(at);
                let i = newest.histories.push(KeyHistory { key, last: record.into(), last_put: None });
                let i32 = u32::try_from(i).expect("fewer than 4 billion keys in a run");
                index.insert_unique(hash, (hash, i32), |&(h, _)| h);
                i
            }
        };
        let history = newest.histories.get_mut(slot);
        history.last = record.into();
        if !record.is_tombstone() {
            history.last_put = Some(record.into());
        }
    }
    newest
}

/// Sort the newest entries of each run by key, the runs given in revision order. A key found
/// in several runs takes its newest entry from the latest run, and its newest put from the
/// latest run that has one: the stable sort keeps equal keys in run order. Each stage frees
/// what the next does not need, so that the peak is the runs plus the sorted order, and the result is
/// written in place.
pub(crate) fn merge_runs(runs: Vec<NewestPerKey<'_>>) -> Vec<KeyHistory<'_>> {
    let mut histories = Vec::with_capacity(runs.len());
    let mut copies = Vec::with_capacity(runs.len());
    for run in runs {
        histories.push(run.histories);
        copies.push((run.copy_at, run.copies));
    }
    let total = histories.iter().map(Chunked::len).sum();
    let order = {
        let mut key_copies: Vec<&[u8]> = Vec::with_capacity(total);
        for (run, (at, run_copies)) in histories.iter().zip(&copies) {
            key_copies.extend(run.iter().zip(at.iter()).map(|(h, &at)| run_copies.get(at, h.key.len())));
        }
        key_sort::sorted_order(&key_copies, |key| key)
    };
    drop(copies);
    let all: Vec<&KeyHistory<'_>> = {
        let mut all = Vec::with_capacity(total);
        all.extend(histories.iter().flat_map(Chunked::iter));
        all
    };
    // Each distinct key starts where its first entry is; its entries from later runs follow.
    let firsts: Vec<u32> =
        (0..order.indexes.len() as u32).into_par_iter().filter(|&p| !order.equal_to_previous[p as usize]).collect();
    firsts
        .par_iter()
        .map(|&first| {
            let first = first as usize;
            let mut merged = *all[order.indexes[first] as usize];
            let later = order.equal_to_previous[first + 1..].iter().take_while(|&&equal| equal).count();
            for &index in &order.indexes[first + 1..first + 1 + later] {
                let newer = all[index as usize];
                merged.last = newer.last;
                merged.last_put = newer.last_put.or(merged.last_put);
            }
            merged
        })
        .collect()
}
