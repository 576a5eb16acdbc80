//! Shared pieces of command output: opening the snapshot, revision selection, reporting
//! scan damage.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use etcd_snapshot::{MvccError, Snapshot};

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

/// Say what salvage found; its results are recovered evidence, not etcd's answer.
pub fn report_salvage(snapshot: &Snapshot, salvage: &etcd_snapshot::Salvage<'_>) {
    eprintln!(
        "etcdsnap: {}: salvage: {} records carved from {} of {} leaf pages, reachable or not; \
         recovered data: a key whose deletion was compacted away can look live",
        snapshot.path().display(),
        salvage.records().len(),
        salvage.pages_used,
        salvage.pages_scanned
    );
    if salvage.conflicts > 0 {
        eprintln!(
            "etcdsnap: {}: salvage: {} revisions differ between page copies (damage); the first copy was kept",
            snapshot.path().display(),
            salvage.conflicts
        );
    }
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
