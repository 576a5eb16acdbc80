//! A bbolt file read through every view etcd-snapshot offers, whatever its bytes: nothing
//! may panic, hang or allocate without bound.
//!
//! Shared by `malformed.rs` and the coverage-guided fuzz target `fuzz/snapshot` (included
//! there by path), so that what the fuzzer finds is replayed by `cargo test`.

use std::io::Cursor;

use etcd_snapshot::bbolt::Db;
use etcd_snapshot::mvcc::{Salvage, Store};
use etcd_snapshot::{DbStatus, MvccError};

/// Scan with every view and return (live keys, errors); must not panic or hang.
pub fn scan_everything(bytes: &[u8]) -> (usize, Vec<MvccError>) {
    let db = match Db::new(bytes) {
        Ok(db) => db,
        Err(e) => return (0, vec![MvccError::Format(e)]),
    };
    let _ = DbStatus::compute(&db);
    // Writing a cropped copy of a damaged file fails with an error or copies what it reads.
    let _ =
        etcd_snapshot::crop(&db, |key| !key.starts_with(b"/registry/configmaps/"), None, &mut Cursor::new(Vec::new()));
    let _ = db.page_usage();
    let store = match Store::open(db) {
        Ok(s) => s,
        Err(e) => return (0, vec![e]),
    };
    let _ = store.deleted(b"", None);
    let _ = store.history(b"/registry/configmaps/kube-system/big-20k");
    let _ = store.records().count();
    let _ = store.records_since(store.compact_revision()).count();
    // Planning passes samples leaf pages on its own path through the tree.
    let ranges = store.plan_ranges(b"", |_| true, 100);
    let _ = store.key_histories_where(b"", None, |key| ranges[0].contains(key));
    let _ = store.kv_hash(None);
    let _ = store.kv_hash_in_passes(Some(store.compact_revision() + 1), 100, || {});
    let _ = store.compaction(None, 100, || {});
    // `--salvage` carves leaf pages, whatever the tree says.
    let _ = Salvage::sample_revisions(store.db(), |_| true).windows(100);
    let salvage = Salvage::scan(store.db());
    let _ = salvage.key_histories(b"", None);
    match store.live(b"", None) {
        Ok(scan) => (scan.items.len(), scan.errors),
        Err(e) => (0, vec![e]),
    }
}
