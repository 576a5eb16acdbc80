//! `etcdsnap ls`: keys at a revision, like `etcdctl get --prefix --keys-only`.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::Result;

use crate::output::{report_scan_errors, SnapshotArg};

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
}

pub fn run(args: Args) -> Result<ExitCode> {
    let snapshot = args.snapshot.open()?;
    let store = snapshot.store()?;
    let prefix = args.prefix.as_bytes();
    let (keys, errors): (Vec<&[u8]>, _) = if args.deleted {
        let scan = store.deleted(prefix, args.revision)?;
        (scan.items.iter().map(|h| h.key).collect(), scan.errors)
    } else {
        let scan = store.live(prefix, args.revision)?;
        (scan.items.iter().map(|r| r.kv.key).collect(), scan.errors)
    };
    let mut out = BufWriter::new(io::stdout().lock());
    for key in keys {
        out.write_all(key)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(report_scan_errors(&snapshot, &errors))
}
