//! Decoding a realistic mix of stored values on one core: every retained value under
//! `/registry/` of the real kubeadm snapshot in `../shared/fixtures/real-snapshots/` (protobuf
//! built-ins, JSON APIServices), or of `fixtures/` when the shared data is absent, or of the
//! snapshot `ETCDSNAP_BENCH_SNAPSHOT` names (about `ETCDSNAP_BENCH_VALUES` of its values,
//! 20,000 unless set, spread over the file). Reports objects/s and MB/s for decoding to a JSON
//! value, and for decoding plus kubectl YAML.
//!
//! `extract_path/*` follows `extract`'s path one object at a time: decode (leaving out what
//! the cleaning drops) and clean, then also kubectl YAML, or for scale serde_json's compact
//! JSON of the same values (a simpler format: no key sorting, no string styles, no
//! indentation). The differences are what writing costs on values hot in cache, as in
//! `extract`; what that means for `extract`'s objects/s is in benches/README.md, round 19.
//! `extract_path_by_resource/*` times the same path (with YAML) for each of the resources
//! with most values in the sample, whether or not `extract` skips them by default.
//!
//! `cargo bench -p k8s-decode --bench decode`
//! `ETCDSNAP_BENCH_SNAPSHOT=benches/data/2g/snapshot.db cargo bench -p k8s-decode --bench decode`

use std::collections::BTreeMap;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use k8s_decode::clean::{self, CleanOptions};
use k8s_decode::keys::parse_key_ref;
use k8s_decode::resources::ResourceTable;
use k8s_decode::{DecodeOptions, Decoder, KubeVersion, LeaveOut};

/// `extract`'s allocator (cli/src/alloc.rs, without its huge-page advice for large blocks):
/// with glibc's, malloc and free took a quarter of the decode here, several times their
/// share in `extract`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn snapshot_path() -> PathBuf {
    if let Some(path) = std::env::var_os("ETCDSNAP_BENCH_SNAPSHOT") {
        return PathBuf::from(path);
    }
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
    let limit = std::env::var("ETCDSNAP_BENCH_VALUES").ok().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    // Spread over the whole file: its first records are one cluster's bootstrap.
    let stride = (store.records().count() / limit).max(1);
    // (value, mod revision, key)
    let values: Vec<(&[u8], i64, &[u8])> = store
        .records()
        .step_by(stride)
        .map(Result::unwrap)
        .filter(|r| !r.is_tombstone() && r.kv.key.starts_with(b"/registry/"))
        .filter(|r| decoder.decode(r.kv.value, &DecodeOptions::default()).is_ok())
        .map(|r| (r.kv.value, r.kv.mod_revision, r.kv.key))
        .collect();
    let bytes: u64 = values.iter().map(|(v, _, _)| v.len() as u64).sum();
    eprintln!("{}: {} values, {bytes} bytes", path.display(), values.len());

    let mut group = c.benchmark_group("decode_mix");
    for (unit, throughput) in
        [("bytes", Throughput::Bytes(bytes)), ("objects", Throughput::Elements(values.len() as u64))]
    {
        group.throughput(throughput);
        group.bench_function(format!("to_json_value/{unit}"), |b| {
            b.iter(|| {
                for (value, rev, _) in &values {
                    let opts = DecodeOptions { mod_revision: Some(*rev), ..Default::default() };
                    std::hint::black_box(decoder.decode(value, &opts).unwrap());
                }
            })
        });
        group.bench_function(format!("to_yaml/{unit}"), |b| {
            b.iter(|| {
                for (value, rev, _) in &values {
                    let opts = DecodeOptions { mod_revision: Some(*rev), ..Default::default() };
                    let object = decoder.decode(value, &opts).unwrap().object;
                    std::hint::black_box(k8s_decode::yaml::to_yaml_string(&object).unwrap());
                }
            })
        });
    }
    group.finish();

    // `extract`'s path, one object at a time as `extract` goes: decode (leaving out what the
    // cleaning drops), clean, then write. The writers are timed on values just built, hot
    // in cache as in `extract`: timed alone over all the values decoded beforehand, they
    // would mostly measure cache misses (half the speed).
    let clean_options = CleanOptions::default();
    let decode_clean = |i: usize| {
        let (value, rev, _) = values[i];
        let leave_out = LeaveOut::dropped_by_cleaning();
        let options = DecodeOptions { mod_revision: Some(rev), leave_out, ..Default::default() };
        let mut object = decoder.decode(value, &options).unwrap().object;
        if clean::reads_managed_fields(&object, &clean_options) {
            let leave_out = leave_out.keeping_node_port_owners();
            object = decoder.decode(value, &DecodeOptions { leave_out, ..options }).unwrap().object;
        }
        clean::clean(&mut object, &clean_options);
        object
    };
    let (mut yaml_bytes, mut json_bytes) = (0, 0);
    for i in 0..values.len() {
        let object = decode_clean(i);
        yaml_bytes += k8s_decode::yaml::to_yaml_string(&object).unwrap().len() as u64;
        json_bytes += serde_json::to_vec(&object).unwrap().len() as u64;
    }
    eprintln!("extract's path writes {yaml_bytes} bytes of YAML (or {json_bytes} of compact JSON)");

    let mut group = c.benchmark_group("extract_path");
    group.throughput(Throughput::Elements(values.len() as u64));
    group.bench_function("decode_clean", |b| {
        b.iter(|| {
            for i in 0..values.len() {
                std::hint::black_box(decode_clean(i));
            }
        })
    });
    group.bench_function("decode_clean_kubectl_yaml", |b| {
        b.iter(|| {
            for i in 0..values.len() {
                let object = decode_clean(i);
                std::hint::black_box(k8s_decode::yaml::to_yaml_string(&object).unwrap());
            }
        })
    });
    group.bench_function("decode_clean_serde_json_compact", |b| {
        let mut out = Vec::new();
        b.iter(|| {
            for i in 0..values.len() {
                let object = decode_clean(i);
                out.clear();
                serde_json::to_writer(&mut out, &object).unwrap();
                std::hint::black_box(&out);
            }
        })
    });
    group.finish();

    // The same path by resource, for the resources with most values in the sample: where
    // the time per object goes.
    let table = ResourceTable::builtin();
    let mut by_resource: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (_, _, key)) in values.iter().enumerate() {
        if let Ok(key) = parse_key_ref(key, "/registry", &table) {
            by_resource.entry(key.resource).or_default().push(i);
        }
    }
    let mut largest: Vec<(&str, Vec<usize>)> = by_resource.into_iter().collect();
    largest.sort_by_key(|(_, indices)| std::cmp::Reverse(indices.len()));
    let mut group = c.benchmark_group("extract_path_by_resource");
    for (resource, indices) in largest.into_iter().take(BY_RESOURCE) {
        group.throughput(Throughput::Elements(indices.len() as u64));
        group.bench_function(format!("{resource}/decode_clean_kubectl_yaml"), |b| {
            b.iter(|| {
                for &i in &indices {
                    let object = decode_clean(i);
                    std::hint::black_box(k8s_decode::yaml::to_yaml_string(&object).unwrap());
                }
            })
        });
    }
    group.finish();
}

/// How many resources `extract_path_by_resource` times.
const BY_RESOURCE: usize = 8;

criterion_group!(benches, decode);
criterion_main!(benches);
