//! Typed errors. Structural errors carry the page id (and offset where it helps) so a
//! report on a damaged file says exactly where the damage is.

use std::path::PathBuf;

use crate::bbolt::PageId;

/// An error in the bbolt layer: the file's pages, elements or buckets are not what bbolt writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("file is {len} bytes, too small to hold bbolt meta pages")]
    TooSmall { len: usize },
    #[error("big-endian bbolt file (magic at offset 16 is byte-swapped); only little-endian files are supported")]
    BigEndian,
    #[error("no valid meta page: meta 0: {meta0}; meta 1: {meta1}")]
    NoValidMeta { meta0: MetaError, meta1: MetaError },
    #[error("page {page}: beyond the end of the database ({limit} pages usable)")]
    PageOutOfRange { page: PageId, limit: u64 },
    #[error("page {page}: {overflow} overflow pages run past the end of the database ({limit} pages usable)")]
    OverflowOutOfRange { page: PageId, overflow: u32, limit: u64 },
    #[error("page {page}: header names page {found} (page id mismatch)")]
    PageIdMismatch { page: PageId, found: u64 },
    #[error("page {page}: unexpected page type flags {flags:#06x} (expected {expected})")]
    UnexpectedPageType { page: PageId, flags: u16, expected: &'static str },
    #[error("page {page}: element {index} at byte {offset} lies outside the page ({page_len} bytes)")]
    ElementOutOfBounds { page: PageId, index: usize, offset: u64, page_len: usize },
    #[error("page {page}: reached twice while walking one tree (cycle or shared subtree)")]
    PageRevisited { page: PageId },
    #[error("page {page}: element {index}: bucket value is {len} bytes, shorter than the 16-byte bucket header")]
    BucketHeaderTooShort { page: PageId, index: usize, len: usize },
    #[error("page {page}: element {index}: inline bucket page is malformed: {reason}")]
    BadInlineBucket { page: PageId, index: usize, reason: &'static str },
    #[error("page {page}: tree deeper than {depth} levels (cycle?)")]
    TreeTooDeep { page: PageId, depth: usize },
    /// bbolt keeps a bucket's keys sorted; a key not after the one before it is damage.
    #[error("page {page}: element {index}: key is not after the previous key (keys out of order)")]
    KeysOutOfOrder { page: PageId, index: usize },
    /// bbolt's root holds only buckets.
    #[error("page {page}: element {index}: an entry of the root that is not a bucket")]
    NotABucket { page: PageId, index: usize },
    #[error("bucket {name:?} not found")]
    BucketNotFound { name: String },
}

/// Why one meta page was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    #[error("outside the file")]
    OutOfFile,
    #[error("bad magic {0:#010x}")]
    BadMagic(u32),
    #[error("unsupported version {0}")]
    BadVersion(u32),
    #[error("checksum mismatch (stored {stored:#018x}, computed {computed:#018x})")]
    BadChecksum { stored: u64, computed: u64 },
    #[error("invalid page size {0}")]
    BadPageSize(u32),
}

/// An error in etcd's MVCC layer on top of bbolt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MvccError {
    #[error("not an etcd database: bucket `key` is missing")]
    NoKeyBucket,
    #[error("page {page}: revision key {key_hex} is not 17 or 18 bytes of main '_' sub ['t']")]
    BadRevisionKey { page: PageId, key_hex: String },
    #[error("page {page}: value of revision {revision} is not a valid mvccpb.KeyValue: {reason}")]
    BadKeyValue { page: PageId, revision: crate::mvcc::Revision, reason: String },
    /// The end of a record a scan kept (after its value, where a scan does not read) is
    /// damaged: found when the record is read whole.
    #[error("revision {revision}: the end of its mvccpb.KeyValue is damaged: {reason}")]
    BadRecord { revision: crate::mvcc::Revision, reason: String },
    /// etcd writes a put's `mod_revision` as the main revision of its bucket key: when the
    /// two differ, one of them is damaged, and the record is not used (a damaged revision
    /// would place it out of order, and cut short the scans that stop at a revision).
    #[error("page {page}: revision {revision} holds a put whose mod_revision is {mod_revision}")]
    RevisionMismatch { page: PageId, revision: crate::mvcc::Revision, mod_revision: i64 },
    /// An entry newer than the `key` bucket's last entry: its revision is damaged.
    #[error("page {page}: revision {revision} is newer than the last entry's ({last}): out of order, damaged")]
    OutOfOrder { page: PageId, revision: crate::mvcc::Revision, last: i64 },
    #[error("revision {requested} has been compacted (compaction revision is {compacted})")]
    Compacted { requested: i64, compacted: i64 },
    #[error("revision {requested} is newer than the snapshot's current revision {current}")]
    FutureRevision { requested: i64, current: i64 },
    #[error(transparent)]
    Format(#[from] FormatError),
}

/// Top-level error of [`crate::Snapshot`]: every variant names the file. The inner error is
/// part of the message rather than a `source()`, so a printed chain says it once.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{path}: {reason}")]
    NotASnapshot { path: PathBuf, reason: String },
    #[error("{path}: {error}")]
    Format { path: PathBuf, error: FormatError },
    #[error("{path}: {error}")]
    Mvcc { path: PathBuf, error: MvccError },
}

pub(crate) fn hex_prefix(bytes: &[u8], max: usize) -> String {
    let mut s: String = bytes.iter().take(max).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > max {
        s.push('…');
    }
    s
}
