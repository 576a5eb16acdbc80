//! `etcdsnap crop`: a new snapshot with only some keys, e.g. without Secrets to share it, or
//! one namespace's objects to restore into a scratch etcd.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use etcd_snapshot::Store;
use k8s_decode::keys::{normalize_prefix, parse_key_ref};
use k8s_decode::resources::ResourceTable;

use crate::output::SnapshotArg;
use crate::render::{crd_name, crd_prefix, held_crd_keys};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    snapshot: SnapshotArg,
    /// Keep only keys starting with one of these prefixes (raw etcd keys, e.g.
    /// /registry/configmaps/shop/); default: every key (or, with -n, the namespace's).
    #[arg(value_name = "PREFIX")]
    prefixes: Vec<String>,
    /// Keep the objects of this namespace (repeatable), its Namespace object, and the
    /// CustomResourceDefinitions of the custom resources among them; with PREFIXes, the keys
    /// under them too.
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    namespaces: Vec<String>,
    /// Key prefix of the API server, for -n (`--etcd-prefix`; OpenShift: /kubernetes.io).
    #[arg(long, value_name = "PREFIX", default_value = "/registry")]
    etcd_prefix: String,
    /// Leave out keys starting with this prefix (repeatable), e.g. /registry/secrets/.
    #[arg(long, value_name = "PREFIX")]
    exclude: Vec<String>,
    /// The snapshot as it was at this (retained) revision: later entries are left out too,
    /// so that etcd restored from the copy serves the cluster's state of then (e.g. from
    /// before a namespace was deleted).
    #[arg(long, value_name = "R")]
    revision: Option<i64>,
    /// Also compact, as `etcdctl compaction` at the current revision (or --revision) would:
    /// keep each key's newest entry only (none for a deleted key); older revisions are gone
    /// from the copy.
    #[arg(long)]
    compact: bool,
    /// The snapshot to write (created 0600).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let snapshot = args.snapshot.open()?;
    let db = snapshot.db()?;
    if is_same_file(snapshot.path(), &args.output) {
        bail!("{}: is the input snapshot; crop writes a new file", args.output.display());
    }
    if args.output.exists() && !args.force {
        bail!("{}: exists (--force replaces it)", args.output.display());
    }
    let table = ResourceTable::builtin();
    let etcd_prefix = normalize_prefix(&args.etcd_prefix);
    // Only a key naming a namespace as a whole path segment can be one of its objects (or
    // its Namespace object): the others, nearly all of a large snapshot, are not parsed.
    let segments: Vec<(Vec<u8>, Vec<u8>)> =
        args.namespaces.iter().map(|ns| (format!("/{ns}/").into_bytes(), format!("/{ns}").into_bytes())).collect();
    let mentions_namespace = |key: &[u8]| {
        segments.iter().any(|(inner, last)| key.ends_with(last) || memchr::memmem::find(key, inner).is_some())
    };
    let in_namespaces = |key: &[u8]| {
        mentions_namespace(key)
            && parse_key_ref(key, &etcd_prefix, &table)
                .is_ok_and(|object| object.namespace_of().is_some_and(|of| args.namespaces.iter().any(|ns| ns == of)))
    };
    let everything = args.prefixes.is_empty() && args.namespaces.is_empty();
    let excluded = |key: &[u8]| args.exclude.iter().any(|p| key.starts_with(p.as_bytes()));
    let (mut crds, missing) = if args.namespaces.is_empty() {
        Default::default()
    } else {
        crds_of_custom_resources(&snapshot.store()?, args.revision, &etcd_prefix, &table, in_namespaces)
            .with_context(|| format!("{}: cannot scan", snapshot.path().display()))?
    };
    crds.retain(|key| !excluded(key.as_bytes()));
    if !crds.is_empty() {
        let names: Vec<&str> = crds.iter().map(|key| &key[crd_prefix(&etcd_prefix).len()..]).collect();
        writeln!(
            std::io::stderr(),
            "etcdsnap: keeping the CustomResourceDefinitions of its custom resources: {}",
            names.join(", ")
        )?;
    }
    if !missing.is_empty() {
        writeln!(
            std::io::stderr(),
            "etcdsnap: warning: no CustomResourceDefinition in the snapshot for {}",
            missing.join(", ")
        )?;
    }
    let keep = |key: &[u8]| {
        (everything
            || args.prefixes.iter().any(|p| key.starts_with(p.as_bytes()))
            || (!args.namespaces.is_empty() && (in_namespaces(key) || crds.iter().any(|crd| crd.as_bytes() == key))))
            && !excluded(key)
    };
    // Written beside FILE (0600, as tempfile creates it) and renamed into place only once
    // complete, so that a failure leaves no half-written snapshot behind.
    let dir = args.output.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new()
        .prefix(".etcdsnap-crop-")
        .tempfile_in(dir)
        .with_context(|| format!("{}: cannot create a file there", dir.display()))?;
    let compaction = if args.compact {
        let store = snapshot.store()?;
        let compaction = store
            .compaction(args.revision, etcd_snapshot::PASS_RECORDS, crate::alloc::release_freed_memory)
            .with_context(|| format!("{}: cannot compact", snapshot.path().display()))?;
        Some(compaction)
    } else {
        None
    };
    let summary = etcd_snapshot::crop_at(&db, keep, args.revision, compaction.as_ref(), file.as_file_mut())
        .with_context(|| format!("{}: cannot crop", snapshot.path().display()))?;
    file.as_file().sync_all()?;
    let persisted = if args.force { file.persist(&args.output) } else { file.persist_noclobber(&args.output) };
    persisted.map_err(|e| e.error).with_context(|| format!("{}", args.output.display()))?;
    writeln!(
        std::io::stderr(),
        "etcdsnap: wrote {} ({} bytes): {} key-bucket entries kept, {} left out",
        args.output.display(),
        summary.bytes,
        summary.kept_records,
        summary.dropped_records
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The keys of the CustomResourceDefinitions that define the custom resources among the keys
/// `in_namespaces` accepts (any retained revision of them), and the custom resources whose
/// CRD the snapshot does not hold. Without its CRD, an API server on the cropped snapshot
/// would not serve a custom resource. A scan of the whole file, which keeps only those keys
/// and the CRDs' (whose own group names no CRD), at revision `at`.
fn crds_of_custom_resources(
    store: &Store<'_>,
    at: Option<i64>,
    etcd_prefix: &str,
    table: &ResourceTable,
    in_namespaces: impl Fn(&[u8]) -> bool + Sync,
) -> Result<(Vec<String>, Vec<String>)> {
    let crd_prefix = crd_prefix(etcd_prefix);
    let scan =
        store.key_histories_where(b"", at, |key| key.starts_with(crd_prefix.as_bytes()) || in_namespaces(key))?;
    let names = scan
        .items
        .iter()
        .filter_map(|history| crd_name(&parse_key_ref(history.key, etcd_prefix, table).ok()?))
        .collect();
    Ok(held_crd_keys(names, &scan.items, etcd_prefix))
}

/// Whether `output` names the file `input` is (same device and inode).
fn is_same_file(input: &Path, output: &Path) -> bool {
    match (std::fs::metadata(input), std::fs::metadata(output)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}
