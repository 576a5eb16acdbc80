//! Our answers against etcd's own, for every snapshot in `fixtures/` (made by real etcd; the
//! answer files were written by `etcdutl` / `etcdctl` at the moment of the snapshot).

use std::collections::BTreeSet;
use std::path::Path;

use base64::Engine;
use etcd_snapshot::{DbStatus, Record, Salvage, Snapshot, TrailerCheck};
use serde_json::Value;

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_lines(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect()
}

fn b64(v: &Value) -> Vec<u8> {
    v.as_str().map(|s| base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap_or_default()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// `etcdutl snapshot status -w json` = our DbStatus, field by field.
#[test]
fn status_equals_etcdutl() {
    for dir in testdata::project_snapshot_dirs() {
        let expected = read_json(&dir.join("status.json"));
        let snapshot = Snapshot::open(dir.join("snapshot.db")).unwrap();
        assert_eq!(snapshot.verify_trailer(), TrailerCheck::Valid, "{}", dir.display());
        let status = DbStatus::compute(&snapshot.db().unwrap()).unwrap();
        assert_eq!(expected["hash"].as_u64(), Some(u64::from(status.hash)), "{}: hash", dir.display());
        assert_eq!(expected["revision"].as_i64(), Some(status.revision), "{}: revision", dir.display());
        assert_eq!(expected["totalKey"].as_u64(), Some(status.total_key), "{}: totalKey", dir.display());
        assert_eq!(expected["totalSize"].as_u64(), Some(status.total_size), "{}: totalSize", dir.display());
    }
}

/// Go bbolt's count of free pages (`Stats().FreePageN` on a copy opened as etcd opens it,
/// which rebuilds the freelist from what the trees reach): ours, from the same walk.
#[test]
fn free_pages_equal_bbolt() {
    let mut files = 0;
    for dir in testdata::project_snapshot_dirs() {
        for name in ["snapshot.db", "member-snap-db"] {
            let answer = dir.join(format!("{name}.bbolt-pages.txt"));
            if !dir.join(name).is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&answer).unwrap_or_else(|e| panic!("{}: {e}", answer.display()));
            let field = |k: &str| -> u64 {
                text.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).unwrap().parse().unwrap()
            };
            let snapshot = Snapshot::open(dir.join(name)).unwrap();
            let usage = snapshot.db().unwrap().page_usage().unwrap();
            assert_eq!(usage.pages, field("pgid"), "{}", answer.display());
            assert_eq!(usage.free, field("free_page_count"), "{}", answer.display());
            assert_eq!(usage.in_use_bytes() + usage.free_bytes(), snapshot.db().unwrap().size());
            files += 1;
        }
    }
    assert!(files >= 6, "every fixture snapshot has bbolt's page counts");
}

/// `etcdctl get --prefix "" --keys-only` (and `--rev R`) = our live keys.
#[test]
fn live_keys_equal_etcdctl_listings() {
    let mut listings = 0;
    for dir in testdata::project_snapshot_dirs() {
        let snapshot = Snapshot::open(dir.join("snapshot.db")).unwrap();
        let store = snapshot.store().unwrap();
        let ours = |at: Option<i64>| -> Vec<Vec<u8>> {
            let scan = store.live(b"", at).unwrap();
            assert!(scan.errors.is_empty(), "{:?}", scan.errors);
            scan.items.iter().map(|r| r.kv.key.to_vec()).collect()
        };
        assert_eq!(ours(None), read_lines(&dir.join("keys.txt")), "{}: latest", dir.display());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let Some(rev) = name.strip_prefix("keys-rev-").and_then(|r| r.strip_suffix(".txt")) else { continue };
            let rev: i64 = rev.parse().unwrap();
            assert_eq!(ours(Some(rev)), read_lines(&path), "{}: --rev {rev}", dir.display());
            listings += 1;
        }
    }
    assert!(listings >= 4, "the fixtures carry etcdctl --rev listings");
}

/// `etcdctl get --prefix "" -w json`, at the latest revision and at the compaction revision
/// (`--rev C`, the oldest state compaction keeps): every record's revisions, version, lease
/// and value.
#[test]
fn records_equal_etcdctl_get() {
    let mut at_compaction = 0;
    for dir in testdata::project_snapshot_dirs() {
        let snapshot = Snapshot::open(dir.join("snapshot.db")).unwrap();
        let store = snapshot.store().unwrap();
        let mut answers = vec![(None, dir.join("get.json"))];
        let compacted = dir.join(format!("get-rev-{}.json", store.compact_revision()));
        if compacted.is_file() {
            answers.push((Some(store.compact_revision()), compacted));
            at_compaction += 1;
        }
        for (at, path) in answers {
            let expected = read_json(&path);
            if at.is_none() {
                assert_eq!(
                    expected["header"]["revision"].as_i64(),
                    Some(store.current_revision()),
                    "{}",
                    dir.display()
                );
            }
            let live = store.live(b"", at).unwrap().items;
            let kvs = expected["kvs"].as_array().unwrap();
            assert_eq!(live.len(), kvs.len(), "{}", path.display());
            for (ours, theirs) in live.iter().zip(kvs) {
                let key = String::from_utf8_lossy(ours.kv.key);
                assert_eq!(ours.kv.key, b64(&theirs["key"]), "{key}");
                assert_eq!(ours.kv.create_revision, int(&theirs["create_revision"]), "{key}");
                assert_eq!(ours.kv.mod_revision, int(&theirs["mod_revision"]), "{key}");
                assert_eq!(ours.kv.version, int(&theirs["version"]), "{key}");
                assert_eq!(ours.kv.lease, int(&theirs["lease"]), "{key}");
                assert_eq!(ours.kv.value, b64(&theirs["value"]), "{key}");
            }
        }
    }
    assert!(at_compaction >= 5, "every fixture carries get-rev-C.json");
}

/// `etcdctl watch --rev C` from the compaction revision lists every retained change; our
/// records from C on are the same changes in the same order, and keys whose last change is a
/// deletion are our deleted keys.
#[test]
fn history_equals_etcdctl_watch() {
    for dir in testdata::project_snapshot_dirs() {
        let Some(watch_file) = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("watch-from-"))
        else {
            panic!("{}: no watch-from-*.json", dir.display());
        };
        let name = watch_file.file_name().unwrap().to_str().unwrap().to_owned();
        let from: i64 = name["watch-from-".len()..name.len() - ".json".len()].parse().unwrap();
        // etcdctl prints one JSON document per watch response, concatenated.
        let text = std::fs::read_to_string(&watch_file).unwrap();
        let mut events = Vec::new();
        for doc in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
            events.extend(doc.unwrap()["Events"].as_array().cloned().unwrap_or_default());
        }
        let snapshot = Snapshot::open(dir.join("snapshot.db")).unwrap();
        let store = snapshot.store().unwrap();
        // History older than the compaction revision is gone from the tree; where etcd's
        // answer goes back that far, it must be found by salvage in the free pages.
        let salvage = Salvage::scan(snapshot.db().unwrap());
        let ours: Vec<Record<'_>> = if from < store.compact_revision() {
            salvage.records().iter().copied().filter(|r| r.revision_key.revision.main >= from).collect()
        } else {
            store.records_since(from).map(Result::unwrap).collect()
        };
        assert_eq!(ours.len(), events.len(), "{}: number of changes since {from}", dir.display());
        for (ours, event) in ours.iter().zip(&events) {
            let kv = &event["kv"];
            let deleted = event["type"].as_str() == Some("DELETE") || event["type"].as_i64() == Some(1);
            assert_eq!(ours.kv.key, b64(&kv["key"]).as_slice());
            assert_eq!(ours.is_tombstone(), deleted, "{:?}", ours);
            assert_eq!(ours.revision_key.revision.main, int(&kv["mod_revision"]));
            if !deleted {
                assert_eq!(ours.kv.value, b64(&kv["value"]).as_slice());
                assert_eq!(ours.kv.version, int(&kv["version"]));
            }
        }
        // Deleted keys: the last watched change of the key is a deletion.
        if dir.join("deleted.txt").is_file() {
            let ours: Vec<Vec<u8>> = store.deleted(b"", None).unwrap().items.iter().map(|h| h.key.to_vec()).collect();
            assert_eq!(ours, read_lines(&dir.join("deleted.txt")), "{}", dir.display());
            let keys: BTreeSet<Vec<u8>> = ours.into_iter().collect();
            assert!(!keys.is_empty(), "{}: fixture should contain deletions", dir.display());
        }
    }
}

/// Records from a revision on, found by descending the tree, are the whole walk's from
/// there: at every revision of every fixture (and before the first and after the last).
#[test]
fn records_since_a_revision_equal_the_whole_walk_cut_there() {
    for dir in testdata::project_snapshot_dirs() {
        let snapshot = Snapshot::open(dir.join("snapshot.db")).unwrap();
        let store = snapshot.store().unwrap();
        let all: Vec<Record<'_>> = store.records().map(Result::unwrap).collect();
        let mut start = 0;
        for main in -1..=store.current_revision() + 1 {
            while start < all.len() && all[start].revision_key.revision.main < main {
                start += 1;
            }
            let since: Vec<Record<'_>> = store.records_since(main).map(Result::unwrap).collect();
            assert_eq!(since, all[start..], "{}: since {main}", dir.display());
        }
    }
}

/// Reading below the compaction revision is refused as etcd refuses it, naming both numbers.
#[test]
fn revision_below_compaction_is_an_error() {
    for dir in testdata::project_snapshot_dirs() {
        let snapshot = Snapshot::open(dir.join("snapshot.db")).unwrap();
        let store = snapshot.store().unwrap();
        let compacted = store.compact_revision();
        assert!(compacted > 1, "{}: fixture should be compacted", dir.display());
        let err = store.live(b"", Some(compacted - 1)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&compacted.to_string()) && text.contains(&(compacted - 1).to_string()), "{text}");
        let future = store.current_revision() + 1;
        assert!(store.live(b"", Some(future)).is_err());
    }
}
