//! `etcdsnap log` against etcd's own record of the changes: `etcdctl watch --prefix ""
//! --rev C -w json` (watch-from-*.json), recorded when each fixture was made.

mod common;

use common::{ok, run};
use serde_json::Value;

type Change = (i64, String, String, Option<i64>, Option<usize>);

/// etcd's changes from `since` on, as `log -o json` lines: (revision, type, key, version, size).
fn watched(dir: &std::path::Path, since: i64) -> Vec<Change> {
    testdata::watched_changes(dir)
        .into_iter()
        .filter(|c| c.revision >= since)
        .map(|c| {
            let kind = match (&c.value, c.version) {
                (None, _) => "DELETE",
                (Some(_), 1) => "CREATE",
                (Some(_), _) => "UPDATE",
            };
            let version = c.value.is_some().then_some(c.version);
            (c.revision, kind.to_string(), String::from_utf8(c.key).unwrap(), version, c.value.map(|v| v.len()))
        })
        .collect()
}

fn ours(args: &[&str]) -> Vec<Change> {
    ok(args)
        .stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            (
                v["revision"].as_i64().unwrap(),
                v["type"].as_str().unwrap().to_string(),
                v["key"].as_str().unwrap().to_string(),
                v["version"].as_i64(),
                v["size"].as_u64().map(|n| n as usize),
            )
        })
        .collect()
}

#[test]
fn log_equals_etcd_watch_from_the_compaction_revision() {
    for dir in testdata::project_snapshot_dirs() {
        let snapshot = dir.join("snapshot.db");
        let snapshot = snapshot.to_str().unwrap();
        let c = testdata::compaction_revision(&dir);
        let expected = watched(&dir, c);
        assert!(expected.len() > 3, "{}", dir.display());
        assert_eq!(ours(&["log", snapshot, "-o", "json"]), expected, "{}", dir.display());

        // A window, and a prefix.
        let (since, until) = (expected[expected.len() / 3].0, expected[2 * expected.len() / 3].0);
        let window: Vec<_> = expected.iter().filter(|c| c.0 >= since && c.0 <= until).cloned().collect();
        let (s, u) = (since.to_string(), until.to_string());
        assert_eq!(ours(&["log", snapshot, "--since", &s, "--until", &u, "-o", "json"]), window);
        let prefix = "/registry/configmaps/";
        let configmaps: Vec<_> = expected.iter().filter(|c| c.2.starts_with(prefix)).cloned().collect();
        assert_eq!(ours(&["log", snapshot, prefix, "-o", "json"]), configmaps, "{}", dir.display());
    }
}

#[test]
fn log_refuses_a_compacted_revision_as_etcd_does() {
    let r = run(&["log", "fixtures/etcd-3.5-cluster/snapshot.db", "--since", "100"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("revision 100 has been compacted (compaction revision is 3068)"), "{}", r.stderr);
}

#[test]
fn log_table() {
    insta::assert_snapshot!(ok(&["log", "fixtures/etcd-3.5-k8s/snapshot.db", "--since", "40"]).stdout);
}

/// The stale-pages fixture was compacted at 206 after etcd recorded its whole history;
/// `--salvage` reads from free pages every change etcd reported before the compaction, in
/// several revision windows as in one.
#[test]
fn salvage_recovers_the_changes_compaction_removed() {
    let dir = testdata::project_fixtures().join("etcd-3.5-stale-pages");
    let snapshot = dir.join("snapshot.db");
    let snapshot = snapshot.to_str().unwrap();
    let expected = watched(&dir, 1);
    assert_eq!(expected.len(), 208);
    assert_eq!(ours(&["log", snapshot, "--salvage", "-o", "json"]), expected);
    assert_eq!(ours(&["log", snapshot, "--salvage", "-o", "json", "--pass-records", "40"]), expected);
    let r = run(&["log", snapshot, "--salvage"]);
    assert!(r.stderr.contains("salvage: 208 records carved from"), "{}", r.stderr);
    // The tree alone starts at the compaction.
    assert_eq!(ours(&["log", snapshot, "-o", "json"]), watched(&dir, testdata::compaction_revision(&dir)));
}

/// From C on, salvage finds what the tree holds, plus only what compaction removed at C
/// itself (a deletion at exactly C): the fixtures have none, so the answers are equal.
#[test]
fn salvage_from_the_compaction_revision_equals_the_tree() {
    for dir in testdata::project_snapshot_dirs() {
        let snapshot = dir.join("snapshot.db");
        let snapshot = snapshot.to_str().unwrap();
        let c = testdata::compaction_revision(&dir).to_string();
        let tree = ours(&["log", snapshot, "-o", "json"]);
        assert_eq!(ours(&["log", snapshot, "--salvage", "--since", &c, "-o", "json"]), tree, "{}", dir.display());
        let windows = ours(&["log", snapshot, "--salvage", "--since", &c, "-o", "json", "--pass-records", "100"]);
        assert_eq!(windows, tree, "{}: in windows", dir.display());
    }
}
