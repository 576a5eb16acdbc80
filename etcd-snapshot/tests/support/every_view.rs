//! A bbolt file read through every view etcd-snapshot offers, whatever its bytes: nothing
//! may panic, hang or allocate without bound.
//!
//! Shared by `malformed.rs` and the coverage-guided fuzz target `fuzz/snapshot` (included
//! there by path), so that what the fuzzer finds is replayed by `cargo test`.

use std::io::Cursor;

use etcd_snapshot::bbolt::Db;
use etcd_snapshot::mvcc::{KeyHistory, KeyRange, KeyState, LeafPasses, Salvage, Scan, Store};
use etcd_snapshot::{DbStatus, MvccError};

/// Scan with every view and return (live keys, errors); must not panic or hang.
pub fn scan_everything(bytes: &[u8]) -> (usize, Vec<MvccError>) {
    let db = match Db::new(bytes) {
        Ok(db) => db,
        Err(e) => return (0, vec![MvccError::Format(e)]),
    };
    let _ = DbStatus::compute(&db);
    let _ = db.page_usage();
    // Writing a cropped copy of a damaged file fails with an error, or writes a file that
    // reads back whole (`check_crop`).
    let keep = |key: &[u8]| !key.starts_with(b"/registry/configmaps/");
    let mut out = Cursor::new(Vec::new());
    let cropped = etcd_snapshot::crop(&db, keep, None, &mut out).is_ok().then(|| out.into_inner());
    let store = match Store::open(db) {
        Ok(s) => s,
        Err(e) => {
            if let Some(cropped) = &cropped {
                check_crop(cropped, None);
            }
            return (0, vec![e]);
        }
    };
    // One scan of every key, which the checks below compare other views with.
    let whole = store.key_histories(b"", None);
    if let Some(cropped) = &cropped {
        // The keys live in the crop are those of the input asked for, when the input's
        // scan met no damage.
        let expected = whole.as_ref().ok().filter(|w| w.errors.is_empty()).map(|w| live_keys(w, keep));
        check_crop(cropped, expected);
    }
    // A crop at an older revision holds the keys live at that revision.
    let then = store.compact_revision() + 1;
    let mut out = Cursor::new(Vec::new());
    if etcd_snapshot::crop_at(&db, |_| true, Some(then), None, &mut out).is_ok() {
        let scan = store.key_histories(b"", Some(then));
        check_crop(&out.into_inner(), scan.ok().filter(|s| s.errors.is_empty()).map(|s| live_keys(&s, |_| true)));
    }
    let _ = store.deleted(b"", None);
    let _ = store.history(b"/registry/configmaps/kube-system/big-20k");
    let _ = store.records().count();
    let _ = store.records_since(store.compact_revision()).count();
    // Planning passes samples leaf pages on its own path through the tree.
    let ranges = store.plan_ranges(b"", |_| true, 100);
    let _ = store.key_histories_where(b"", None, |key| ranges[0].contains(key));
    if let Ok(whole) = &whole {
        check_passes(&store, &ranges, whole);
        // Keeping only whether each key exists gives the same keys, deleted as their
        // histories tell, and meets the same damage.
        let states = store.key_states(b"", None).expect("a scan of states runs if one of histories does");
        assert!(
            states.items == states_of(&whole.items),
            "{} states, {} histories",
            states.items.len(),
            whole.items.len()
        );
        assert_eq!(states.errors, whole.errors);
    }
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
    match whole {
        Ok(scan) => (scan.items.iter().filter(|h| !h.is_deleted()).count(), scan.errors),
        Err(e) => (0, vec![e]),
    }
}

/// The keys of a scan that exist (sorted, as the scan is) and that `keep` accepts.
fn live_keys(scan: &Scan<KeyHistory<'_>>, keep: impl Fn(&[u8]) -> bool) -> Vec<Vec<u8>> {
    scan.items.iter().filter(|h| !h.is_deleted() && keep(h.key)).map(|h| h.key.to_vec()).collect()
}

/// A crop that succeeded wrote a well-formed file: bbolt's structure, status and the `key`
/// bucket read back without an error, and (when `expected` is given) the keys live in it
/// are those.
fn check_crop(cropped: &[u8], expected: Option<Vec<Vec<u8>>>) {
    let db = Db::new(cropped).expect("a crop reads back as bbolt");
    DbStatus::compute(&db).expect("a crop's status reads back");
    db.page_usage().expect("a crop's pages read back");
    let Ok(store) = Store::open(db) else { return };
    let scan = store.key_histories(b"", None).expect("a crop's key bucket reads back");
    assert!(scan.errors.is_empty(), "a crop reads back without errors: {:?}", scan.errors);
    let Some(expected) = expected else { return };
    let got = live_keys(&scan, |_| true);
    if got != expected {
        let lossy =
            |keys: Vec<&Vec<u8>>| keys.into_iter().map(|k| String::from_utf8_lossy(k).into_owned()).collect::<Vec<_>>();
        let missing = lossy(expected.iter().filter(|k| got.binary_search(k).is_err()).collect());
        let extra = lossy(got.iter().filter(|k| expected.binary_search(k).is_err()).collect());
        panic!("a crop holds the input's live keys asked for: missing {missing:?}, extra {extra:?}");
    }
}

/// The passes `ls` and `extract` make over key ranges (the later ones reading only the leaf
/// pages the first found keys of theirs on) give, one after another, what one scan gives.
fn check_passes(store: &Store<'_>, ranges: &[KeyRange], whole: &Scan<KeyHistory<'_>>) {
    let (leaves, state_leaves) = (LeafPasses::new(store), LeafPasses::new(store));
    let pass_of = |key: &[u8]| Some(KeyRange::index_of(ranges, key));
    let (mut passes, mut state_passes) = (Vec::new(), Vec::new());
    for pass in 0..ranges.len() {
        let scan = store.key_histories_pass(b"", None, pass, pass_of, &leaves).expect("a pass runs if the scan does");
        passes.extend(scan.items);
        let scan = store.key_states_pass(b"", None, pass, pass_of, &state_leaves).expect("so does one of states");
        state_passes.extend(scan.items);
    }
    assert!(passes == whole.items, "passes give {} keys, one scan {}", passes.len(), whole.items.len());
    assert!(state_passes == states_of(&whole.items), "passes of states give {} keys", state_passes.len());
}

/// Whether each key exists, as its history tells.
fn states_of<'a>(histories: &[KeyHistory<'a>]) -> Vec<KeyState<'a>> {
    histories.iter().map(|h| KeyState { key: h.key, deleted: h.is_deleted() }).collect()
}
