//! `etcdsnap hashkv`: the hash of the key space at a revision, as `etcdctl endpoint hashkv
//! --rev` reports it for a member holding this snapshot.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;

use crate::output::{SnapshotArg, TableOrJson};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    snapshot: SnapshotArg,
    /// Hash at this revision instead of the current one (not below the compaction revision),
    /// as `etcdctl endpoint hashkv --rev R`.
    #[arg(long, visible_alias = "rev", value_name = "R")]
    revision: Option<i64>,
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    format: TableOrJson,
    /// Records per pass over the file (tests use it to force several passes).
    #[arg(long, hide = true, default_value_t = etcd_snapshot::PASS_RECORDS)]
    pass_records: usize,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let snapshot = args.snapshot.open()?;
    let store = snapshot.store()?;
    let hash = store
        .kv_hash_in_passes(args.revision, args.pass_records, crate::alloc::release_freed_memory)
        .with_context(|| format!("{}: cannot hash the key space", snapshot.path().display()))?;
    let mut out = io::stdout().lock();
    match args.format {
        // Decimal, as etcdctl prints it, so that the two can be compared by eye.
        TableOrJson::Table => {
            writeln!(out, "hash             {}", hash.hash)?;
            writeln!(out, "hashRevision     {}", hash.revision)?;
            writeln!(out, "compactRevision  {}", hash.compact_revision)?;
        }
        TableOrJson::Json => writeln!(
            out,
            "{}",
            json!({"hash": hash.hash, "hashRevision": hash.revision, "compactRevision": hash.compact_revision})
        )?,
    }
    Ok(ExitCode::SUCCESS)
}
