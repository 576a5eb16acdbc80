//! Every stored value of every snapshot we have (the fixtures real etcd made, and real
//! clusters' from `../shared`), for the tests that read each value two ways and compare.

use std::path::{Path, PathBuf};

use etcd_snapshot::mvcc::KeyValueRef;
use k8s_decode::{Decoder, KubeVersion};

/// The project's fixture snapshots, and with `../shared` every real cluster's.
pub fn snapshots(test: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> =
        testdata::project_snapshot_dirs().into_iter().map(|d| d.join("snapshot.db")).collect();
    if let Some(shared) = testdata::shared_fixtures(test) {
        let mut dirs: Vec<PathBuf> =
            std::fs::read_dir(shared.join("real-snapshots")).unwrap().map(|d| d.unwrap().path()).collect();
        dirs.sort();
        for dir in dirs {
            paths.extend(["snapshot.db", "db"].map(|name| dir.join(name)).into_iter().filter(|p| p.is_file()));
        }
    }
    paths
}

/// `f(snapshot, decoder, record)` for every record of every snapshot of `paths`, with a
/// decoder of each of the `releases` (minor versions) in turn.
pub fn for_each_value(paths: &[PathBuf], releases: &[u32], mut f: impl FnMut(&Path, &Decoder, KeyValueRef<'_>)) {
    for path in paths {
        let snap = etcd_snapshot::Snapshot::open(path).unwrap();
        let store = snap.store().unwrap();
        for &release in releases {
            let decoder = Decoder::new(KubeVersion::minor_release(release));
            for rec in store.records() {
                f(path, &decoder, rec.unwrap().kv);
            }
        }
    }
}
