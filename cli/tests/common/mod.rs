//! What the CLI's integration tests share: running the binary from the workspace root, and
//! reading back the files it wrote.

// Each test crate uses a different subset.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use assert_cmd::Command;

/// `etcdsnap`, run from the workspace root (fixture paths are relative to it).
pub fn etcdsnap() -> Command {
    let mut cmd = Command::cargo_bin("etcdsnap").unwrap();
    cmd.current_dir(testdata::workspace_root());
    cmd
}

pub struct Run {
    pub stdout: String,
    /// stderr without the timing line, which varies.
    pub stderr: String,
    pub code: i32,
}

pub fn run(args: &[&str]) -> Run {
    let output = etcdsnap().args(args).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let stderr = stderr.lines().filter(|l| !l.starts_with("  time: ")).map(|l| format!("{l}\n")).collect();
    Run { stdout: String::from_utf8(output.stdout).unwrap(), stderr, code: output.status.code().unwrap_or(-1) }
}

pub fn ok(args: &[&str]) -> Run {
    let r = run(args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    r
}

/// Every file under `dir`, relative path → contents.
pub fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
