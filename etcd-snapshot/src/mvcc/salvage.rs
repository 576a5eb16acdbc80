//! Salvage: etcd records recovered from every leaf page of the file, whether or not the
//! tree still reaches it.
//!
//! Copy-on-write leaves old pages in place until bbolt reuses them, and compaction frees
//! pages without wiping them. Because an etcd revision entry is immutable once written (the
//! key is its revision), stale copies of a leaf hold exactly the records they held, so
//! records carved from any page can be merged by revision. This recovers:
//! - the readable part of a truncated or damaged file, when the tree above it is lost;
//! - revisions that compaction removed, while their pages have not been reused.
//!
//! Salvaged state is evidence, not etcd's answer: a compacted tombstone may be missing
//! while the put before it survives, so a deleted key can look live. Callers must present
//! it as recovered data.

use std::collections::BTreeMap;

use crate::bbolt::{Db, LeafEntry, Page};

use super::newest::{merge_runs, newest_per_key};
use super::store::decode_record;
use super::{KeyHistory, Record, RevisionKey};

/// Records recovered from all leaf pages, in revision order.
#[derive(Debug, Clone)]
pub struct Salvage<'a> {
    records: Vec<Record<'a>>,
    /// Leaf pages that held etcd records.
    pub pages_used: usize,
    /// Leaf pages looked at (etcd's and other buckets').
    pub pages_scanned: usize,
    /// Revisions found with different content in two pages (damage); the first was kept.
    pub conflicts: usize,
}

impl<'a> Salvage<'a> {
    /// Carve every leaf page of `db` for `key`-bucket records.
    pub fn scan(db: Db<'a>) -> Salvage<'a> {
        let mut found: BTreeMap<RevisionKey, Record<'a>> = BTreeMap::new();
        let (mut pages_used, mut pages_scanned, mut conflicts) = (0, 0, 0);
        for page in db.carve_leaf_pages() {
            pages_scanned += 1;
            let records = key_bucket_records(&page);
            if records.is_empty() {
                continue;
            }
            pages_used += 1;
            for record in records {
                match found.get(&record.revision_key) {
                    Some(kept) if kept.kv != record.kv => conflicts += 1,
                    Some(_) => {}
                    None => {
                        found.insert(record.revision_key, record);
                    }
                }
            }
        }
        Salvage { records: found.into_values().collect(), pages_used, pages_scanned, conflicts }
    }

    /// Every recovered record, in revision order.
    pub fn records(&self) -> &[Record<'a>] {
        &self.records
    }

    /// Newest recovered entry ≤ `at` (default: all) of each key starting with `prefix`,
    /// sorted by key.
    pub fn key_histories(&self, prefix: &[u8], at: Option<i64>) -> Vec<KeyHistory<'a>> {
        merge_runs(vec![newest_per_key(self.records.iter().copied(), prefix, at.unwrap_or(i64::MAX))])
    }

    /// Every recovered entry of one key, in revision order.
    pub fn history(&self, key: &[u8]) -> Vec<Record<'a>> {
        self.records.iter().filter(|r| r.kv.key == key).copied().collect()
    }
}

/// The records of a page that holds `key`-bucket entries, or nothing if it does not look
/// like one: most elements must be well-formed revision records consistent with their key
/// (a put's `mod_revision` is its revision; a tombstone carries only the user key). A
/// damaged element of an otherwise good page is skipped.
fn key_bucket_records<'a>(page: &Page<'a>) -> Vec<Record<'a>> {
    let count = usize::from(page.count);
    let mut records = Vec::with_capacity(count);
    for index in 0..count {
        let Ok(element) = page.leaf_element(index) else { continue };
        if element.is_bucket() {
            return Vec::new();
        }
        let entry = LeafEntry { key: element.key, value: element.value, flags: element.flags, page: page.id, index };
        let Ok(record) = decode_record(&entry) else { continue };
        let consistent = if record.is_tombstone() {
            record.kv.mod_revision == 0 && record.kv.create_revision == 0 && !record.kv.key.is_empty()
        } else {
            record.kv.mod_revision == record.revision_key.revision.main && record.kv.version >= 1
        };
        if consistent {
            records.push(record);
        }
    }
    if records.len() * 2 < count {
        return Vec::new();
    }
    records
}
