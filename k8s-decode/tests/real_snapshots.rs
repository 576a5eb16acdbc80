//! Every value of a real kubeadm 1.24 snapshot (all retained revisions, not
//! just live keys) must decode without error, unknown fields or unknown kinds.

use std::collections::BTreeMap;

use k8s_decode::{DecodeOptions, Decoder, Encoding, KubeVersion};

#[test]
fn kubeadm_1_24_snapshot_decodes_cleanly() {
    let Some(shared) = testdata::shared_fixtures("kubeadm_1_24_snapshot_decodes_cleanly") else { return };
    let path = shared.join("real-snapshots/ggkarthikgit-infosys/snapshot.db");
    let snap = etcd_snapshot::Snapshot::open(&path).unwrap();
    let store = snap.store().unwrap();
    let dec = Decoder::new(KubeVersion::minor_release(24));
    let mut by_encoding: BTreeMap<String, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut decoded = 0;
    for rec in store.records() {
        let rec = rec.unwrap();
        let kv = rec.kv;
        if rec.is_tombstone() || !kv.key.starts_with(b"/registry/") {
            continue;
        }
        let opts = DecodeOptions { key: Some(kv.key), mod_revision: Some(kv.mod_revision), ..Default::default() };
        let key = String::from_utf8_lossy(kv.key);
        match dec.decode(kv.value, &opts) {
            Ok(d) => {
                decoded += 1;
                *by_encoding.entry(format!("{:?} {}", d.encoding, d.kind)).or_default() += 1;
                for w in &d.warnings {
                    problems.push(format!("{key}@{}: {w}", kv.mod_revision));
                }
                if d.encoding == Encoding::Protobuf {
                    assert_eq!(d.object["metadata"]["resourceVersion"], kv.mod_revision.to_string(), "{key}");
                }
            }
            Err(e) => problems.push(format!("{key}@{}: {e}", kv.mod_revision)),
        }
    }
    println!("decoded {decoded} values");
    for (k, n) in &by_encoding {
        println!("{n:6} {k}");
    }
    for p in &problems {
        println!("PROBLEM {p}");
    }
    assert!(decoded > 400);
    assert!(problems.is_empty(), "{} problems", problems.len());
}

/// The GKE ~1.7 raw db (etcd 3.2): every retained value decodes without error or warning.
/// No Node is stored, so it is rendered as the oldest release the schema knows.
#[test]
fn gke_1_7_db_decodes_cleanly() {
    let Some(shared) = testdata::shared_fixtures("gke_1_7_db_decodes_cleanly") else { return };
    let snap = etcd_snapshot::Snapshot::open(shared.join("real-snapshots/etcd-io-auger/db")).unwrap();
    let store = snap.store().unwrap();
    let dec = Decoder::new(KubeVersion::minor_release(16));
    let mut kinds = Vec::new();
    for rec in store.records() {
        let rec = rec.unwrap();
        if rec.is_tombstone() || !rec.kv.key.starts_with(b"/registry/") {
            continue;
        }
        let d =
            dec.decode(rec.kv.value, &DecodeOptions { mod_revision: Some(rec.kv.mod_revision), ..Default::default() });
        let d = d.unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(rec.kv.key)));
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        kinds.push(d.kind);
    }
    kinds.sort();
    assert_eq!(kinds, ["Job", "Namespace", "Pod"]);
}
