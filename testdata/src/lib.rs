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

/// Every file under `dir`, at any depth, whose name ends in `.<extension>`, sorted.
pub fn files_under(dir: &Path, extension: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == extension) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
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

/// One change as `etcdctl watch --prefix "" --rev R -w json` reported it (a fixture's
/// `watch-from-R.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedChange {
    pub key: Vec<u8>,
    /// The change's revision (`mod_revision`).
    pub revision: i64,
    /// The key's version after a put; 0 for a deletion.
    pub version: i64,
    /// The value put; `None` for a deletion.
    pub value: Option<Vec<u8>>,
}

/// Every change of a fixture's `watch-from-R.json`, in order.
///
/// # Panics
/// When the fixture has no such file or it does not parse.
pub fn watched_changes(dir: &Path) -> Vec<WatchedChange> {
    use base64::Engine;
    let path = std::fs::read_dir(dir)
        .expect("fixture dir")
        .map(|e| e.expect("dir entry").path())
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("watch-from-")))
        .unwrap_or_else(|| panic!("{}: no watch-from-*.json", dir.display()));
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or("")).expect("base64 in etcd's answer")
    };
    // etcdctl prints one JSON document per watch response, concatenated.
    let text = std::fs::read_to_string(&path).expect("watch answer");
    let mut changes = Vec::new();
    for doc in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
        let doc = doc.expect("watch answer is JSON");
        for event in doc["Events"].as_array().into_iter().flatten() {
            let kv = &event["kv"];
            let deleted = event["type"].as_str() == Some("DELETE") || event["type"].as_i64() == Some(1);
            changes.push(WatchedChange {
                key: b64(&kv["key"]),
                revision: kv["mod_revision"].as_i64().expect("mod_revision"),
                version: if deleted { 0 } else { kv["version"].as_i64().unwrap_or(0) },
                value: (!deleted).then(|| b64(&kv["value"])),
            });
        }
    }
    changes
}

/// The compaction revision a fixture's `compaction.txt` records.
///
/// # Panics
/// When the file is missing or has no `compact_revision=` line.
pub fn compaction_revision(dir: &Path) -> i64 {
    let text = std::fs::read_to_string(dir.join("compaction.txt")).expect("compaction.txt");
    text.lines()
        .find_map(|l| l.strip_prefix("compact_revision="))
        .and_then(|r| r.parse().ok())
        .expect("compact_revision=")
}
