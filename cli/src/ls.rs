//! `etcdsnap ls`: keys at a revision, like `etcdctl get --prefix --keys-only`.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::Result;
use etcd_snapshot::{KeyHistory, KeyState, Salvage};
use rayon::prelude::*;

use crate::output::{report_scan_errors, scan_in_passes, SalvageReport, SnapshotPrefixArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: SnapshotPrefixArgs,
    /// State at this revision instead of the latest (must not be below the compaction revision).
    #[arg(long, value_name = "R")]
    revision: Option<i64>,
    /// List keys whose last entry is a deletion (deleted objects) instead of live keys.
    #[arg(long)]
    deleted: bool,
    /// Long listing: the key's revision (its last change), version and value size before it
    /// (for a deleted key: the deletion's revision, and the last retained put's version and
    /// size, `-` when compaction removed it).
    #[arg(short = 'l', long)]
    long: bool,
    /// Carve records from every leaf page, reachable or not: reads damaged or truncated
    /// files whose tree is lost, and revisions compaction removed but did not overwrite.
    #[arg(long)]
    salvage: bool,
    /// Records per pass over the file (tests use it to force several passes).
    #[arg(long, hide = true, default_value_t = etcd_snapshot::PASS_RECORDS)]
    pass_records: usize,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let snapshot = args.input.snapshot.open()?;
    let prefix = args.input.prefix.as_bytes();
    let mut out = BufWriter::new(io::stdout().lock());
    if args.salvage {
        // Salvage goes by key ranges too when its records are many; it holds every record it
        // keeps while it folds them (100 B each), so its passes are half the size.
        let db = snapshot.db()?;
        let ranges = Salvage::sample_keys(db, prefix, |_| true).ranges(args.pass_records / 2);
        let mut report = SalvageReport::default();
        for range in &ranges {
            if ranges.len() > 1 {
                crate::alloc::release_freed_memory();
            }
            let salvage = Salvage::scan_where(db, |key| key.starts_with(prefix) && range.contains(key));
            report.add(&salvage);
            write_histories(&mut out, &salvage.key_histories(prefix, args.revision), args.deleted, args.long)?;
        }
        out.flush()?;
        let kept = format!("under {:?}", args.input.prefix);
        report.print(&snapshot, Some(kept.as_str()).filter(|_| !prefix.is_empty()));
        return Ok(ExitCode::SUCCESS);
    }
    let store = snapshot.store()?;
    let (at, passes) = (args.revision, args.pass_records);
    // Without `-l` a key's records are not read: the scan keeps whether it exists alone.
    let errors = if args.long {
        scan_in_passes(&store, prefix, at, passes, |histories: Vec<KeyHistory<'_>>| {
            write_histories(&mut out, &histories, args.deleted, args.long)
        })?
    } else {
        scan_in_passes(&store, prefix, at, passes, |states: Vec<KeyState<'_>>| {
            write_lines(&mut out, &states, |text, state| {
                if state.deleted == args.deleted {
                    text.extend_from_slice(state.key);
                    text.push(b'\n');
                }
            })
        })?
    };
    out.flush()?;
    Ok(report_scan_errors(&snapshot, &errors))
}

/// Keys written per batch: formatted in parallel, then written in order.
const WRITE_BATCH: usize = 1 << 16;

/// Keys of the histories that are (or are not) deleted, one per line.
fn write_histories(out: &mut impl Write, histories: &[KeyHistory<'_>], deleted: bool, long: bool) -> Result<()> {
    write_lines(out, histories, |text, history| {
        if history.is_deleted() == deleted {
            if long {
                write_long_fields(text, history);
            }
            text.extend_from_slice(history.key);
            text.push(b'\n');
        }
    })
}

/// What `line` writes of each item, in order. The keys sit in the mapping in revision order,
/// so reading them in key order is a cache miss each: formatting batches on every core
/// shares those misses (a tenth of `ls` on 2 GiB when done on one).
fn write_lines<T: Sync>(out: &mut impl Write, items: &[T], line: impl Fn(&mut Vec<u8>, &T) + Sync) -> Result<()> {
    for batch in items.chunks(WRITE_BATCH) {
        let parts: Vec<Vec<u8>> = batch
            .par_chunks(WRITE_BATCH / 16)
            .map(|part| {
                let mut text = Vec::with_capacity(part.len() * 64);
                for item in part {
                    line(&mut text, item);
                }
                text
            })
            .collect();
        for part in &parts {
            out.write_all(part)?;
        }
    }
    Ok(())
}

/// `ls -l`'s fields before the key: revision, version, value size.
fn write_long_fields(text: &mut Vec<u8>, history: &KeyHistory<'_>) {
    let revision = history.last.revision_key.revision.main;
    let put = if history.is_deleted() { history.last_put } else { Some(history.last) };
    let (version, size) = match put.map(|p| (p, p.record())) {
        Some((_, Ok(put))) => (put.kv.version.to_string(), put.kv.value.len().to_string()),
        // The record's end is damaged (`get` tells how); its value is whole.
        Some((put, Err(_))) => ("?".to_string(), put.value().len().to_string()),
        None => ("-".to_string(), "-".to_string()),
    };
    // Writing to a Vec cannot fail.
    let _ = write!(text, "{revision:>10} {version:>6} {size:>9} ");
}
