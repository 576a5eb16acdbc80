//! Salvage carves records from every leaf page, reachable or not.

use std::collections::BTreeSet;

use etcd_snapshot::bbolt::{BucketRoot, Db};
use etcd_snapshot::mvcc::{Salvage, Store};
use etcd_snapshot::RevisionKey;

fn image(name: &str) -> Vec<u8> {
    let bytes = std::fs::read(testdata::project_fixtures().join(name).join("snapshot.db")).unwrap();
    bytes[..bytes.len() - 32].to_vec()
}

fn tree_revisions(bytes: &[u8]) -> BTreeSet<RevisionKey> {
    let store = Store::open(Db::new(bytes).unwrap()).unwrap();
    store.records().map(|r| r.unwrap().revision_key).collect()
}

#[test]
fn salvage_finds_every_reachable_record() {
    for name in ["etcd-3.4-basic", "etcd-3.5-cluster"] {
        let bytes = image(name);
        let db = Db::new(&bytes).unwrap();
        let store = Store::open(db).unwrap();
        let tree: Vec<_> = store.records().map(Result::unwrap).collect();
        let salvage = Salvage::scan(db);
        assert_eq!(salvage.conflicts, 0, "{name}");
        let salvaged: BTreeSet<RevisionKey> = salvage.records().iter().map(|r| r.revision_key).collect();
        for record in &tree {
            assert!(salvaged.contains(&record.revision_key), "{name}: {:?} not salvaged", record.revision_key);
            let again = salvage.records().iter().find(|r| r.revision_key == record.revision_key).unwrap();
            assert_eq!(again.kv, record.kv, "{name}: same content");
        }
        eprintln!(
            "{name}: {} records salvaged from {} of {} leaf pages; {} tree records",
            salvaged.len(),
            salvage.pages_used,
            salvage.pages_scanned,
            tree.len()
        );
    }
}

#[test]
fn salvage_reads_a_file_cut_below_its_tree_root() {
    let bytes = image("etcd-3.5-cluster");
    let full = tree_revisions(&bytes);
    let db = Db::new(&bytes).unwrap();
    let BucketRoot::Page(root) = db.bucket(b"key").unwrap().unwrap().root() else { panic!("paged key bucket") };
    let cut = &bytes[..root as usize * db.page_size()];
    // The tree is unreachable…
    let store = Store::open(Db::new(cut).unwrap());
    assert!(store.is_err() || store.unwrap().live(b"", None).unwrap().items.is_empty());
    // …but the leaves before the cut are still there.
    let salvage = Salvage::scan(Db::new(cut).unwrap());
    let live = salvage.key_histories(b"", None).into_iter().filter(|h| !h.is_deleted()).count();
    let recovered: BTreeSet<RevisionKey> = salvage.records().iter().map(|r| r.revision_key).collect();
    let of_tree = recovered.intersection(&full).count();
    eprintln!(
        "cut at page {root}: {} records recovered ({of_tree} of the tree's {}), {live} keys",
        recovered.len(),
        full.len()
    );
    assert!(of_tree * 2 > full.len(), "most of the tree's records are recovered");
    assert!(live > 0);
}

/// A salvage in key ranges (bounded memory) answers what one salvage of the whole file
/// answers, on every snapshot in `fixtures/`, including one whose pages hold stale copies.
#[test]
fn salvage_in_key_ranges_equals_one_salvage() {
    for dir in testdata::project_snapshot_dirs() {
        let bytes = std::fs::read(dir.join("snapshot.db")).unwrap();
        let db = Db::new(&bytes[..bytes.len() - 32]).or_else(|_| Db::new(&bytes)).unwrap();
        let whole = Salvage::scan(db);
        // Small files are sampled page by page: every record is in the sample, stale copies
        // of a revision as often as they occur.
        let sample = Salvage::sample_keys(db, b"", |_| true);
        assert!(sample.keys.len() >= whole.records().len(), "{}", dir.display());
        for prefix in [&b""[..], b"/registry/"] {
            let histories = whole.key_histories(prefix, None);
            let records = whole.records().len();
            for max_records in [(records / 10).max(1), records / 3 + 1, usize::MAX] {
                let ranges = Salvage::sample_keys(db, prefix, |_| true).ranges(max_records);
                if max_records < records / 5 && histories.len() > 20 {
                    assert!(ranges.len() > 2, "{}: {prefix:?} in {} ranges", dir.display(), ranges.len());
                }
                let (mut joined, mut kept, mut conflicts) = (Vec::new(), 0, 0);
                for range in &ranges {
                    let part = Salvage::scan_where(db, |key| key.starts_with(prefix) && range.contains(key));
                    assert_eq!((part.pages_used, part.pages_scanned), (whole.pages_used, whole.pages_scanned));
                    kept += part.records().len();
                    conflicts += part.conflicts;
                    joined.extend(part.key_histories(prefix, None));
                }
                let expected = whole.records().iter().filter(|r| r.kv.key.starts_with(prefix)).count();
                assert_eq!(kept, expected, "{} {prefix:?}", dir.display());
                if prefix.is_empty() {
                    assert_eq!(conflicts, whole.conflicts, "{}", dir.display());
                }
                assert_eq!(joined, histories, "{} {prefix:?}, {max_records} per pass", dir.display());
            }
        }
    }
}
