//! `etcdsnap log`: every retained change in revision order, as `etcdctl watch --rev R`
//! replays them: what happened before the snapshot was taken, and when.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{bail, Result};
use etcd_snapshot::{MvccError, Record, Salvage};
use serde_json::json;

use crate::output::{report_scan_errors, Change, SalvageReport, SnapshotPrefixArgs, TableOrJson};

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
    /// Carve records from every leaf page, reachable or not (see `ls --salvage`): changes
    /// that compaction removed but did not overwrite, from revision 1 unless --since.
    #[arg(long)]
    salvage: bool,
    /// Records per pass over the file (tests use it to force several passes).
    #[arg(long, hide = true, default_value_t = etcd_snapshot::PASS_RECORDS)]
    pass_records: usize,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let snapshot = args.input.snapshot.open()?;
    let prefix = args.input.prefix.as_bytes();
    let until = args.until.unwrap_or(i64::MAX);
    let mut out = BufWriter::new(io::stdout().lock());
    if args.salvage {
        // Recovered records come in revision order one window of revisions at a time, each
        // window a carve of the whole file holding at most about half a pass of records.
        let db = snapshot.db()?;
        let since = args.since.unwrap_or(i64::MIN);
        let wanted = |main: i64| main >= since && main <= until;
        let windows = Salvage::sample_revisions(db, |key| key.starts_with(prefix)).windows(args.pass_records / 2);
        let mut report = SalvageReport::default();
        for window in windows.iter().filter(|w| w.start <= until && w.end > since) {
            if windows.len() > 1 {
                crate::alloc::release_freed_memory();
            }
            let salvage = Salvage::scan_records_where(db, |r| {
                let main = r.revision_key.revision.main;
                r.kv.key.starts_with(prefix) && window.contains(&main) && wanted(main)
            });
            report.add(&salvage);
            for record in salvage.records() {
                write_change(&mut out, args.format, record)?;
            }
        }
        out.flush()?;
        let kept = format!("under {:?}", args.input.prefix);
        report.print(&snapshot, Some(kept.as_str()).filter(|_| !prefix.is_empty()));
        return Ok(ExitCode::SUCCESS);
    }
    let store = snapshot.store()?;
    let compacted = store.compact_revision();
    let since = args.since.unwrap_or(compacted);
    if since < compacted {
        // As etcd answers a watch from a compacted revision. Older entries the tree keeps
        // are each key's state at the compaction, not changes: `get --history` shows them,
        // and `--salvage` what compaction left in free pages.
        bail!(
            "{}: {} (--salvage reads what it left in free pages)",
            snapshot.path().display(),
            MvccError::Compacted { requested: since, compacted }
        );
    }
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
        if record.kv.key.starts_with(prefix) {
            write_change(&mut out, args.format, &record)?;
        }
    }
    out.flush()?;
    Ok(report_scan_errors(&snapshot, &errors))
}

/// One change: a line of the table, or a JSON line.
fn write_change(out: &mut impl Write, format: TableOrJson, record: &Record<'_>) -> io::Result<()> {
    let change = Change::of(record);
    let key = String::from_utf8_lossy(record.kv.key);
    let revision = record.revision_key.revision;
    match format {
        TableOrJson::Table => writeln!(out, "{} {:<6} {key}", revision.main, change.name()),
        TableOrJson::Json => {
            let mut line = json!({
                "revision": revision.main,
                "sub": revision.sub,
                "type": change.name(),
                "key": key,
            });
            // A deletion's entry holds the key alone.
            if change != Change::Delete {
                line["version"] = record.kv.version.into();
                line["size"] = record.kv.value.len().into();
            }
            serde_json::to_writer(&mut *out, &line)?;
            writeln!(out)
        }
    }
}
