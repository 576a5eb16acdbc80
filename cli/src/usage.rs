//! `etcdsnap usage`: what fills the snapshot, by resource or namespace. The question behind
//! "mvcc: database space exceeded": which objects are large, and how much of the space is
//! history that a compaction would let go.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::Result;
use etcd_snapshot::bbolt::PageUsage;
use etcd_snapshot::KeyHistory;
use k8s_decode::keys::{normalize_prefix, parse_key_ref};
use k8s_decode::resources::ResourceTable;
use serde_json::{json, Value};

use crate::extract::storage_name;
use crate::output::{humanize_bytes, page_usage, report_scan_errors, scan_in_passes, SnapshotArg, TableOrJson};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum By {
    /// One row per resource (`pods`, `deployments`, `widgets.example.com`).
    Resource,
    /// One row per namespace; cluster-scoped objects and other keys get a row each.
    Namespace,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    snapshot: SnapshotArg,
    /// What a row counts.
    #[arg(long, value_enum, default_value = "resource")]
    by: By,
    /// Only objects in this namespace (repeatable).
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    namespaces: Vec<String>,
    /// Also list the N largest objects (live values, as stored).
    #[arg(long, value_name = "N", default_value_t = 0)]
    largest: usize,
    /// Key prefix of the API server (`--etcd-prefix`; OpenShift: /kubernetes.io).
    #[arg(long, value_name = "PREFIX", default_value = "/registry")]
    etcd_prefix: String,
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    format: TableOrJson,
}

/// The space one row's keys hold, in bytes of values as stored (encrypted values count
/// their ciphertext). Keys and bbolt's page overhead are not counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Usage {
    /// Keys that exist at the latest revision.
    objects: u64,
    /// Their values.
    size: u64,
    /// Keys whose newest retained entry is a deletion.
    deleted: u64,
    /// Entries of the `key` bucket: every retained put and deletion.
    revisions: u64,
    /// Values of every retained entry, the live ones included.
    stored: u64,
}

impl Usage {
    /// Values of older revisions: what a compaction at the current revision (and a defrag)
    /// would give back.
    fn history(&self) -> u64 {
        self.stored.saturating_sub(self.size)
    }

    fn add(&mut self, other: &Usage) {
        self.objects += other.objects;
        self.size += other.size;
        self.deleted += other.deleted;
        self.revisions += other.revisions;
        self.stored += other.stored;
    }
}

/// Which row a key belongs to; `None` for keys the `-n` filter leaves out.
struct Rows<'t> {
    by: By,
    namespaces: Vec<String>,
    prefix: String,
    table: &'t ResourceTable,
}

impl Rows<'_> {
    fn row_of(&self, key: &[u8]) -> Option<String> {
        let Ok(object) = parse_key_ref(key, &self.prefix, self.table) else {
            return self.namespaces.is_empty().then(|| other_row(key, self.by));
        };
        if !self.namespaces.is_empty() && !object.namespace.is_some_and(|ns| self.namespaces.iter().any(|n| n == ns)) {
            return None;
        }
        Some(match self.by {
            By::Resource => storage_name(&object),
            By::Namespace => object.namespace.map_or_else(|| CLUSTER_ROW.to_string(), str::to_string),
        })
    }
}

const CLUSTER_ROW: &str = "(cluster-scoped)";
const OTHER_ROW: &str = "(other keys)";

/// Keys that are not objects under the prefix: by resource, their first two path segments
/// (`compact_rev_key`, `/kubernetes.io/routes` when the prefix was not given), so that a
/// snapshot read with the wrong `--etcd-prefix` still shows where its space is.
fn other_row(key: &[u8], by: By) -> String {
    if by == By::Namespace {
        return OTHER_ROW.to_string();
    }
    let segments = if key.starts_with(b"/") { 3 } else { 1 };
    let end = key.iter().enumerate().filter(|&(_, &b)| b == b'/').map(|(i, _)| i).nth(segments - 1);
    String::from_utf8_lossy(&key[..end.unwrap_or(key.len())]).into_owned()
}

pub fn run(args: Args) -> Result<ExitCode> {
    let snapshot = args.snapshot.open()?;
    let store = snapshot.store()?;
    let table = ResourceTable::builtin();
    let rows = Rows {
        by: args.by,
        namespaces: args.namespaces.clone(),
        prefix: normalize_prefix(&args.etcd_prefix),
        table: &table,
    };

    // Every retained entry, in parallel runs of the bucket: revisions and stored bytes.
    let mut usage: HashMap<String, Usage> = HashMap::new();
    let mut errors = Vec::new();
    let per_run = store.par_runs(|records, errors| {
        let mut counted: HashMap<String, Usage> = HashMap::new();
        for record in records.filter_map(|r| r.map_err(|e| errors.push(e)).ok()) {
            let Some(row) = rows.row_of(record.kv.key) else { continue };
            let usage = counted.entry(row).or_default();
            usage.revisions += 1;
            usage.stored += record.kv.value.len() as u64;
        }
        counted
    });
    for (counted, run_errors) in per_run {
        errors.extend(run_errors);
        for (row, counted) in counted {
            usage.entry(row).or_default().add(&counted);
        }
    }

    // The newest entry of every key, in passes of bounded memory: live and deleted keys.
    let mut largest: BinaryHeap<Reverse<(u64, Vec<u8>)>> = BinaryHeap::new();
    let pass_errors =
        scan_in_passes(&store, b"", None, etcd_snapshot::PASS_RECORDS, |histories: Vec<KeyHistory<'_>>| {
            for history in &histories {
                let Some(row) = rows.row_of(history.key) else { continue };
                let usage = usage.entry(row).or_default();
                if history.is_deleted() {
                    usage.deleted += 1;
                    continue;
                }
                let size = history.last.value().len() as u64;
                usage.objects += 1;
                usage.size += size;
                // A min-heap of the largest so far: a key is copied only when it enters.
                let enters =
                    largest.len() < args.largest || largest.peek().is_some_and(|Reverse((least, _))| size > *least);
                if enters {
                    largest.push(Reverse((size, history.key.to_vec())));
                    if largest.len() > args.largest {
                        largest.pop();
                    }
                }
            }
            Ok(())
        })?;
    // The first pass met all the damage the record scan met, and reports it the same way.
    if errors.is_empty() {
        errors = pass_errors;
    }

    let mut rows: Vec<(String, Usage)> = usage.into_iter().collect();
    // Largest first: what holds the most space, history included.
    rows.sort_by(|(a, x), (b, y)| y.stored.cmp(&x.stored).then_with(|| a.cmp(b)));
    let mut total = Usage::default();
    for (_, usage) in &rows {
        total.add(usage);
    }
    let mut largest: Vec<(u64, Vec<u8>)> = largest.into_iter().map(|Reverse(entry)| entry).collect();
    largest.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.cmp(y)));
    let pages = page_usage(&snapshot, &snapshot.db()?);
    let report = Report { by: args.by, rows, total, largest, pages };

    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        TableOrJson::Json => {
            serde_json::to_writer_pretty(&mut out, &report.to_json())?;
            writeln!(out)?;
        }
        TableOrJson::Table => report.write_table(&mut out)?,
    }
    out.flush()?;
    let scan = report_scan_errors(&snapshot, &errors);
    Ok(if pages.is_none() { ExitCode::from(1) } else { scan })
}

/// What `usage` prints.
struct Report {
    by: By,
    /// Largest first.
    rows: Vec<(String, Usage)>,
    total: Usage,
    /// `--largest`: size and key, largest first.
    largest: Vec<(u64, Vec<u8>)>,
    /// The file's pages, unless a tree page could not be read.
    pages: Option<PageUsage>,
}

fn usage_json(usage: &Usage) -> Value {
    json!({
        "objects": usage.objects,
        "size": usage.size,
        "deleted": usage.deleted,
        "revisions": usage.revisions,
        "history": usage.history(),
    })
}

impl Report {
    fn to_json(&self) -> Value {
        let column = match self.by {
            By::Resource => "resource",
            By::Namespace => "namespace",
        };
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|(row, usage)| {
                let mut value = json!({ column: row });
                value.as_object_mut().unwrap().extend(usage_json(usage).as_object().unwrap().clone());
                value
            })
            .collect();
        let mut report = json!({ "rows": rows, "total": usage_json(&self.total) });
        if let Some(pages) = &self.pages {
            // The names `status` gives them.
            report["file"] = json!({
                "totalSize": pages.pages * pages.page_size,
                "sizeInUse": pages.in_use_bytes(),
                "freePages": pages.free,
            });
        }
        if !self.largest.is_empty() {
            report["largest"] = self
                .largest
                .iter()
                .map(|(size, key)| json!({ "key": String::from_utf8_lossy(key), "size": size }))
                .collect::<Vec<_>>()
                .into();
        }
        report
    }

    fn write_table(&self, out: &mut impl Write) -> io::Result<()> {
        let header = match self.by {
            By::Resource => "RESOURCE",
            By::Namespace => "NAMESPACE",
        };
        let mut lines = vec![[header, "OBJECTS", "SIZE", "DELETED", "REVISIONS", "HISTORY"].map(str::to_string)];
        let line = |name: &str, u: &Usage| {
            [
                name.to_string(),
                u.objects.to_string(),
                humanize_bytes(u.size),
                u.deleted.to_string(),
                u.revisions.to_string(),
                humanize_bytes(u.history()),
            ]
        };
        lines.extend(self.rows.iter().map(|(row, usage)| line(row, usage)));
        lines.push(line("TOTAL", &self.total));
        write_columns(out, &lines)?;
        if let Some(pages) = &self.pages {
            writeln!(
                out,
                "\nfile: {} in use, {} in {} free pages (a defrag gives them back)",
                humanize_bytes(pages.in_use_bytes()),
                humanize_bytes(pages.free_bytes()),
                pages.free
            )?;
        }
        if !self.largest.is_empty() {
            writeln!(out)?;
            let mut lines = vec![["KEY".to_string(), "SIZE".to_string()]];
            lines.extend(
                self.largest
                    .iter()
                    .map(|(size, key)| [String::from_utf8_lossy(key).into_owned(), humanize_bytes(*size)]),
            );
            write_columns(out, &lines)?;
        }
        Ok(())
    }
}

/// Columns as kubectl aligns them: left-aligned, three spaces apart.
fn write_columns<const N: usize>(out: &mut impl Write, lines: &[[String; N]]) -> io::Result<()> {
    let mut widths = [0; N];
    for line in lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for line in lines {
        let mut text = String::new();
        for (i, (cell, width)) in line.iter().zip(widths).enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}   "));
            }
        }
        writeln!(out, "{text}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_are_not_objects_are_grouped_by_their_first_segments() {
        assert_eq!(other_row(b"compact_rev_key", By::Resource), "compact_rev_key");
        assert_eq!(other_row(b"/kubernetes.io/routes/ns/name", By::Resource), "/kubernetes.io/routes");
        assert_eq!(other_row(b"/registry/masterleases", By::Resource), "/registry/masterleases");
        assert_eq!(other_row(b"/registry/masterleases/10.0.0.1", By::Namespace), OTHER_ROW);
    }

    #[test]
    fn rows_name_resources_as_kubectl_and_filter_namespaces() {
        let table = ResourceTable::builtin();
        let rows = Rows { by: By::Resource, namespaces: vec![], prefix: "/registry/".into(), table: &table };
        assert_eq!(rows.row_of(b"/registry/pods/a/p").as_deref(), Some("pods"));
        assert_eq!(rows.row_of(b"/registry/deployments/a/d").as_deref(), Some("deployments"));
        assert_eq!(rows.row_of(b"/registry/example.com/widgets/a/w").as_deref(), Some("widgets.example.com"));
        assert_eq!(rows.row_of(b"/registry/services/specs/a/s").as_deref(), Some("services"));
        let in_a = Rows { namespaces: vec!["a".into()], ..rows };
        assert_eq!(in_a.row_of(b"/registry/pods/a/p").as_deref(), Some("pods"));
        assert_eq!(in_a.row_of(b"/registry/pods/b/p"), None);
        assert_eq!(in_a.row_of(b"/registry/namespaces/a"), None, "cluster-scoped");
        assert_eq!(in_a.row_of(b"compact_rev_key"), None);
        let by_ns = Rows { by: By::Namespace, namespaces: vec![], ..in_a };
        assert_eq!(by_ns.row_of(b"/registry/pods/a/p").as_deref(), Some("a"));
        assert_eq!(by_ns.row_of(b"/registry/namespaces/a").as_deref(), Some(CLUSTER_ROW));
        assert_eq!(by_ns.row_of(b"compact_rev_key").as_deref(), Some(OTHER_ROW));
    }
}
