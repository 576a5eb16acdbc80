//! `etcdsnap extract`: select objects, decode them on every core, clean them for
//! `kubectl create -f`, and write them as files or one stream.
//!
//! Work is split in three: one scan of the key space (the store's own parallel scan; one per
//! key range when a snapshot is too large for one, so memory stays bounded), the per-object
//! work (decode, label filter, skip decision, cleaning, rendering) on the rayon
//! pool, and writing, which runs in a fixed order so that the output never depends on the
//! number of threads.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use etcd_snapshot::{read_ahead, with_prefix, KeyHistory, KeySample, LeafPasses, Store};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use k8s_decode::clean::{CleanOptions, Skip};
use k8s_decode::encryption::EncryptionKeys;
use k8s_decode::keys::{normalize_prefix, parse_key_ref, parse_key_str, ObjectKeyRef};
use k8s_decode::namespace_map::NamespaceMap;
use k8s_decode::resources::{is_builtin_group, ResourceTable};
use k8s_decode::{DecodeOptions, Decoder, LeaveOut};
use rayon::prelude::*;
use regex::Regex;

use crate::output::{run_noted_passes, SnapshotArg};
use crate::render::{
    crd_name, crd_prefix, held_crd_keys, plaintext, resource_table, sorted_evidence, EncryptionArg, KubeVersionArg,
};
use files::{relative_path, Layout, OutputDir, PathAllocator};
use process::{moved_from, Outcome, Processing};
use select::{comma_list, LabelSelector, ResourceFilter, Selection};
use sink::Sink;

// Declared here rather than in main.rs: they serve `extract` only.
#[path = "files.rs"]
mod files;
#[path = "pipeline.rs"]
mod pipeline;
#[path = "process.rs"]
mod process;
#[path = "select.rs"]
mod select;
#[path = "sink.rs"]
mod sink;

/// The annotation marking an object whose key was deleted.
pub const DELETED_ANNOTATION: &str = "etcdsnap.io/deleted-at-revision";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// YAML as kubectl prints it; on stdout a `---`-separated multi-document stream.
    Yaml,
    /// JSON as kubectl prints it; on stdout one `v1/List`.
    Json,
    /// One compact JSON object per line, keys sorted as in `json` (stdout only).
    Jsonl,
    /// One name per line as `kubectl get -o name` prints it (`deployment.apps/web`): what
    /// would be written, as a list (stdout only).
    Name,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Order {
    /// By etcd key.
    Key,
    /// Safe creation order: CRDs, Namespaces, storage, Secrets, ConfigMaps, ServiceAccounts,
    /// RBAC, quotas, workloads, Services, Ingresses, others. With `-o DIR`, each resource's
    /// directory (tree layout) or file name (flat) starts with its two-digit place in that
    /// order (`05-secrets`), so that `kubectl create -R -f DIR`, which reads files in name
    /// order, creates them in this order too. The tree layout then puts namespaces in
    /// `namespaces/<namespace>/`, after `_cluster/` whatever their names (a digit sorts
    /// before `_`), and goes namespace by namespace.
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
    /// Only objects in this namespace (repeatable). With nothing else narrowing the selection
    /// (no RESOURCE, --name, -l or --prefix), also its Namespace object and the
    /// CustomResourceDefinitions of its custom resources: what re-creating the namespace in
    /// a cluster without it needs.
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
    /// Leave out the objects of this namespace (repeatable, comma lists allowed), whatever
    /// else selects them.
    #[arg(long, value_name = "NS", visible_alias = "exclude-namespaces")]
    exclude_namespace: Vec<String>,
    /// Leave out these resources (named as RESOURCE is; repeatable, comma lists allowed),
    /// whatever else selects them.
    #[arg(long, value_name = "RESOURCE", visible_alias = "exclude-resources")]
    exclude_resource: Vec<String>,
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
    /// Write the objects of namespace OLD as objects of namespace NEW (repeatable, comma
    /// lists allowed; Velero's `--namespace-mappings`): their metadata.namespace, the
    /// Namespace object's name, RoleBinding and ClusterRoleBinding subjects, PersistentVolume
    /// claimRefs, and the output paths. Selection (`-n`) still names the namespaces as stored.
    #[arg(long, value_name = "OLD:NEW", visible_alias = "namespace-mappings")]
    namespace_mapping: Vec<String>,
    /// Keep what the cluster recreates by itself: owned objects, Events, Leases, token
    /// Secrets, managed Endpoints/EndpointSlices, cluster defaults, API-server bookkeeping.
    #[arg(long)]
    include_owned: bool,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Records per pass over the file (tests use it to force several passes).
    #[arg(long, hide = true, default_value_t = etcd_snapshot::PASS_RECORDS)]
    pass_records: usize,
    #[command(flatten)]
    kube_version: KubeVersionArg,
    #[command(flatten)]
    encryption: EncryptionArg,
}

/// What the closing summary reports.
#[derive(Default)]
struct Summary {
    written: BTreeMap<String, usize>,
    skipped: BTreeMap<Skip, BTreeMap<String, usize>>,
    undecodable: Vec<(String, String)>,
    not_objects: Vec<String>,
    /// Objects moved by `--namespace-mapping`, by the namespace they were moved from.
    moved: BTreeMap<String, usize>,
    deleted_without_content: usize,
}

/// A selected key, before decoding: an index into the scan, kept small because a large
/// snapshot has millions of them.
#[derive(Clone, Copy)]
struct Candidate {
    index: u32,
    rank: u8,
}

/// What the selection makes of one scanned key.
enum Pick<'k> {
    Candidate(Candidate),
    /// Skipped by its key alone (see `Processing::skip_by_key`), with its resource.
    Skipped(Skip, SkippedResource<'k>),
    DeletedWithoutContent,
    /// A line for the summary's list of keys that are not objects.
    NotObject(String),
    TooMany,
    Nothing,
}

/// A resource as the summary counts it (see [`storage_name`]), borrowed: a hundred thousand
/// Events are skipped by their key on 2 GiB, and their name is made once.
#[derive(Clone, Copy, PartialEq, Eq)]
struct SkippedResource<'k> {
    group: &'k str,
    resource: &'k str,
}

/// The picks of a run of keys, folded as they are made: the candidates in key order, the
/// rest counted. A vector of every key's pick was 10 MB of fresh memory on 2 GiB.
#[derive(Default)]
struct Picked<'k> {
    candidates: Vec<Candidate>,
    /// Few distinct ones: searched, not hashed.
    skipped: Vec<((Skip, SkippedResource<'k>), usize)>,
    deleted_without_content: usize,
    not_objects: Vec<String>,
    too_many: bool,
}

impl<'k> Picked<'k> {
    fn add(mut self, pick: Pick<'k>) -> Self {
        match pick {
            Pick::Candidate(c) => self.candidates.push(c),
            Pick::Skipped(skip, resource) => self.count_skipped((skip, resource), 1),
            Pick::DeletedWithoutContent => self.deleted_without_content += 1,
            Pick::NotObject(line) => self.not_objects.push(line),
            Pick::TooMany => self.too_many = true,
            Pick::Nothing => {}
        }
        self
    }

    fn count_skipped(&mut self, what: (Skip, SkippedResource<'k>), n: usize) {
        match self.skipped.iter_mut().find(|(w, _)| *w == what) {
            Some((_, count)) => *count += n,
            None => self.skipped.push((what, n)),
        }
    }

    /// `self`'s keys, then `later`'s.
    fn then(mut self, mut later: Picked<'k>) -> Self {
        self.candidates.append(&mut later.candidates);
        for (what, n) in later.skipped {
            self.count_skipped(what, n);
        }
        self.deleted_without_content += later.deleted_without_content;
        self.not_objects.append(&mut later.not_objects);
        self.too_many |= later.too_many;
        self
    }
}

/// Keys (or records) read into the cache together when choosing the candidates and
/// finding the Services with a selector (see `read_ahead`).
const KEYS_READ_AHEAD: usize = 16;

/// How much of each record of a chunk is read into the cache before the chunk's work: most
/// records whole (a few KB), the start of the large ones.
const RECORD_READ_AHEAD_BYTES: usize = 16 << 10;

/// Objects are decoded, cleaned and rendered in chunks of this many on every core, and
/// written in order and dropped as soon as their turn comes (see `pipeline`).
const CHUNK: usize = 64;

/// How many chunks each thread may work ahead of the writer: memory stays bounded by this
/// window (threads × 16 × 64 objects), not by the snapshot.
const CHUNKS_AHEAD_PER_THREAD: usize = 16;

pub fn run(args: Args) -> Result<ExitCode> {
    let threads = args.threads.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().context("cannot start worker threads")?;
    pool.install(|| run_in_pool(args))
}

fn run_in_pool(args: Args) -> Result<ExitCode> {
    let started = Instant::now();
    let destination = Destination::parse(&args.output);
    if matches!(args.format, Format::Jsonl | Format::Name) && matches!(destination, Destination::Dir(_)) {
        bail!(
            "--format {} writes one stream; use it with -o -",
            if args.format == Format::Name { "name" } else { "jsonl" }
        );
    }
    // Checked before the snapshot is read: a large one takes a while.
    let namespaces = NamespaceMap::parse(args.namespace_mapping.iter().map(String::as_str))?;
    let keys = args.encryption.load()?;
    let snapshot = args.snapshot.open()?;
    let store = snapshot.store()?;
    let prefix = normalize_prefix(&args.etcd_prefix);
    let at = args.revision;
    let namespace_objects = namespace_object_keys(&args, &prefix);
    let filter = key_filter(&args, &prefix, &namespace_objects);

    // Memory is bounded by the keys of one pass over the file. Usually everything fits in
    // one, and that one scan also gives the release evidence, CRDs and Services (found in
    // it by binary search); otherwise a small scan of just those comes first.
    let sample = store.sample_keys(prefix.as_bytes(), &filter);
    let passes = sample.passes(args.pass_records);
    let mut context_prefixes = always_scanned(&prefix);
    context_prefixes.push(services_prefix(&prefix).into_bytes());
    let in_context = |key: &[u8]| context_prefixes.iter().any(|p| key.starts_with(p));
    // In key order the passes are known now, and that small scan, which reads every page,
    // notes which passes each page holds keys of: then even the first pass reads only its
    // own leaves (on 8 GiB, one read of the whole bucket fewer). In apply order the passes
    // need the resource table, which comes from this scan.
    let leaves = (passes > 1).then(|| LeafPasses::new(&store));
    // The pass of a key, given the plan and each key's rank: one definition for the noting
    // scan and the passes, which must agree (a key noted in no pass would be lost).
    let pass_of_ranked = |plan: &[OrderRange], rank_of: &dyn Fn(&[u8]) -> u8, key: &[u8]| {
        filter(key).then(|| plan.iter().position(|range| range.contains(rank_of(key), key))).flatten()
    };
    let key_order_plan = (passes > 1 && args.order == Order::Key).then(|| OrderRange::plan(&sample, passes, &|_| 0));
    let context = match (&leaves, &key_order_plan) {
        (None, _) => store.key_histories_where(prefix.as_bytes(), at, &filter)?,
        (Some(leaves), Some(plan)) => {
            let pass_of = |key: &[u8]| pass_of_ranked(plan, &|_| 0, key);
            store.key_histories_noting(prefix.as_bytes(), at, in_context, pass_of, leaves)?
        }
        (Some(_), None) => store.key_histories_where(prefix.as_bytes(), at, in_context)?,
    };
    let decoder = args.kube_version.decoder_for(keys.as_ref(), || sorted_evidence(&context.items, &args.etcd_prefix));
    let table = resource_table(&context.items, &decoder, keys.as_ref(), &prefix);
    let mut names = args.resources.clone();
    names.extend(args.resource_flags.iter().cloned());
    let mut also_keys: BTreeSet<String> = namespace_objects.iter().cloned().collect();
    also_keys.extend(crd_keys_of_namespaces(&args, &store, &context.items, passes, &prefix, &table));
    let selection = Selection {
        also_keys,
        namespaces: args.namespaces.clone(),
        cluster_scoped: args.cluster_scoped,
        resources: ResourceFilter::resolve(&names, &table)?,
        name: args.name.as_deref().map(Regex::new).transpose().context("--name")?,
        key_prefixes: args.key_prefixes.clone(),
        labels: args.selector.as_deref().map(LabelSelector::parse).transpose()?,
        excluded_namespaces: comma_list(&args.exclude_namespace),
        excluded_resources: ResourceFilter::resolve(&args.exclude_resource, &table)?,
    };
    let cleaning = !args.raw;
    let skipping = cleaning && !args.include_owned;
    let services_with_selector = if skipping {
        services_with_selector(&context.items, &decoder, keys.as_ref(), &prefix)
    } else {
        HashSet::new()
    };

    let (mut sink, out_dir) = match &destination {
        Destination::Stream(path) => (Sink::stream(path.as_deref(), args.format)?, None),
        Destination::Dir(dir) => (Sink::Dir, Some(OutputDir::create(dir, args.force)?)),
    };
    let clean_options =
        CleanOptions { keep_owner_references: args.keep_owner_references, keep_node_ports: args.keep_node_ports };
    let has_selector = |ns: &str, name: &str| services_with_selector.contains(&(ns.to_string(), name.to_string()));
    let processing = Processing {
        decoder: &decoder,
        keys: keys.as_ref(),
        table: &table,
        selection: &selection,
        prefix: &prefix,
        cleaning,
        skipping,
        clean_options: &clean_options,
        namespaces: &namespaces,
        has_selector: &has_selector,
        format: args.format,
        list_item: args.format == Format::Json && matches!(destination, Destination::Stream(_)),
    };
    let mut run = Run {
        args: &args,
        processing: &processing,
        out_dir: out_dir.as_ref(),
        paths: PathAllocator::default(),
        summary: Summary::default(),
        written: 0,
    };
    let scan_errors = if let Some(leaves) = &leaves {
        let noted = key_order_plan.is_some();
        let context_errors = context.errors;
        drop(context.items);
        let rank_of = |key: &[u8]| match args.order {
            Order::Key => 0,
            Order::Apply => key_rank(key, &prefix, &table),
        };
        let plan = key_order_plan.unwrap_or_else(|| OrderRange::plan(&sample, passes, &rank_of));
        let pass_of = |key: &[u8]| pass_of_ranked(&plan, &rank_of, key);
        let each = |histories: Vec<KeyHistory<'_>>| run.extract(&histories, &mut sink);
        let pass_errors = run_noted_passes(&store, prefix.as_bytes(), at, plan.len(), pass_of, leaves, each)?;
        // A noting scan read every page the passes read, and met the same damage.
        if noted {
            context_errors
        } else {
            pass_errors
        }
    } else {
        run.extract(&context.items, &mut sink)?;
        context.errors
    };
    sink.finish()?;
    let Run { summary, written, .. } = run;

    let destination = match &destination {
        Destination::Stream(None) => "stdout".to_string(),
        Destination::Stream(Some(path)) | Destination::Dir(path) => path.display().to_string(),
    };
    print_summary(&summary, written, &destination, started, &namespaces);
    for e in &scan_errors {
        eprintln!("etcdsnap: {}: {e}", snapshot.path().display());
    }
    Ok(if summary.undecodable.is_empty() && scan_errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The output order's rank of a key (see [`apply_rank`]).
fn key_rank(key: &[u8], prefix: &str, table: &ResourceTable) -> u8 {
    parse_key_ref(key, prefix, table)
        .ok()
        .and_then(|k| k.info.map(|i| apply_rank(&i.group, &i.kind)))
        .unwrap_or(LAST_RANK)
}

/// One pass's share of the output: the keys from `start` to before `end` in output order,
/// (rank, key), either end open. Passes cut in output order write the same output as one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OrderRange {
    start: Option<(u8, Vec<u8>)>,
    end: Option<(u8, Vec<u8>)>,
}

impl OrderRange {
    /// `passes` consecutive ranges with about as many sampled records each.
    fn plan(sample: &KeySample<'_>, passes: usize, rank_of: &impl Fn(&[u8]) -> u8) -> Vec<OrderRange> {
        let mut ordered: Vec<(u8, &[u8])> = sample.keys.iter().map(|&k| (rank_of(k), k)).collect();
        ordered.sort_unstable();
        let mut bounds: Vec<(u8, &[u8])> = (1..passes).map(|i| ordered[i * ordered.len() / passes]).collect();
        bounds.dedup();
        let owned = |(rank, key): (u8, &[u8])| (rank, key.to_vec());
        let mut starts: Vec<Option<(u8, Vec<u8>)>> = vec![None];
        starts.extend(bounds.iter().map(|&b| Some(owned(b))));
        let mut ends: Vec<Option<(u8, Vec<u8>)>> = bounds.iter().map(|&b| Some(owned(b))).collect();
        ends.push(None);
        starts.into_iter().zip(ends).map(|(start, end)| OrderRange { start, end }).collect()
    }

    fn contains(&self, rank: u8, key: &[u8]) -> bool {
        let after_start = self.start.as_ref().is_none_or(|(r, k)| (rank, key) >= (*r, k.as_slice()));
        let before_end = self.end.as_ref().is_none_or(|(r, k)| (rank, key) < (*r, k.as_slice()));
        after_start && before_end
    }
}

/// What carries over from one pass to the next.
struct Run<'r> {
    args: &'r Args,
    processing: &'r Processing<'r>,
    out_dir: Option<&'r OutputDir>,
    /// Paths handed out so far: collisions get their `~N` in output order across passes.
    paths: PathAllocator,
    summary: Summary,
    written: usize,
}

impl<'r> Run<'r> {
    /// Select, process and write the objects of one scan (sorted by key), in output order.
    fn extract<'k>(&mut self, items: &'k [KeyHistory<'k>], sink: &mut Sink) -> Result<()>
    where
        'r: 'k,
    {
        let args = self.args;
        let (prefix, table, selection) = (self.processing.prefix, self.processing.table, self.processing.selection);
        let report_odd_keys = selection.namespaces.is_empty() && selection.resources.is_none();
        // Reading every key once is a random walk over the file: on every core, each run of
        // keys read into the cache together.
        let pick = |index: usize, history: &'k KeyHistory<'k>| -> Pick<'k> {
            if history.is_deleted() {
                if !args.include_deleted {
                    return Pick::Nothing;
                }
                if history.last_put.is_none() {
                    return Pick::DeletedWithoutContent;
                }
            }
            let Ok(raw_key) = std::str::from_utf8(history.key) else {
                if !report_odd_keys {
                    return Pick::Nothing;
                }
                return Pick::NotObject(format!("{}: not UTF-8", String::from_utf8_lossy(history.key)));
            };
            match parse_key_str(raw_key, prefix, table) {
                Ok(key) if selection.takes_key(raw_key, &key) => {
                    if let Some(skip) = self.processing.skip_by_key(&key) {
                        return Pick::Skipped(skip, SkippedResource { group: key.group, resource: key.resource });
                    }
                    let rank = key.info.map_or(LAST_RANK, |i| apply_rank(&i.group, &i.kind));
                    match u32::try_from(index) {
                        Ok(index) => Pick::Candidate(Candidate { index, rank }),
                        Err(_) => Pick::TooMany,
                    }
                }
                Ok(_) => Pick::Nothing,
                Err(e) if report_odd_keys => Pick::NotObject(format!("{raw_key}: {e}")),
                Err(_) => Pick::Nothing,
            }
        };
        let picked = items
            .par_chunks(KEYS_READ_AHEAD)
            .enumerate()
            .fold(Picked::default, |picked, (c, chunk)| {
                read_ahead(chunk.iter().map(|h| h.key), usize::MAX);
                chunk
                    .iter()
                    .enumerate()
                    .map(|(j, history)| pick(c * KEYS_READ_AHEAD + j, history))
                    .fold(picked, Picked::add)
            })
            .reduce(Picked::default, Picked::then);
        if picked.too_many {
            bail!("more than 4 billion keys");
        }
        let mut candidates = picked.candidates;
        for ((skip, SkippedResource { group, resource }), n) in picked.skipped {
            *self.summary.skipped.entry(skip).or_default().entry(storage_name_of(group, resource)).or_default() += n;
        }
        self.summary.deleted_without_content += picked.deleted_without_content;
        self.summary.not_objects.extend(picked.not_objects);
        if args.order == Order::Apply {
            // Stable: key order within a rank.
            candidates.sort_by_key(|c| c.rank);
        }

        // Every file's path, in output order, before any work: collisions get their `~N`
        // in the same order whatever the threads, and the workers write the files
        // themselves.
        let ext = if args.format == Format::Yaml { "yaml" } else { "json" };
        let paths: Vec<PathBuf> = match self.out_dir {
            Some(out) => {
                let paths: Vec<PathBuf> = candidates
                    .iter()
                    .map(|c| {
                        let key = parse_key_ref(items[c.index as usize].key, prefix, table).ok();
                        let natural = key.map_or_else(
                            || PathBuf::from(format!("_unparsed/{}.{ext}", c.index)),
                            |k| {
                                let resource = match args.order {
                                    Order::Key => storage_name(&k),
                                    Order::Apply => format!("{:02}-{}", c.rank, storage_name(&k)),
                                };
                                let namespaces = self.processing.namespaces;
                                let namespace = k.namespace.map(|ns| namespaces.target(ns));
                                // A Namespace object is named after the namespace.
                                let moved_namespace = k.namespace.is_none() && moved_from(&k, namespaces).is_some();
                                let name = if moved_namespace { namespaces.target(k.name) } else { k.name };
                                relative_path(args.layout, args.order == Order::Apply, &resource, namespace, name, ext)
                            },
                        );
                        self.paths.allocate(natural)
                    })
                    .collect();
                if out.has_entries()? {
                    // Fail before writing anything (of this pass) rather than halfway through.
                    out.check_free(paths.iter().cloned())?;
                }
                paths
            }
            None => Vec::new(),
        };

        let progress = progress_bar(candidates.len() as u64);
        let threads = rayon::current_num_threads();
        let chunks: Vec<&[Candidate]> = candidates.chunks(CHUNK).collect();
        let (processing, out_dir) = (self.processing, self.out_dir);
        let work = |i: usize| -> Vec<Outcome> {
            read_ahead(chunks[i].iter().map(|c| items[c.index as usize].content().raw), RECORD_READ_AHEAD_BYTES);
            let outcomes = chunks[i]
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    let mut outcome = processing.process(&items[c.index as usize]);
                    if let (Some(out), Outcome::Keep(item)) = (out_dir, &mut outcome) {
                        let path = &paths[i * CHUNK + j];
                        if let Err(e) = out.make_dirs_for(path).and_then(|()| out.write(path, &item.rendered)) {
                            outcome = Outcome::Failed(e);
                        } else {
                            item.rendered = Vec::new();
                        }
                    }
                    outcome
                })
                .collect();
            // One update per chunk: the bar is shared by every worker, and an update per
            // object moved its counter's cache line between cores.
            progress.inc(chunks[i].len() as u64);
            outcomes
        };
        let (summary, written) = (&mut self.summary, &mut self.written);
        pipeline::ordered(chunks.len(), threads, threads * CHUNKS_AHEAD_PER_THREAD, work, |outcomes| {
            let mut items = Vec::with_capacity(outcomes.len());
            for outcome in outcomes {
                match outcome {
                    Outcome::Keep(item) => {
                        *summary.written.entry(item.resource.clone()).or_default() += 1;
                        if let Some(from) = &item.moved_from {
                            *summary.moved.entry(from.clone()).or_default() += 1;
                        }
                        items.push(*item);
                    }
                    Outcome::Skipped(skip, resource) => {
                        *summary.skipped.entry(skip).or_default().entry(resource).or_default() += 1;
                    }
                    Outcome::Filtered => {}
                    Outcome::Undecodable(key, reason) => summary.undecodable.push((key, reason)),
                    Outcome::Failed(e) => return Err(e),
                }
            }
            *written += items.len();
            sink.write(items)
        })?;
        progress.finish_and_clear();
        Ok(())
    }
}

/// Which keys the scan keeps. With only `-n` given, the keys of other namespaces are left
/// out of the scan at once (a cheap substring test), which makes extracting one namespace of
/// a large snapshot cost little more than reading it. Kept besides: CRDs (resource names)
/// and the release evidence, and `namespace_objects` (the Namespace objects a whole-namespace
/// extract brings along). Over-inclusion is harmless: selection is exact later.
fn key_filter<'f>(args: &'f Args, prefix: &str, namespace_objects: &'f [String]) -> impl Fn(&[u8]) -> bool + Sync + 'f {
    let narrow = !args.namespaces.is_empty()
        && !args.cluster_scoped
        && args.resources.is_empty()
        && args.resource_flags.is_empty()
        && args.key_prefixes.is_empty();
    let always = always_scanned(prefix);
    let segments = namespace_segments(args);
    move |key: &[u8]| {
        !narrow
            || always.iter().any(|p| key.starts_with(p))
            || segments.iter().any(|segment| segment.find(key).is_some())
            || namespace_objects.iter().any(|k| k.as_bytes() == key)
    }
}

/// Searchers for `/NS/`, which every key of an object in namespace NS holds: a cheap test
/// before parsing a key. memmem's vectorised search: a byte-by-byte window comparison was
/// an eighth of extracting one namespace from 2 GiB, run on every record's key.
fn namespace_segments(args: &Args) -> Vec<memchr::memmem::Finder<'static>> {
    args.namespaces.iter().map(|ns| memchr::memmem::Finder::new(format!("/{ns}/").as_bytes()).into_owned()).collect()
}

/// Whether the selection is whole namespaces: `-n` and nothing else narrowing it. Such an
/// extract brings the namespaces' own objects along (see `Args::namespaces`).
fn whole_namespaces(args: &Args) -> bool {
    !args.namespaces.is_empty()
        && args.resources.is_empty()
        && args.resource_flags.is_empty()
        && args.name.is_none()
        && args.selector.is_none()
        && args.key_prefixes.is_empty()
}

/// The keys of the Namespace objects a whole-namespace extract brings along.
fn namespace_object_keys(args: &Args, prefix: &str) -> Vec<String> {
    if !whole_namespaces(args) {
        return Vec::new();
    }
    args.namespaces.iter().map(|ns| format!("{prefix}namespaces/{ns}")).collect()
}

/// The keys of the CRDs a whole-namespace extract brings along: those of the custom
/// resources with a key in the namespaces, among the CRDs `context` (the sorted scan, which
/// always holds them) has. When the scan holds every key (`passes == 1`), the namespaces'
/// keys are taken from it; else a scan of every record finds them, on every core.
fn crd_keys_of_namespaces(
    args: &Args,
    store: &Store<'_>,
    context: &[KeyHistory<'_>],
    passes: usize,
    prefix: &str,
    table: &ResourceTable,
) -> Vec<String> {
    if !whole_namespaces(args) {
        return Vec::new();
    }
    // Only a key naming a namespace as a path segment is parsed.
    let segments = namespace_segments(args);
    let in_namespaces =
        |key: &ObjectKeyRef<'_>| key.namespace.is_some_and(|ns| args.namespaces.iter().any(|n| n == ns));
    let needed = |key: &[u8]| {
        if !segments.iter().any(|segment| segment.find(key).is_some()) {
            return None;
        }
        parse_key_ref(key, prefix, table).ok().filter(in_namespaces).as_ref().and_then(crd_name)
    };
    let names: BTreeSet<String> = if passes == 1 {
        context.par_iter().filter_map(|h| needed(h.key)).collect()
    } else {
        let at = args.revision.unwrap_or(i64::MAX);
        store
            .par_runs(|records, _errors| {
                records
                    .filter_map(Result::ok)
                    .take_while(|r| r.revision_key.revision.main <= at)
                    .filter_map(|r| needed(r.kv.key))
                    .collect::<BTreeSet<String>>()
            })
            .into_iter()
            .flat_map(|(names, _)| names)
            .collect()
    };
    held_crd_keys(names, context, prefix).0
}

/// Keys every scan keeps whatever is selected: CRDs (they name resources) and the release
/// evidence (Nodes, the API server's Pod).
fn always_scanned(prefix: &str) -> Vec<Vec<u8>> {
    [crd_prefix(prefix), format!("{prefix}minions/"), format!("{prefix}pods/kube-system/kube-apiserver")]
        .into_iter()
        .map(String::into_bytes)
        .collect()
}

fn services_prefix(prefix: &str) -> String {
    format!("{prefix}services/specs/")
}

/// Where `-o` sends the output.
enum Destination {
    /// `-` (stdout), or an existing file that is not a directory (`/dev/null`, a pipe).
    Stream(Option<PathBuf>),
    /// One file per object under this directory (created if missing).
    Dir(PathBuf),
}

impl Destination {
    fn parse(output: &str) -> Destination {
        if output == "-" {
            return Destination::Stream(None);
        }
        let path = PathBuf::from(output);
        match std::fs::metadata(&path) {
            Ok(meta) if !meta.is_dir() && !meta.is_file() => Destination::Stream(Some(path)),
            _ => Destination::Dir(path),
        }
    }
}

/// The resource name as files name it: the plural, `.group`-qualified outside the core groups.
pub(crate) fn storage_name(key: &ObjectKeyRef<'_>) -> String {
    storage_name_of(key.group, key.resource)
}

/// [`storage_name`] of a group and resource.
fn storage_name_of(group: &str, resource: &str) -> String {
    if is_builtin_group(group) || group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

/// (namespace, name) of Services with a selector: their Endpoints are controller-managed.
/// This runs before any object is written, and a large cluster has tens of thousands of
/// Services: the answer is read from the bytes, on every core, and only values the bytes
/// cannot answer for (JSON, unusual envelopes, damage on the path read) are decoded,
/// leaving out what the cleaning drops.
fn services_with_selector(
    sorted: &[KeyHistory<'_>],
    decoder: &Decoder,
    keys: Option<&EncryptionKeys>,
    prefix: &str,
) -> HashSet<(String, String)> {
    let services = with_prefix(sorted, services_prefix(prefix).as_bytes());
    let options = DecodeOptions { leave_out: LeaveOut::dropped_by_cleaning(), ..DecodeOptions::default() };
    let selector_owner = |h: &KeyHistory<'_>| {
        // An encrypted Service that cannot be decrypted counts as having no selector: its
        // Endpoints are then written, not skipped.
        let value = plaintext(keys, h.key, h.last.value()).ok()?;
        decoder.selector_owner(&value).unwrap_or_else(|| {
            decoder.decode(&value, &options).ok().and_then(|d| k8s_decode::clean::selector_owner(&d.object))
        })
    };
    services
        .par_chunks(KEYS_READ_AHEAD)
        .flat_map_iter(|run| {
            read_ahead(run.iter().map(|h| h.last.raw), RECORD_READ_AHEAD_BYTES);
            run.iter().filter(|h| !h.is_deleted()).filter_map(selector_owner)
        })
        .collect()
}

/// The rank of anything not listed in [`apply_rank`]: created last.
const LAST_RANK: u8 = 14;

/// Creation order for `--order apply` (Velero's restore order, extended).
fn apply_rank(group: &str, kind: &str) -> u8 {
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
        _ => LAST_RANK,
    }
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

fn print_summary(summary: &Summary, written: usize, destination: &str, started: Instant, namespaces: &NamespaceMap) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "etcdsnap: extract: {written} object(s) written to {destination}");
    if !summary.written.is_empty() {
        let _ = writeln!(err, "  written: {}", counts(&summary.written));
    }
    if !namespaces.is_empty() {
        // A mapping that moved nothing is most likely a misspelt namespace: say so.
        let moved: Vec<String> = namespaces
            .pairs()
            .map(|(from, to)| match summary.moved.get(from) {
                Some(n) => format!("{from} → {to} {n}"),
                None => format!("{from} → {to} none (no object of {from:?} written)"),
            })
            .collect();
        let _ = writeln!(err, "  namespaces mapped: {}", moved.join(", "));
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
