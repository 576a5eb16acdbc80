//! Shared pieces of command output: opening the snapshot, revision selection, reporting
//! scan damage.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use etcd_snapshot::bbolt::{Db, PageUsage};
use etcd_snapshot::mvcc::Scan;
use etcd_snapshot::{KeyHistory, KeyRange, KeyState, LeafPasses, MvccError, Record, Snapshot, Store};

/// Positional snapshot path shared by every command.
#[derive(Debug, clap::Args)]
pub struct SnapshotArg {
    /// Snapshot file (`etcdctl snapshot save` output), raw `member/snap/db`, or etcd data dir.
    #[arg(value_name = "SNAPSHOT")]
    pub snapshot: PathBuf,
}

impl SnapshotArg {
    pub fn open(&self) -> Result<Snapshot> {
        Ok(Snapshot::open(&self.snapshot)?)
    }
}

/// The snapshot and the optional raw key prefix of the commands that read keys (`ls`, `log`).
#[derive(Debug, clap::Args)]
pub struct SnapshotPrefixArgs {
    #[command(flatten)]
    pub snapshot: SnapshotArg,
    /// Only keys starting with this prefix (raw etcd key bytes, e.g. /registry/pods/).
    #[arg(value_name = "PREFIX", default_value = "")]
    pub prefix: String,
}

/// `-o` of the commands that print a report: aligned text, or JSON for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableOrJson {
    Table,
    Json,
}

/// What a change did to its key, as `log` and `compare` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A put of a key that did not exist (version 1: created, or created again).
    Create,
    Update,
    Delete,
}

impl Change {
    /// What a `key` bucket entry did.
    pub fn of(record: &Record<'_>) -> Change {
        match (record.is_tombstone(), record.kv.version) {
            (true, _) => Change::Delete,
            (false, 1) => Change::Create,
            (false, _) => Change::Update,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Change::Create => "CREATE",
            Change::Update => "UPDATE",
            Change::Delete => "DELETE",
        }
    }
}

/// What a salvage found, over all its passes.
#[derive(Debug, Default)]
pub struct SalvageReport {
    records: usize,
    pages_used: usize,
    pages_scanned: usize,
    conflicts: usize,
}

impl SalvageReport {
    /// Count one pass (every pass carves the same pages, for other keys).
    pub fn add(&mut self, salvage: &etcd_snapshot::Salvage<'_>) {
        self.records += salvage.records().len();
        self.pages_used = salvage.pages_used;
        self.pages_scanned = salvage.pages_scanned;
        self.conflicts += salvage.conflicts;
    }

    /// Say what salvage found (`kept`: which records were kept, if not all); its results
    /// are recovered evidence, not etcd's answer.
    pub fn print(&self, snapshot: &Snapshot, kept: Option<&str>) {
        let records = match kept {
            Some(kept) => format!("{} records {kept}", self.records),
            None => format!("{} records", self.records),
        };
        eprintln!(
            "etcdsnap: {}: salvage: {records} carved from {} of {} leaf pages, reachable or not; \
             recovered data: a key whose deletion was compacted away can look live",
            snapshot.path().display(),
            self.pages_used,
            self.pages_scanned
        );
        if self.conflicts > 0 {
            eprintln!(
                "etcdsnap: {}: salvage: {} revisions differ between page copies (damage); the first copy was kept",
                snapshot.path().display(),
                self.conflicts
            );
        }
    }
}

/// What a scan keeps of each key: its history ([`KeyHistory`]), or only whether it exists
/// ([`KeyState`]), for a listing of keys.
pub trait Kept<'a>: Sized {
    fn scan(store: &Store<'a>, prefix: &[u8], at: Option<i64>) -> Result<Scan<Self>, MvccError>;
    fn scan_pass(
        store: &Store<'a>,
        prefix: &[u8],
        at: Option<i64>,
        pass: usize,
        pass_of: &(dyn Fn(&[u8]) -> Option<usize> + Sync),
        leaves: &LeafPasses,
    ) -> Result<Scan<Self>, MvccError>;
}

/// A [`Kept`] kind, scanned by the store's scans of it in one pass and in passes.
macro_rules! kept {
    ($kind:ident, $scan:ident, $scan_pass:ident) => {
        impl<'a> Kept<'a> for $kind<'a> {
            fn scan(store: &Store<'a>, prefix: &[u8], at: Option<i64>) -> Result<Scan<Self>, MvccError> {
                store.$scan(prefix, at)
            }

            fn scan_pass(
                store: &Store<'a>,
                prefix: &[u8],
                at: Option<i64>,
                pass: usize,
                pass_of: &(dyn Fn(&[u8]) -> Option<usize> + Sync),
                leaves: &LeafPasses,
            ) -> Result<Scan<Self>, MvccError> {
                store.$scan_pass(prefix, at, pass, pass_of, leaves)
            }
        }
    };
}

kept!(KeyHistory, key_histories, key_histories_pass);
kept!(KeyState, key_states, key_states_pass);

/// The key histories (or states) starting with `prefix` at `at`, handed to `each` one key range at a
/// time: a snapshot too large for one pass of `max_records` records is read once per range,
/// and the ranges come in key order, so memory is bounded by one pass. Returns the damage
/// the first pass met (it reads every page; later passes read fewer).
pub fn scan_in_passes<'a, T: Kept<'a>>(
    store: &Store<'a>,
    prefix: &[u8],
    at: Option<i64>,
    max_records: usize,
    mut each: impl FnMut(Vec<T>) -> Result<()>,
) -> Result<Vec<MvccError>> {
    let ranges = store.plan_ranges(prefix, |_| true, max_records);
    if let [_] = ranges.as_slice() {
        let scan = T::scan(store, prefix, at)?;
        each(scan.items)?;
        return Ok(scan.errors);
    }
    run_passes(store, prefix, at, ranges.len(), |key| Some(KeyRange::index_of(&ranges, key)), each)
}

/// The key histories starting with `prefix` at `at`, in `passes` passes, pass `i` holding
/// the keys that `pass_of` puts in it (`None`: in none), each handed to `each` before the
/// next pass is read. The first pass notes which passes each leaf page holds keys of, so
/// that later passes read only the leaves holding keys of theirs. Returns the damage the
/// first pass met: it reads every page, so it meets all of it, and reporting it once is
/// enough.
pub fn run_passes<'a, T: Kept<'a>>(
    store: &Store<'a>,
    prefix: &[u8],
    at: Option<i64>,
    passes: usize,
    pass_of: impl Fn(&[u8]) -> Option<usize> + Sync,
    each: impl FnMut(Vec<T>) -> Result<()>,
) -> Result<Vec<MvccError>> {
    run_noted_passes(store, prefix, at, passes, pass_of, &LeafPasses::new(store), each)
}

/// [`run_passes`] with what `leaves` knows already: after a scan that noted every page
/// with the same `pass_of` ([`Store::key_histories_noting`]), even the first pass reads
/// only its own leaves, and that scan met all the damage (the passes' is returned
/// nonetheless, as the first pass met it).
pub fn run_noted_passes<'a, T: Kept<'a>>(
    store: &Store<'a>,
    prefix: &[u8],
    at: Option<i64>,
    passes: usize,
    pass_of: impl Fn(&[u8]) -> Option<usize> + Sync,
    leaves: &LeafPasses,
    mut each: impl FnMut(Vec<T>) -> Result<()>,
) -> Result<Vec<MvccError>> {
    let mut errors = None;
    for pass in 0..passes {
        // What the previous pass held goes back to the system before this one allocates.
        crate::alloc::release_freed_memory();
        let scan = T::scan_pass(store, prefix, at, pass, &pass_of, leaves)?;
        // And what the scan held besides its result (its runs, the merge) before `each`
        // allocates for its own work.
        crate::alloc::release_freed_memory();
        errors.get_or_insert(scan.errors);
        each(scan.items)?;
    }
    Ok(errors.unwrap_or_default())
}

/// Report damage met during a scan on stderr; the readable part was already printed.
/// Returns the exit code: 1 when anything was unreadable.
pub fn report_scan_errors(snapshot: &Snapshot, errors: &[MvccError]) -> ExitCode {
    if errors.is_empty() {
        return ExitCode::SUCCESS;
    }
    for e in errors {
        eprintln!("etcdsnap: {}: {e}", snapshot.path().display());
    }
    eprintln!(
        "etcdsnap: {}: {} part(s) of the snapshot could not be read; everything else was printed",
        snapshot.path().display(),
        errors.len()
    );
    ExitCode::from(1)
}

/// The file's pages in use and free, or `None` after saying on stderr why they could not be
/// counted (a tree page that cannot be read: the exit code must then be 1).
pub fn page_usage(snapshot: &Snapshot, db: &Db<'_>) -> Option<PageUsage> {
    db.page_usage().map_err(|e| eprintln!("etcdsnap: {}: free pages not counted: {e}", snapshot.path().display())).ok()
}

/// SI units as etcdutl prints totalSize (go-humanize `Bytes`).
pub fn humanize_bytes(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    if n < 10 {
        return format!("{n} B");
    }
    let exp = ((n as f64).ln() / 1000f64.ln()).floor() as usize;
    let exp = exp.min(UNITS.len() - 1);
    let value = n as f64 / 1000f64.powi(exp as i32);
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[exp])
    } else {
        format!("{value:.0} {}", UNITS[exp])
    }
}

#[cfg(test)]
mod tests {
    use super::humanize_bytes;

    #[test]
    fn humanize_matches_go_humanize() {
        assert_eq!(humanize_bytes(5), "5 B");
        assert_eq!(humanize_bytes(81920), "82 kB");
        assert_eq!(humanize_bytes(2789376), "2.8 MB");
    }
}
