//! Bad input never panics: each case damages a copy of a real etcd snapshot in one precise
//! way and checks for a typed error naming the page, and that everything still reachable is
//! still returned.

use std::path::PathBuf;

use etcd_snapshot::bbolt::{BucketRoot, Db, PageId};
use etcd_snapshot::mvcc::{LeafPasses, Store};
use etcd_snapshot::{CropError, CropSummary, Error, FormatError, MetaError, MvccError, Snapshot};

#[path = "support/every_view.rs"]
mod every_view;
use every_view::scan_everything;

fn fixture(name: &str) -> PathBuf {
    testdata::project_fixtures().join(name)
}

/// The 3.5 fixture's bbolt image (trailer removed): its `key` bucket is three levels deep.
fn image() -> Vec<u8> {
    let bytes = std::fs::read(fixture("etcd-3.5-cluster/snapshot.db")).unwrap();
    bytes[..bytes.len() - 32].to_vec()
}

fn live_key_count(bytes: &[u8]) -> usize {
    let store = Store::open(Db::new(bytes).unwrap()).unwrap();
    store.live(b"", None).unwrap().items.len()
}

fn page_size(bytes: &[u8]) -> usize {
    Db::new(bytes).unwrap().page_size()
}

fn key_bucket_root(bytes: &[u8]) -> PageId {
    match Db::new(bytes).unwrap().bucket(b"key").unwrap().unwrap().root() {
        BucketRoot::Page(id) => id,
        BucketRoot::Inline { .. } => panic!("key bucket is not inline in this fixture"),
    }
}

/// Byte offset of element `index` of page `page`.
fn element_offset(bytes: &[u8], page: PageId, index: usize) -> usize {
    page as usize * page_size(bytes) + 16 + 16 * index
}

/// The first child of a branch page.
fn first_child(bytes: &[u8], page: PageId) -> PageId {
    Db::new(bytes).unwrap().page(page).unwrap().branch_element(0).unwrap().child
}

fn put_u64(bytes: &mut [u8], at: usize, v: u64) {
    bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn put_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn child_page_beyond_the_file_is_reported_and_siblings_still_read() {
    let mut bytes = image();
    let total = live_key_count(&bytes);
    let root = key_bucket_root(&bytes);
    let at = element_offset(&bytes, root, 0) + 8; // branch element: pos, ksize, pgid
    put_u64(&mut bytes, at, 0x00ff_ffff_ffff);
    let (live, errors) = scan_everything(&bytes);
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, MvccError::Format(FormatError::PageOutOfRange { page: 0x00ff_ffff_ffff, .. }))),
        "{errors:?}"
    );
    assert!(live > 0 && live < total, "readable part still returned: {live} of {total}");
    // A hash over part of the entries would look valid and be wrong: it is refused, with
    // the page named.
    let store = Store::open(Db::new(&bytes).unwrap()).unwrap();
    assert!(
        matches!(
            store.kv_hash(None),
            Err(MvccError::Format(FormatError::PageOutOfRange { page: 0x00ff_ffff_ffff, .. }))
        ),
        "{:?}",
        store.kv_hash(None)
    );
}

#[test]
fn page_cycle_is_reported_not_followed() {
    let mut bytes = image();
    let root = key_bucket_root(&bytes);
    let branch = first_child(&bytes, root);
    // The branch's first child becomes the branch itself.
    let at = element_offset(&bytes, branch, 0) + 8;
    put_u64(&mut bytes, at, branch);
    let (live, errors) = scan_everything(&bytes);
    assert!(errors
        .iter()
        .any(|e| matches!(e, MvccError::Format(FormatError::PageRevisited { page }) if *page == branch)));
    assert!(live > 0);
    // Counting pages meets the same cycle and names it.
    let db = Db::new(&bytes).unwrap();
    assert_eq!(db.page_usage(), Err(FormatError::PageRevisited { page: branch }));
}

#[test]
fn element_pointing_outside_its_page_is_reported_with_page_and_index() {
    let mut bytes = image();
    let root = key_bucket_root(&bytes);
    let leaf = first_child(&bytes, first_child(&bytes, root));
    let at = element_offset(&bytes, leaf, 1) + 4; // leaf element: flags, pos, ksize, vsize
    put_u32(&mut bytes, at, 0x00ff_ffff);
    let (live, errors) = scan_everything(&bytes);
    assert!(
        errors.iter().any(
            |e| matches!(e, MvccError::Format(FormatError::ElementOutOfBounds { page, index: 1, .. }) if *page == leaf)
        ),
        "{errors:?}"
    );
    assert!(live > 0);
}

#[test]
fn page_header_damage_is_reported() {
    let base = image();
    let root = key_bucket_root(&base);
    let leaf = first_child(&base, first_child(&base, root));
    let start = leaf as usize * page_size(&base);
    type Damage = fn(&mut [u8], usize);
    type Expected = fn(&FormatError) -> bool;
    let cases: [(Damage, Expected); 3] = [
        (|b, s| put_u64(b, s, 7), |e| matches!(e, FormatError::PageIdMismatch { found: 7, .. })),
        (
            |b, s| b[s + 8..s + 10].copy_from_slice(&0x7878u16.to_le_bytes()),
            |e| matches!(e, FormatError::UnexpectedPageType { flags: 0x7878, .. }),
        ),
        (|b, s| put_u32(b, s + 12, u32::MAX), |e| matches!(e, FormatError::OverflowOutOfRange { .. })),
    ];
    for (damage, expected) in cases {
        let mut bytes = base.clone();
        damage(&mut bytes, start);
        let (live, errors) = scan_everything(&bytes);
        assert!(errors.iter().any(|e| matches!(e, MvccError::Format(f) if expected(f))), "{errors:?}");
        assert!(live > 0);
    }
}

#[test]
fn malformed_revision_key_and_record_are_reported() {
    let mut bytes = image();
    let root = key_bucket_root(&bytes);
    let leaf = first_child(&bytes, first_child(&bytes, root));
    let page = Db::new(&bytes).unwrap().page(leaf).unwrap();
    let start = leaf as usize * page_size(&bytes);
    // Element 0's key: replace the '_' separator; element 1's value: truncate its length prefix.
    let e0 = page.leaf_element(0).unwrap();
    let key_at = start + (e0.key.as_ptr() as usize - page.bytes().as_ptr() as usize);
    let e1 = page.leaf_element(1).unwrap();
    let value_at = start + (e1.value.as_ptr() as usize - page.bytes().as_ptr() as usize);
    bytes[key_at + 8] = b'#';
    bytes[value_at + 1] = 0x7f; // key length larger than the record
    let (live, errors) = scan_everything(&bytes);
    assert!(errors.iter().any(|e| matches!(e, MvccError::BadRevisionKey { page, .. } if *page == leaf)), "{errors:?}");
    assert!(errors.iter().any(|e| matches!(e, MvccError::BadKeyValue { page, .. } if *page == leaf)), "{errors:?}");
    assert!(live > 0);
}

/// A crop of `bytes` keeping every key, written to memory.
fn crop_everything(bytes: &[u8]) -> Result<CropSummary, CropError> {
    etcd_snapshot::crop(&Db::new(bytes).unwrap(), |_| true, None, &mut std::io::Cursor::new(Vec::new()))
}

/// The middle one of the `key`-bucket entries whose revision key `pick` accepts: its page
/// and the byte offset of its revision key in the file.
fn middle_entry(bytes: &[u8], pick: impl Fn(&[u8]) -> bool) -> (PageId, usize) {
    let db = Db::new(bytes).unwrap();
    let entries: Vec<_> = db.bucket(b"key").unwrap().unwrap().entries().map(Result::unwrap).collect();
    let picked: Vec<_> = entries.iter().filter(|e| pick(e.key)).collect();
    let entry = picked[picked.len() / 2];
    (entry.page, entry.key.as_ptr() as usize - bytes.as_ptr() as usize)
}

/// A revision key damaged to a newer revision puts its entry out of order. Scans stop at the
/// first entry past the revision asked for, so that one entry would silently end its part
/// of every scan (found by checking crops of damaged files); it is reported instead, naming
/// its page, and every other key is still read.
#[test]
fn revision_damaged_to_a_newer_one_is_reported_and_the_scan_goes_on() {
    let base = image();
    let total = live_key_count(&base);
    let is_tombstone = |key: &[u8]| key.len() == 18 && key[17] == b't';
    for (what, tombstone) in [("put", false), ("deletion", true)] {
        let mut bytes = base.clone();
        let (page, at) = middle_entry(&bytes, |key| is_tombstone(key) == tombstone);
        bytes[at + 5] ^= 0x35; // main revision + 0x35 << 16
        let (live, errors) = scan_everything(&bytes);
        let reported = errors.iter().any(|e| match e {
            MvccError::RevisionMismatch { page: p, .. } => !tombstone && *p == page,
            MvccError::OutOfOrder { page: p, .. } => tombstone && *p == page,
            _ => false,
        });
        assert!(reported, "{what}: {errors:?}");
        // A lost put may drop its key; a lost deletion may bring its key's last put back.
        assert!(live + 1 >= total && live <= total + 1, "{what}: {live} of {total} keys");
        // The passes `ls` and `extract` make read the same, with the same error.
        let store = Store::open(Db::new(&bytes).unwrap()).unwrap();
        let one_pass = store.key_histories_pass(b"", None, 0, |_| Some(0), &LeafPasses::new(&store)).unwrap();
        assert_eq!(one_pass.items, store.key_histories(b"", None).unwrap().items, "{what}");
        assert!(one_pass
            .errors
            .iter()
            .any(|e| matches!(e, MvccError::RevisionMismatch { .. } | MvccError::OutOfOrder { .. })));
        // A crop refuses the file, naming the page.
        let crop = crop_everything(&bytes);
        let named = match crop {
            Err(CropError::Mvcc(MvccError::RevisionMismatch { page: p, .. })) => p == page,
            Err(CropError::Format(FormatError::KeysOutOfOrder { page: p, .. })) => p >= page,
            _ => false,
        };
        assert!(named, "{what}: {crop:?}");
    }
}

/// What bbolt cannot have written is damage, which a crop refuses rather than copying into a
/// file that does not read back (found by fuzz/snapshot): an entry of the root that is not
/// a bucket, and two equal keys.
#[test]
fn crop_refuses_a_root_entry_that_is_not_a_bucket_and_keys_out_of_order() {
    let base = image();
    let db = Db::new(&base).unwrap();
    let root = db.meta().active.root;
    let start = root as usize * page_size(&base);
    // Element 0's flags (the first 4 bytes of a leaf element): no longer a bucket.
    let mut bytes = base.clone();
    put_u32(&mut bytes, start + 16, 0);
    let not_a_bucket = crop_everything(&bytes);
    assert!(
        matches!(not_a_bucket, Err(CropError::Format(FormatError::NotABucket { page, index: 0 })) if page == root),
        "{not_a_bucket:?}"
    );
    // Element 1's key made equal to element 0's: the same bytes, by position and size.
    let (first_key_at, first_key_len) = {
        let page = db.page(root).unwrap();
        let key = page.leaf_element(0).unwrap().key;
        (key.as_ptr() as usize - base.as_ptr() as usize, key.len())
    };
    let second_at = start + 16 + 16;
    let mut bytes = base.clone();
    put_u32(&mut bytes, second_at + 4, u32::try_from(first_key_at - second_at).unwrap());
    put_u32(&mut bytes, second_at + 8, u32::try_from(first_key_len).unwrap());
    let out_of_order = crop_everything(&bytes);
    assert!(
        matches!(out_of_order, Err(CropError::Format(FormatError::KeysOutOfOrder { page, index: 1 })) if page == root),
        "{out_of_order:?}"
    );
}

#[test]
fn bad_meta_checksum_falls_back_to_the_other_meta() {
    let mut bytes = image();
    let total = live_key_count(&bytes);
    bytes[16 + 48] ^= 0xff; // meta 0 txid, covered by the checksum
    let db = Db::new(&bytes).unwrap();
    assert!(matches!(db.meta().fallback, Some(MetaError::BadChecksum { .. })));
    assert_eq!(live_key_count(&bytes), total, "a snapshot's two metas share one root");
}

#[test]
fn both_metas_bad_is_a_clear_error() {
    let mut bytes = image();
    let ps = page_size(&bytes);
    bytes[16] ^= 1;
    bytes[ps + 16 + 48] ^= 1;
    let err = Db::new(&bytes).unwrap_err();
    assert!(
        matches!(err, FormatError::NoValidMeta { meta0: MetaError::BadMagic(_), meta1: MetaError::BadChecksum { .. } }),
        "{err}"
    );
}

#[test]
fn truncated_files_return_what_is_readable() {
    let base = image();
    let total = live_key_count(&base);
    for len in [0, 1, 16, 79, 80, 4096, 8192, base.len() / 3, base.len() / 2, base.len() - 1] {
        let (live, errors) = scan_everything(&base[..len]);
        assert!(live <= total);
        // Either reading fails, or the database knows it is short.
        let flagged = Db::new(&base[..len]).map(|db| db.is_truncated()).unwrap_or(true);
        assert!(flagged, "truncation to {len} must be detected");
        if len < key_bucket_root(&base) as usize * page_size(&base) {
            assert!(!errors.is_empty(), "truncation to {len} loses the key tree and must be reported");
        }
    }
    // Copy-on-write puts a tree's newest pages, its root among them, near the end of the
    // file: a cut anywhere below the `key` bucket's root loses the whole tree, and is
    // reported (checked above), never a panic or an empty success.
}

#[test]
fn random_damage_never_panics() {
    // A deterministic xorshift so a failure reproduces; a few hundred files with bytes
    // flipped in random pages, each read through every view.
    let base = image();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..300 {
        let mut bytes = base.clone();
        for _ in 0..(next() % 8 + 1) {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = next() as u8;
        }
        let _ = scan_everything(&bytes);
    }
}

#[test]
fn wrong_files_get_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8]); 3] = [
        ("empty.db", b""),
        ("text.db", b"this is not a bbolt database, just some text that is long enough to read\n"),
        ("zeros.db", &[0u8; 16384]),
    ];
    for (name, content) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let err = Snapshot::open(&path).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(name), "{text}");
        assert!(matches!(err, Error::NotASnapshot { .. } | Error::Format { .. }), "{text}");
    }
    let missing = Snapshot::open(dir.path().join("missing.db")).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }) && missing.to_string().contains("missing.db"));
    let not_a_data_dir = Snapshot::open(dir.path()).unwrap_err();
    assert!(not_a_data_dir.to_string().contains("member/snap/db"), "{not_a_data_dir}");
}

#[test]
fn bbolt_file_without_key_bucket_is_not_an_etcd_database() {
    // A real etcd db whose `key` bucket name is altered: a valid bbolt file, not etcd's.
    let mut bytes = image();
    let at = bytes.windows(3).position(|w| w == b"key").unwrap();
    let db = Db::new(&bytes).unwrap();
    let root_page = db.meta().active.root as usize * db.page_size();
    assert!(at > root_page, "bucket name lives in the root bucket's page");
    bytes[at..at + 3].copy_from_slice(b"kez");
    assert_eq!(Store::open(Db::new(&bytes).unwrap()).unwrap_err(), MvccError::NoKeyBucket);
}

/// Scans read each record up to its value (see `KeyValueRef::decode_head`); the lease after
/// it is read when the record is read whole. Damage there leaves the key listed, since its
/// key, revisions and value are whole, and is reported, naming the revision, where the
/// record is read: by `RecordRef::record`, by `Store::live`, and by the record iterator.
#[test]
fn damage_after_the_value_is_reported_where_the_record_is_read() {
    let base = image();
    let store = Store::open(Db::new(&base).unwrap()).unwrap();
    let before = store.key_histories(b"", None).unwrap();
    assert!(before.errors.is_empty());
    // A live key whose record ends with a lease (an Event's).
    let leased = before.items.iter().find(|h| !h.is_deleted() && h.last.record().unwrap().kv.lease != 0).unwrap();
    let (key, revision, value) = (leased.key.to_vec(), leased.last.revision_key.revision, leased.last.value().to_vec());
    // The lease varint's last byte is the record's last: a continuation bit cuts it short.
    let raw = leased.last.raw;
    let at = raw.as_ptr() as usize - base.as_ptr() as usize + raw.len() - 1;
    let mut bytes = base.clone();
    bytes[at] |= 0x80;

    let store = Store::open(Db::new(&bytes).unwrap()).unwrap();
    let after = store.key_histories(b"", None).unwrap();
    assert!(after.errors.is_empty(), "{:?}", after.errors);
    let keys = |scan: &etcd_snapshot::mvcc::Scan<etcd_snapshot::mvcc::KeyHistory<'_>>| {
        scan.items.iter().map(|h| h.key.to_vec()).collect::<Vec<_>>()
    };
    assert_eq!(keys(&after), keys(&before));
    let damaged = after.items.iter().find(|h| h.key == key.as_slice()).unwrap();
    assert_eq!(damaged.last.value(), value.as_slice());
    assert!(
        matches!(damaged.last.record(), Err(MvccError::BadRecord { revision: r, .. }) if r == revision),
        "{:?}",
        damaged.last.record()
    );
    let live = store.live(b"", None).unwrap();
    assert!(live.errors.iter().any(|e| matches!(e, MvccError::BadRecord { revision: r, .. } if *r == revision)));
    assert_eq!(live.items.len(), live_key_count(&base) - 1);
    assert!(!live.items.iter().any(|r| r.kv.key == key.as_slice()));
    let full_reads =
        store.records().filter(|r| matches!(r, Err(MvccError::BadKeyValue { revision: r, .. }) if *r == revision));
    assert_eq!(full_reads.count(), 1);
}
