//! What etcd's compaction at a revision keeps (`kvindex.Keep`, `keyIndex.keep`): of the
//! entries at or before it, each key's newest one, unless that is a deletion; every entry
//! after it. [`Store::kv_hash`] leaves out what it would remove, and `crop` can remove it.

use rayon::prelude::*;

use crate::error::MvccError;

use super::passes::LeafPasses;
use super::ranges::KeyRange;
use super::{KeyHistory, Revision, Scan, Store};

/// The entries a compaction at [`revision`](Compaction::revision) keeps.
#[derive(Debug, Clone)]
pub struct Compaction {
    /// The compaction revision.
    pub revision: i64,
    /// The kept entries at or before `revision` (only those up to the limit they were
    /// recorded to), sorted.
    kept: Vec<Revision>,
    /// Whether any key exists at `revision` (has a put as its newest entry there).
    any: bool,
}

impl Compaction {
    /// A compaction that keeps no entry at or before `revision`.
    pub(crate) fn none(revision: i64) -> Compaction {
        Compaction { revision, kept: Vec::new(), any: false }
    }

    /// Whether the compaction keeps the entry at `revision`.
    pub fn keeps(&self, revision: Revision) -> bool {
        revision.main > self.revision || self.kept.binary_search(&revision).is_ok()
    }

    /// No key exists at the compaction revision: the compaction keeps nothing before it.
    pub fn keeps_none(&self) -> bool {
        !self.any
    }
}

impl<'a> Store<'a> {
    /// What a compaction at `at` (default: the current revision) would keep, found in
    /// passes of about `max_records` records (see
    /// [`kv_hash_in_passes`](Self::kv_hash_in_passes) for `between_passes`). Holds one
    /// revision (16 bytes) per key that exists at `at`.
    pub fn compaction(
        &self,
        at: Option<i64>,
        max_records: usize,
        between_passes: impl FnMut(),
    ) -> Result<Compaction, MvccError> {
        let revision = self.check_revision_undamaged(at)?;
        self.compaction_recording(revision, revision, max_records, between_passes)
    }

    /// [`compaction`](Self::compaction) at `revision`, recording only the kept entries at
    /// or before `record_to` (a hash needs those before an older compaction only).
    pub(crate) fn compaction_recording(
        &self,
        revision: i64,
        record_to: i64,
        max_records: usize,
        mut between_passes: impl FnMut(),
    ) -> Result<Compaction, MvccError> {
        let mut compaction = Compaction::none(revision);
        let mut add = |scan: Scan<KeyHistory<'a>>| -> Result<(), MvccError> {
            if let Some(error) = scan.errors.into_iter().next() {
                return Err(error);
            }
            for history in scan.items.iter().filter(|h| !h.is_deleted()) {
                compaction.any = true;
                let newest = history.last.revision_key.revision;
                if newest.main <= record_to {
                    compaction.kept.push(newest);
                }
            }
            Ok(())
        };
        let ranges = self.plan_ranges(b"", |_| true, max_records);
        if let [_] = ranges.as_slice() {
            add(self.key_histories(b"", Some(revision))?)?;
        } else {
            let leaves = LeafPasses::new(self);
            let pass_of = |key: &[u8]| Some(KeyRange::index_of(&ranges, key));
            for pass in 0..ranges.len() {
                if pass > 0 {
                    between_passes();
                }
                add(self.key_histories_pass(b"", Some(revision), pass, pass_of, &leaves)?)?;
            }
        }
        compaction.kept.par_sort_unstable();
        Ok(compaction)
    }
}
