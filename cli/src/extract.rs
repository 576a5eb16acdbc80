//! `etcdsnap extract`: select objects, decode them on every core, clean them for
//! `kubectl create -f`, and write them as files or one stream.
//!
//! Work is split in three: one scan of the key space (the store's own parallel scan), the
//! per-object work (decode, label filter, skip decision, cleaning, rendering) on the rayon
//! pool, and writing, which runs in a fixed order so that the output never depends on the
//! number of threads.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use etcd_snapshot::{Record, Store};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use k8s_decode::clean::{clean, skip_reason, CleanOptions, Skip, SkipContext};
use k8s_decode::keys::{normalize_prefix, parse_key, ObjectKey};
use k8s_decode::resources::{is_builtin_group, ResourceTable};
use k8s_decode::{DecodeError, DecodeOptions, Decoder};
use rayon::prelude::*;
use regex::Regex;
use serde_json::{json, Value};

use crate::output::SnapshotArg;
use crate::render::{store_evidence, KubeVersionArg};
use files::{relative_path, Layout, OutputDir, PathAllocator};
use select::{LabelSelector, ResourceFilter, Selection};

// Declared here rather than in main.rs: they serve `extract` only.
#[path = "files.rs"]
mod files;
#[path = "select.rs"]
mod select;

/// The annotation marking an object whose key was deleted.
pub const DELETED_ANNOTATION: &str = "etcdsnap.io/deleted-at-revision";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// YAML as kubectl prints it; on stdout a `---`-separated multi-document stream.
    Yaml,
    /// JSON as kubectl prints it; on stdout one `v1/List`.
    Json,
    /// One compact JSON object per line (stdout only).
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Order {
    /// By etcd key.
    Key,
    /// Safe creation order: CRDs, Namespaces, storage, Secrets, ConfigMaps, ServiceAccounts,
    /// RBAC, quotas, workloads, Services, Ingresses, others.
    Apply,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    snapshot: SnapshotArg,
    /// Resources as kubectl names them (plural, singular, short name, Kind, resource.group;
    /// comma lists allowed), including custom resources of CRDs in the snapshot.
    #[arg(value_name = "RESOURCE")]
    resources: Vec<String>,
    /// More resources, like the positional ones.
    #[arg(long = "resource", value_name = "RESOURCE")]
    resource_flags: Vec<String>,
    /// Only objects in this namespace (repeatable).
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    namespaces: Vec<String>,
    /// Every namespace (the default when no -n is given).
    #[arg(short = 'A', long, conflicts_with = "namespaces")]
    all_namespaces: bool,
    /// Also cluster-scoped objects (included anyway for resources named explicitly).
    #[arg(long)]
    cluster_scoped: bool,
    /// Only objects whose name matches this regular expression (unanchored).
    #[arg(long, value_name = "REGEX")]
    name: Option<String>,
    /// Label selector, kubectl syntax: `a=b,c!=d,e in (f,g),h notin (i),j,!k`.
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    selector: Option<String>,
    /// Only keys starting with this raw etcd prefix (repeatable).
    #[arg(long = "prefix", value_name = "KEY_PREFIX")]
    key_prefixes: Vec<String>,
    /// State at this (retained) revision instead of the latest.
    #[arg(long, value_name = "R")]
    revision: Option<i64>,
    /// Also the last retained state of deleted objects, annotated with
    /// `etcdsnap.io/deleted-at-revision`.
    #[arg(long)]
    include_deleted: bool,
    /// Key prefix of the API server (`--etcd-prefix`; OpenShift: /kubernetes.io).
    #[arg(long, default_value = "/registry", value_name = "PREFIX")]
    etcd_prefix: String,
    /// Output: a directory (one file per object) or `-` for stdout.
    #[arg(short = 'o', long = "output", default_value = "-", value_name = "DIR|-")]
    output: String,
    #[arg(long, value_enum, default_value = "tree")]
    layout: Layout,
    /// Overwrite existing files in the output directory.
    #[arg(long)]
    force: bool,
    #[arg(long, value_enum, default_value = "yaml")]
    format: Format,
    #[arg(long, value_enum, default_value = "key")]
    order: Order,
    /// Keep objects as the API server shows them: no cleaning, nothing skipped.
    #[arg(long)]
    raw: bool,
    /// Keep metadata.ownerReferences.
    #[arg(long)]
    keep_owner_references: bool,
    /// Keep auto-assigned Service nodePorts and healthCheckNodePort.
    #[arg(long)]
    keep_node_ports: bool,
    /// Keep what the cluster recreates by itself: owned objects, Events, Leases, token
    /// Secrets, managed Endpoints/EndpointSlices, cluster defaults, API-server bookkeeping.
    #[arg(long)]
    include_owned: bool,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    #[command(flatten)]
    kube_version: KubeVersionArg,
}

/// One object ready to write.
struct Item {
    resource: String,
    namespace: Option<String>,
    name: String,
    rank: u8,
    object: Value,
    /// The rendered file/document (empty for `--format json` on stdout, rendered as a List).
    rendered: Vec<u8>,
}

enum Outcome {
    Keep(Box<Item>),
    Skipped(Skip, String),
    Filtered,
    Undecodable(String, String),
}

/// What the closing summary reports.
#[derive(Default)]
struct Summary {
    written: BTreeMap<String, usize>,
    skipped: BTreeMap<Skip, BTreeMap<String, usize>>,
    undecodable: Vec<(String, String)>,
    not_objects: Vec<String>,
    deleted_without_content: usize,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let threads = args.threads.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().context("cannot start worker threads")?;
    pool.install(|| run_in_pool(args))
}

fn run_in_pool(args: Args) -> Result<ExitCode> {
    let started = Instant::now();
    if args.format == Format::Jsonl && args.output != "-" {
        bail!("--format jsonl writes one stream; use it with -o -");
    }
    let snapshot = args.snapshot.open()?;
    let store = snapshot.store()?;
    let prefix = normalize_prefix(&args.etcd_prefix);
    let at = args.revision;
    let decoder = args.kube_version.decoder_for(|| store_evidence(&store, &args.etcd_prefix));

    let table = resource_table(&store, &decoder, &prefix, at);
    let mut names = args.resources.clone();
    names.extend(args.resource_flags.iter().cloned());
    let selection = Selection {
        namespaces: args.namespaces.clone(),
        cluster_scoped: args.cluster_scoped,
        resources: ResourceFilter::resolve(&names, &table)?,
        name: args.name.as_deref().map(Regex::new).transpose().context("--name")?,
        key_prefixes: args.key_prefixes.clone(),
        labels: args.selector.as_deref().map(LabelSelector::parse).transpose()?,
    };
    let cleaning = !args.raw;
    let skipping = cleaning && !args.include_owned;
    let services_with_selector =
        if skipping { services_with_selector(&store, &decoder, &prefix, at) } else { HashSet::new() };

    // One scan: live keys and, if asked, deleted ones with their last content.
    let scan = store.key_histories(prefix.as_bytes(), at)?;
    let mut summary = Summary::default();
    let mut candidates: Vec<(String, ObjectKey, Record<'_>, Option<i64>)> = Vec::new();
    let report_odd_keys = selection.namespaces.is_empty() && selection.resources.is_none();
    for history in &scan.items {
        let (record, deleted_at) = if history.is_deleted() {
            if !args.include_deleted {
                continue;
            }
            match history.last_put {
                Some(put) => (put, Some(history.last.revision_key.revision.main)),
                None => {
                    summary.deleted_without_content += 1;
                    continue;
                }
            }
        } else {
            (history.last, None)
        };
        let raw_key = String::from_utf8_lossy(history.key).into_owned();
        match parse_key(history.key, &prefix, &table) {
            Ok(key) if selection.takes_key(&raw_key, &key) => candidates.push((raw_key, key, record, deleted_at)),
            Ok(_) => {}
            Err(e) if report_odd_keys => summary.not_objects.push(format!("{raw_key}: {e}")),
            Err(_) => {}
        }
    }

    let progress = progress_bar(candidates.len() as u64);
    let clean_options =
        CleanOptions { keep_owner_references: args.keep_owner_references, keep_node_ports: args.keep_node_ports };
    let has_selector = |ns: &str, name: &str| services_with_selector.contains(&(ns.to_string(), name.to_string()));
    let stdout_list = args.output == "-" && args.format == Format::Json;
    let outcomes: Vec<Outcome> = candidates
        .par_iter()
        .map(|(raw_key, key, record, deleted_at)| {
            let outcome = process(
                &decoder,
                &table,
                &selection,
                raw_key,
                key,
                record,
                *deleted_at,
                Processing {
                    cleaning,
                    skipping,
                    clean_options: &clean_options,
                    has_selector: &has_selector,
                    format: args.format,
                    render: !stdout_list,
                },
            );
            progress.inc(1);
            outcome
        })
        .collect();
    progress.finish_and_clear();

    let mut items: Vec<Item> = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        match outcome {
            Outcome::Keep(item) => {
                *summary.written.entry(item.resource.clone()).or_default() += 1;
                items.push(*item);
            }
            Outcome::Skipped(skip, resource) => {
                *summary.skipped.entry(skip).or_default().entry(resource).or_default() += 1;
            }
            Outcome::Filtered => {}
            Outcome::Undecodable(key, reason) => summary.undecodable.push((key, reason)),
        }
    }
    if args.order == Order::Apply {
        // Stable: key order within a rank.
        items.sort_by_key(|i| i.rank);
    }

    let destination = if args.output == "-" {
        write_stream(&items, args.format)?;
        "stdout".to_string()
    } else {
        let dir = PathBuf::from(&args.output);
        write_dir(&items, &dir, args.layout, args.format, args.force)?;
        dir.display().to_string()
    };
    print_summary(&summary, items.len(), &destination, started);
    let damaged = !scan.errors.is_empty();
    for e in &scan.errors {
        eprintln!("etcdsnap: {}: {e}", snapshot.path().display());
    }
    Ok(if summary.undecodable.is_empty() && !damaged { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Built-ins plus the CRDs stored in the snapshot (at the revision asked for).
fn resource_table(store: &Store<'_>, decoder: &Decoder, prefix: &str, at: Option<i64>) -> ResourceTable {
    let mut table = ResourceTable::builtin();
    let crd_prefix = format!("{prefix}apiextensions.k8s.io/customresourcedefinitions/");
    let crds = store.live(crd_prefix.as_bytes(), at).map(|s| s.items).unwrap_or_default();
    for record in crds {
        if let Ok(decoded) = decoder.decode(record.kv.value, &DecodeOptions::default()) {
            // A malformed CRD only means its resources are not resolvable by name.
            let _ = table.add_crd(&decoded.object);
        }
    }
    table
}

/// (namespace, name) of Services with a selector: their Endpoints are controller-managed.
fn services_with_selector(
    store: &Store<'_>,
    decoder: &Decoder,
    prefix: &str,
    at: Option<i64>,
) -> HashSet<(String, String)> {
    let services = store.live(format!("{prefix}services/specs/").as_bytes(), at).map(|s| s.items).unwrap_or_default();
    services
        .iter()
        .filter_map(|r| decoder.decode(r.kv.value, &DecodeOptions::default()).ok())
        .filter(|d| d.object.pointer("/spec/selector").and_then(Value::as_object).is_some_and(|s| !s.is_empty()))
        .filter_map(|d| {
            let meta = d.object.get("metadata")?;
            Some((meta.get("namespace")?.as_str()?.to_string(), meta.get("name")?.as_str()?.to_string()))
        })
        .collect()
}

struct Processing<'a> {
    cleaning: bool,
    skipping: bool,
    clean_options: &'a CleanOptions,
    has_selector: &'a (dyn Fn(&str, &str) -> bool + Sync),
    format: Format,
    render: bool,
}

#[allow(clippy::too_many_arguments)]
fn process(
    decoder: &Decoder,
    table: &ResourceTable,
    selection: &Selection,
    raw_key: &str,
    key: &ObjectKey,
    record: &Record<'_>,
    deleted_at: Option<i64>,
    p: Processing<'_>,
) -> Outcome {
    let options = DecodeOptions { key: Some(record.kv.key), mod_revision: Some(record.kv.mod_revision), message: None };
    let mut object = match decoder.decode(record.kv.value, &options) {
        Ok(decoded) => decoded.object,
        Err(e) => return Outcome::Undecodable(raw_key.to_string(), describe(&e)),
    };
    if selection.labels.as_ref().is_some_and(|l| !l.matches(&object)) {
        return Outcome::Filtered;
    }
    let info = table.lookup(&key.group, &key.resource);
    let resource = if is_builtin_group(&key.group) || key.group.is_empty() {
        key.resource.clone()
    } else {
        format!("{}.{}", key.resource, key.group)
    };
    if p.skipping {
        let context = SkipContext {
            internal: info.is_some_and(|i| i.internal),
            service_has_selector: Some(&|ns: &str, name: &str| (p.has_selector)(ns, name)),
        };
        if let Some(skip) = skip_reason(&object, &context) {
            return Outcome::Skipped(skip, resource);
        }
    }
    if p.cleaning {
        clean(&mut object, p.clean_options);
    }
    if let Some(revision) = deleted_at {
        mark_deleted(&mut object, revision);
    }
    let rendered = if p.render {
        match render(&object, p.format) {
            Ok(bytes) => bytes,
            Err(e) => return Outcome::Undecodable(raw_key.to_string(), format!("cannot render: {e}")),
        }
    } else {
        Vec::new()
    };
    let rank = apply_rank(&object);
    Outcome::Keep(Box::new(Item {
        resource,
        namespace: key.namespace.clone(),
        name: key.name.clone(),
        rank,
        object,
        rendered,
    }))
}

/// A decode error, told without any bytes of the value (Secrets!).
fn describe(e: &DecodeError) -> String {
    match e {
        DecodeError::UnrecognizedFormat { .. } => "unrecognised value encoding".into(),
        DecodeError::Json { line, column, .. } => format!("invalid JSON at line {line}, column {column}"),
        DecodeError::Wire { offset, path, .. } => format!("malformed protobuf at byte {offset} (in {path})"),
        DecodeError::Cbor { offset, .. } => format!("malformed CBOR at byte {offset}"),
        other => other.to_string(),
    }
}

fn mark_deleted(object: &mut Value, revision: i64) {
    let Some(obj) = object.as_object_mut() else { return };
    let meta = obj.entry("metadata").or_insert_with(|| json!({}));
    let Some(meta) = meta.as_object_mut() else { return };
    let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(DELETED_ANNOTATION.into(), json!(revision.to_string()));
    }
}

fn render(object: &Value, format: Format) -> Result<Vec<u8>> {
    Ok(match format {
        Format::Yaml => k8s_decode::yaml::to_yaml_string(object)?.into_bytes(),
        Format::Json => k8s_decode::to_go_json_pretty(object).into_bytes(),
        Format::Jsonl => {
            let mut line = k8s_decode::to_go_json(object).into_bytes();
            line.push(b'\n');
            line
        }
    })
}

/// Creation order for `--order apply` (Velero's restore order, extended).
fn apply_rank(object: &Value) -> u8 {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    match (group, kind) {
        ("apiextensions.k8s.io", "CustomResourceDefinition") => 0,
        ("", "Namespace") => 1,
        ("storage.k8s.io", "StorageClass") => 2,
        ("", "PersistentVolume") => 3,
        ("", "PersistentVolumeClaim") => 4,
        ("", "Secret") => 5,
        ("", "ConfigMap") => 6,
        ("", "ServiceAccount") => 7,
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => 8,
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => 9,
        // Pods are rejected when their PriorityClass or quota-related objects are missing.
        ("", "LimitRange" | "ResourceQuota") | ("scheduling.k8s.io", "PriorityClass") => 10,
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("", "ReplicationController" | "Pod")
        | ("batch", "Job" | "CronJob") => 11,
        ("", "Service") => 12,
        ("networking.k8s.io" | "extensions", "Ingress") => 13,
        _ => 14,
    }
}

fn write_stream(items: &[Item], format: Format) -> Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    match format {
        Format::Json => {
            let list = json!({
                "apiVersion": "v1",
                "items": items.iter().map(|i| i.object.clone()).collect::<Vec<_>>(),
                "kind": "List",
                "metadata": {"resourceVersion": ""},
            });
            out.write_all(k8s_decode::to_go_json_pretty(&list).as_bytes())?;
        }
        Format::Yaml | Format::Jsonl => {
            for (n, item) in items.iter().enumerate() {
                if format == Format::Yaml && n > 0 {
                    out.write_all(b"---\n")?;
                }
                out.write_all(&item.rendered)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn write_dir(items: &[Item], dir: &std::path::Path, layout: Layout, format: Format, force: bool) -> Result<()> {
    let ext = if format == Format::Yaml { "yaml" } else { "json" };
    let mut allocator = PathAllocator::default();
    let paths: Vec<PathBuf> = items
        .iter()
        .map(|i| allocator.allocate(relative_path(layout, &i.resource, i.namespace.as_deref(), &i.name, ext)))
        .collect();
    let mut out = OutputDir::create(dir, force)?;
    out.check_free(paths.iter().map(PathBuf::as_path))?;
    for (item, path) in items.iter().zip(&paths) {
        out.write(path, &item.rendered)?;
    }
    Ok(())
}

fn progress_bar(len: u64) -> ProgressBar {
    // Only on a terminal: logs and pipes get the summary alone.
    if !io::stderr().is_terminal() || len < 1000 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} objects ({eta} left)") {
        bar.set_style(style);
    }
    bar
}

fn counts(map: &BTreeMap<String, usize>) -> String {
    map.iter().map(|(r, n)| format!("{r} {n}")).collect::<Vec<_>>().join(", ")
}

fn print_summary(summary: &Summary, written: usize, destination: &str, started: Instant) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "etcdsnap: extract: {written} object(s) written to {destination}");
    if !summary.written.is_empty() {
        let _ = writeln!(err, "  written: {}", counts(&summary.written));
    }
    let skipped: usize = summary.skipped.values().flat_map(BTreeMap::values).sum();
    if skipped > 0 {
        let _ = writeln!(err, "  skipped {skipped} (--include-owned keeps them):");
        for (skip, by_resource) in &summary.skipped {
            let n: usize = by_resource.values().sum();
            let _ = writeln!(err, "    {n} {}: {}", skip.reason(), counts(by_resource));
        }
    }
    if summary.deleted_without_content > 0 {
        let _ = writeln!(err, "  deleted keys whose content compaction removed: {}", summary.deleted_without_content);
    }
    if !summary.not_objects.is_empty() {
        let _ = writeln!(err, "  not object keys: {}", summary.not_objects.len());
        for line in &summary.not_objects {
            let _ = writeln!(err, "    {line}");
        }
    }
    if !summary.undecodable.is_empty() {
        let _ = writeln!(err, "  undecodable {}:", summary.undecodable.len());
        for (key, reason) in &summary.undecodable {
            let _ = writeln!(err, "    {key}: {reason}");
        }
    }
    let _ = writeln!(err, "  time: {:.3} s", started.elapsed().as_secs_f64());
}
