//! A bbolt file read through every view etcd-snapshot offers, whatever its bytes: nothing
//! may panic, hang or allocate without bound.
//!
//! Shared by `malformed.rs` and the coverage-guided fuzz target `fuzz/snapshot` (included
//! there by path), so that what the fuzzer finds is replayed by `cargo test`.

use std::io::Cursor;

use etcd_snapshot::bbolt::Db;
use etcd_snapshot::mvcc::{KeyRange, LeafPasses, Salvage, Store};
use etcd_snapshot::{DbStatus, MvccError};

/// Scan with every view and return (live keys, errors); must not panic or hang.
pub fn scan_everything(bytes: &[u8]) -> (usize, Vec<MvccError>) {
    let db = match Db::new(bytes) {
        Ok(db) => db,
        Err(e) => return (0, vec![MvccError::Format(e)]),
    };
    let _ = DbStatus::compute(&db);
    // Writing a cropped copy of a damaged file fails with an error, or writes a file that
    // reads back whole with the keys asked for (`check_crop`).
    let keep = |key: &[u8]| !key.starts_with(b"/registry/configmaps/");
    let mut cropped = Cursor::new(Vec::new());
    if etcd_snapshot::crop(&db, keep, None, &mut cropped).is_ok() {
        check_crop(&db, cropped.get_ref(), keep);
    }
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
    check_passes(&store, &ranges);
    // The hash is all or nothing, and the same in one pass or in passes of 100 records.
    for at in [None, Some(store.compact_revision() + 1)] {
        if let (Ok(one), Ok(passes)) = (store.kv_hash(at), store.kv_hash_in_passes(at, 100, || {})) {
            assert_eq!(one, passes, "hash at {at:?} in one pass and in passes");
        }
    }
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

/// A crop that succeeded wrote a well-formed file: bbolt's structure, status and the `key`
/// bucket read back without an error, and the keys live in it are those of the input that
/// were asked for (when the input's own scan had no errors).
fn check_crop(input: &Db<'_>, cropped: &[u8], keep: impl Fn(&[u8]) -> bool) {
    let db = Db::new(cropped).expect("a crop reads back as bbolt");
    DbStatus::compute(&db).expect("a crop's status reads back");
    db.page_usage().expect("a crop's pages read back");
    let (Ok(input), Ok(store)) = (Store::open(*input), Store::open(db)) else { return };
    let live = store.live(b"", None).expect("a crop's key bucket reads back");
    assert!(live.errors.is_empty(), "a crop reads back without errors: {:?}", live.errors);
    let Ok(expected) = input.live(b"", None) else { return };
    if expected.errors.is_empty() {
        let keys = |items: &[etcd_snapshot::mvcc::LiveKey<'_>]| -> Vec<String> {
            items.iter().filter(|k| keep(k.kv.key)).map(|k| String::from_utf8_lossy(k.kv.key).into_owned()).collect()
        };
        let (got, want) = (keys(&live.items), keys(&expected.items));
        let missing: Vec<&String> = want.iter().filter(|k| !got.contains(k)).collect();
        let extra: Vec<&String> = got.iter().filter(|k| !want.contains(k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "a crop holds the input's live keys asked for: missing {missing:?}, extra {extra:?}"
        );
    }
}

/// The passes `ls` and `extract` make over key ranges (the later ones reading only the leaf
/// pages the first found keys of theirs on) give, one after another, what one scan gives.
fn check_passes(store: &Store<'_>, ranges: &[KeyRange]) {
    let Ok(whole) = store.key_histories(b"", None) else { return };
    let leaves = LeafPasses::new(store);
    let pass_of = |key: &[u8]| Some(KeyRange::index_of(ranges, key));
    let mut passes = Vec::new();
    for pass in 0..ranges.len() {
        let scan = store.key_histories_pass(b"", None, pass, pass_of, &leaves).expect("a pass runs if the scan does");
        passes.extend(scan.items);
    }
    assert!(passes == whole.items, "passes give {} keys, one scan {}", passes.len(), whole.items.len());
}
