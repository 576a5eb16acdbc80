//! `etcdsnap compare`: the objects created, changed and deleted between two snapshots, such
//! as last night's backup and this morning's: what a restore of the older one would undo.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use etcd_snapshot::{KeyHistory, KeyRange, LeafPasses, MvccError, Snapshot, Store};
use serde_json::json;

use crate::output::{report_scan_errors, Change, TableOrJson};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The older snapshot (e.g. last night's backup).
    #[arg(value_name = "OLD")]
    old: PathBuf,
    /// The newer snapshot.
    #[arg(value_name = "NEW")]
    new: PathBuf,
    /// Only keys starting with this prefix (raw etcd key bytes, e.g. /registry/deployments/).
    #[arg(value_name = "PREFIX", default_value = "")]
    prefix: String,
    /// `table`: one key per line after what happened to it; `json`: one JSON object per line.
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    format: TableOrJson,
    /// Records per pass over each file (tests use it to force several passes).
    #[arg(long, hide = true, default_value_t = etcd_snapshot::PASS_RECORDS)]
    pass_records: usize,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let old = Snapshot::open(&args.old)?;
    let new = Snapshot::open(&args.new)?;
    let (old_store, new_store) = (old.store()?, new.store()?);
    let prefix = args.prefix.as_bytes();
    // Both files are read one key range at a time, the same ranges for both, each holding
    // at most half a pass of the larger file's records: memory stays that of one pass.
    let (old_sample, new_sample) = (old_store.sample_keys(prefix, |_| true), new_store.sample_keys(prefix, |_| true));
    let larger = if old_sample.estimated_records() >= new_sample.estimated_records() { old_sample } else { new_sample };
    let ranges = larger.ranges(args.pass_records / 2);
    let pass_of = |key: &[u8]| Some(KeyRange::index_of(&ranges, key));
    let (old_leaves, new_leaves) = (LeafPasses::new(&old_store), LeafPasses::new(&new_store));
    let mut out = BufWriter::new(io::stdout().lock());
    let (mut old_errors, mut new_errors) = (None, None);
    for pass in 0..ranges.len() {
        if ranges.len() > 1 {
            crate::alloc::release_freed_memory();
        }
        let older = live(&old_store, prefix, pass, &pass_of, &old_leaves, &mut old_errors)?;
        let newer = live(&new_store, prefix, pass, &pass_of, &new_leaves, &mut new_errors)?;
        for change in changes(&older, &newer) {
            write_change(&mut out, args.format, &change)?;
        }
    }
    out.flush()?;
    let old_code = report_scan_errors(&old, &old_errors.unwrap_or_default());
    let new_code = report_scan_errors(&new, &new_errors.unwrap_or_default());
    Ok(if old_code == ExitCode::SUCCESS { new_code } else { old_code })
}

/// The keys of pass `pass` live in `store`. The first pass reads every page, so the damage
/// it meets is all there is.
fn live<'a>(
    store: &Store<'a>,
    prefix: &[u8],
    pass: usize,
    pass_of: &(impl Fn(&[u8]) -> Option<usize> + Sync),
    leaves: &LeafPasses,
    errors: &mut Option<Vec<MvccError>>,
) -> Result<Vec<KeyHistory<'a>>, MvccError> {
    let scan = store.key_histories_pass(prefix, None, pass, pass_of, leaves)?;
    errors.get_or_insert(scan.errors);
    Ok(scan.items.into_iter().filter(|h| !h.is_deleted()).collect())
}

/// What happened to one key between the two snapshots.
struct KeyChange<'o, 'n> {
    kind: Change,
    key: &'o [u8],
    older: Option<&'o KeyHistory<'o>>,
    newer: Option<&'n KeyHistory<'n>>,
}

/// The keys live in only one of two key-sorted lists, and those live in both whose values
/// differ (compared as stored: an object encrypted again with a new nonce differs).
fn changes<'o, 'n>(older: &'o [KeyHistory<'o>], newer: &'n [KeyHistory<'n>]) -> Vec<KeyChange<'o, 'n>>
where
    'n: 'o,
{
    let (mut i, mut j) = (0, 0);
    let mut found = Vec::new();
    while i < older.len() || j < newer.len() {
        let order = match (older.get(i), newer.get(j)) {
            (Some(o), Some(n)) => o.key.cmp(n.key),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                found.push(KeyChange { kind: Change::Delete, key: older[i].key, older: Some(&older[i]), newer: None });
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                found.push(KeyChange { kind: Change::Create, key: newer[j].key, older: None, newer: Some(&newer[j]) });
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                if older[i].last.value() != newer[j].last.value() {
                    found.push(KeyChange {
                        kind: Change::Update,
                        key: older[i].key,
                        older: Some(&older[i]),
                        newer: Some(&newer[j]),
                    });
                }
                i += 1;
                j += 1;
            }
        }
    }
    found
}

fn write_change(out: &mut impl Write, format: TableOrJson, change: &KeyChange<'_, '_>) -> io::Result<()> {
    let key = String::from_utf8_lossy(change.key);
    match format {
        TableOrJson::Table => writeln!(out, "{:<6} {key}", change.kind.name()),
        TableOrJson::Json => {
            // The revision of the key's last change in each snapshot that has it.
            let mut line = json!({ "type": change.kind.name(), "key": key });
            if let Some(older) = change.older {
                line["oldRevision"] = older.last.revision_key.revision.main.into();
            }
            if let Some(newer) = change.newer {
                line["newRevision"] = newer.last.revision_key.revision.main.into();
            }
            serde_json::to_writer(&mut *out, &line)?;
            writeln!(out)
        }
    }
}
