//! etcd's hash of the key space at a revision (`HashKV`): what `etcdctl endpoint hashkv`
//! prints, and what etcd members compare with each other to find a corrupt one. The same
//! hash from a snapshot says that the backup holds what a member held at that revision.
//!
//! etcd (`mvcc/kvstore.go`, `HashByRev`) hashes, with CRC-32C, the bucket name `key` and
//! then, in revision order, the bucket key and value of each entry at or before the
//! revision asked for, leaving out the entries at or before the compaction revision that a
//! compaction at the revision asked for would remove (`kvindex.Keep`). Those are
//! all but each key's newest entry, and that one too when it is a deletion. So a member
//! that has not yet deleted what its compaction removes agrees with one that has.

use crate::error::MvccError;

use super::compaction::Compaction;
use super::store::parse_revision_key;
use super::{Store, PASS_RECORDS};

/// etcd's `HashKV` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvHash {
    /// The CRC-32C etcd reports as `hash`.
    pub hash: u32,
    /// The revision hashed (etcd's `hash_revision`): the one asked for, else the current one.
    pub revision: i64,
    /// The compaction revision (etcd's `compact_revision`).
    pub compact_revision: i64,
}

impl<'a> Store<'a> {
    /// etcd's `HashKV` at `at` (default: the current revision), as `etcdctl endpoint hashkv
    /// --rev` answers it from a member holding this snapshot. A revision before the
    /// compaction is an error, as in etcd; etcd 3.5 also refuses the compaction revision
    /// itself, which etcd 3.6 hashes and so does this. Any damage met is an error: a hash
    /// over part of the entries would look valid and be wrong.
    ///
    /// Two reads of the `key` bucket: the newest entry of every key (in passes of bounded
    /// memory, as [`key_histories`](Self::key_histories) makes them), only when entries at
    /// or before the compaction revision exist; then every entry, on every core, each run
    /// hashed apart and the CRCs combined.
    pub fn kv_hash(&self, at: Option<i64>) -> Result<KvHash, MvccError> {
        self.kv_hash_in_passes(at, PASS_RECORDS, || {})
    }

    /// [`kv_hash`](Self::kv_hash), finding the newest entries in passes of about
    /// `max_records` records each, and calling `between_passes` before each pass but the
    /// first: each pass frees what the previous one built, and an allocator that holds
    /// freed memory for a while can be told to hand it back there.
    pub fn kv_hash_in_passes(
        &self,
        at: Option<i64>,
        max_records: usize,
        between_passes: impl FnMut(),
    ) -> Result<KvHash, MvccError> {
        let revision = self.check_revision_undamaged(at)?;
        let compact_revision = self.compact_revision();
        // Only the kept entries at or before the compaction revision are looked up; when
        // there are none, the keys' newest entries need not even be found.
        let oldest = self.records().next().transpose()?.map(|first| first.revision_key.revision.main);
        let kept = match oldest {
            Some(oldest) if oldest <= compact_revision => {
                self.compaction_recording(revision, compact_revision, max_records, between_passes)?
            }
            _ => Compaction::none(revision),
        };
        let runs = self.par_entry_runs(|entries, errors| {
            let mut crc = 0u32;
            let mut len = 0usize;
            for entry in entries {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(e) => {
                        errors.push(e.into());
                        break;
                    }
                };
                let key = match parse_revision_key(&entry) {
                    Ok(key) => key,
                    Err(e) => {
                        errors.push(e);
                        break;
                    }
                };
                if key.revision.main > revision {
                    break;
                }
                // etcd tests entries against the kept set only when it is not empty: when no
                // key exists at the revision hashed, every entry counts.
                if key.revision.main <= compact_revision && !kept.keeps_none() && !kept.keeps(key.revision) {
                    continue;
                }
                crc = crc32c::crc32c_append(crc32c::crc32c_append(crc, entry.key), entry.value);
                len += entry.key.len() + entry.value.len();
            }
            (crc, len)
        });
        let mut hash = crc32c::crc32c(b"key");
        for ((crc, len), errors) in runs {
            if let Some(error) = errors.into_iter().next() {
                return Err(error);
            }
            hash = crc32c::crc32c_combine(hash, crc, len);
        }
        Ok(KvHash { hash, revision, compact_revision })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::Snapshot;

    /// One line of a fixture's `hashkv.jsonl`: etcd's `endpoint hashkv` answer.
    struct EtcdAnswer {
        requested: i64,
        hash: u32,
        revision: i64,
        compact_revision: i64,
    }

    fn etcd_answers(dir: &Path) -> Vec<EtcdAnswer> {
        let text = std::fs::read_to_string(dir.join("hashkv.jsonl")).expect("hashkv.jsonl");
        let field = |line: &serde_json::Value, name: &str| line[name].as_i64().unwrap_or_else(|| panic!("{name}"));
        text.lines()
            .map(|line| {
                let line: serde_json::Value = serde_json::from_str(line).unwrap();
                EtcdAnswer {
                    requested: field(&line, "requested"),
                    hash: u32::try_from(field(&line, "hash")).unwrap(),
                    revision: field(&line, "revision"),
                    compact_revision: field(&line, "compact_revision"),
                }
            })
            .collect()
    }

    /// Every fixture, at every revision etcd was asked for, in one pass and in passes of a
    /// few records (so that the kept entries are gathered over several key ranges).
    #[test]
    fn kv_hash_equals_etcds_endpoint_hashkv() {
        for dir in testdata::project_snapshot_dirs() {
            let snapshot = Snapshot::open(dir.join("snapshot.db")).unwrap();
            let store = snapshot.store().unwrap();
            let answers = etcd_answers(&dir);
            assert!(answers.len() >= 2, "{}", dir.display());
            for answer in answers {
                let at = Some(answer.requested).filter(|&r| r != 0);
                for pass_records in [PASS_RECORDS, 16] {
                    let ours = store.kv_hash_in_passes(at, pass_records, || {}).unwrap();
                    let expected_revision = at.unwrap_or(answer.revision);
                    assert_eq!(
                        ours,
                        KvHash {
                            hash: answer.hash,
                            revision: expected_revision,
                            compact_revision: answer.compact_revision
                        },
                        "{} at {at:?}, passes of {pass_records} records",
                        dir.display()
                    );
                }
            }
        }
    }

    #[test]
    fn revisions_before_the_compaction_or_after_the_end_are_refused() {
        let dir = testdata::project_fixtures().join("etcd-3.5-cluster");
        let snapshot = Snapshot::open(dir.join("snapshot.db")).unwrap();
        let store = snapshot.store().unwrap();
        let compacted = store.compact_revision();
        let current = store.current_revision();
        assert!(matches!(store.kv_hash(Some(compacted - 1)), Err(MvccError::Compacted { .. })));
        assert!(matches!(store.kv_hash(Some(current + 1)), Err(MvccError::FutureRevision { .. })));
        // The compaction revision itself is hashed (etcd 3.6): only the kept entries count,
        // so the hash differs from the next revision's whenever that one changed a key.
        let at_compaction = store.kv_hash(Some(compacted)).unwrap();
        assert_eq!(at_compaction.revision, compacted);
        assert_ne!(at_compaction.hash, store.kv_hash(Some(compacted + 1)).unwrap().hash);
    }
}
