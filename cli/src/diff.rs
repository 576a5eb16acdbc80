//! `etcdsnap diff`: what changed in one object between two of its retained revisions, or
//! between two snapshots, as a unified diff of the YAML `get` prints.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use etcd_snapshot::{MvccError, Record, Snapshot};
use k8s_decode::encryption::EncryptionKeys;
use k8s_decode::Decoder;
use similar::TextDiff;

use crate::output::report_scan_errors;
use crate::render::{decode_value, store_evidence};
use crate::target::{ObjectArgs, OpenedObject};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    object: ObjectArgs,
    /// The older side: the object as it was at this revision (default: its revision
    /// before the newer side's).
    #[arg(long, value_name = "R", conflicts_with_all = ["against", "all"])]
    from: Option<i64>,
    /// The newer side: the object as it was at this revision (default: the latest).
    #[arg(long, value_name = "R", conflicts_with = "all")]
    to: Option<i64>,
    /// Every retained change of the object, oldest first, each against the revision before.
    #[arg(long)]
    all: bool,
    /// The older side: the object's latest state in this other snapshot (e.g. last night's
    /// backup).
    #[arg(long, value_name = "SNAPSHOT", conflicts_with = "all")]
    against: Option<PathBuf>,
    /// Show metadata.managedFields, which every write changes (hidden, as `kubectl diff`
    /// hides them).
    #[arg(long)]
    show_managed_fields: bool,
}

/// One side of a diff: a label and the YAML (empty where the object does not exist).
struct Side {
    label: String,
    yaml: String,
}

impl Side {
    /// No object: `key` and why.
    fn absent(key: &str, why: &str) -> Side {
        Side { label: format!("{key} ({why})"), yaml: String::new() }
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let OpenedObject { snapshot, keys, target, key } = args.object.open(args.to)?;
    let store = snapshot.store()?;
    let history = store.history(key.as_bytes());
    let decoder =
        args.object.kube_version.decoder_for(keys.as_ref(), || store_evidence(&store, &args.object.etcd_prefix));
    let render = Render { decoder: &decoder, keys: keys.as_ref(), key: &key, managed_fields: args.show_managed_fields };
    let records = &history.items;

    let mut out = BufWriter::new(io::stdout().lock());
    let to_index = match args.to {
        Some(to) => newest_at(records, to),
        None => records.len().checked_sub(1),
    };
    let name = snapshot.path().display().to_string();
    if args.all {
        if records.is_empty() {
            bail!("{name}: {} has no retained revisions", target.describe(&key));
        }
        // The first retained entry against nothing: the object as it was first kept.
        let mut older = Side::absent(&key, "no retained revision before");
        for record in records {
            let newer = render.side(record, &name)?;
            write_diff(&mut out, &older, &newer)?;
            older = newer;
        }
    } else {
        if let (Some(other), None) = (&args.against, to_index) {
            // Gone from this snapshot, history and all: the other's object, removed.
            let newer = Side::absent(&key, &format!("not in {name}"));
            write_diff(&mut out, &render.other_snapshot(other)?, &newer)?;
            out.flush()?;
            return Ok(report_scan_errors(&snapshot, &history.errors));
        }
        let Some(to_index) = to_index else {
            let at = args.to.map_or_else(|| "any retained revision".to_string(), |r| format!("revision {r}"));
            bail!("{name}: {} not found at {at}", target.describe(&key));
        };
        let newer = render.side(&records[to_index], &name)?;
        let older = if let Some(other) = &args.against {
            render.other_snapshot(other)?
        } else {
            let from_index = match args.from {
                Some(from) if from < store.compact_revision() => {
                    let compacted = store.compact_revision();
                    bail!("{name}: {}", MvccError::Compacted { requested: from, compacted });
                }
                Some(from) => newest_at(records, from),
                None => to_index.checked_sub(1),
            };
            match from_index {
                Some(i) => render.side(&records[i], &name)?,
                None => Side::absent(&key, "no retained revision before"),
            }
        };
        write_diff(&mut out, &older, &newer)?;
    }
    out.flush()?;
    Ok(report_scan_errors(&snapshot, &history.errors))
}

/// The newest of `records` (in revision order) at or before main revision `at`.
fn newest_at(records: &[Record<'_>], at: i64) -> Option<usize> {
    records.iter().rposition(|r| r.revision_key.revision.main <= at)
}

/// Turns records into the YAML `get` prints.
struct Render<'d> {
    decoder: &'d Decoder,
    keys: Option<&'d EncryptionKeys>,
    key: &'d str,
    managed_fields: bool,
}

impl Render<'_> {
    fn side(&self, record: &Record<'_>, snapshot: &str) -> Result<Side> {
        let revision = record.revision_key.revision.main;
        if record.is_tombstone() {
            return Ok(Side::absent(self.key, &format!("deleted at revision {revision}")));
        }
        let mut decoded = decode_value(
            self.decoder,
            self.key,
            record.kv.value,
            Some(record.kv.mod_revision),
            self.keys,
            record.kv.key,
        )?;
        if !self.managed_fields {
            if let Some(metadata) = decoded.object.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                metadata.shift_remove("managedFields");
            }
        }
        let yaml = k8s_decode::yaml::to_yaml_string(&decoded.object)?;
        Ok(Side { label: format!("{} @ revision {revision} ({snapshot})", self.key), yaml })
    }

    /// The key's latest state in another snapshot.
    fn other_snapshot(&self, path: &PathBuf) -> Result<Side> {
        let other = Snapshot::open(path)?;
        let store = other.store()?;
        let history = store.history(self.key.as_bytes());
        report_scan_errors(&other, &history.errors);
        let name = other.path().display().to_string();
        match history.items.last() {
            None => Ok(Side::absent(self.key, &format!("not in {name}"))),
            Some(record) => self.side(record, &name),
        }
    }
}

/// A unified diff with three lines of context, as `diff -u` writes it; nothing when the
/// sides are equal.
fn write_diff(out: &mut impl Write, older: &Side, newer: &Side) -> io::Result<()> {
    let diff = TextDiff::from_lines(&older.yaml, &newer.yaml);
    let unified = diff.unified_diff().context_radius(3).header(&older.label, &newer.label).to_string();
    out.write_all(unified.as_bytes())
}
