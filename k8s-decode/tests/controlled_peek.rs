//! `Decoder::controlled` (owner check from the bytes) against the metadata-only decode
//! `extract` used before it, on every value of every snapshot we have: real etcd's, and
//! real clusters'.

use std::path::PathBuf;

use k8s_decode::clean::is_controlled;
use k8s_decode::{DecodeOptions, Decoder, Encoding, KubeVersion, LeaveOut};

fn snapshots() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> =
        testdata::project_snapshot_dirs().into_iter().map(|d| d.join("snapshot.db")).collect();
    if let Some(shared) = testdata::shared_fixtures("controlled_peek") {
        paths.push(shared.join("real-snapshots/ggkarthikgit-infosys/snapshot.db"));
        paths.push(shared.join("real-snapshots/etcd-io-auger/db"));
    }
    paths
}

#[test]
fn controlled_from_the_bytes_matches_the_decode() {
    let options = DecodeOptions {
        leave_out: LeaveOut { all_but_metadata: true, managed_fields: true, status: true },
        ..Default::default()
    };
    let (mut compared, mut controlled) = (0, 0);
    for path in snapshots() {
        let snap = etcd_snapshot::Snapshot::open(&path).unwrap();
        let store = snap.store().unwrap();
        for version in [16, 24, 30] {
            let decoder = Decoder::new(KubeVersion::minor_release(version));
            for rec in store.records() {
                let kv = rec.unwrap().kv;
                let Ok(decoded) = decoder.decode(kv.value, &options) else { continue };
                let key = String::from_utf8_lossy(kv.key);
                let peeked = decoder.controlled(kv.value);
                if decoded.encoding == Encoding::Protobuf {
                    // Every well-formed protobuf value of a real cluster is answered.
                    assert_eq!(peeked, Some(is_controlled(&decoded.object)), "{}: {key}", path.display());
                    compared += 1;
                    controlled += usize::from(peeked == Some(true));
                } else {
                    assert_eq!(peeked, None, "{}: {key}", path.display());
                }
            }
        }
    }
    println!("{compared} protobuf values compared, {controlled} controlled");
    assert!(compared > 1000 && controlled > 100, "{compared} compared, {controlled} controlled");
}
