//! `etcdsnap get`: one key's object at a revision, or across its history.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{bail, Result};
use base64::Engine;
use etcd_snapshot::{Record, Salvage, Snapshot};
use k8s_decode::encryption::EncryptionKeys;
use k8s_decode::keys::{normalize_prefix, object_key};
use k8s_decode::resources::ResourceTable;
use serde_json::{json, Value};

use crate::output::{report_scan_errors, SalvageReport, SnapshotArg};
use crate::render::{
    crd_prefix, decode_value, evidence_prefixes, kubectl_name, resource_table, salvage_evidence, store_evidence,
    write_object, EncryptionArg, KubeVersionArg, ObjectFormat,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// The decoded object, as `kubectl get -o yaml` prints it.
    Yaml,
    /// The decoded object, as `kubectl get -o json` prints it.
    Json,
    /// The stored bytes exactly.
    Raw,
    /// The etcd record: key, revisions, version, lease, and the value in base64.
    Record,
    /// The object's name as `kubectl get -o name` prints it (`deployment.apps/web`).
    Name,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    snapshot: SnapshotArg,
    /// What to print: an etcd key (/registry/deployments/default/web), or a resource and a
    /// name as kubectl takes them (`deployment web`, `deploy/web`, `widgets.example.com w1`;
    /// custom resources of the CRDs in the snapshot too).
    #[arg(value_name = "KEY | TYPE NAME | TYPE/NAME", num_args = 1..=2, required = true)]
    target: Vec<String>,
    /// Namespace of a TYPE NAME target (default: `default`, as kubectl's).
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    namespace: Option<String>,
    /// State at this revision instead of the latest.
    #[arg(long, value_name = "R", conflicts_with = "history")]
    revision: Option<i64>,
    /// Every retained revision of the key, deletions included, oldest first.
    #[arg(long)]
    history: bool,
    /// Carve records from every leaf page, reachable or not (see `ls --salvage`): history
    /// that compaction removed but did not overwrite, or objects of a damaged file.
    #[arg(long)]
    salvage: bool,
    #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
    format: Format,
    /// Key prefix of the API server (`--etcd-prefix`; OpenShift: /kubernetes.io): where
    /// TYPE NAME targets, CRDs and the Nodes for version detection are.
    #[arg(long, default_value = "/registry", value_name = "PREFIX")]
    etcd_prefix: String,
    #[command(flatten)]
    kube_version: KubeVersionArg,
    #[command(flatten)]
    encryption: EncryptionArg,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let keys = args.encryption.load()?;
    let snapshot = args.snapshot.open()?;
    let target = Target::parse(&args.target, args.namespace.as_deref())?;
    let key_text = target.key(&snapshot, &args, keys.as_ref())?;
    let key = key_text.as_bytes();
    // Salvage needs only the pages; the store needs an intact tree.
    let salvage;
    let store;
    let (records, errors, decoder) = if args.salvage {
        // Only the key's records and the release evidence are kept: a whole file's would
        // not fit the memory bound.
        let evidence = evidence_prefixes(&args.etcd_prefix);
        salvage =
            Salvage::scan_where(snapshot.db()?, |k| k == key || evidence.iter().any(|p| k.starts_with(p.as_bytes())));
        let mut report = SalvageReport::default();
        report.add(&salvage);
        report.print(&snapshot, Some(&format!("of {:?} and of the release evidence", key_text)));
        let records: Vec<Record<'_>> = if args.history {
            salvage.history(key)
        } else {
            let newest = salvage.key_histories(key, args.revision);
            newest.into_iter().filter(|h| h.key == key && !h.is_deleted()).map(|h| h.last.record()).collect()
        };
        if records.is_empty() {
            bail!("{}: {} not found in any leaf page", snapshot.path().display(), target.describe(&key_text));
        }
        let decoder = args.kube_version.decoder_for(keys.as_ref(), || salvage_evidence(&salvage, &args.etcd_prefix));
        (records, Vec::new(), decoder)
    } else {
        store = snapshot.store()?;
        let (records, errors) = if args.history {
            let scan = store.history(key);
            if scan.items.is_empty() && scan.errors.is_empty() {
                bail!("{}: {} has no retained revisions", snapshot.path().display(), target.describe(&key_text));
            }
            (scan.items, scan.errors)
        } else {
            let scan = store.live(key, args.revision)?;
            let found: Vec<Record<'_>> = scan.items.into_iter().filter(|r| r.kv.key == key).collect();
            if found.is_empty() {
                report_scan_errors(&snapshot, &scan.errors);
                let at = args.revision.unwrap_or_else(|| store.current_revision());
                bail!("{}: {} not found at revision {at}", snapshot.path().display(), target.describe(&key_text));
            }
            (found, scan.errors)
        };
        let decoder = args.kube_version.decoder_for(keys.as_ref(), || store_evidence(&store, &args.etcd_prefix));
        (records, errors, decoder)
    };
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        Format::Raw | Format::Name if args.history => {
            bail!("--history prints several values: use -o yaml, json or record")
        }
        Format::Raw => out.write_all(records[0].kv.value)?,
        Format::Record => {
            for record in &records {
                serde_json::to_writer(&mut out, &record_json(record))?;
                out.write_all(b"\n")?;
            }
        }
        Format::Name => {
            let record = &records[0];
            let decoded =
                decode_value(&decoder, &key_text, record.kv.value, Some(record.kv.mod_revision), keys.as_ref(), key)?;
            match kubectl_name(&decoded.object) {
                Some(name) => writeln!(out, "{name}")?,
                None => bail!("{}: {key_text}: the object has no kind or name", snapshot.path().display()),
            }
        }
        Format::Yaml | Format::Json => {
            let format = if args.format == Format::Yaml { ObjectFormat::Yaml } else { ObjectFormat::Json };
            for (i, record) in records.iter().enumerate() {
                if args.history && format == ObjectFormat::Yaml && i > 0 {
                    out.write_all(b"---\n")?;
                }
                let rev = record.revision_key.revision;
                if record.is_tombstone() {
                    // A deletion has no object; say so where the object would be.
                    match format {
                        ObjectFormat::Yaml => writeln!(out, "# deleted at revision {}", rev.main)?,
                        ObjectFormat::Json => writeln!(out, "{}", json!({ "deletedAtRevision": rev.main }))?,
                    }
                    continue;
                }
                let decoded = decode_value(
                    &decoder,
                    &key_text,
                    record.kv.value,
                    Some(record.kv.mod_revision),
                    keys.as_ref(),
                    record.kv.key,
                )?;
                write_object(&mut out, &decoded.object, format)?;
            }
        }
    }
    out.flush()?;
    Ok(report_scan_errors(&snapshot, &errors))
}

/// What `get` was asked for.
enum Target {
    /// An etcd key as given.
    Key(String),
    /// kubectl's `TYPE NAME` or `TYPE/NAME`.
    Object { resource: String, name: String, namespace: Option<String> },
}

impl Target {
    /// One argument is a key when it starts with `/` or has none (`compact_rev_key`), else
    /// `TYPE/NAME`; two are `TYPE NAME`.
    fn parse(args: &[String], namespace: Option<&str>) -> Result<Target> {
        let namespace = namespace.map(str::to_string);
        let (resource, name) = match args {
            [key] if key.starts_with('/') || !key.contains('/') => {
                if namespace.is_some() {
                    bail!("-n applies to TYPE NAME; the etcd key {key:?} names its namespace itself");
                }
                return Ok(Target::Key(key.clone()));
            }
            [typed] => typed.split_once('/').map(|(r, n)| (r.to_string(), n.to_string())).expect("has a '/'"),
            [resource, name] => (resource.clone(), name.clone()),
            _ => bail!("expected an etcd key, TYPE NAME or TYPE/NAME"),
        };
        if name.is_empty() || name.contains('/') {
            bail!("{name:?} is not an object name");
        }
        Ok(Target::Object { resource, name, namespace })
    }

    /// The etcd key: as given, or where the API server stores the object. A resource the
    /// built-in table does not know is looked up among the CRDs of the snapshot's store.
    fn key(&self, snapshot: &Snapshot, args: &Args, keys: Option<&EncryptionKeys>) -> Result<String> {
        let (resource, name, namespace) = match self {
            Target::Key(key) => return Ok(key.clone()),
            Target::Object { resource, name, namespace } => (resource, name, namespace),
        };
        let prefix = normalize_prefix(&args.etcd_prefix);
        let mut table = ResourceTable::builtin();
        if table.resolve(resource).is_err() {
            let store = snapshot.store()?;
            let crds = store.key_histories(crd_prefix(&prefix).as_bytes(), args.revision)?;
            table = resource_table(&crds.items, &args.kube_version.decoder(), keys, &prefix);
        }
        let info = match table.resolve(resource) {
            Ok(found) => found[0],
            Err(_) => bail!(
                "{}: no resource type {resource:?}, built in or defined by a CRD in the snapshot",
                snapshot.path().display()
            ),
        };
        let namespace = info.namespaced.then(|| namespace.as_deref().unwrap_or("default"));
        Ok(object_key(&prefix, info, namespace, name))
    }

    /// The object as kubectl would name it in an error, with its etcd key.
    fn describe(&self, key: &str) -> String {
        match self {
            Target::Key(_) => format!("key {key:?}"),
            Target::Object { resource, name, .. } => format!("{resource} {name:?} (etcd key {key})"),
        }
    }
}

/// The JSON form of one `key` bucket entry.
fn record_json(record: &Record<'_>) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut obj = serde_json::Map::new();
    match std::str::from_utf8(record.kv.key) {
        Ok(key) => obj.insert("key".into(), json!(key)),
        Err(_) => obj.insert("keyBase64".into(), json!(b64.encode(record.kv.key))),
    };
    let rev = record.revision_key.revision;
    obj.insert("revision".into(), json!({ "main": rev.main, "sub": rev.sub }));
    if record.is_tombstone() {
        obj.insert("deleted".into(), json!(true));
        return Value::Object(obj);
    }
    obj.insert("createRevision".into(), json!(record.kv.create_revision));
    obj.insert("modRevision".into(), json!(record.kv.mod_revision));
    obj.insert("version".into(), json!(record.kv.version));
    obj.insert("lease".into(), json!(record.kv.lease));
    obj.insert("value".into(), json!(b64.encode(record.kv.value)));
    Value::Object(obj)
}
