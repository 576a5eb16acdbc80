//! Structures etcd never writes (nested buckets, 16 KiB pages, a synced freelist), in files
//! written by Go bbolt itself (`fixtures/bbolt-structures/`). Our recursive walk must list
//! exactly what bbolt listed when it read the same file back.

use std::fmt::Write as _;

use etcd_snapshot::bbolt::{Bucket, Db};

const FILES: [&str; 3] = ["nested", "pagesize16k", "freelist"];

fn dir() -> std::path::PathBuf {
    testdata::project_fixtures().join("bbolt-structures")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Depth-first, key order: `<bucket path>\t<hex key>\t<hex value | BUCKET>`, as gen.go writes.
fn dump(bucket: &Bucket<'_>, path: &str, out: &mut String, sequences: &mut String) {
    for entry in bucket.entries() {
        let entry = entry.unwrap();
        if entry.is_bucket() {
            writeln!(out, "{path}\t{}\tBUCKET", hex(entry.key)).unwrap();
            let child = bucket.bucket(entry.key).unwrap().unwrap();
            let name = String::from_utf8_lossy(entry.key);
            let child_path = if path.is_empty() { name.into_owned() } else { format!("{path}/{name}") };
            writeln!(sequences, "{child_path}\t{}", child.sequence).unwrap();
            dump(&child, &child_path, out, sequences);
        } else {
            writeln!(out, "{path}\t{}\t{}", hex(entry.key), hex(entry.value)).unwrap();
        }
    }
}

#[test]
fn recursive_walk_equals_bbolt_dump() {
    for name in FILES {
        let bytes = std::fs::read(dir().join(format!("{name}.db"))).unwrap();
        let db = Db::new(&bytes).unwrap();
        let (mut ours, mut sequences) = (String::new(), String::new());
        dump(&db.root_bucket(), "", &mut ours, &mut sequences);
        let expected = std::fs::read_to_string(dir().join(format!("{name}.dump.txt"))).unwrap();
        assert!(ours == expected, "{name}: walk differs from bbolt's dump");
        let expected_seq = std::fs::read_to_string(dir().join(format!("{name}.sequences.txt"))).unwrap();
        let mut expected_seq: Vec<&str> = expected_seq.lines().collect();
        let mut ours_seq: Vec<&str> = sequences.lines().collect();
        expected_seq.sort_unstable();
        ours_seq.sort_unstable();
        assert_eq!(ours_seq, expected_seq, "{name}: bucket sequences");
    }
}

#[test]
fn meta_equals_bbolt_meta() {
    for name in FILES {
        let bytes = std::fs::read(dir().join(format!("{name}.db"))).unwrap();
        let db = Db::new(&bytes).unwrap();
        let meta = std::fs::read_to_string(dir().join(format!("{name}.meta.txt"))).unwrap();
        let field =
            |k: &str| -> u64 { meta.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).unwrap().parse().unwrap() };
        assert_eq!(db.page_size() as u64, field("page_size"), "{name}");
        assert_eq!(db.meta().active.txid, field("txid"), "{name}");
        assert_eq!(db.meta().active.root, field("root"), "{name}");
        assert_eq!(db.meta().active.freelist, field("freelist"), "{name}");
        assert_eq!(db.meta().active.pgid, field("pgid"), "{name}");
        assert!(!db.is_truncated());
        // bbolt's own free-page count (read from the synced freelist in freelist.db).
        let usage = db.page_usage().unwrap();
        assert_eq!(usage.free, field("free_page_count"), "{name}");
        assert_eq!(usage.pages, field("pgid"), "{name}");
        assert_eq!(usage.in_use + usage.free, usage.pages, "{name}");
    }
}

#[test]
fn lookups_find_nested_buckets_and_overflow_values() {
    let bytes = std::fs::read(dir().join("nested.db")).unwrap();
    let db = Db::new(&bytes).unwrap();
    let alpha = db.bucket(b"alpha").unwrap().unwrap();
    let deeper = alpha.bucket(b"big").unwrap().unwrap().bucket(b"deeper").unwrap().unwrap();
    assert_eq!(deeper.entries().count(), 3);
    // A nested bucket is not a value, and a value is not a bucket.
    assert_eq!(alpha.get(b"big").unwrap(), None);
    let gamma = db.bucket(b"gamma").unwrap().unwrap();
    let (key, value) = gamma.entries().next().unwrap().map(|e| (e.key, e.value)).unwrap();
    assert!(value.len() >= 50 * 1024, "50 KiB value spans overflow pages");
    assert_eq!(gamma.get(key).unwrap(), Some(value));
    assert!(db.bucket(b"missing").unwrap().is_none());
}

/// Every bucket (nested, inline, deep trees, 16 KiB pages): starting the walk at a key gives
/// exactly the entries at or after it, for each key, for what lies between keys, and before
/// the first and after the last.
#[test]
fn walks_from_a_key_equal_the_whole_walk_cut_there() {
    fn check(bucket: &Bucket<'_>, path: &str) -> usize {
        let all: Vec<&[u8]> = bucket.entries().map(|e| e.unwrap().key).collect();
        let mut probes: Vec<Vec<u8>> = vec![Vec::new(), vec![0xff; 20]];
        for key in &all {
            probes.push(key.to_vec());
            probes.push([*key, b"\0"].concat());
            probes.push(key[..key.len() - 1].to_vec());
        }
        for probe in &probes {
            let from: Vec<&[u8]> = bucket.entries_from(probe).map(|e| e.unwrap().key).collect();
            let expected: Vec<&[u8]> = all.iter().copied().filter(|k| *k >= probe.as_slice()).collect();
            assert_eq!(from, expected, "{path}: from {probe:?}");
        }
        let mut checked = probes.len();
        for entry in bucket.entries().map(Result::unwrap).filter(|e| e.is_bucket()) {
            let child = bucket.bucket(entry.key).unwrap().unwrap();
            checked += check(&child, &format!("{path}/{}", String::from_utf8_lossy(entry.key)));
        }
        checked
    }
    for name in FILES {
        let bytes = std::fs::read(dir().join(format!("{name}.db"))).unwrap();
        let db = Db::new(&bytes).unwrap();
        assert!(check(&db.root_bucket(), name) > 1000, "{name}");
    }
}

/// The leaf pages of a bucket's tree in key order, as its walk meets them.
fn leaf_pages(bucket: &Bucket<'_>) -> Vec<u64> {
    let mut pages: Vec<u64> = bucket.entries().map(|entry| entry.unwrap().page).collect();
    pages.dedup();
    pages
}

/// Every bucket below `bucket` that has pages of its own (not inline), and `bucket`.
fn paged_buckets<'a>(bucket: Bucket<'a>, out: &mut Vec<Bucket<'a>>) {
    for entry in bucket.entries().map(Result::unwrap).filter(|e| e.is_bucket()) {
        paged_buckets(bucket.bucket(entry.key).unwrap().unwrap(), out);
    }
    if matches!(bucket.root(), etcd_snapshot::bbolt::BucketRoot::Page(_)) {
        out.push(bucket);
    }
}

/// A sample of a bucket's leaves is every n-th of the leaf pages its walk meets, and counts
/// them all: in the nested buckets here, and in the `key` bucket of every etcd snapshot in
/// `fixtures/`.
#[test]
fn sampled_leaves_are_every_nth_leaf_page() {
    let mut files: Vec<std::path::PathBuf> = FILES.iter().map(|name| dir().join(format!("{name}.db"))).collect();
    files.extend(testdata::project_snapshot_dirs().into_iter().map(|d| d.join("snapshot.db")));
    let mut checked = 0;
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let db = Db::new(&bytes).unwrap();
        let mut buckets = Vec::new();
        paged_buckets(db.root_bucket(), &mut buckets);
        for bucket in buckets {
            let leaves = leaf_pages(&bucket);
            for count in [1, 2, 3, 5, 8, 100, 4096] {
                let sample = bucket.sample_leaves(count);
                assert_eq!(sample.leaf_pages, leaves.len() as u64, "{}", file.display());
                let sampled: Vec<u64> = sample
                    .sampled
                    .iter()
                    .map(|root| match root {
                        etcd_snapshot::bbolt::BucketRoot::Page(id) => *id,
                        etcd_snapshot::bbolt::BucketRoot::Inline { .. } => panic!("an inline root sampled"),
                    })
                    .collect();
                let every = leaves.len().div_ceil(count).max(1);
                let expected: Vec<u64> = leaves.iter().copied().step_by(every).collect();
                assert_eq!(sampled, expected, "{}, {count} leaves", file.display());
                checked += 1;
            }
        }
    }
    assert!(checked > 50);
}
