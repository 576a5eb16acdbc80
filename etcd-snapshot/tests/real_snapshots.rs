//! Snapshots of real clusters (`../shared/fixtures/real-snapshots/`), checked against what
//! etcd's tools and auger reported for them.

use etcd_snapshot::bbolt::Db;
use etcd_snapshot::mvcc::KeyValueRef;
use etcd_snapshot::{DbStatus, Snapshot, TrailerCheck};

/// kubeadm 1.24 / etcd 3.5. Expected values: `etcdutl snapshot status` (etcd 3.5.1) as
/// recorded in the shared README: hash 1bbe12ca, revision 147939, total keys 1034, 2.8 MB;
/// 1015 revisions and 419 live keys.
#[test]
fn kubeadm_snapshot_status_equals_etcdutl() {
    let Some(shared) = testdata::shared_fixtures("kubeadm_snapshot_status_equals_etcdutl") else { return };
    let snapshot = Snapshot::open(shared.join("real-snapshots/ggkarthikgit-infosys/snapshot.db")).unwrap();
    assert_eq!(snapshot.verify_trailer(), TrailerCheck::Valid);
    let status = DbStatus::compute(&snapshot.db().unwrap()).unwrap();
    assert_eq!(format!("{:x}", status.hash), "1bbe12ca");
    assert_eq!(status.revision, 147939);
    assert_eq!(status.total_key, 1034);
    assert_eq!(format!("{:.1}", status.total_size as f64 / 1e6), "2.8");
    // Go bbolt 1.3.6's free page count for this file, as etcd opens it
    // (`fixtures/bbolt-structures/gen.go -free-pages`): 342 of 681 pages.
    let pages = snapshot.db().unwrap().page_usage().unwrap();
    assert_eq!((pages.pages, pages.free), (681, 342));
    let store = snapshot.store().unwrap();
    assert_eq!(store.records().count(), 1015);
    let live = store.live(b"", None).unwrap();
    assert!(live.errors.is_empty());
    assert_eq!(live.items.len(), 419);
}

/// GKE ~1.7 / etcd 3.2 `member/snap/db` (raw, no trailer; `etcdutl` 3.5 panics on it with
/// "invalid freelist page"). Expected: auger's listing and its per-item dumps of page 2.
#[test]
fn gke_raw_db_equals_auger_outputs() {
    let Some(shared) = testdata::shared_fixtures("gke_raw_db_equals_auger_outputs") else { return };
    let dir = shared.join("real-snapshots/etcd-io-auger");
    let snapshot = Snapshot::open(dir.join("db")).unwrap();
    assert_eq!(snapshot.verify_trailer(), TrailerCheck::Absent);
    let store = snapshot.store().unwrap();
    let keys: Vec<String> =
        store.live(b"", None).unwrap().items.iter().map(|r| String::from_utf8_lossy(r.kv.key).into_owned()).collect();
    let expected = std::fs::read_to_string(dir.join("companion/boltdb/keys.txt")).unwrap();
    assert_eq!(keys, expected.lines().collect::<Vec<_>>());
    // Its meta names page 2, a leaf, as the freelist (bbolt panics on it): pages are
    // counted from what the trees reach, as for a file without a synced freelist.
    let pages = snapshot.db().unwrap().page_usage().unwrap();
    assert_eq!(pages.in_use + pages.free, 5);

    // auger dumped the values of leaf page 2's elements, with a summary of each.
    let db = Db::new(snapshot.image()).unwrap();
    let page = db.page(2).unwrap();
    for index in 0..3 {
        let companion = |suffix: &str| dir.join(format!("companion/boltdb/page2item{index}{suffix}"));
        let element = page.leaf_element(index).unwrap();
        assert_eq!(element.value, std::fs::read(companion(".bin")).unwrap(), "page 2 item {index}");
        let kv = KeyValueRef::decode(element.value).unwrap();
        let summary = std::fs::read_to_string(companion("-summary.txt")).unwrap();
        let expected = format!(
            "Key: {}\nVersion: {}\nCreateRevision: {}\nModRevision: {}\nLease: {}\n",
            String::from_utf8_lossy(kv.key),
            kv.version,
            kv.create_revision,
            kv.mod_revision,
            kv.lease
        );
        assert_eq!(summary.trim_end(), expected.trim_end(), "page 2 item {index}");
    }
}

/// Opening and reading never writes or locks the input: another process can still take an
/// exclusive lock, and the bytes and modification time are unchanged afterwards.
#[test]
fn reading_neither_writes_nor_locks() {
    let path = testdata::project_fixtures().join("etcd-3.4-basic/snapshot.db");
    let before = std::fs::read(&path).unwrap();
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let snapshot = Snapshot::open(&path).unwrap();
    let store = snapshot.store().unwrap();
    let _ = store.live(b"", None).unwrap();
    let _ = DbStatus::compute(&snapshot.db().unwrap()).unwrap();
    let other = std::fs::File::open(&path).unwrap();
    other.try_lock().expect("no lock is held on the snapshot");
    other.unlock().unwrap();
    drop(snapshot);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
}

/// A raw `member/snap/db` and an etcd data dir open like a snapshot.
#[test]
fn raw_db_and_data_dir_open() {
    let raw = testdata::project_fixtures().join("etcd-3.4-basic/member-snap-db");
    let snapshot = Snapshot::open(&raw).unwrap();
    assert_eq!(snapshot.verify_trailer(), TrailerCheck::Absent);
    let keys = snapshot.store().unwrap().live(b"", None).unwrap().items.len();
    let data_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(data_dir.path().join("member/snap")).unwrap();
    std::fs::copy(&raw, data_dir.path().join("member/snap/db")).unwrap();
    let from_dir = Snapshot::open(data_dir.path()).unwrap();
    assert!(from_dir.path().ends_with("member/snap/db"));
    assert_eq!(from_dir.store().unwrap().live(b"", None).unwrap().items.len(), keys);
}
