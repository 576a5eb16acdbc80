//! `etcdsnap usage` against etcd's own answers, row by row, on every fixture:
//!
//! - objects and their size: `etcdctl get --prefix ""` (get.json);
//! - deleted keys: the keys whose last watched change is a deletion (deleted.txt);
//! - retained revisions and their values: every key's entry at the compaction revision C
//!   (`etcdctl get --prefix "" --rev C`, get-rev-C.json: what compaction keeps of the past)
//!   plus every change after C (`etcdctl watch --rev C`, watch-from-*.json);
//! - the file's free pages: Go bbolt's count (snapshot.db.bbolt-pages.txt).
//!
//! Rows are worked out here from the key layout alone (FORMATS.md §4), not with the
//! decoder's key parser.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use base64::Engine;
use common::ok;
use serde_json::Value;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Row {
    objects: u64,
    size: u64,
    deleted: u64,
    revisions: u64,
    history: u64,
}

fn b64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or("")).unwrap()
}

/// The resource a fixture key belongs to, as kubectl names it.
fn resource_of(key: &[u8]) -> String {
    let key = String::from_utf8(key.to_vec()).unwrap();
    let Some(rest) = key.strip_prefix("/registry/") else { return key };
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["services", "specs", ..] => "services".into(),
        ["services", "endpoints", ..] => "endpoints".into(),
        ["minions", ..] => "nodes".into(),
        ["ranges", ..] => "rangeallocations".into(),
        ["apiextensions.k8s.io" | "apiregistration.k8s.io", resource, ..] => resource.to_string(),
        [group, resource, ..] if group.contains('.') => format!("{resource}.{group}"),
        [resource, ..] => resource.to_string(),
        [] => unreachable!(),
    }
}

fn kvs(path: &Path) -> Vec<Value> {
    let answer: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    answer["kvs"].as_array().cloned().unwrap_or_default()
}

/// The rows etcd's answers give.
fn expected_rows(dir: &Path) -> BTreeMap<String, Row> {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut stored: BTreeMap<String, u64> = BTreeMap::new();
    for kv in kvs(&dir.join("get.json")) {
        let row = rows.entry(resource_of(&b64(&kv["key"]))).or_default();
        row.objects += 1;
        row.size += b64(&kv["value"]).len() as u64;
    }
    if let Ok(text) = std::fs::read(dir.join("deleted.txt")) {
        for key in text.split(|&b| b == b'\n').filter(|k| !k.is_empty()) {
            rows.entry(resource_of(key)).or_default().deleted += 1;
        }
    }
    let c = testdata::compaction_revision(dir);
    for kv in kvs(&dir.join(format!("get-rev-{c}.json"))) {
        let resource = resource_of(&b64(&kv["key"]));
        rows.entry(resource.clone()).or_default().revisions += 1;
        *stored.entry(resource).or_default() += b64(&kv["value"]).len() as u64;
    }
    for change in testdata::watched_changes(dir).into_iter().filter(|change| change.revision > c) {
        let resource = resource_of(&change.key);
        rows.entry(resource.clone()).or_default().revisions += 1;
        *stored.entry(resource).or_default() += change.value.map_or(0, |v| v.len() as u64);
    }
    for (resource, row) in &mut rows {
        row.history = stored.get(resource).copied().unwrap_or(0) - row.size;
    }
    rows
}

fn row_of(value: &Value) -> Row {
    let n = |field: &str| value[field].as_u64().unwrap();
    Row {
        objects: n("objects"),
        size: n("size"),
        deleted: n("deleted"),
        revisions: n("revisions"),
        history: n("history"),
    }
}

#[test]
fn usage_by_resource_equals_etcd_answers() {
    let mut checked = 0;
    for dir in testdata::project_snapshot_dirs() {
        let snapshot = dir.join("snapshot.db");
        let out = ok(&["usage", snapshot.to_str().unwrap(), "-o", "json"]).stdout;
        let report: Value = serde_json::from_str(&out).unwrap();
        let ours: BTreeMap<String, Row> = report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["resource"].as_str().unwrap().to_string(), row_of(r)))
            .collect();
        let expected = expected_rows(&dir);
        assert_eq!(ours, expected, "{}", dir.display());
        let mut total = Row::default();
        for row in expected.values() {
            total.objects += row.objects;
            total.size += row.size;
            total.deleted += row.deleted;
            total.revisions += row.revisions;
            total.history += row.history;
        }
        assert_eq!(row_of(&report["total"]), total, "{}", dir.display());
        // The file's free pages, as Go bbolt counts them (fixtures/bbolt-structures/gen.go).
        let bbolt = std::fs::read_to_string(dir.join("snapshot.db.bbolt-pages.txt")).unwrap();
        let free: u64 = bbolt.lines().find_map(|l| l.strip_prefix("free_page_count=")).unwrap().parse().unwrap();
        assert_eq!(report["file"]["freePages"].as_u64(), Some(free), "{}", dir.display());
        // The rows are in order of the space they hold, largest first.
        let held: Vec<u64> =
            report["rows"].as_array().unwrap().iter().map(|r| row_of(r).size + row_of(r).history).collect();
        assert!(held.windows(2).all(|w| w[0] >= w[1]), "{}: {held:?}", dir.display());
        checked += 1;
    }
    assert!(checked >= 5, "every fixture carries get-rev-C.json");
}

/// By namespace, and within one namespace: the same answers regrouped.
#[test]
fn usage_by_namespace_and_in_one_namespace() {
    let dir = testdata::project_fixtures().join("etcd-3.5-cluster");
    let snapshot = dir.join("snapshot.db");
    let snapshot = snapshot.to_str().unwrap();
    let namespace_of = |key: &[u8]| -> String {
        let key = String::from_utf8(key.to_vec()).unwrap();
        let parts: Vec<&str> = key.split('/').collect();
        match parts.as_slice() {
            ["", "registry", "namespaces" | "clusterroles" | "minions" | "apiextensions.k8s.io", ..] => {
                "(cluster-scoped)".into()
            }
            ["", "registry", "services", "specs" | "endpoints", ns, _] => ns.to_string(),
            ["", "registry", group, _, ns, _] if group.contains('.') => ns.to_string(),
            ["", "registry", _, ns, _] => ns.to_string(),
            _ => "(other keys)".into(),
        }
    };
    let mut expected: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for kv in kvs(&dir.join("get.json")) {
        let entry = expected.entry(namespace_of(&b64(&kv["key"]))).or_default();
        entry.0 += 1;
        entry.1 += b64(&kv["value"]).len() as u64;
    }
    let report: Value =
        serde_json::from_str(&ok(&["usage", snapshot, "--by", "namespace", "-o", "json"]).stdout).unwrap();
    let ours: BTreeMap<String, (u64, u64)> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["namespace"].as_str().unwrap().to_string(), (row_of(r).objects, row_of(r).size)))
        .filter(|(_, (objects, _))| *objects > 0)
        .collect();
    assert_eq!(ours, expected);

    // -n team-a: that namespace's objects only, by resource.
    let report: Value = serde_json::from_str(&ok(&["usage", snapshot, "-n", "team-a", "-o", "json"]).stdout).unwrap();
    let in_team_a: u64 = expected["team-a"].0;
    assert_eq!(row_of(&report["total"]).objects, in_team_a);
    let resources: BTreeSet<&str> =
        report["rows"].as_array().unwrap().iter().map(|r| r["resource"].as_str().unwrap()).collect();
    assert!(resources.contains("pods") && !resources.contains("namespaces"), "{resources:?}");
}

#[test]
fn usage_table_and_largest() {
    insta::assert_snapshot!(ok(&["usage", "fixtures/etcd-3.5-k8s/snapshot.db", "--largest", "3"]).stdout);
    insta::assert_snapshot!(
        "usage_by_namespace",
        ok(&["du", "fixtures/etcd-3.5-cluster/snapshot.db", "--by", "namespace"]).stdout
    );
}

/// `--largest N` names the N largest live values, as etcd gives them.
#[test]
fn largest_are_etcds_largest_values() {
    let dir = testdata::project_fixtures().join("etcd-3.5-cluster");
    let mut sizes: Vec<(u64, String)> = kvs(&dir.join("get.json"))
        .iter()
        .map(|kv| (b64(&kv["value"]).len() as u64, String::from_utf8(b64(&kv["key"])).unwrap()))
        .collect();
    sizes.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let out = ok(&["usage", dir.join("snapshot.db").to_str().unwrap(), "--largest", "5", "-o", "json"]).stdout;
    let report: Value = serde_json::from_str(&out).unwrap();
    let ours: Vec<(u64, String)> = report["largest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["size"].as_u64().unwrap(), l["key"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(ours, sizes[..5].to_vec());
}
