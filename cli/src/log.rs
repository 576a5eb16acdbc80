//! `etcdsnap log`: every retained change in revision order, as `etcdctl watch --rev R`
//! replays them: what happened before the snapshot was taken, and when.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{bail, Result};
use etcd_snapshot::{MvccError, Record};
use serde_json::json;

use crate::output::{report_scan_errors, SnapshotPrefixArgs, TableOrJson};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: SnapshotPrefixArgs,
    /// Changes from this revision on (default: the compaction revision, the oldest change
    /// etcd still has; like `etcdctl watch --rev`).
    #[arg(long, value_name = "R")]
    since: Option<i64>,
    /// Changes up to this revision.
    #[arg(long, value_name = "R")]
    until: Option<i64>,
    /// `table`: one change per line; `json`: one JSON object per line.
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    format: TableOrJson,
}

/// What a change did to its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// A put of a key that did not exist (version 1: created, or created again).
    Create,
    Update,
    Delete,
}

impl Change {
    fn of(record: &Record<'_>) -> Change {
        match (record.is_tombstone(), record.kv.version) {
            (true, _) => Change::Delete,
            (false, 1) => Change::Create,
            (false, _) => Change::Update,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Change::Create => "CREATE",
            Change::Update => "UPDATE",
            Change::Delete => "DELETE",
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let snapshot = args.input.snapshot.open()?;
    let store = snapshot.store()?;
    let compacted = store.compact_revision();
    let since = args.since.unwrap_or(compacted);
    if since < compacted {
        // As etcd answers a watch from a compacted revision. Older entries the tree keeps
        // are each key's state at the compaction, not changes: `get --history` shows them.
        bail!("{}: {}", snapshot.path().display(), MvccError::Compacted { requested: since, compacted });
    }
    let until = args.until.unwrap_or(i64::MAX);
    let prefix = args.input.prefix.as_bytes();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut errors = Vec::new();
    for record in store.records_since(since) {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if record.revision_key.revision.main > until {
            break;
        }
        if !record.kv.key.starts_with(prefix) {
            continue;
        }
        let change = Change::of(&record);
        let key = String::from_utf8_lossy(record.kv.key);
        match args.format {
            TableOrJson::Table => {
                writeln!(out, "{} {:<6} {key}", record.revision_key.revision.main, change.name())?;
            }
            TableOrJson::Json => {
                let mut line = json!({
                    "revision": record.revision_key.revision.main,
                    "sub": record.revision_key.revision.sub,
                    "type": change.name(),
                    "key": key,
                });
                // A deletion's entry holds the key alone.
                if change != Change::Delete {
                    line["version"] = record.kv.version.into();
                    line["size"] = record.kv.value.len().into();
                }
                serde_json::to_writer(&mut out, &line)?;
                writeln!(out)?;
            }
        }
    }
    out.flush()?;
    Ok(report_scan_errors(&snapshot, &errors))
}
