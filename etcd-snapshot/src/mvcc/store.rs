//! Views of the MVCC key space with etcd's semantics: state at a revision, history of a
//! key, deleted keys. Scans split the `key` bucket into subtrees and run them on rayon.

use rayon::prelude::*;

use crate::bbolt::{Bucket, Db, Entries, LeafEntry};
use crate::error::{hex_prefix, MvccError};

use super::newest::{merge_runs, newest_per_key, Folded, SortedRun};
use super::record::ScannedRecord;
use super::{KeyValueRef, Record, RecordRef, Revision, RevisionKey, StoreMeta};

/// The etcd store inside a bbolt image.
#[derive(Debug, Clone)]
pub struct Store<'a> {
    db: Db<'a>,
    keys: Bucket<'a>,
    meta: StoreMeta,
    /// The last entry's revision; an error when the rightmost path of the tree is damaged, in
    /// which case scans are not cut off at a revision and report this error.
    last_revision: Result<Option<Revision>, MvccError>,
}

/// The newest entry of one user key at the revision asked for, and its newest put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyHistory<'a> {
    /// The user key.
    pub key: &'a [u8],
    /// The newest entry: a put (the key exists) or a tombstone (it was deleted).
    pub last: RecordRef<'a>,
    /// The newest put, if one is retained (the content a deleted key had before deletion).
    pub last_put: Option<RecordRef<'a>>,
}

impl<'a> KeyHistory<'a> {
    pub fn is_deleted(&self) -> bool {
        self.last.is_tombstone()
    }

    /// The record holding the key's content: the newest entry, or for a deleted key the
    /// newest put where one is retained (otherwise the tombstone, which has none).
    pub fn content(&self) -> RecordRef<'a> {
        match (self.is_deleted(), self.last_put) {
            (true, Some(put)) => put,
            _ => self.last,
        }
    }
}

/// A user key at the revision asked for, and whether its newest entry is a deletion: what a
/// listing of keys needs, in a quarter of a [`KeyHistory`]'s memory
/// ([`Store::key_states`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyState<'a> {
    pub key: &'a [u8],
    /// The newest entry is a tombstone: the key does not exist at the revision.
    pub deleted: bool,
}

/// The part of a key-sorted list (as [`Store::key_histories`] returns it) whose keys start
/// with `prefix`: one scan of a wide prefix can then answer narrower questions by binary
/// search instead of scanning the `key` bucket again.
pub fn with_prefix<'s, 'a>(sorted: &'s [KeyHistory<'a>], prefix: &[u8]) -> &'s [KeyHistory<'a>] {
    let start = sorted.partition_point(|h| h.key < prefix);
    let len = sorted[start..].partition_point(|h| h.key.starts_with(prefix));
    &sorted[start..start + len]
}

/// A key that exists at the revision asked for, with its record.
pub type LiveKey<'a> = Record<'a>;

/// Results of a scan plus the errors met on the way: damaged parts are reported, and
/// everything still readable is returned.
#[derive(Debug, Clone)]
pub struct Scan<T> {
    pub items: Vec<T>,
    pub errors: Vec<MvccError>,
}

impl<T> Default for Scan<T> {
    fn default() -> Self {
        Scan { items: Vec::new(), errors: Vec::new() }
    }
}

impl<'a> Store<'a> {
    /// Find the `key` and `meta` buckets and the latest revision.
    pub fn open(db: Db<'a>) -> Result<Store<'a>, MvccError> {
        let keys = db.bucket(b"key")?.ok_or(MvccError::NoKeyBucket)?;
        let meta = match db.bucket(b"meta")? {
            Some(bucket) => StoreMeta::read(&bucket)?,
            None => StoreMeta::default(),
        };
        let last_revision = match keys.last_entry() {
            Ok(Some(entry)) => parse_revision_key(&entry).map(|k| Some(k.revision)),
            Ok(None) => Ok(None),
            Err(e) => Err(e.into()),
        };
        Ok(Store { db, keys, meta, last_revision })
    }

    pub fn db(&self) -> Db<'a> {
        self.db
    }

    pub fn meta(&self) -> &StoreMeta {
        &self.meta
    }

    /// The `key` bucket itself.
    pub fn key_bucket(&self) -> Bucket<'a> {
        self.keys
    }

    /// The main revision of the last entry in the `key` bucket (what `snapshot status` calls
    /// the revision), 0 if empty.
    /// 0 when the bucket is empty or its last page is unreadable.
    pub fn last_entry_revision(&self) -> i64 {
        self.last_revision.as_ref().ok().copied().flatten().map_or(0, |r| r.main)
    }

    /// etcd's current revision on load (`store.restore`): the newest of the last entry and
    /// the compaction revisions, which can be newer when compaction removed trailing tombstones.
    pub fn current_revision(&self) -> i64 {
        self.last_entry_revision().max(self.meta.compact_revision())
    }

    /// See [`StoreMeta::compact_revision`].
    pub fn compact_revision(&self) -> i64 {
        self.meta.compact_revision()
    }

    /// Every record in revision order, on one thread.
    pub fn records(&self) -> Records<'a> {
        Records { entries: self.keys.entries(), newest: self.newest_possible() }
    }

    /// The records from main revision `main` on, in revision order: the tree is descended
    /// to the first of them, so the newest changes of a large snapshot cost only their own
    /// pages.
    pub fn records_since(&self, main: i64) -> Records<'a> {
        Records { entries: self.keys.entries_from(&main.max(0).to_be_bytes()), newest: self.newest_possible() }
    }

    /// The records cut into disjoint runs in revision order, for parallel scans: run `i`
    /// holds only revisions older than run `i + 1`.
    pub fn record_runs(&self, min_runs: usize) -> Vec<Records<'a>> {
        let newest = self.newest_possible();
        self.keys.parts(min_runs).into_iter().map(|entries| Records { entries, newest }).collect()
    }

    /// The newest main revision an entry can have: the last entry's, as the bucket is in
    /// revision order (unbounded when the last page is unreadable).
    pub(crate) fn newest_possible(&self) -> i64 {
        match self.last_revision {
            Ok(last) => last.map_or(0, |r| r.main),
            Err(_) => i64::MAX,
        }
    }

    /// The revision a scan stops at, and the damage that made the latest revision unknown.
    pub(crate) fn check_revision(&self, at: Option<i64>) -> Result<(i64, Option<MvccError>), MvccError> {
        let damage = self.last_revision.as_ref().err().cloned();
        let current = self.current_revision();
        let Some(at) = at else {
            // Unknown latest revision: take the newest of whatever is readable.
            return Ok((if damage.is_some() { i64::MAX } else { current }, damage));
        };
        if at > current && damage.is_none() {
            return Err(MvccError::FutureRevision { requested: at, current });
        }
        let compacted = self.compact_revision();
        if at < compacted {
            return Err(MvccError::Compacted { requested: at, compacted });
        }
        Ok((at, damage))
    }

    /// [`check_revision`](Self::check_revision) for a computation that needs every entry
    /// (a hash, a compaction): the damage that made the latest revision unknown is an error.
    pub(crate) fn check_revision_undamaged(&self, at: Option<i64>) -> Result<i64, MvccError> {
        match self.check_revision(at)? {
            (at, None) => Ok(at),
            (_, Some(damage)) => Err(damage),
        }
    }

    /// The newest entry ≤ `at` (default: the current revision) of every user key starting
    /// with `prefix`, sorted by key, with etcd's semantics: a key whose newest entry is a
    /// tombstone does not exist at `at`. `at` below the compaction revision is an error, as
    /// in etcd (`ErrCompacted`). Scans in parallel on the current rayon pool.
    pub fn key_histories(&self, prefix: &[u8], at: Option<i64>) -> Result<Scan<KeyHistory<'a>>, MvccError> {
        self.key_histories_where(prefix, at, |_| true)
    }

    /// [`key_histories`](Self::key_histories) of the keys `keep` accepts only. Every record
    /// is still read (the bucket is ordered by revision, not key), but keys left out cost
    /// no hashing, sorting or memory: a question about one namespace of a large snapshot
    /// then costs little more than reading the file.
    pub fn key_histories_where(
        &self,
        prefix: &[u8],
        at: Option<i64>,
        keep: impl Fn(&[u8]) -> bool + Sync,
    ) -> Result<Scan<KeyHistory<'a>>, MvccError> {
        self.fold_where(prefix, at, keep)
    }

    /// [`key_histories`](Self::key_histories) with only the keys and whether each is
    /// deleted, as `etcdctl get --keys-only` lists them: in a quarter of the memory, and
    /// with less work (`ls` on the 2 GiB benchmark snapshot: 218 → 182 ms).
    pub fn key_states(&self, prefix: &[u8], at: Option<i64>) -> Result<Scan<KeyState<'a>>, MvccError> {
        self.fold_where(prefix, at, |_| true)
    }

    /// The newest entry ≤ `at` of each key under `prefix` that `keep` accepts, as `T` keeps
    /// it, sorted by key.
    fn fold_where<T: Folded<'a>>(
        &self,
        prefix: &[u8],
        at: Option<i64>,
        keep: impl Fn(&[u8]) -> bool + Sync,
    ) -> Result<Scan<T>, MvccError> {
        let (at, damage) = self.check_revision(at)?;
        let newest = self.newest_possible();
        let per_run = self.par_entry_runs(|entries, errors| {
            let records = entries.filter_map(|entry| {
                let entry = entry.map_err(|e| errors.push(e.into())).ok()?;
                scan_record_upto(&entry, newest).map_err(|e| errors.push(e)).ok()
            });
            newest_per_key(records.filter(|r| keep(r.key)), prefix, at)
        });
        Ok(merge_run_scans(per_run, damage))
    }

    /// Run `scan` over disjoint runs of the `key` bucket on the rayon pool. Results come back
    /// in revision order, each with the errors its run met (pushed by `scan` itself).
    pub fn par_runs<T, F>(&self, scan: F) -> Vec<(T, Vec<MvccError>)>
    where
        T: Send,
        F: Fn(Records<'a>, &mut Vec<MvccError>) -> T + Sync + Send,
    {
        let newest = self.newest_possible();
        self.par_entry_runs(|entries, errors| scan(Records { entries, newest }, errors))
    }

    /// [`par_runs`](Self::par_runs) over the runs' bucket entries, which tell the leaf page
    /// each record is on (what [`Records`] hides).
    pub(crate) fn par_entry_runs<T, F>(&self, scan: F) -> Vec<(T, Vec<MvccError>)>
    where
        T: Send,
        F: Fn(Entries<'a>, &mut Vec<MvccError>) -> T + Sync + Send,
    {
        self.keys
            .parallel_parts()
            .into_par_iter()
            .map(|entries| {
                let mut errors = Vec::new();
                let out = scan(entries, &mut errors);
                (out, errors)
            })
            .collect()
    }

    /// Keys that exist at `at` (default: current revision), sorted, with their records.
    pub fn live(&self, prefix: &[u8], at: Option<i64>) -> Result<Scan<LiveKey<'a>>, MvccError> {
        let scan = self.key_histories(prefix, at)?;
        let mut errors = scan.errors;
        let items = scan
            .items
            .into_iter()
            .filter(|h| !h.is_deleted())
            .filter_map(|h| h.last.record().map_err(|e| errors.push(e)).ok())
            .collect();
        Ok(Scan { items, errors })
    }

    /// Keys whose newest entry ≤ `at` is a tombstone: deleted objects, with their last
    /// retained content in `last_put` when compaction has not removed it.
    pub fn deleted(&self, prefix: &[u8], at: Option<i64>) -> Result<Scan<KeyHistory<'a>>, MvccError> {
        let scan = self.key_histories(prefix, at)?;
        let items = scan.items.into_iter().filter(|h| h.is_deleted()).collect();
        Ok(Scan { items, errors: scan.errors })
    }

    /// Every retained entry of one user key in revision order, tombstones included.
    pub fn history(&self, key: &[u8]) -> Scan<Record<'a>> {
        let per_run = self.par_runs(|run, errors| {
            run.filter_map(|r| r.map_err(|e| errors.push(e)).ok()).filter(|r| r.kv.key == key).collect::<Vec<_>>()
        });
        let mut scan = Scan::default();
        for (found, errors) in per_run {
            scan.items.extend(found);
            scan.errors.extend(errors);
        }
        scan
    }
}

/// The runs of one scan (in revision order, each with the errors it met) merged into one
/// sorted scan, after the damage met before scanning.
pub(crate) fn merge_run_scans<'a, T: Folded<'a>>(
    per_run: Vec<(SortedRun<'a, T>, Vec<MvccError>)>,
    damage: Option<MvccError>,
) -> Scan<T> {
    let mut errors: Vec<MvccError> = damage.into_iter().collect();
    let mut runs = Vec::with_capacity(per_run.len());
    for (run, errs) in per_run {
        errors.extend(errs);
        runs.push(run);
    }
    Scan { items: merge_runs(runs), errors }
}

pub(crate) fn parse_revision_key(entry: &LeafEntry<'_>) -> Result<RevisionKey, MvccError> {
    RevisionKey::parse(entry.key)
        .ok_or_else(|| MvccError::BadRevisionKey { page: entry.page, key_hex: hex_prefix(entry.key, 32) })
}

/// Records of the `key` bucket (or one run of it) in revision order. A damaged entry yields
/// an error and the iteration continues.
pub struct Records<'a> {
    entries: Entries<'a>,
    /// See [`decode_record_upto`].
    newest: i64,
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, MvccError>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = match self.entries.next()? {
            Ok(entry) => entry,
            Err(e) => return Some(Err(e.into())),
        };
        Some(decode_record_upto(&entry, self.newest))
    }
}

/// [`decode_record`], and an error for an entry newer than `newest`, the bucket's last
/// entry ([`Store::newest_possible`]): out of order, so its revision is damaged, and it would
/// end the scans that stop at the first entry past a revision.
pub(crate) fn decode_record_upto<'a>(entry: &LeafEntry<'a>, newest: i64) -> Result<Record<'a>, MvccError> {
    let record = decode_record(entry)?;
    check_order(entry, record.revision_key.revision, newest)?;
    Ok(record)
}

/// [`decode_record_upto`] as scans read records: the `KeyValue` only up to the end of its
/// value (see [`KeyValueRef::decode_head`]), with the same checks.
#[inline]
pub(crate) fn scan_record_upto<'a>(entry: &LeafEntry<'a>, newest: i64) -> Result<ScannedRecord<'a>, MvccError> {
    let revision_key = parse_revision_key(entry)?;
    let kv = KeyValueRef::decode_scan(entry.value).map_err(|e| bad_key_value(entry, revision_key, e))?;
    check_mod_revision(entry, revision_key, kv.mod_revision)?;
    check_order(entry, revision_key.revision, newest)?;
    Ok(ScannedRecord { revision_key, key: kv.key, raw: entry.value })
}

#[inline]
pub(crate) fn decode_record<'a>(entry: &LeafEntry<'a>) -> Result<Record<'a>, MvccError> {
    let revision_key = parse_revision_key(entry)?;
    let kv = KeyValueRef::decode(entry.value).map_err(|e| bad_key_value(entry, revision_key, e))?;
    check_mod_revision(entry, revision_key, kv.mod_revision)?;
    Ok(Record { revision_key, kv, raw: entry.value })
}

fn bad_key_value(entry: &LeafEntry<'_>, revision_key: RevisionKey, e: prost::DecodeError) -> MvccError {
    MvccError::BadKeyValue { page: entry.page, revision: revision_key.revision, reason: e.to_string() }
}

/// etcd writes a put's `mod_revision` as the main revision of its bucket key.
#[inline]
fn check_mod_revision(entry: &LeafEntry<'_>, revision_key: RevisionKey, mod_revision: i64) -> Result<(), MvccError> {
    let revision = revision_key.revision;
    if !revision_key.tombstone && mod_revision != revision.main {
        return Err(MvccError::RevisionMismatch { page: entry.page, revision, mod_revision });
    }
    Ok(())
}

#[inline]
fn check_order(entry: &LeafEntry<'_>, revision: Revision, newest: i64) -> Result<(), MvccError> {
    if revision.main > newest {
        return Err(MvccError::OutOfOrder { page: entry.page, revision, last: newest });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(key: &[u8]) -> KeyHistory<'_> {
        let record = Record {
            revision_key: RevisionKey { revision: Revision { main: 1, sub: 0 }, tombstone: false },
            kv: KeyValueRef { key, ..Default::default() },
            raw: &[],
        };
        KeyHistory { key, last: record.into(), last_put: Some(record.into()) }
    }

    #[test]
    fn with_prefix_finds_the_sorted_range() {
        let keys: [&[u8]; 6] = [b"/a", b"/r/p/a", b"/r/p/b", b"/r/pa", b"/r/q", b"/z"];
        let sorted: Vec<KeyHistory<'_>> = keys.iter().map(|k| history(k)).collect();
        let found = |p: &[u8]| with_prefix(&sorted, p).iter().map(|h| h.key).collect::<Vec<_>>();
        assert_eq!(found(b"/r/p/"), [b"/r/p/a".as_slice(), b"/r/p/b"]);
        assert_eq!(found(b"/r/p"), [b"/r/p/a".as_slice(), b"/r/p/b", b"/r/pa"]);
        assert_eq!(found(b""), keys);
        assert!(found(b"/m").is_empty());
        assert!(found(b"/zz").is_empty());
    }
}
