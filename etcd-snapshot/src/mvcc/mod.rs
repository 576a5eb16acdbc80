//! etcd's multi-version key space on top of bbolt: the `key` bucket holds one entry per
//! revision, keyed by [`RevisionKey`], whose value is a [`KeyValue`] record.

mod compaction;
mod hash_kv;
mod meta;
mod newest;
mod passes;
mod ranges;
mod record;
mod revision;
mod salvage;
mod store;

pub use compaction::Compaction;
pub use hash_kv::KvHash;
pub use meta::StoreMeta;
pub(crate) use meta::{FINISHED_COMPACT_REV, SCHEDULED_COMPACT_REV};
pub use passes::LeafPasses;
pub use ranges::{KeyRange, KeySample, PASS_RECORDS};
pub use record::{KeyValue, KeyValueRef, Record, RecordRef};
pub use revision::{Revision, RevisionKey};
pub use salvage::{RevisionSample, Salvage};
pub(crate) use store::decode_record;
pub use store::{with_prefix, KeyHistory, KeyState, LiveKey, Records, Scan, Store};
