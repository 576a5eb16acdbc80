//! What the tests over Kubernetes' serialization fixtures share: which folders there are,
//! and which release each folder is rendered as.

use std::path::{Path, PathBuf};

use k8s_decode::KubeVersion;

/// `k8s-api-testdata/<repository>/<release>/` folders, sorted.
pub fn fixture_folders(root: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = Vec::new();
    for repo in std::fs::read_dir(root).unwrap() {
        for folder in std::fs::read_dir(repo.unwrap().path()).unwrap() {
            let folder = folder.unwrap().path();
            if folder.is_dir() {
                folders.push(folder);
            }
        }
    }
    folders.sort();
    folders
}

/// A folder is rendered as its own release: `vX.Y.0` as X.Y, `HEAD` as the newest.
pub fn folder_version(name: &str) -> KubeVersion {
    if name == "HEAD" {
        KubeVersion::HEAD
    } else {
        name.parse().unwrap_or_else(|e| panic!("folder {name}: {e}"))
    }
}
