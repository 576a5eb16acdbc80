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

use rayon::prelude::*;

use crate::bbolt::{Db, LeafEntry, Page, PageId, PageKind};

use super::newest::{merge_runs, newest_per_key};
use super::ranges::{cut_points, passes_for, SAMPLED_LEAVES};
use super::store::decode_record;
use super::{KeyHistory, KeySample, Record};

/// Pages per part of the file carved by one job.
const CARVE_PART_PAGES: u64 = 1 << 14;

/// Records recovered from all leaf pages (or those of the asked-for keys), in revision order.
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
        Self::scan_where(db, |_| true)
    }

    /// Carve every leaf page of `db` for `key`-bucket records, keeping those whose user key
    /// `keep` accepts. Memory is what the kept records take: a file too large to salvage at
    /// once is salvaged by key ranges ([`sample_keys`](Self::sample_keys) plans them), each
    /// range a scan of its own.
    pub fn scan_where(db: Db<'a>, keep: impl Fn(&[u8]) -> bool + Sync) -> Salvage<'a> {
        Self::scan_records_where(db, |record| keep(record.kv.key))
    }

    /// [`scan_where`](Self::scan_where) keeping the records `keep` accepts, whatever it
    /// looks at: a salvage in revision windows ([`sample_revisions`](Self::sample_revisions)
    /// plans them) keeps one window per scan.
    pub fn scan_records_where(db: Db<'a>, keep: impl Fn(&Record<'a>) -> bool + Sync) -> Salvage<'a> {
        // Parts of the file are carved on every core and joined in file order.
        let parts: Vec<(Vec<Record<'a>>, usize, usize)> = (0..db.page_limit().div_ceil(CARVE_PART_PAGES))
            .into_par_iter()
            .map(|part| {
                let ids = part * CARVE_PART_PAGES..(part + 1) * CARVE_PART_PAGES;
                let (mut found, mut pages_used, mut pages_scanned) = (Vec::new(), 0, 0);
                for page in db.carve_leaf_pages_in(ids) {
                    pages_scanned += 1;
                    let records = key_bucket_records(&page);
                    if records.is_empty() {
                        continue;
                    }
                    pages_used += 1;
                    found.extend(records.into_iter().filter(|r| keep(r)));
                }
                (found, pages_used, pages_scanned)
            })
            .collect();
        let (mut pages_used, mut pages_scanned) = (0, 0);
        let mut found = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
        for (records, used, scanned) in parts {
            found.extend(records);
            pages_used += used;
            pages_scanned += scanned;
        }
        // Stable, so that of several copies of a revision the one carved first is kept.
        found.sort_by_key(|r| r.revision_key);
        let mut conflicts = 0;
        found.dedup_by(|later, kept| {
            let copy = later.revision_key == kept.revision_key;
            if copy && later.kv != kept.kv {
                conflicts += 1;
            }
            copy
        });
        Salvage { records: found, pages_used, pages_scanned, conflicts }
    }

    /// Keys starting with `prefix` that `keep` accepts, from about `SAMPLED_LEAVES` pages
    /// spread evenly over the file and carved as [`scan_where`](Self::scan_where) carves
    /// them: the plan of a salvage in key ranges ([`KeySample::ranges`]).
    pub fn sample_keys(db: Db<'a>, prefix: &[u8], keep: impl Fn(&[u8]) -> bool) -> KeySample<'a> {
        let (records, scale) = sample_records(db, |r| r.kv.key.starts_with(prefix) && keep(r.kv.key));
        KeySample { keys: records.into_iter().map(|r| r.kv.key).collect(), scale }
    }

    /// Revisions of the records whose user key `keep` accepts, sampled as
    /// [`sample_keys`](Self::sample_keys) samples keys: the plan of a salvage in revision
    /// windows ([`RevisionSample::windows`]), for answers in revision order.
    pub fn sample_revisions(db: Db<'a>, keep: impl Fn(&[u8]) -> bool) -> RevisionSample {
        let (records, scale) = sample_records(db, |r| keep(r.kv.key));
        RevisionSample { revisions: records.into_iter().map(|r| r.revision_key.revision.main).collect(), scale }
    }

    /// Every recovered record, in revision order.
    pub fn records(&self) -> &[Record<'a>] {
        &self.records
    }

    /// Newest recovered entry ≤ `at` (default: all) of each key starting with `prefix`,
    /// sorted by key.
    pub fn key_histories(&self, prefix: &[u8], at: Option<i64>) -> Vec<KeyHistory<'a>> {
        merge_runs(vec![newest_per_key(self.records.iter().map(|&r| r.into()), prefix, at.unwrap_or(i64::MAX))])
    }

    /// Every recovered entry of one key, in revision order.
    pub fn history(&self, key: &[u8]) -> Vec<Record<'a>> {
        self.records.iter().filter(|r| r.kv.key == key).copied().collect()
    }
}

/// The records `keep` accepts from about `SAMPLED_LEAVES` pages spread evenly over the
/// file, carved as a salvage carves them, and how many records of the file each stands for.
fn sample_records<'a>(db: Db<'a>, keep: impl Fn(&Record<'a>) -> bool) -> (Vec<Record<'a>>, f64) {
    let first: PageId = 2;
    let pages = db.page_limit().saturating_sub(first);
    let step = (pages / SAMPLED_LEAVES as u64).max(1);
    let mut records = Vec::new();
    let mut sampled = 0u64;
    // A page id in the middle of a leaf's overflow reads as garbage and carves nothing, so
    // every leaf is sampled with the same chance whatever its size.
    for id in (first..db.page_limit()).step_by(step as usize) {
        sampled += 1;
        let Ok(page) = db.page(id) else { continue };
        if page.kind != PageKind::Leaf || page.count == 0 {
            continue;
        }
        records.extend(key_bucket_records(&page).into_iter().filter(|r| keep(r)));
    }
    let scale = if sampled == 0 { 0.0 } else { pages as f64 / sampled as f64 };
    (records, scale)
}

/// Revisions of records read from a sample of the file's leaf pages (see
/// [`Salvage::sample_revisions`]).
#[derive(Debug, Clone)]
pub struct RevisionSample {
    /// The main revision of every sampled record that was asked for.
    pub revisions: Vec<i64>,
    /// Records in the file per sampled record.
    pub scale: f64,
}

impl RevisionSample {
    /// Consecutive windows of main revisions, `start..end`, of at most about `max_records`
    /// carved records each, cut at sampled revisions: one window, every revision, when
    /// they all fit.
    pub fn windows(self, max_records: usize) -> Vec<std::ops::Range<i64>> {
        let passes = passes_for(self.revisions.len() as f64 * self.scale, max_records);
        let bounds = cut_points(self.revisions, passes);
        let starts = std::iter::once(i64::MIN).chain(bounds.iter().copied());
        let ends = bounds.iter().copied().chain(std::iter::once(i64::MAX));
        starts.zip(ends).map(|(start, end)| start..end).collect()
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
