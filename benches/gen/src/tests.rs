//! Whole-scenario tests without etcd: every value round-trips through k8s-decode, sizes are
//! where the README says, and a seed always writes the same thing.

use std::collections::BTreeSet;

use anyhow::Result;

use crate::emit::{Emitter, NullSink, ResourceCounts, Sink};
use crate::model::KUBE_MINOR;
use crate::rng::hash64;
use crate::scenario::{preset, Report, Scenario};

/// Records every operation (with a hash of the value) on top of a [`NullSink`].
#[derive(Default)]
struct RecordSink {
    inner: NullSink,
    ops: Vec<(char, String, u64, Option<i64>)>,
}

impl Sink for RecordSink {
    fn put(&mut self, key: &str, value: Vec<u8>, lease: Option<i64>) -> Result<()> {
        self.ops.push(('p', key.to_string(), hash64(&value), lease));
        self.inner.put(key, value, lease)
    }
    fn delete(&mut self, key: &str) -> Result<()> {
        self.ops.push(('d', key.to_string(), 0, None));
        self.inner.delete(key)
    }
    fn grant(&mut self, id: i64, ttl: i64) -> Result<()> {
        self.ops.push(('g', String::new(), ttl as u64, Some(id)));
        self.inner.grant(id, ttl)
    }
    fn revoke(&mut self, id: i64) -> Result<()> {
        self.ops.push(('r', String::new(), 0, Some(id)));
        self.inner.revoke(id)
    }
    fn barrier(&mut self) -> Result<()> {
        self.inner.barrier()
    }
    fn compact(&mut self) -> Result<i64> {
        self.ops.push(('c', String::new(), 0, None));
        self.inner.compact()
    }
    fn revision(&mut self) -> Result<i64> {
        self.inner.revision()
    }
    fn count_keys(&mut self) -> Result<Option<u64>> {
        self.inner.count_keys()
    }
}

struct Run {
    report: Report,
    counts: std::collections::BTreeMap<&'static str, ResourceCounts>,
    live: u64,
    revisions: i64,
    /// Values written per size bucket (`emit::SIZE_BUCKETS`).
    hist: [u64; 7],
}

fn run(size: &str, seed: u64, check: bool, sink: &mut dyn Sink) -> Run {
    let mut em = Emitter::new(sink, KUBE_MINOR, seed, check);
    let mut log = |_: &str| {};
    let report = Scenario::new(&mut em, seed, preset(size).unwrap(), &mut log).run().unwrap();
    Run { report, counts: em.counts(), live: em.live_count(), revisions: em.revisions, hist: em.written_hist }
}

/// Every value of the tiny scenario (all kinds, every lifecycle step, updates included) is
/// encoded with k8s-decode's `Encoder` (or as JSON for custom resources) and decodes with
/// its `Decoder` to the very object it was made from, without warnings.
#[test]
fn every_value_decodes_back_to_its_object() {
    let mut sink = NullSink::default();
    let counts = run("tiny", 7, true, &mut sink).counts;
    let kinds: BTreeSet<&str> = counts.keys().copied().collect();
    for want in [
        "pods",
        "deployments",
        "replicasets",
        "daemonsets",
        "services",
        "endpoints",
        "endpointslices",
        "configmaps",
        "secrets",
        "serviceaccounts",
        "roles",
        "rolebindings",
        "clusterroles",
        "clusterrolebindings",
        "events",
        "leases",
        "namespaces",
        "nodes",
        "customresourcedefinitions",
        "servicemonitors.monitoring.coreos.com",
        "prometheuses.monitoring.coreos.com",
        "applications.argoproj.io",
    ] {
        assert!(kinds.contains(want), "the tiny scenario writes no {want}: {kinds:?}");
    }
}

/// The value sizes per kind fall where the README says (small preset, the CI size).
#[test]
fn sizes_fall_in_the_intended_ranges() {
    let mut sink = NullSink::default();
    let Run { counts, live, hist, .. } = run("small", 1, false, &mut sink);
    let c = |r: &str| counts.get(r).cloned().unwrap_or_else(|| panic!("no {r}"));
    let mean = |r: &str| {
        let x = c(r);
        x.bytes_written / (x.created + x.updated)
    };
    let within = |r: &str, lo: u64, hi: u64| {
        let x = c(r);
        assert!(x.min_size >= lo && x.max_size <= hi, "{r}: sizes {}..={} outside {lo}..={hi}", x.min_size, x.max_size);
    };
    within("events", 400, 1_600);
    within("leases", 300, 650);
    within("pods", 2_000, 40_000);
    within("nodes", 5_000, 20_000);
    within("endpointslices", 300, 20_000);
    within("configmaps", 300, 1_000_000);
    within("secrets", 300, 1_000_000);
    within("customresourcedefinitions", 20_000, 1_000_000);
    assert!((3_000..=8_000).contains(&mean("pods")), "pods mean {}", mean("pods"));
    assert!((3_000..=10_000).contains(&mean("deployments")), "deployments mean {}", mean("deployments"));
    assert!((500..=1_200).contains(&mean("events")), "events mean {}", mean("events"));
    // A few objects near 1 MB, none above etcd's request limit we configure (3 MiB) or
    // the apiserver's usual 1.5 MiB.
    let big: u64 = counts.values().filter(|x| x.max_size > 800_000).count() as u64;
    assert!(big >= 2, "want a few ~1 MB objects");
    assert!(counts.values().all(|x| x.max_size < 1_000_000));
    // Objects in every size class from 300 B up to 256 KiB, most of them small.
    assert!(hist[1..6].iter().all(|n| *n > 0), "size histogram {hist:?}");
    assert!(hist[1] + hist[2] + hist[3] > 20 * (hist[4] + hist[5]), "size histogram {hist:?}");
    assert!((5_000..=10_000).contains(&live), "small has {live} live keys");
}

/// Same seed: the same operations, keys, values and lease ids, in the same order. Another
/// seed: different values.
#[test]
fn a_seed_always_writes_the_same() {
    let mut a = RecordSink::default();
    let mut b = RecordSink::default();
    let mut c = RecordSink::default();
    let ra = run("tiny", 3, false, &mut a);
    let rb = run("tiny", 3, false, &mut b);
    let _ = run("tiny", 4, false, &mut c);
    assert_eq!(a.ops.len(), b.ops.len());
    assert!(a.ops == b.ops, "same seed, different operations");
    assert_eq!(
        (ra.live, ra.revisions, ra.report.compaction_revision),
        (rb.live, rb.revisions, rb.report.compaction_revision)
    );
    assert_ne!(a.ops, c.ops);
    // The books agree with what the sink saw: one revision per write request.
    assert_eq!(a.inner.revision().unwrap(), ra.revisions);
    assert_eq!(a.inner.count_keys().unwrap(), Some(ra.live));
}
