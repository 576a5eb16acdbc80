//! The YAML written straight from the wire (`Decoder::clean_yaml_direct`) is byte for byte
//! what decoding, cleaning and writing the tree give, on every value of every snapshot we
//! have: real etcd's, and real clusters'. `DIRECT_YAML_SNAPSHOT=FILE` adds one more (the
//! benchmark snapshots).

use std::collections::BTreeMap;
use std::path::PathBuf;

use k8s_decode::clean::{clean, CleanOptions};
use k8s_decode::{DecodeOptions, Decoder, KubeVersion, LeaveOut};

fn snapshots() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> =
        testdata::project_snapshot_dirs().into_iter().map(|d| d.join("snapshot.db")).collect();
    if let Some(shared) = testdata::shared_fixtures("direct_yaml") {
        for dir in std::fs::read_dir(shared.join("real-snapshots")).unwrap() {
            let dir = dir.unwrap().path();
            for name in ["snapshot.db", "db"] {
                if dir.join(name).is_file() {
                    paths.push(dir.join(name));
                }
            }
        }
    }
    if let Some(extra) = std::env::var_os("DIRECT_YAML_SNAPSHOT") {
        paths.push(extra.into());
    }
    paths
}

#[test]
fn direct_yaml_is_the_tree_paths_yaml() {
    let options = DecodeOptions { leave_out: LeaveOut::dropped_by_cleaning(), ..Default::default() };
    let clean_options = CleanOptions::default();
    let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut reasons: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for path in snapshots() {
        let snap = etcd_snapshot::Snapshot::open(&path).unwrap();
        let store = snap.store().unwrap();
        for version in [16, 24, 30] {
            let decoder = Decoder::new(KubeVersion::minor_release(version));
            for rec in store.records() {
                let kv = rec.unwrap().kv;
                let Ok(mut decoded) = decoder.decode(kv.value, &options) else { continue };
                let kind = decoded.kind.clone();
                let direct = decoder.clean_yaml_direct(kv.value, clean_options.keep_owner_references);
                let counts = by_kind.entry(kind).or_default();
                let direct = match direct {
                    Ok(direct) => direct,
                    Err(why) => {
                        counts.1 += 1;
                        *reasons.entry((decoded.kind.clone(), why)).or_default() += 1;
                        continue;
                    }
                };
                counts.0 += 1;
                clean(&mut decoded.object, &clean_options);
                let tree = k8s_decode::yaml::to_yaml_string(&decoded.object).unwrap();
                assert_eq!(direct, tree, "{}: {} (1.{version})", path.display(), String::from_utf8_lossy(kv.key));
            }
        }
    }
    for (kind, (direct, tree)) in &by_kind {
        println!("{kind:40} direct {direct:8} tree {tree:8}");
    }
    for ((kind, why), n) in &reasons {
        println!("{kind:40} {n:8} {why}");
    }
    let direct: usize = by_kind.values().map(|c| c.0).sum();
    assert!(direct > 1000, "{direct} values written directly");
}
