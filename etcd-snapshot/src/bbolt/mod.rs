//! Zero-copy views over a bbolt file: meta pages, branch and leaf pages, buckets and
//! ordered walks. Everything borrows from the file's bytes; nothing is copied or written.
//! Apart, [`DbWriter`] writes a new file from ordered entries.
//!
//! Only what a forensic reader needs is implemented: the freelist is not read (etcd runs
//! bbolt with `NoFreelistSync`, so it is usually absent; free pages are counted as bbolt
//! counts them then, from what the trees reach) and trees are walked from the root.

mod bucket;
mod db;
mod meta;
mod page;
mod pages;
mod walk;
mod writer;

pub use bucket::{Bucket, BucketRoot, LeafSample};
pub use db::Db;
pub use meta::{Meta, MetaChoice, MetaSlot};
pub use page::{BranchElement, LeafElement, Page, PageKind};
pub use pages::PageUsage;
pub use walk::{Entries, LeafEntry};
pub use writer::{bucket_header, DbWriter, TreeWriter};

/// A bbolt page id: page `n` starts at byte `n * page_size`.
pub type PageId = u64;

/// `flags` bit of a leaf element whose value is a nested bucket.
pub const BUCKET_LEAF_FLAG: u32 = 0x01;
