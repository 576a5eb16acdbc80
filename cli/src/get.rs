//! `etcdsnap get`: one key's stored value, at a revision or across its history.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{bail, Result};
use base64::Engine;
use etcd_snapshot::Record;
use serde_json::{json, Value};

use crate::output::{report_scan_errors, SnapshotArg};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// The stored bytes exactly.
    Raw,
    /// A JSON record: key, revisions, version, lease, and the value in base64.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    snapshot: SnapshotArg,
    /// The etcd key, e.g. /registry/deployments/default/web.
    key: String,
    /// State at this revision instead of the latest.
    #[arg(long, value_name = "R", conflicts_with = "history")]
    revision: Option<i64>,
    /// Every retained revision of the key, deletions included (one JSON record per line).
    #[arg(long)]
    history: bool,
    #[arg(short = 'o', long = "output", value_enum, default_value = "raw")]
    format: Format,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let snapshot = args.snapshot.open()?;
    let store = snapshot.store()?;
    let key = args.key.as_bytes();
    let mut out = BufWriter::new(io::stdout().lock());
    if args.history {
        if args.format == Format::Raw {
            bail!("--history prints one record per revision: use -o json");
        }
        let scan = store.history(key);
        if scan.items.is_empty() && scan.errors.is_empty() {
            bail!("{}: key {:?} has no retained revisions", snapshot.path().display(), args.key);
        }
        for record in &scan.items {
            serde_json::to_writer(&mut out, &record_json(record))?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        return Ok(report_scan_errors(&snapshot, &scan.errors));
    }
    let scan = store.live(key, args.revision)?;
    let Some(record) = scan.items.iter().find(|r| r.kv.key == key) else {
        let code = report_scan_errors(&snapshot, &scan.errors);
        let at = args.revision.unwrap_or_else(|| store.current_revision());
        eprintln!("etcdsnap: {}: key {:?} not found at revision {at}", snapshot.path().display(), args.key);
        let _ = code;
        return Ok(ExitCode::from(1));
    };
    match args.format {
        Format::Raw => out.write_all(record.kv.value)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &record_json(record))?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(report_scan_errors(&snapshot, &scan.errors))
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
