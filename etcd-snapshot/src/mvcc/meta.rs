//! The `meta` bucket: consistent index, raft term, compaction revisions and versions.

use crate::bbolt::Bucket;
use crate::error::FormatError;

use super::RevisionKey;

/// The `meta` keys of the last compaction started and the last one finished (each value a
/// revision key, main `_` 0).
pub(crate) const SCHEDULED_COMPACT_REV: &[u8] = b"scheduledCompactRev";
pub(crate) const FINISHED_COMPACT_REV: &[u8] = b"finishedCompactRev";

/// What etcd keeps in its `meta` bucket. Absent keys are `None` (which ones exist depends on
/// the etcd version: `term` and `confState` since 3.5, `storageVersion` since 3.6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreMeta {
    /// Last applied raft index (`consistent_index`, u64 big-endian).
    pub consistent_index: Option<u64>,
    /// Raft term (`term`, u64 big-endian).
    pub term: Option<u64>,
    /// Target of the last compaction that was started (`scheduledCompactRev`, a revision key).
    pub scheduled_compact_revision: Option<i64>,
    /// Last completed compaction (`finishedCompactRev`, a revision key).
    pub finished_compact_revision: Option<i64>,
    /// `confState` JSON (3.5+).
    pub conf_state: Option<String>,
    /// `storageVersion` (3.6+).
    pub storage_version: Option<String>,
}

impl StoreMeta {
    /// Read the `meta` bucket. Values of unexpected shape are left `None` rather than failing:
    /// the rest of the snapshot is still worth reading.
    pub fn read(bucket: &Bucket<'_>) -> Result<StoreMeta, FormatError> {
        let mut meta = StoreMeta::default();
        for entry in bucket.entries() {
            let entry = entry?;
            let v = entry.value;
            match entry.key {
                b"consistent_index" => meta.consistent_index = be_u64(v),
                b"term" => meta.term = be_u64(v),
                SCHEDULED_COMPACT_REV => {
                    meta.scheduled_compact_revision = RevisionKey::parse(v).map(|k| k.revision.main)
                }
                FINISHED_COMPACT_REV => meta.finished_compact_revision = RevisionKey::parse(v).map(|k| k.revision.main),
                b"confState" => meta.conf_state = Some(String::from_utf8_lossy(v).into_owned()),
                b"storageVersion" => meta.storage_version = Some(String::from_utf8_lossy(v).into_owned()),
                _ => {}
            }
        }
        Ok(meta)
    }

    /// The revision below which history is gone: the finished compaction, or a scheduled one
    /// that is newer (an interrupted compaction, which etcd resumes on start).
    pub fn compact_revision(&self) -> i64 {
        self.finished_compact_revision.unwrap_or(0).max(self.scheduled_compact_revision.unwrap_or(0))
    }

    /// etcd's own schema detection (`UnsafeDetectSchemaVersion`): storageVersion, else 3.5 if
    /// `term` exists, else unknown (3.4 or older).
    pub fn detected_etcd_version(&self) -> Option<&str> {
        match (&self.storage_version, self.term) {
            (Some(v), _) if !v.is_empty() => Some(v.as_str()),
            (_, Some(_)) => Some("3.5"),
            _ => None,
        }
    }
}

fn be_u64(v: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(v.try_into().ok()?))
}
