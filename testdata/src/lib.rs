//! Where test data lives, for every crate's tests.
//!
//! `fixtures/` (ours, made by real etcd) is always present. `../shared/fixtures/` (Kubernetes'
//! serialization fixtures and real cluster snapshots) sits beside the checkout; CI has it, a
//! fresh clone may not. Tests call [`shared_fixtures`]: in CI (`CI` set) its absence fails
//! the run, elsewhere the test reports itself skipped.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("testdata sits in the workspace").to_path_buf()
}

/// The project's own fixtures: snapshots made by real etcd.
pub fn project_fixtures() -> PathBuf {
    workspace_root().join("fixtures")
}

/// `../shared/fixtures`, or `None` (after printing why) when it is absent outside CI.
///
/// # Panics
/// When it is absent and the `CI` environment variable is set: CI must test against it.
pub fn shared_fixtures(test: &str) -> Option<PathBuf> {
    shared(test, "fixtures")
}

/// `../shared/<subdir>` (e.g. `data/k8s-api-fields`), with the rules of [`shared_fixtures`].
///
/// # Panics
/// When it is absent and the `CI` environment variable is set.
pub fn shared(test: &str, subdir: &str) -> Option<PathBuf> {
    let dir = workspace_root().join("../shared").join(subdir);
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {} is missing; CI must provide ../shared", dir.display());
    }
    eprintln!("{test}: skipped: {} not present", dir.display());
    None
}

/// Every fixture snapshot directory of ours (those holding a `snapshot.db`), sorted.
pub fn project_snapshot_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(project_fixtures())
        .expect("fixtures/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("snapshot.db").is_file())
        .collect();
    dirs.sort();
    dirs
}
