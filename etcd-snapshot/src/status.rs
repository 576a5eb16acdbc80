//! `etcdutl snapshot status` equivalents: hash, revision, total keys, total size.

use crate::bbolt::{Bucket, Db};
use crate::error::FormatError;

/// What `etcdutl snapshot status` reports, computed the same way (etcd 3.5
/// `etcdutl/snapshot/v3_snapshot.go` `Status`), plus a per-bucket breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbStatus {
    /// CRC-32C over every bucket name, then each entry's key and value, in key order.
    pub hash: u32,
    /// Main revision of the last entry of the `key` bucket.
    pub revision: i64,
    /// Entries in all buckets (3.4/3.5 meaning of `totalKey`).
    pub total_key: u64,
    /// `pgid * page_size`.
    pub total_size: u64,
    pub buckets: Vec<BucketStatus>,
}

/// One top-level bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketStatus {
    pub name: Vec<u8>,
    pub entries: u64,
    /// Stored inside its parent's leaf rather than in pages of its own.
    pub inline: bool,
}

impl DbStatus {
    /// Compute the status. A damaged page stops the computation with an error naming it: a
    /// hash over a partial walk would look valid and be wrong.
    pub fn compute(db: &Db<'_>) -> Result<DbStatus, FormatError> {
        let mut crc = 0u32;
        let mut status = DbStatus { hash: 0, revision: 0, total_key: 0, total_size: db.size(), buckets: Vec::new() };
        for top in db.root_bucket().entries() {
            let top = top?;
            // etcdutl: `tx.Bucket(name)`; every root entry is a bucket in an etcd file.
            let bucket = Bucket::from_value(*db, top.page, top.index, top.value)?;
            crc = crc32c::crc32c_append(crc, top.key);
            let is_key_bucket = top.key == b"key";
            let mut entries = 0u64;
            for entry in bucket.entries() {
                let entry = entry?;
                crc = crc32c::crc32c_append(crc, entry.key);
                // Go's ForEach yields a nil value for a nested bucket: nothing is hashed.
                if !entry.is_bucket() {
                    crc = crc32c::crc32c_append(crc, entry.value);
                }
                if is_key_bucket {
                    if let Some(main) = entry.key.get(..8) {
                        status.revision = i64::from_be_bytes(main.try_into().expect("8 bytes"));
                    }
                }
                entries += 1;
            }
            status.total_key += entries;
            status.buckets.push(BucketStatus {
                name: top.key.to_vec(),
                entries,
                inline: matches!(bucket.root(), crate::bbolt::BucketRoot::Inline { .. }),
            });
        }
        status.hash = crc;
        Ok(status)
    }
}
