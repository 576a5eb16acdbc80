//! `etcdsnap get`: one key's object at a revision, or across its history.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use base64::Engine;
use etcd_snapshot::{Record, Salvage};
use serde_json::{json, Value};

use crate::output::{report_scan_errors, SalvageReport};
use crate::render::{
    decode_value, evidence_prefixes, kubectl_name, salvage_evidence, store_evidence, write_object, ObjectFormat,
};
use crate::target::{ObjectArgs, OpenedObject};

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
    object: ObjectArgs,
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
}

pub fn run(args: Args) -> Result<ExitCode> {
    let OpenedObject { snapshot, keys, target, key: key_text } = args.object.open(args.revision)?;
    let key = key_text.as_bytes();
    // Salvage needs only the pages; the store needs an intact tree.
    let salvage;
    let store;
    let (records, errors, decoder) = if args.salvage {
        // Only the key's records and the release evidence are kept: a whole file's would
        // not fit the memory bound.
        let evidence = evidence_prefixes(&args.object.etcd_prefix);
        salvage =
            Salvage::scan_where(snapshot.db()?, |k| k == key || evidence.iter().any(|p| k.starts_with(p.as_bytes())));
        let mut report = SalvageReport::default();
        report.add(&salvage);
        report.print(&snapshot, Some(&format!("of {:?} and of the release evidence", key_text)));
        let records: Vec<Record<'_>> = if args.history {
            salvage.history(key)
        } else {
            let newest = salvage.key_histories(key, args.revision);
            let newest = newest.into_iter().filter(|h| h.key == key && !h.is_deleted());
            newest
                .map(|h| h.last.record())
                .collect::<Result<_, _>>()
                .with_context(|| snapshot.path().display().to_string())?
        };
        if records.is_empty() {
            bail!("{}: {} not found in any leaf page", snapshot.path().display(), target.describe(&key_text));
        }
        let decoder = args
            .object
            .kube_version
            .decoder_for(keys.as_ref(), || salvage_evidence(&salvage, &args.object.etcd_prefix));
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
        let decoder =
            args.object.kube_version.decoder_for(keys.as_ref(), || store_evidence(&store, &args.object.etcd_prefix));
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
