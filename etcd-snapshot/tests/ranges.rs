//! Scans in key ranges (bounded memory) answer exactly what one scan answers, on every
//! snapshot in `fixtures/` (made by real etcd).

use etcd_snapshot::{KeyHistory, Snapshot, PASS_RECORDS};

#[test]
fn ranges_together_equal_one_scan() {
    for dir in testdata::project_snapshot_dirs() {
        let snapshot = Snapshot::open(dir.join("snapshot.db")).unwrap();
        let store = snapshot.store().unwrap();
        let records = store.records().filter(Result::is_ok).count();
        // Small buckets are sampled whole: the estimate is the count itself.
        let sample = store.sample_keys(b"", |_| true);
        assert_eq!(sample.keys.len(), records, "{}", dir.display());
        assert_eq!(sample.estimated_records() as usize, records, "{}", dir.display());

        let revisions = [None, Some(store.compact_revision().max(1)), Some(store.current_revision())];
        for at in revisions {
            for prefix in [&b""[..], b"/registry/", b"/registry/pods/"] {
                let Ok(whole) = store.key_histories(prefix, at) else { continue };
                // Each range is a scan of the whole bucket: about 10 and 3 of them, and one.
                for max_records in [(records / 10).max(1), records / 3 + 1, PASS_RECORDS] {
                    let ranges = store.plan_ranges(prefix, |_| true, max_records);
                    let wanted = store.sample_keys(prefix, |_| true).passes(max_records);
                    assert!(ranges.len() <= wanted, "{}: {} ranges for {wanted} passes", dir.display(), ranges.len());
                    if wanted >= 5 && whole.items.len() > 20 {
                        assert!(ranges.len() > 2, "{}: {prefix:?} in {} ranges", dir.display(), ranges.len());
                    }
                    let mut joined: Vec<KeyHistory<'_>> = Vec::new();
                    for range in &ranges {
                        let part = store.key_histories_where(prefix, at, |key| range.contains(key)).unwrap();
                        assert!(part.items.iter().all(|h| range.contains(h.key)));
                        assert_eq!(part.errors.len(), whole.errors.len());
                        joined.extend(part.items);
                    }
                    assert_eq!(joined, whole.items, "{} {prefix:?} at {at:?}, {max_records} per pass", dir.display());
                }
            }
        }
    }
}

#[test]
fn keep_filters_the_sample_too() {
    let dir = testdata::project_fixtures().join("etcd-3.5-k8s");
    let store_file = Snapshot::open(dir.join("snapshot.db")).unwrap();
    let store = store_file.store().unwrap();
    let all = store.sample_keys(b"/registry/", |_| true);
    let secrets = store.sample_keys(b"/registry/", |key| key.starts_with(b"/registry/secrets/"));
    assert!(!secrets.keys.is_empty());
    assert!(secrets.keys.len() < all.keys.len());
    assert!(secrets.keys.iter().all(|k| k.starts_with(b"/registry/secrets/")));
}
