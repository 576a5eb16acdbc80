//! `etcdsnap-gen`: write a large, realistic Kubernetes key space into a running etcd (see
//! `benches/make-snapshot.sh`, which starts etcd, runs this and saves the snapshot).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde_json::{json, Map, Value};

use etcdsnap_bench_gen::emit::{Emitter, NullSink, Sink, SIZE_BUCKETS};
use etcdsnap_bench_gen::etcd::EtcdSink;
use etcdsnap_bench_gen::model::{KUBE_MINOR, KUBE_VERSION};
use etcdsnap_bench_gen::scenario::{preset, Scenario, PRESETS};

#[derive(Parser, Debug)]
#[command(name = "etcdsnap-gen", about = "Write a large, realistic Kubernetes key space into a real etcd")]
struct Args {
    /// Size preset: tiny, small (~50 MB snapshot), 2g, 8g.
    #[arg(long, default_value = "small")]
    size: String,
    /// Seed of every random choice: the same seed writes the same keys and values.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// etcd client URL (http://127.0.0.1:PORT).
    #[arg(long, required_unless_present = "dry_run")]
    endpoint: Option<String>,
    /// Concurrent keep-alive connections to etcd (each key always uses the same one).
    #[arg(long, default_value_t = 3)]
    connections: usize,
    /// Writes per request: 1 = one object per revision, as kube-apiserver writes; more
    /// groups consecutive writes of a connection into one transaction.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Write the manifest (what was generated) here; stdout if absent.
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Generate and count everything without etcd.
    #[arg(long)]
    dry_run: bool,
    /// Decode every value back and compare with the object it was encoded from.
    #[arg(long)]
    check: bool,
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("etcdsnap-gen: {e:#}");
        std::process::exit(1);
    }
}

fn hist_json(h: &[u64; 7]) -> Value {
    Value::Object(SIZE_BUCKETS.iter().zip(h).map(|((_, name), n)| (name.to_string(), json!(n))).collect())
}

fn run(args: Args) -> Result<()> {
    let Some(preset) = preset(&args.size) else {
        let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
        bail!("unknown size {:?} (one of {})", args.size, names.join(", "));
    };
    let started = Instant::now();
    let (mut sink, etcd_version): (Box<dyn Sink>, String) = match (&args.endpoint, args.dry_run) {
        (Some(ep), false) => {
            let version = EtcdSink::server_version(ep).context("asking etcd for its version")?;
            (Box::new(EtcdSink::new(ep, args.connections, args.batch)?), version)
        }
        _ => (Box::new(NullSink::default()), "none (dry run)".to_string()),
    };
    let mut em = Emitter::new(sink.as_mut(), KUBE_MINOR, args.seed, args.check);
    let mut log = |msg: &str| eprintln!("etcdsnap-gen: [{:7.1}s] {msg}", started.elapsed().as_secs_f64());
    let report = Scenario::new(&mut em, args.seed, preset, &mut log).run()?;
    let final_revision = em.revision()?;
    let etcd_keys = if args.dry_run { None } else { em.count_keys()? };
    let load_seconds = started.elapsed().as_secs_f64();

    // The namespace the "one namespace" benchmark extracts: the largest application one.
    let app_ns: Vec<(String, u64)> = em
        .live_per_namespace()
        .into_iter()
        .filter(|(ns, _)| !report.deleted_namespaces.contains(ns))
        .filter(|(ns, _)| {
            !matches!(
                ns.as_str(),
                "kube-system"
                    | "kube-public"
                    | "kube-node-lease"
                    | "default"
                    | "argocd"
                    | "monitoring"
                    | "cert-manager"
                    | "external-secrets"
            )
        })
        .collect();
    let (bench_ns, bench_total) =
        app_ns.iter().max_by_key(|(ns, n)| (*n, std::cmp::Reverse(ns.clone()))).cloned().unwrap_or_default();
    let bench_counts: Map<String, Value> =
        em.ns_counts(&bench_ns).into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect();

    let counts = em.counts();
    let sum = |f: fn(&etcdsnap_bench_gen::emit::ResourceCounts) -> u64| counts.values().map(f).sum::<u64>();
    let live_bytes = sum(|c| c.live_bytes);
    let manifest = json!({
        "generator": "etcdsnap-gen",
        "size": preset.name,
        "seed": args.seed,
        "etcd_version": etcd_version,
        "kubernetes_version": KUBE_VERSION,
        "connections": args.connections,
        "batch": args.batch,
        "namespaces": {
            "application": report.app_namespaces,
            "system": report.system_namespaces,
            "deleted": report.deleted_namespaces,
            "live": report.app_namespaces + report.system_namespaces - report.deleted_namespaces.len(),
        },
        "nodes": report.nodes,
        "objects": em.counts_json(),
        "totals": {
            "writes": em.writes,
            "created": sum(|c| c.created),
            "updates": sum(|c| c.updated),
            "deletes": sum(|c| c.deleted),
            "live_keys": em.live_count(),
            "live_keys_etcd": etcd_keys,
        },
        "revisions": {
            "final": final_revision,
            "expected_one_write_per_revision": em.revisions,
            "compaction": report.compaction_revision,
            "retained_after_compaction": final_revision - report.compaction_revision,
        },
        "churn": {
            "rollouts": report.rollouts,
            "scalings": report.scalings,
            "pod_restarts": report.restarts,
            "event_leases_revoked": report.leases_revoked,
            "events_expired": report.events_expired,
        },
        "bench_namespace": {"name": bench_ns, "objects": bench_counts, "total": bench_total},
        "value_bytes": {"written": em.value_bytes, "live": live_bytes, "largest": em.max_value},
        "value_sizes": {"written": hist_json(&em.written_hist), "live": hist_json(&em.live_hist())},
        "time_seconds": {"etcd_load": (load_seconds * 10.0).round() / 10.0},
        "throughput": {
            "value_mb_per_s": ((em.value_bytes as f64 / 1e6 / load_seconds) * 10.0).round() / 10.0,
            "writes_per_s": (em.writes as f64 / load_seconds).round(),
        },
    });
    drop(em);
    if let (Some(keys), false) = (etcd_keys, args.dry_run) {
        let ours = manifest["totals"]["live_keys"].as_u64().unwrap_or(0);
        if keys != ours {
            bail!("etcd holds {keys} keys, the generator expected {ours}");
        }
    }
    if !args.dry_run
        && args.batch == 1
        && final_revision != manifest["revisions"]["expected_one_write_per_revision"].as_i64().unwrap_or(0)
    {
        eprintln!(
            "etcdsnap-gen: warning: etcd's revision is {final_revision}, expected {}",
            manifest["revisions"]["expected_one_write_per_revision"]
        );
    }
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    match &args.manifest {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?,
        None => print!("{text}"),
    }
    eprintln!(
        "etcdsnap-gen: {} writes, {:.1} MB of values, {} live keys, final revision {final_revision}, compaction at {} in {load_seconds:.1} s",
        manifest["totals"]["writes"],
        manifest["value_bytes"]["written"].as_f64().unwrap_or(0.0) / 1e6,
        manifest["totals"]["live_keys"],
        report.compaction_revision
    );
    Ok(())
}
