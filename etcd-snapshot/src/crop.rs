//! A smaller snapshot out of a larger one (etcd-io/etcd#18507, "snapshot cropping"): the
//! same database with only the keys asked for, to share a backup without its Secrets, or to
//! restore one part of a multi-GB snapshot into a scratch etcd quickly.
//!
//! Every bucket is copied as it is except `key`, whose entries (puts and deletions, of every
//! retained revision) are kept when their user key is asked for. The output is what
//! `etcdctl snapshot save` writes: a bbolt file with the SHA-256 trailer that `etcdutl
//! snapshot restore` checks. Its revision is its newest kept entry's, and its lease,
//! membership and auth buckets are the input's, as is its compaction revision unless the
//! crop compacts too.

use std::borrow::Cow;
use std::io::{self, Read, Seek, SeekFrom, Write};

use sha2::{Digest, Sha256};

use crate::bbolt::{bucket_header, Bucket, Db, DbWriter, LeafEntry, TreeWriter, BUCKET_LEAF_FLAG};
use crate::error::{FormatError, MvccError};
use crate::mvcc::{decode_record, Compaction, Revision, RevisionKey, FINISHED_COMPACT_REV, SCHEDULED_COMPACT_REV};

/// Which entries of the `key` bucket to keep: by user key, up to a revision, and what a
/// compaction keeps.
struct KeyFilter<'f> {
    keep_key: &'f dyn Fn(&[u8]) -> bool,
    through: i64,
    compaction: Option<&'f Compaction>,
}

/// How deep nested buckets may go before the input is taken for a cycle (etcd nests none).
const MAX_BUCKET_DEPTH: usize = 64;

/// What [`crop`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CropSummary {
    /// Entries of the `key` bucket kept (every revision of the keys asked for).
    pub kept_records: u64,
    /// Entries of the `key` bucket left out.
    pub dropped_records: u64,
    /// Size of the file written, trailer included.
    pub bytes: u64,
}

/// Why a crop failed. The input's damage is named by page; a crop of a damaged file is
/// refused rather than written incomplete.
#[derive(Debug, thiserror::Error)]
pub enum CropError {
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error(transparent)]
    Mvcc(#[from] MvccError),
    #[error("writing: {0}")]
    Io(#[from] io::Error),
}

/// Writes to `out` (from its start) the database `db` with only the `key` bucket entries
/// whose user key `keep_key` accepts, and the SHA-256 trailer after it. With a
/// `compaction` ([`Store::compaction`](crate::Store::compaction)), only the entries it keeps
/// are written, and the `meta` bucket records it as finished: what etcd's compaction at
/// that revision, then a defrag, would leave. `out` is read back for the trailer: the meta
/// pages, written last, come first in the file. `out` should be empty (a new file):
/// nothing it held past the trailer is cut off.
pub fn crop<F: Read + Write + Seek>(
    db: &Db<'_>,
    keep_key: impl Fn(&[u8]) -> bool,
    compaction: Option<&Compaction>,
    out: &mut F,
) -> Result<CropSummary, CropError> {
    crop_at(db, keep_key, None, compaction, out)
}

/// [`crop`] of the database as it was at revision `at` (default: the latest): the entries
/// after it are left out too, so that etcd restored from the copy serves those keys as they
/// were at `at`, with the history the input retained before it. `at` must not be below the
/// compaction revision (scheduled or finished), nor above the latest; a `compaction` should
/// be one at `at` or before it.
pub fn crop_at<F: Read + Write + Seek>(
    db: &Db<'_>,
    keep_key: impl Fn(&[u8]) -> bool,
    at: Option<i64>,
    compaction: Option<&Compaction>,
    out: &mut F,
) -> Result<CropSummary, CropError> {
    let through = match at {
        Some(at) => crate::Store::open(*db)?.check_revision(Some(at))?.0,
        None => i64::MAX,
    };
    let mut summary = CropSummary::default();
    let mut writer = DbWriter::new(&mut *out, db.page_size())?;
    let mut root = TreeWriter::new();
    let mut previous = None;
    for top in db.root_bucket().entries() {
        let top = top?;
        check_order(&mut previous, &top)?;
        if !top.is_bucket() {
            // bbolt's root holds only buckets: anything else is damage, which a crop refuses.
            return Err(FormatError::NotABucket { page: top.page, index: top.index }.into());
        }
        let bucket = Bucket::from_value(*db, top.page, top.index, top.value)?;
        let page = match (top.key, compaction) {
            (b"key", _) => {
                let filter = KeyFilter { keep_key: &keep_key, through, compaction };
                copy_bucket(db, &mut writer, &bucket, Some(&filter), &mut summary, 0, top.page)?
            }
            (b"meta", Some(compaction)) => copy_meta(db, &mut writer, &bucket, compaction.revision, &mut summary)?,
            _ => copy_bucket(db, &mut writer, &bucket, None, &mut summary, 0, top.page)?,
        };
        root.push(&mut writer, BUCKET_LEAF_FLAG, top.key, Cow::Owned(bucket_header(page, bucket.sequence)))?;
    }
    let root_page = root.finish(&mut writer)?;
    let meta = db.meta().active;
    let end = writer.finish(root_page, meta.root_sequence, meta.txid)?.stream_position()?;
    // The trailer: SHA-256 of everything written.
    out.seek(SeekFrom::Start(0))?;
    let mut hasher = Sha256::new();
    let mut left = end;
    let mut buffer = vec![0u8; 1 << 20];
    while left > 0 {
        let chunk = &mut buffer[..left.min(1 << 20) as usize];
        out.read_exact(chunk)?;
        hasher.update(&*chunk);
        left -= chunk.len() as u64;
    }
    out.write_all(&hasher.finalize())?;
    out.flush()?;
    summary.bytes = end + 32;
    Ok(summary)
}

/// Copies one bucket's entries (those `filter` keeps, for the `key` bucket) and its nested
/// buckets; returns its root page in the output.
fn copy_bucket<W: Write + Seek>(
    db: &Db<'_>,
    writer: &mut DbWriter<W>,
    bucket: &Bucket<'_>,
    filter: Option<&KeyFilter<'_>>,
    summary: &mut CropSummary,
    depth: usize,
    at: u64,
) -> Result<u64, CropError> {
    if depth > MAX_BUCKET_DEPTH {
        return Err(FormatError::TreeTooDeep { page: at, depth }.into());
    }
    let mut tree = TreeWriter::new();
    let mut previous = None;
    for entry in bucket.entries() {
        let entry = entry?;
        check_order(&mut previous, &entry)?;
        if entry.is_bucket() {
            let header = copy_nested_bucket(db, writer, &entry, summary, depth + 1)?;
            tree.push(writer, entry.flags, entry.key, Cow::Owned(header))?;
            continue;
        }
        if let Some(filter) = filter {
            let record = decode_record(&entry)?;
            let revision = record.revision_key.revision;
            let compacted = filter.compaction.is_some_and(|c| !c.keeps(revision));
            if revision.main > filter.through || compacted || !(filter.keep_key)(record.kv.key) {
                summary.dropped_records += 1;
                continue;
            }
            summary.kept_records += 1;
        }
        tree.push(writer, entry.flags, entry.key, Cow::Borrowed(entry.value))?;
    }
    Ok(tree.finish(writer)?)
}

/// Entries are written in the order read: a damaged key out of order would make a file
/// whose seeks go wrong (for etcd, and for the scans that stop at a revision), so it is
/// refused. `previous` is the key before `entry`'s in its bucket.
fn check_order<'a>(previous: &mut Option<&'a [u8]>, entry: &LeafEntry<'a>) -> Result<(), FormatError> {
    if previous.is_some_and(|p| entry.key <= p) {
        return Err(FormatError::KeysOutOfOrder { page: entry.page, index: entry.index });
    }
    *previous = Some(entry.key);
    Ok(())
}

/// Copies the nested bucket whose value `entry` holds; returns its new bucket header.
fn copy_nested_bucket<W: Write + Seek>(
    db: &Db<'_>,
    writer: &mut DbWriter<W>,
    entry: &LeafEntry<'_>,
    summary: &mut CropSummary,
    depth: usize,
) -> Result<Vec<u8>, CropError> {
    let nested = Bucket::from_value(*db, entry.page, entry.index, entry.value)?;
    let page = copy_bucket(db, writer, &nested, None, summary, depth, entry.page)?;
    Ok(bucket_header(page, nested.sequence))
}

/// The `meta` bucket with the compaction revision set to `revision`, finished (etcd
/// resumes a compaction whose scheduled revision is newer than its finished one). The keys
/// are added when the input never compacted.
fn copy_meta<W: Write + Seek>(
    db: &Db<'_>,
    writer: &mut DbWriter<W>,
    bucket: &Bucket<'_>,
    revision: i64,
    summary: &mut CropSummary,
) -> Result<u64, CropError> {
    let mut entries = std::collections::BTreeMap::new();
    for entry in bucket.entries() {
        let entry = entry?;
        let value = if entry.is_bucket() {
            // etcd's `meta` holds none; copied all the same.
            Cow::Owned(copy_nested_bucket(db, writer, &entry, summary, 1)?)
        } else {
            Cow::Borrowed(entry.value)
        };
        entries.insert(entry.key, (entry.flags, value));
    }
    let compacted = RevisionKey { revision: Revision { main: revision, sub: 0 }, tombstone: false }.to_bytes();
    for key in [FINISHED_COMPACT_REV, SCHEDULED_COMPACT_REV] {
        entries.insert(key, (0, Cow::Owned(compacted.clone())));
    }
    let mut tree = TreeWriter::new();
    for (key, (flags, value)) in entries {
        tree.push(writer, flags, key, value)?;
    }
    Ok(tree.finish(writer)?)
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use super::*;
    use crate::{DbStatus, Snapshot, TrailerCheck};

    fn cropped(source: &Snapshot, keep: impl Fn(&[u8]) -> bool) -> (tempfile::TempDir, Snapshot, CropSummary) {
        cropped_with(source, keep, None)
    }

    fn cropped_with(
        source: &Snapshot,
        keep: impl Fn(&[u8]) -> bool,
        compaction: Option<&Compaction>,
    ) -> (tempfile::TempDir, Snapshot, CropSummary) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cropped.db");
        let mut out = File::options().read(true).write(true).create_new(true).open(&path).unwrap();
        let summary = crop(&source.db().unwrap(), keep, compaction, &mut out).unwrap();
        drop(out);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), summary.bytes);
        let snapshot = Snapshot::open(&path).unwrap();
        assert_eq!(snapshot.verify_trailer(), TrailerCheck::Valid);
        (dir, snapshot, summary)
    }

    /// Every entry kept: a new file whose content is the input's. etcdutl's hash (over the
    /// buckets' names, keys and values, not their pages) is the one etcdutl computed on the
    /// input when the fixture was made; the pages are laid out anew.
    #[test]
    fn keeping_everything_copies_every_bucket() {
        for dir in testdata::project_snapshot_dirs() {
            let source = Snapshot::open(dir.join("snapshot.db")).unwrap();
            let (_tmp, copy, summary) = cropped(&source, |_| true);
            let before = DbStatus::compute(&source.db().unwrap()).unwrap();
            let after = DbStatus::compute(&copy.db().unwrap()).unwrap();
            let etcdutl: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("status.json")).unwrap()).unwrap();
            assert_eq!(u64::from(after.hash), etcdutl["hash"].as_u64().unwrap(), "{}", dir.display());
            assert_eq!((after.revision, after.total_key), (before.revision, before.total_key));
            // Small buckets that bbolt kept inline in their parent's leaf get pages of their own.
            let counts = |s: &DbStatus| s.buckets.iter().map(|b| (b.name.clone(), b.entries)).collect::<Vec<_>>();
            assert_eq!(counts(&after), counts(&before));
            assert_eq!(summary.dropped_records, 0);
            let records = |s: &Snapshot| -> Vec<(Vec<u8>, Vec<u8>)> {
                s.store()
                    .unwrap()
                    .records()
                    .map(|r| r.unwrap())
                    .map(|r| (r.revision_key.to_bytes(), r.raw.to_vec()))
                    .collect()
            };
            assert_eq!(records(&copy), records(&source));
            assert_eq!(summary.kept_records, records(&source).len() as u64);
        }
    }

    /// Keeping some keys: every retained entry of those keys and no other, so the state at
    /// every revision since the compaction is the input's with the other keys gone (checked at
    /// the latest revision and halfway back).
    #[test]
    fn cropping_keeps_every_revision_of_the_keys_asked_for() {
        for dir in testdata::project_snapshot_dirs() {
            let source = Snapshot::open(dir.join("snapshot.db")).unwrap();
            let wanted = |key: &[u8]| key.starts_with(b"/registry/configmaps/") || key.starts_with(b"/registry/pods/");
            let (_tmp, cropped, summary) = cropped(&source, wanted);
            let (from, to) = (source.store().unwrap(), cropped.store().unwrap());
            let records = |store: &crate::Store<'_>| -> Vec<Vec<u8>> {
                store.records().map(|r| r.unwrap().raw.to_vec()).collect()
            };
            let all = records(&from);
            let kept: Vec<Vec<u8>> =
                from.records().map(|r| r.unwrap()).filter(|r| wanted(r.kv.key)).map(|r| r.raw.to_vec()).collect();
            assert!(!kept.is_empty() && kept.len() < all.len(), "{}", dir.display());
            assert_eq!(records(&to), kept);
            assert_eq!(
                (summary.kept_records, summary.dropped_records),
                (kept.len() as u64, (all.len() - kept.len()) as u64)
            );
            assert_eq!(to.compact_revision(), from.compact_revision());
            let halfway = from.compact_revision() + (to.current_revision() - from.compact_revision()) / 2;
            for at in [None, Some(halfway)] {
                let keys = |store: &crate::Store<'_>| -> Vec<(Vec<u8>, Vec<u8>)> {
                    store.live(b"", at).unwrap().items.iter().map(|r| (r.kv.key.to_vec(), r.raw.to_vec())).collect()
                };
                let expected: Vec<_> = keys(&from).into_iter().filter(|(key, _)| wanted(key)).collect();
                assert_eq!(keys(&to), expected, "{} at {at:?}", dir.display());
            }
        }
    }

    /// A damaged input is refused with the page named, not written in part.
    #[test]
    fn a_damaged_input_is_refused() {
        let bytes = std::fs::read(testdata::project_fixtures().join("etcd-3.5-cluster/snapshot.db")).unwrap();
        let db = Db::new(&bytes[..bytes.len() / 2]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut out = File::options().read(true).write(true).create_new(true).open(dir.path().join("out")).unwrap();
        let error = crop(&db, |_| true, None, &mut out).unwrap_err();
        assert!(matches!(error, CropError::Format(FormatError::PageOutOfRange { .. })), "{error}");
    }

    /// With a compaction at the current revision: each key's newest entry if it is a put, and
    /// nothing else, and the compaction revision is the current revision. (etcd compacting
    /// a served copy itself, then hashing and listing it, is compared in the live tests.)
    #[test]
    fn a_compacted_crop_keeps_the_latest_state_only() {
        for dir in testdata::project_snapshot_dirs() {
            let source = Snapshot::open(dir.join("snapshot.db")).unwrap();
            let from = source.store().unwrap();
            let compaction = from.compaction(None, crate::PASS_RECORDS, || {}).unwrap();
            let (_tmp, cropped, summary) = cropped_with(&source, |_| true, Some(&compaction));
            let to = cropped.store().unwrap();
            let current = from.current_revision();
            assert_eq!((to.compact_revision(), to.current_revision()), (current, current), "{}", dir.display());
            let mut expected: Vec<(RevisionKey, Vec<u8>)> =
                from.live(b"", None).unwrap().items.iter().map(|r| (r.revision_key, r.raw.to_vec())).collect();
            expected.sort_by_key(|(key, _)| *key);
            let written: Vec<(RevisionKey, Vec<u8>)> =
                to.records().map(|r| r.unwrap()).map(|r| (r.revision_key, r.raw.to_vec())).collect();
            assert_eq!(written, expected, "{}", dir.display());
            assert_eq!(summary.kept_records as usize, expected.len());
            // An older revision is gone, as after etcd's own compaction.
            assert!(matches!(to.live(b"", Some(current - 1)), Err(MvccError::Compacted { .. })));
        }
    }
}
