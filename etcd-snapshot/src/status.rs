//! `etcdutl snapshot status` equivalents: hash, revision, total keys, total size.

use rayon::prelude::*;

use crate::bbolt::{Bucket, Db, Entries};
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
            // The bucket's subtrees are hashed on every core, each from zero, and their CRCs
            // combined in key order: the `key` bucket is nearly all of the file.
            let parts: Vec<Result<PartHash, FormatError>> =
                bucket.parallel_parts().into_par_iter().map(PartHash::of).collect();
            let mut entries = 0u64;
            for part in parts {
                let part = part?;
                crc = crc32c::crc32c_combine(crc, part.crc, part.len);
                entries += part.entries;
                if top.key == b"key" {
                    status.revision = part.last_main.unwrap_or(status.revision);
                }
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

/// The hash of one subtree of a bucket, as if it started the CRC.
struct PartHash {
    crc: u32,
    /// Bytes hashed, to combine `crc` with what precedes it.
    len: usize,
    entries: u64,
    /// The main revision the last key of 8 bytes or more starts with (for the `key` bucket).
    last_main: Option<i64>,
}

impl PartHash {
    fn of(entries: Entries<'_>) -> Result<PartHash, FormatError> {
        let mut part = PartHash { crc: 0, len: 0, entries: 0, last_main: None };
        for entry in entries {
            let entry = entry?;
            part.crc = crc32c::crc32c_append(part.crc, entry.key);
            part.len += entry.key.len();
            // Go's ForEach yields a nil value for a nested bucket: nothing is hashed.
            if !entry.is_bucket() {
                part.crc = crc32c::crc32c_append(part.crc, entry.value);
                part.len += entry.value.len();
            }
            part.entries += 1;
            if let Some(main) = entry.key.get(..8) {
                part.last_main = Some(i64::from_be_bytes(main.try_into().expect("8 bytes")));
            }
        }
        Ok(part)
    }
}
