//! Decoding a realistic mix of stored values on one core: every retained value under
//! `/registry/` of the real kubeadm snapshot in `../shared/fixtures/real-snapshots/` (protobuf
//! built-ins, JSON APIServices), or of `fixtures/` when the shared data is absent. Reports
//! objects/s and MB/s for decoding to a JSON value, and for decoding plus kubectl YAML.
//!
//! `cargo bench -p k8s-decode --bench decode`

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use k8s_decode::{DecodeOptions, Decoder, KubeVersion};

fn snapshot_path() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let real = root.join("../shared/fixtures/real-snapshots/ggkarthikgit-infosys/snapshot.db");
    if real.is_file() {
        real
    } else {
        eprintln!("../shared absent: benchmarking the JSON values of fixtures/etcd-3.5-cluster instead");
        root.join("fixtures/etcd-3.5-cluster/snapshot.db")
    }
}

fn decode(c: &mut Criterion) {
    let path = snapshot_path();
    let snapshot = etcd_snapshot::Snapshot::open(&path).expect("open snapshot");
    let store = snapshot.store().expect("etcd store");
    let decoder = Decoder::new(KubeVersion::minor_release(24));
    let values: Vec<(&[u8], i64)> = store
        .records()
        .map(Result::unwrap)
        .filter(|r| !r.is_tombstone() && r.kv.key.starts_with(b"/registry/"))
        .filter(|r| decoder.decode(r.kv.value, &DecodeOptions::default()).is_ok())
        .map(|r| (r.kv.value, r.kv.mod_revision))
        .collect();
    let bytes: u64 = values.iter().map(|(v, _)| v.len() as u64).sum();
    eprintln!("{}: {} values, {bytes} bytes", path.display(), values.len());

    let mut group = c.benchmark_group("decode_mix");
    for (unit, throughput) in
        [("bytes", Throughput::Bytes(bytes)), ("objects", Throughput::Elements(values.len() as u64))]
    {
        group.throughput(throughput);
        group.bench_function(format!("to_json_value/{unit}"), |b| {
            b.iter(|| {
                for (value, rev) in &values {
                    let opts = DecodeOptions { mod_revision: Some(*rev), ..Default::default() };
                    std::hint::black_box(decoder.decode(value, &opts).unwrap());
                }
            })
        });
        group.bench_function(format!("to_yaml/{unit}"), |b| {
            b.iter(|| {
                for (value, rev) in &values {
                    let opts = DecodeOptions { mod_revision: Some(*rev), ..Default::default() };
                    let object = decoder.decode(value, &opts).unwrap().object;
                    std::hint::black_box(k8s_decode::yaml::to_yaml_string(&object).unwrap());
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
