//! `etcdsnap status`: `etcdutl snapshot status` and more.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Result;
use etcd_snapshot::bbolt::{Db, PageUsage};
use etcd_snapshot::{DbStatus, KeyHistory, MvccError, Snapshot, SourceKind, Store, TrailerCheck};
use k8s_decode::encryption::EncryptedWith;
use serde_json::{json, Value};

use crate::output::{humanize_bytes, page_usage, report_scan_errors, scan_in_passes, SnapshotArg, TableOrJson};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    snapshot: SnapshotArg,
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    format: TableOrJson,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let snapshot = args.snapshot.open()?;
    // The SHA-256 of the whole file is one sequential pass (the longest part of `status`),
    // so it runs on one core while the rest runs on the others.
    let (trailer, rest) = rayon::join(|| snapshot.verify_trailer(), || contents(&snapshot));
    let Contents { db, status, pages, store, live_keys, encrypted, errors } = rest?;
    let trailer = match trailer {
        TrailerCheck::Absent => "absent".to_string(),
        TrailerCheck::Valid => "valid".to_string(),
        TrailerCheck::Mismatch { .. } => "MISMATCH".to_string(),
    };
    let meta = db.meta();
    // The first four fields are etcdutl's, with its names and values; the rest are ours.
    let report = json!({
        "hash": status.hash,
        "revision": status.revision,
        "totalKey": status.total_key,
        "totalSize": status.total_size,
        "file": snapshot.path().display().to_string(),
        "format": match snapshot.kind() { SourceKind::SnapshotWithTrailer => "snapshot", SourceKind::RawDb => "db" },
        "trailer": trailer,
        "truncated": db.is_truncated(),
        "pageSize": db.page_size(),
        // etcd's dbSizeInUse: what a defrag would shrink the file to (the free pages go).
        "sizeInUse": pages.map(|p| p.in_use_bytes()),
        "freePages": pages.map(|p| p.free),
        "metaTxid": meta.active.txid,
        "metaPage": meta.slot as u8,
        "metaFallback": meta.fallback.map(|e| e.to_string()),
        "currentRevision": store.current_revision(),
        "compactRevision": store.compact_revision(),
        "liveKeys": live_keys,
        "encryptedKeys": encrypted,
        "consistentIndex": store.meta().consistent_index,
        "term": store.meta().term,
        "storageVersion": store.meta().storage_version,
        "buckets": status.buckets.iter().map(|b| json!({
            "name": String::from_utf8_lossy(&b.name),
            "entries": b.entries,
            "inline": b.inline,
        })).collect::<Vec<_>>(),
    });
    let mut out = io::stdout().lock();
    match args.format {
        TableOrJson::Json => writeln!(out, "{}", serde_json::to_string(&report)?)?,
        TableOrJson::Table => write_table(&mut out, &report)?,
    }
    if trailer == "MISMATCH" {
        eprintln!(
            "etcdsnap: {}: SHA-256 trailer does not match the image (modified or truncated file)",
            snapshot.path().display()
        );
        return Ok(ExitCode::from(1));
    }
    let scan = report_scan_errors(&snapshot, &errors);
    Ok(if pages.is_none() { ExitCode::from(1) } else { scan })
}

/// What `status` reports of the database, besides its trailer.
struct Contents<'a> {
    db: Db<'a>,
    status: DbStatus,
    pages: Option<PageUsage>,
    store: Store<'a>,
    live_keys: u64,
    encrypted: BTreeMap<String, u64>,
    errors: Vec<MvccError>,
}

fn contents(snapshot: &Snapshot) -> Result<Contents<'_>> {
    let db = snapshot.db()?;
    let status = DbStatus::compute(&db).map_err(|e| anyhow::anyhow!("{}: {e}", snapshot.path().display()))?;
    let pages = page_usage(snapshot, &db);
    let store = snapshot.store()?;
    // Counted by key ranges, as `ls` lists them, so that memory stays bounded. Live values
    // encrypted at rest are counted by the provider and key their prefix names: the keys a
    // restore of this snapshot needs.
    let mut live_keys = 0;
    let mut encrypted: BTreeMap<String, u64> = BTreeMap::new();
    let errors = scan_in_passes(&store, b"", None, etcd_snapshot::PASS_RECORDS, |histories: Vec<KeyHistory<'_>>| {
        for live in histories.iter().filter(|h| !h.is_deleted()) {
            live_keys += 1;
            if let Some(with) = EncryptedWith::read(live.last.value()) {
                *encrypted.entry(encryption_label(&with)).or_default() += 1;
            }
        }
        Ok(())
    })?;
    Ok(Contents { db, status, pages, store, live_keys, encrypted, errors })
}

/// `aescbc/key1`, `kms-v2/cloud-kms`: the provider as the EncryptionConfiguration names it
/// (with its version when not v1), and the key.
fn encryption_label(with: &EncryptedWith) -> String {
    match with.version.as_str() {
        "v1" => format!("{}/{}", with.provider, with.key_name),
        version => format!("{}-{version}/{}", with.provider, with.key_name),
    }
}

fn write_table(out: &mut impl Write, report: &Value) -> io::Result<()> {
    let Value::Object(map) = report else { return Ok(()) };
    let rows: Vec<(String, String)> = map
        .iter()
        .filter(|(k, _)| *k != "buckets")
        .map(|(k, v)| {
            let shown = match (k.as_str(), v) {
                ("hash", Value::Number(n)) => format!("{:x}", n.as_u64().unwrap_or(0)),
                ("totalSize" | "sizeInUse", Value::Number(n)) => {
                    format!("{} ({})", humanize_bytes(n.as_u64().unwrap_or(0)), n)
                }
                (_, Value::String(s)) => s.clone(),
                (_, Value::Object(counts)) if counts.is_empty() => "-".into(),
                (_, Value::Object(counts)) => {
                    counts.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
                }
                (_, Value::Null) => "-".into(),
                (_, other) => other.to_string(),
            };
            (k.clone(), shown)
        })
        .collect();
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        writeln!(out, "{k:<width$}  {v}")?;
    }
    if let Some(Value::Array(buckets)) = map.get("buckets") {
        writeln!(out, "buckets:")?;
        for b in buckets {
            writeln!(
                out,
                "  {:<16} {:>10} entries{}",
                b["name"].as_str().unwrap_or(""),
                b["entries"],
                if b["inline"] == Value::Bool(true) { " (inline)" } else { "" }
            )?;
        }
    }
    Ok(())
}
