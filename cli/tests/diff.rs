//! `etcdsnap diff` against GNU `diff -u` of the YAML `get --revision` prints, on every object
//! of every fixture that changed after the compaction, and its other sides (a deletion,
//! every change, another snapshot, bad revisions).

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{ok, run};
use serde_json::Value;

/// `diff -u` of two texts, without its two header lines.
fn gnu_diff(older: &str, newer: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, older).unwrap();
    std::fs::write(&b, newer).unwrap();
    let output = Command::new("diff").arg("-u").arg(&a).arg(&b).output().expect("GNU diff");
    String::from_utf8(output.stdout).unwrap().lines().skip(2).map(|l| format!("{l}\n")).collect()
}

fn without_headers(diff: &str) -> String {
    diff.lines().skip(2).map(|l| format!("{l}\n")).collect()
}

#[test]
fn every_change_after_the_compaction_equals_gnu_diff() {
    let mut compared = 0;
    for dir in testdata::project_snapshot_dirs() {
        let snapshot = dir.join("snapshot.db");
        let snapshot = snapshot.to_str().unwrap();
        // Puts after the compaction, by key: each pair of consecutive ones is a change.
        let log = ok(&["log", snapshot, "-o", "json"]).stdout;
        let mut puts: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for line in log.lines() {
            let change: Value = serde_json::from_str(line).unwrap();
            if change["type"] != "DELETE" {
                puts.entry(change["key"].as_str().unwrap().to_string())
                    .or_default()
                    .push(change["revision"].as_i64().unwrap());
            }
        }
        // The state each key had at the compaction revision is where its changes start.
        let c = testdata::compaction_revision(&dir);
        for (key, puts) in puts.iter().filter(|(k, _)| k.starts_with("/registry/")) {
            let mut revisions = puts.clone();
            if puts[0] > c {
                revisions.insert(0, c);
            }
            for pair in revisions.windows(2) {
                let (from, to) = (pair[0].to_string(), pair[1].to_string());
                let get = |at: &str| run(&["get", snapshot, key, "--revision", at, "--kube-version", "1.29"]);
                let (older, newer) = (get(&from), get(&to));
                if older.code != 0 || newer.code != 0 {
                    continue; // values bad on purpose, or encrypted
                }
                let ours = ok(&[
                    "diff",
                    snapshot,
                    key,
                    "--from",
                    &from,
                    "--to",
                    &to,
                    "--show-managed-fields",
                    "--kube-version",
                    "1.29",
                ])
                .stdout;
                assert_eq!(without_headers(&ours), gnu_diff(&older.stdout, &newer.stdout), "{key} {from}..{to}");
                compared += 1;
            }
        }
    }
    assert!(compared >= 10, "compared {compared} changes");
}

#[test]
fn diff_outputs() {
    const K8S: &str = "fixtures/etcd-3.5-k8s/snapshot.db";
    // The latest change, managed fields hidden as kubectl diff hides them.
    insta::assert_snapshot!("diff_latest", ok(&["diff", K8S, "deploy", "web", "-n", "shop"]).stdout);
    // Every retained change, a deletion included.
    insta::assert_snapshot!("diff_all", ok(&["diff", K8S, "cm/old-banner", "-n", "shop", "--all"]).stdout);
    // Against itself: nothing; against a snapshot without it: the whole object added.
    assert_eq!(ok(&["diff", K8S, "deploy", "web", "-n", "shop", "--against", K8S]).stdout, "");
    let added =
        ok(&["diff", K8S, "deploy", "web", "-n", "shop", "--against", "fixtures/etcd-3.4-basic/snapshot.db"]).stdout;
    assert!(
        added.starts_with("--- /registry/deployments/shop/web (not in fixtures/etcd-3.4-basic/snapshot.db)\n"),
        "{added}"
    );
    assert!(added.lines().skip(3).all(|l| l.starts_with('+')), "{added}");
    // The other way round: gone from this snapshot, the other's object removed.
    let removed =
        ok(&["diff", "fixtures/etcd-3.4-basic/snapshot.db", "deploy", "web", "-n", "shop", "--against", K8S]).stdout;
    assert!(removed.starts_with("--- /registry/deployments/shop/web @ revision 28 (fixtures/etcd-3.5-k8s/snapshot.db)\n+++ /registry/deployments/shop/web (not in fixtures/etcd-3.4-basic/snapshot.db)\n"), "{removed}");
    assert!(removed.lines().skip(3).all(|l| l.starts_with('-')), "{removed}");

    let failed = |args: &[&str]| {
        let r = run(args);
        assert_eq!(r.code, 1, "{args:?}");
        r.stderr.lines().filter(|l| !l.contains("rendering as")).collect::<Vec<_>>().join("\n")
    };
    insta::assert_snapshot!(
        "diff_errors",
        [
            failed(&["diff", K8S, "deploy", "web", "-n", "shop", "--from", "2"]),
            failed(&["diff", K8S, "deploy", "nope", "-n", "shop"]),
            failed(&["diff", K8S, "deploy", "web", "-n", "shop", "--to", "3"]),
        ]
        .join("\n")
    );
}
