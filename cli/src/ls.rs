//! `etcdsnap ls`: keys at a revision, like `etcdctl get --prefix --keys-only`.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::Result;

use crate::output::{report_salvage, report_scan_errors, SnapshotArg};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    snapshot: SnapshotArg,
    /// Only keys starting with this prefix (raw etcd key bytes, e.g. /registry/pods/).
    #[arg(default_value = "")]
    prefix: String,
    /// State at this revision instead of the latest (must not be below the compaction revision).
    #[arg(long, value_name = "R")]
    revision: Option<i64>,
    /// List keys whose last entry is a deletion (deleted objects) instead of live keys.
    #[arg(long)]
    deleted: bool,
    /// Carve records from every leaf page, reachable or not: reads damaged or truncated
    /// files whose tree is lost, and revisions compaction removed but did not overwrite.
    #[arg(long)]
    salvage: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let snapshot = args.snapshot.open()?;
    let prefix = args.prefix.as_bytes();
    if args.salvage {
        let salvage = etcd_snapshot::Salvage::scan(snapshot.db()?);
        report_salvage(&snapshot, &salvage);
        let histories = salvage.key_histories(prefix, args.revision);
        let keys = histories.iter().filter(|h| h.is_deleted() == args.deleted).map(|h| h.key);
        return print_keys(keys).map(|()| ExitCode::SUCCESS);
    }
    let store = snapshot.store()?;
    // Live and deleted keys come from the same scan; nothing is copied out of it.
    let scan = store.key_histories(prefix, args.revision)?;
    print_keys(scan.items.iter().filter(|h| h.is_deleted() == args.deleted).map(|h| h.key))?;
    Ok(report_scan_errors(&snapshot, &scan.errors))
}

fn print_keys<'a>(keys: impl Iterator<Item = &'a [u8]>) -> Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    for key in keys {
        out.write_all(key)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
