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
