//! Read etcd snapshots without etcd: zero-copy, read-only, fault tolerant.
//!
//! ```no_run
//! use etcd_snapshot::Snapshot;
//! let snapshot = Snapshot::open("snapshot.db")?;
//! let store = snapshot.store()?;
//! for record in store.live(b"/registry/deployments/", None)?.items {
//!     println!("{} rev {}", String::from_utf8_lossy(record.kv.key), record.kv.mod_revision);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Layers: [`Snapshot`] maps a file; [`bbolt`] walks its pages; [`mvcc`] gives etcd's
//! revision semantics; [`DbStatus`] matches `etcdutl snapshot status` and
//! [`Store::kv_hash`] `etcdctl endpoint hashkv`. Apart, [`crop()`] writes a new snapshot
//! with only some keys (the one thing written, always a new file).

// The one `unsafe` is mapping the file (source.rs); everything else is checked slicing.
#![deny(unsafe_code)]

pub mod bbolt;
mod crop;
mod error;
pub mod mvcc;
mod read_ahead;
mod source;
mod status;

pub use crop::{crop, crop_at, CropError, CropSummary};
pub use error::{Error, FormatError, MetaError, MvccError};
pub use mvcc::{
    with_prefix, Compaction, KeyHistory, KeyRange, KeySample, KeyState, KvHash, LeafPasses, Record, RecordRef,
    Revision, RevisionKey, RevisionSample, Salvage, Scan, Store, PASS_RECORDS,
};
pub use read_ahead::read_ahead;
pub use source::{Snapshot, SourceKind, TrailerCheck};
pub use status::{BucketStatus, DbStatus};
