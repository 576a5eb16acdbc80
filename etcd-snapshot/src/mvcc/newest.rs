//! The newest entry of every key: the fold under every scan of the key space.
//!
//! The `key` bucket is in revision order, so a scan keeps, per key, the newest entry seen so
//! far. Each run of records (one per worker) folds into [`NewestPerKey`] and is sorted by key
//! on that worker ([`SortedRun`]); the sorted runs are then merged and folded again
//! ([`merge_runs`]), key range by key range in parallel.
//!
//! Memory is what bounds the size of a scan, so the per-key state is kept in fixed-size
//! chunks: growing a vector by doubling would copy it and briefly hold it twice.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::hash::BuildHasher;
use std::marker::PhantomData;
use std::ops::Range;

use rayon::prelude::*;

use super::record::ScannedRecord;
use super::store::{KeyHistory, KeyState};

/// Histories per chunk (about 400 KB).
const HISTORY_CHUNK: usize = 1 << 12;

/// Bytes per chunk of key copies.
const KEY_CHUNK: usize = 1 << 20;

/// Runs this large are sorted in parallel.
const PARALLEL_SORT: usize = 1 << 17;

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

/// What a scan keeps of each key, folded from its records in revision order: its newest
/// entry and newest put ([`KeyHistory`]), or only whether it exists ([`KeyState`]), which a
/// listing of keys needs, in a quarter of the memory.
pub(crate) trait Folded<'a>: Copy + Send + Sync {
    /// What a key's first record in a run makes.
    fn first(record: ScannedRecord<'a>) -> Self;
    /// A later record of the same key.
    fn update(&mut self, record: ScannedRecord<'a>);
    fn key(&self) -> &'a [u8];
    /// Whether this holds a put: the merge takes a key's newest put from the latest run
    /// that has one.
    fn has_put(&self) -> bool;
    /// A key's entry from the latest run that has it (`newest`) and the latest with a put.
    fn merged(newest: &Self, newest_put: Option<&Self>) -> Self;
}

impl<'a> Folded<'a> for KeyHistory<'a> {
    fn first(record: ScannedRecord<'a>) -> Self {
        let last_put = (!record.is_tombstone()).then(|| record.into());
        KeyHistory { key: record.key, last: record.into(), last_put }
    }

    fn update(&mut self, record: ScannedRecord<'a>) {
        self.last = record.into();
        if !record.is_tombstone() {
            self.last_put = Some(record.into());
        }
    }

    fn key(&self) -> &'a [u8] {
        self.key
    }

    fn has_put(&self) -> bool {
        self.last_put.is_some()
    }

    fn merged(newest: &Self, newest_put: Option<&Self>) -> Self {
        KeyHistory { key: newest.key, last: newest.last, last_put: newest_put.and_then(|h| h.last_put) }
    }
}

impl<'a> Folded<'a> for KeyState<'a> {
    fn first(record: ScannedRecord<'a>) -> Self {
        KeyState { key: record.key, deleted: record.is_tombstone() }
    }

    fn update(&mut self, record: ScannedRecord<'a>) {
        self.deleted = record.is_tombstone();
    }

    fn key(&self) -> &'a [u8] {
        self.key
    }

    fn has_put(&self) -> bool {
        !self.deleted
    }

    fn merged(newest: &Self, _: Option<&Self>) -> Self {
        *newest
    }
}

/// The newest entry of each key of one run of records, in order of first appearance, with
/// copies of the keys.
///
/// The copies are made while the key is in cache (just hashed). Lookups and the sort then
/// compare keys in a few MB of consecutive memory instead of paying a cache and TLB miss per
/// comparison in a multi-GB mapping.
pub(crate) struct NewestPerKey<'a, T> {
    histories: Chunked<T>,
    /// The records' lifetime, which `T: Folded<'a>` borrows from.
    records: PhantomData<&'a ()>,
    /// Where the copy of `histories[i].key` is.
    copy_at: Chunked<(u32, u32)>,
    copies: KeyCopies,
}

impl<'a, T: Folded<'a>> NewestPerKey<'a, T> {
    fn new() -> Self {
        NewestPerKey {
            histories: Chunked::new(HISTORY_CHUNK),
            records: PhantomData,
            copy_at: Chunked::new(HISTORY_CHUNK),
            copies: KeyCopies::default(),
        }
    }

    fn key_copy(&self, index: usize) -> &[u8] {
        self.copies.get(*self.copy_at.get(index), self.histories.get(index).key().len())
    }
}

/// Slots of the per-run key index: the key's hash and its place in
/// [`NewestPerKey::histories`]. Keeping the hash means growing the table never hashes a key
/// again (which would read it from the mapping); equal hashes are confirmed on the copies.
type KeyIndex = hashbrown::HashTable<(u64, u32)>;

/// The newest entry ≤ `at` of every key starting with `prefix`, from records in revision
/// order (records past `at` end the fold), sorted by key.
pub(crate) fn newest_per_key<'a, T: Folded<'a>>(
    records: impl Iterator<Item = ScannedRecord<'a>>,
    prefix: &[u8],
    at: i64,
) -> SortedRun<'a, T> {
    fold_newest(records, prefix, at).into_sorted()
}

/// [`newest_per_key`] before the sort: in order of first appearance.
fn fold_newest<'a, T: Folded<'a>>(
    records: impl Iterator<Item = ScannedRecord<'a>>,
    prefix: &[u8],
    at: i64,
) -> NewestPerKey<'a, T> {
    // foldhash: several times faster than SipHash on this hot path, and etcd keys are not
    // hash-flooding input worth SipHash's cost; its seed is still random per process.
    let hasher = foldhash::fast::RandomState::default();
    let mut index = KeyIndex::with_capacity(INITIAL_INDEX_SLOTS);
    let mut newest = NewestPerKey::<T>::new();
    for record in records {
        if record.revision_key.revision.main > at {
            break;
        }
        let key = record.key;
        if !key.starts_with(prefix) {
            continue;
        }
        let hash = hasher.hash_one(key);
        let found = index.find(hash, |&(h, i)| h == hash && newest.key_copy(i as usize) == key);
        match found {
            Some(&(_, i)) => newest.histories.get_mut(i as usize).update(record),
            None => {
                let at = newest.copies.push(key);
                newest.copy_at.push(at);
                let i = newest.histories.push(T::first(record));
                let i32 = u32::try_from(i).expect("fewer than 4 billion keys in a run");
                index.insert_unique(hash, (hash, i32), |&(h, _)| h);
            }
        }
    }
    newest
}

impl<'a, T: Folded<'a>> NewestPerKey<'a, T> {
    /// Sort the run by key, where it was made: its keys are a few MB of copies in this
    /// worker's cache, and the runs of a scan are sorted in parallel with each other and
    /// with the scan of later runs. The sorted run is laid out in key order, so that the
    /// merge reads each run front to back.
    fn into_sorted(mut self) -> SortedRun<'a, T> {
        // (copy chunk, copy start, key length, index): what a comparison reads, in one place.
        let mut order: Vec<(u32, u32, u32, u32)> = self
            .histories
            .iter()
            .zip(self.copy_at.iter())
            .enumerate()
            // Lossless: bbolt stores a value's size (and so its key's) in 32 bits, and the fold
            // numbered the histories in u32.
            .map(|(index, (history, &(chunk, start)))| (chunk, start, history.key().len() as u32, index as u32))
            .collect();
        let copies = &self.copies;
        let key = |&(chunk, start, len, _): &(u32, u32, u32, u32)| copies.get((chunk, start), len as usize);
        // Keys are unique within a run, so an unstable sort loses nothing. A run of a salvage
        // holds every key of the snapshot: it is sorted on every core.
        if order.len() >= PARALLEL_SORT {
            order.par_sort_unstable_by(|a, b| key(a).cmp(key(b)));
        } else {
            order.sort_unstable_by(|a, b| key(a).cmp(key(b)));
        }
        // Put the histories in key order where they are, following the permutation's cycles:
        // new memory costs a page fault per 4 KiB, dear on a VM.
        let mut placed = vec![false; order.len()];
        for first in 0..order.len() {
            if placed[first] {
                continue;
            }
            let held = *self.histories.get(first);
            let mut at = first;
            loop {
                placed[at] = true;
                let from = order[at].3 as usize;
                if from == first {
                    *self.histories.get_mut(at) = held;
                    break;
                }
                *self.histories.get_mut(at) = *self.histories.get(from);
                at = from;
            }
        }
        // The keys copied again, in key order, so that the merge reads each run's keys front
        // to back; in fixed-size chunks like the first copies, so that the chunks one run
        // frees can serve the next.
        let mut sorted_copies = KeyCopies::default();
        for entry in &mut order {
            (entry.0, entry.1) = sorted_copies.push(self.copies.get((entry.0, entry.1), entry.2 as usize));
        }
        SortedRun { histories: self.histories, records: PhantomData, copies: sorted_copies, keys_at: order }
    }
}

/// The newest entry of each key of one run, in key order.
pub(crate) struct SortedRun<'a, T> {
    histories: Chunked<T>,
    records: PhantomData<&'a ()>,
    /// Copies of the keys, in key order.
    copies: KeyCopies,
    /// Where each key's copy is (chunk, start, length); the last field, the history's place
    /// before the sort, is no longer read (the vector is the sort's, reused).
    keys_at: Vec<(u32, u32, u32, u32)>,
}

impl<'a, T: Folded<'a>> SortedRun<'a, T> {
    fn len(&self) -> usize {
        self.keys_at.len()
    }

    /// The copy of the key at `position` in key order.
    fn key(&self, position: usize) -> &[u8] {
        let (chunk, start, len, _) = self.keys_at[position];
        self.copies.get((chunk, start), len as usize)
    }

    /// The history at `position` in key order.
    fn history(&self, position: usize) -> &T {
        self.histories.get(position)
    }

    /// How many keys sort before `bound`.
    fn count_before(&self, bound: &[u8]) -> usize {
        self.keys_at.partition_point(|&(chunk, start, len, _)| self.copies.get((chunk, start), len as usize) < bound)
    }

    /// Positions of the keys in `range`.
    fn positions(&self, range: KeyRangeBounds<'_>) -> Range<usize> {
        let start = range.0.map_or(0, |bound| self.count_before(bound));
        let end = range.1.map_or(self.len(), |bound| self.count_before(bound));
        start..end.max(start)
    }
}

/// Keys from the first bound (inclusive) to the second (exclusive); `None` is unbounded.
type KeyRangeBounds<'k> = (Option<&'k [u8]>, Option<&'k [u8]>);

/// Key ranges merged per thread of the pool: more than one each so that uneven ranges
/// still balance.
const MERGE_PARTS_PER_THREAD: usize = 8;

/// Keys sampled from each run to choose the bounds of the key ranges.
const SAMPLES_PER_RUN: usize = 64;

/// Merge the sorted runs, given in revision order. A key found in several runs takes its
/// newest entry from the latest run, and its newest put from the latest run that has one.
/// The key space is cut into ranges at keys sampled from the runs, and the ranges are
/// merged in parallel.
pub(crate) fn merge_runs<'a, T: Folded<'a>>(runs: Vec<SortedRun<'a, T>>) -> Vec<T> {
    let parts: Vec<Vec<Merged>> = {
        let bounds = range_bounds(&runs, rayon::current_num_threads() * MERGE_PARTS_PER_THREAD);
        let ranges: Vec<KeyRangeBounds<'_>> =
            (0..=bounds.len()).map(|i| (i.checked_sub(1).map(|b| bounds[b]), bounds.get(i).copied())).collect();
        ranges.into_par_iter().map(|range| merge_range(&runs, range)).collect()
    };
    // The histories are made on every core, straight into the result.
    let starts: Vec<usize> = parts
        .iter()
        .scan(0, |start, part| {
            let this = *start;
            *start += part.len();
            Some(this)
        })
        .collect();
    let len = parts.iter().map(Vec::len).sum();
    (0..len)
        .into_par_iter()
        .with_min_len(1 << 12)
        .map(|i| {
            // The last part starting at or before `i`: the one holding it (empty parts
            // start where the next one does).
            let part = starts.partition_point(|&start| start <= i) - 1;
            let merged = parts[part][i - starts[part]];
            let newest = runs[merged.newest.0 as usize].history(merged.newest.1 as usize);
            let newest_put = match merged.newest_put {
                NO_PUT => None,
                (run, position) => Some(runs[run as usize].history(position as usize)),
            };
            T::merged(newest, newest_put)
        })
        .collect()
}

/// Where the merged history of one key comes from: (run, position) of its newest entry, and
/// of the newest of its entries with a put. The parts of a merge hold these instead of
/// histories (16 bytes instead of 96), so that the result is not held twice.
#[derive(Clone, Copy)]
struct Merged {
    newest: (u32, u32),
    newest_put: (u32, u32),
}

/// [`Merged::newest_put`] of a key with no put retained in any run.
const NO_PUT: (u32, u32) = (u32::MAX, u32::MAX);

/// Up to `parts - 1` distinct keys, sorted, that cut the runs' keys into about equal ranges.
fn range_bounds<'r, 'a, T: Folded<'a>>(runs: &'r [SortedRun<'a, T>], parts: usize) -> Vec<&'r [u8]> {
    let total: usize = runs.iter().map(SortedRun::len).sum();
    if parts < 2 || total < parts * SAMPLES_PER_RUN {
        return Vec::new();
    }
    // Each run gives samples in proportion to its size, so a large run is cut as finely as
    // the small ones.
    let mut samples: Vec<&[u8]> = Vec::new();
    for run in runs {
        let count = (run.len() * SAMPLES_PER_RUN * runs.len() / total).min(run.len());
        samples.extend((0..count).map(|i| run.key(i * run.len() / count)));
    }
    samples.sort_unstable();
    samples.dedup();
    let step = samples.len().div_ceil(parts).max(1);
    samples.into_iter().skip(step).step_by(step).collect()
}

/// The head of one run in a k-way merge: the heap's order is key, then run (so that equal
/// keys come in revision order), reversed to make `BinaryHeap` a min-heap.
struct Head<'r> {
    key: &'r [u8],
    run: usize,
    position: usize,
    end: usize,
}

impl Ord for Head<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(self.key).then(other.run.cmp(&self.run))
    }
}

impl PartialOrd for Head<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head<'_> {}

/// Where the merged history of each key in `range` comes from, in key order.
fn merge_range<'a, T: Folded<'a>>(runs: &[SortedRun<'a, T>], range: KeyRangeBounds<'_>) -> Vec<Merged> {
    let mut heads = BinaryHeap::with_capacity(runs.len());
    let mut count = 0;
    for (run, sorted) in runs.iter().enumerate() {
        let positions = sorted.positions(range);
        count += positions.len();
        if !positions.is_empty() {
            heads.push(Head { key: sorted.key(positions.start), run, position: positions.start, end: positions.end });
        }
    }
    let mut merged: Vec<Merged> = Vec::with_capacity(count);
    let mut last_key: Option<&[u8]> = None;
    while let Some(mut head) = heads.peek_mut() {
        let run = &runs[head.run];
        // Runs and positions fit in u32: a run holds fewer than 4 billion keys, and there
        // are a few runs per thread.
        let at = (head.run as u32, head.position as u32);
        let has_put = run.history(head.position).has_put();
        match merged.last_mut() {
            // The same key from a later run.
            Some(merged) if last_key == Some(head.key) => {
                merged.newest = at;
                if has_put {
                    merged.newest_put = at;
                }
            }
            _ => {
                merged.push(Merged { newest: at, newest_put: if has_put { at } else { NO_PUT } });
                last_key = Some(head.key);
            }
        }
        head.position += 1;
        if head.position < head.end {
            head.key = run.key(head.position);
        } else {
            std::collections::binary_heap::PeekMut::pop(head);
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::mvcc::{KeyValueRef, Record, Revision, RevisionKey};

    /// Deterministic pseudo-random numbers (xorshift).
    struct Numbers(u64);

    impl Numbers {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Keys with long shared prefixes, and keys that are prefixes of others.
    fn keys(count: usize) -> Vec<Vec<u8>> {
        let resources = ["pods", "pods/x", "configmaps", "secrets"];
        (0..count)
            .map(|i| match i % 7 {
                0 => format!("/registry/{}/ns-{}", resources[i % 4], i % 5),
                _ => format!("/registry/{}/ns-{}/name-{}", resources[i % 4], i % 5, i / 3),
            })
            .map(String::into_bytes)
            .collect()
    }

    /// Records in revision order: puts and deletions of `keys`, some outside `prefix`.
    fn records<'k>(keys: &'k [Vec<u8>], count: usize, numbers: &mut Numbers) -> Vec<Record<'k>> {
        (0..count)
            .map(|i| {
                let key = keys[numbers.below(keys.len() as u64) as usize].as_slice();
                let revision = Revision { main: i as i64 / 2 + 1, sub: i as i64 % 2 };
                Record {
                    revision_key: RevisionKey { revision, tombstone: numbers.below(4) == 0 },
                    kv: KeyValueRef { key, mod_revision: revision.main, ..Default::default() },
                    raw: key,
                }
            })
            .collect()
    }

    /// What the runs must fold to: one pass over every record, in revision order.
    fn folded_in_one_pass<'a>(records: &[Record<'a>], prefix: &[u8], at: i64) -> Vec<KeyHistory<'a>> {
        let mut newest: BTreeMap<&[u8], KeyHistory<'a>> = BTreeMap::new();
        for record in records.iter().take_while(|r| r.revision_key.revision.main <= at) {
            if !record.kv.key.starts_with(prefix) {
                continue;
            }
            let history = newest.entry(record.kv.key).or_insert(KeyHistory {
                key: record.kv.key,
                last: (*record).into(),
                last_put: None,
            });
            history.last = (*record).into();
            if !record.is_tombstone() {
                history.last_put = Some((*record).into());
            }
        }
        newest.into_values().collect()
    }

    fn merged_from_runs<'a, T: Folded<'a>>(records: &[Record<'a>], cuts: &[usize], prefix: &[u8], at: i64) -> Vec<T> {
        let bounds: Vec<usize> = std::iter::once(0).chain(cuts.iter().copied()).chain([records.len()]).collect();
        let runs = bounds
            .windows(2)
            .map(|w| newest_per_key(records[w[0]..w[1]].iter().map(|&r| r.into()), prefix, at))
            .collect();
        merge_runs(runs)
    }

    /// Whether each key exists, as the histories tell.
    fn states<'a>(histories: &[KeyHistory<'a>]) -> Vec<KeyState<'a>> {
        histories.iter().map(|h| KeyState { key: h.key, deleted: h.is_deleted() }).collect()
    }

    /// Runs folded and sorted apart, then merged by key range, give what one fold of all
    /// records gives: a key in several runs takes its newest entry from the latest, and its
    /// newest put from the latest that has one. Enough keys that the merge cuts them into
    /// ranges, on pools of one and of several threads (one range, and many). Folding only
    /// whether each key exists gives the same keys, each deleted as its history tells.
    #[test]
    fn merged_runs_equal_one_fold_of_every_record() {
        let keys = keys(3000);
        let mut numbers = Numbers(0x9e37_79b9_7f4a_7c15);
        let records = records(&keys, 20_000, &mut numbers);
        let last = records.last().unwrap().revision_key.revision.main;
        let cuts: Vec<usize> = [0, 0, 1500, 1501, 7000, 12_000, 19_999, 20_000].to_vec();
        for threads in [1, 4] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            for (prefix, at) in
                [(&b""[..], last), (b"/registry/pods", last), (b"/registry/", last / 2), (b"/none", last)]
            {
                let merged: Vec<KeyHistory<'_>> = pool.install(|| merged_from_runs(&records, &cuts, prefix, at));
                let expected = folded_in_one_pass(&records, prefix, at);
                assert_eq!(merged.len(), expected.len(), "{threads} threads, {prefix:?} at {at}");
                assert!(merged == expected, "{threads} threads, {prefix:?} at {at}");
                let merged_states: Vec<KeyState<'_>> = pool.install(|| merged_from_runs(&records, &cuts, prefix, at));
                assert!(merged_states == states(&expected), "{threads} threads, {prefix:?} at {at}");
            }
        }
        // The pool of 4 cuts this many keys into ranges.
        let runs: Vec<SortedRun<'_, KeyHistory<'_>>> =
            vec![newest_per_key(records.iter().map(|&r| r.into()), b"", last)];
        assert!(range_bounds(&runs, 32).len() > 16);
    }

    /// One key in every run, at a range's bound and between bounds, folds across all of
    /// them; so do runs with no records.
    #[test]
    fn a_key_in_every_run_folds_across_them() {
        let keys = keys(400);
        let mut numbers = Numbers(7);
        let mut records = records(&keys, 6000, &mut numbers);
        // Every 50th record is the same key, alternately put and deleted.
        for (i, record) in records.iter_mut().enumerate().filter(|(i, _)| i % 50 == 0) {
            record.kv.key = &keys[3];
            record.revision_key.tombstone = i % 100 == 0;
        }
        let last = records.last().unwrap().revision_key.revision.main;
        let cuts: Vec<usize> = (1..40).map(|i| i * 150).collect();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let merged: Vec<KeyHistory<'_>> = pool.install(|| merged_from_runs(&records, &cuts, b"", last));
        let expected = folded_in_one_pass(&records, b"", last);
        assert!(merged == expected);
        let merged_states: Vec<KeyState<'_>> = pool.install(|| merged_from_runs(&records, &cuts, b"", last));
        assert!(merged_states == states(&expected));
        assert!(merge_runs::<KeyHistory<'_>>(Vec::new()).is_empty());
        assert!(merged_from_runs::<KeyState<'_>>(&records[..0], &[0, 0], b"", last).is_empty());
    }
}
