//! Full scans of the `key` bucket: raw record decoding, the live-state view and the key
//! states `ls` lists, on one thread and on all cores. Throughput is reported per byte of
//! `key` bucket entries and per record.
//!
//! `cargo bench -p etcd-snapshot --bench scan` runs on the largest snapshot in `fixtures/`;
//! set `ETCDSNAP_BENCH_SNAPSHOT=/path/to/snapshot.db` to measure another one (e.g. one made
//! by the large-snapshot generator).

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use etcd_snapshot::Snapshot;

fn snapshot_path() -> PathBuf {
    if let Some(path) = std::env::var_os("ETCDSNAP_BENCH_SNAPSHOT") {
        return PathBuf::from(path);
    }
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .expect("fixtures/")
        .filter_map(|e| e.ok().map(|e| e.path().join("snapshot.db")))
        .filter(|p| p.is_file())
        .collect();
    candidates.sort_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0));
    candidates.pop().expect("a fixture snapshot")
}

fn scan(c: &mut Criterion) {
    let path = snapshot_path();
    let snapshot = Snapshot::open(&path).expect("open snapshot");
    let store = snapshot.store().expect("etcd store");
    let (records, bytes) = store
        .records()
        .map(Result::unwrap)
        .fold((0u64, 0u64), |(n, b), r| (n + 1, b + r.kv.key.len() as u64 + r.kv.value.len() as u64 + 17));
    eprintln!("{}: {records} records, {bytes} bytes in the key bucket", path.display());
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let pools: Vec<(usize, rayon::ThreadPool)> = [1, threads]
        .into_iter()
        .map(|n| (n, rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap()))
        .collect();

    for (unit, throughput) in [("bytes", Throughput::Bytes(bytes)), ("records", Throughput::Elements(records))] {
        let mut group = c.benchmark_group(format!("key_bucket_scan_{unit}"));
        group.throughput(throughput);
        for (n, pool) in &pools {
            group.bench_function(BenchmarkId::new("decode_all_records", format!("{n}_threads")), |b| {
                b.iter(|| {
                    pool.install(|| {
                        store.par_runs(|run, _| run.filter(|r| r.is_ok()).count()).iter().map(|(n, _)| n).sum::<usize>()
                    })
                })
            });
            group.bench_function(BenchmarkId::new("live_keys", format!("{n}_threads")), |b| {
                b.iter(|| pool.install(|| store.live(b"", None).unwrap().items.len()))
            });
            // What `ls` keeps: whether each key exists, without its records.
            group.bench_function(BenchmarkId::new("key_states", format!("{n}_threads")), |b| {
                b.iter(|| pool.install(|| store.key_states(b"", None).unwrap().items.len()))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, scan);
criterion_main!(benches);
