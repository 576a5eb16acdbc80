//! `etcdsnap compare` against etcd's own answers: the fixtures' `etcdctl get --prefix ""
//! -w json` (get.json) of two snapshots, key by key.

mod common;

use std::collections::BTreeMap;

use base64::Engine;
use common::ok;
use serde_json::Value;

/// Key → (value, mod revision) of a fixture's live keys, as etcd listed them.
fn etcd_live(fixture: &str) -> BTreeMap<String, (Vec<u8>, i64)> {
    let path = testdata::project_fixtures().join(fixture).join("get.json");
    let answer: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let b64 = |v: &Value| base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap();
    answer["kvs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| {
            let key = String::from_utf8(b64(&kv["key"])).unwrap();
            (key, (b64(&kv["value"]), kv["mod_revision"].as_i64().unwrap()))
        })
        .collect()
}

/// What `compare -o json` should print, from the two answers.
fn expected(old: &str, new: &str, prefix: &str) -> String {
    let (older, newer) = (etcd_live(old), etcd_live(new));
    let mut keys: Vec<&String> = older.keys().chain(newer.keys()).filter(|k| k.starts_with(prefix)).collect();
    keys.sort();
    keys.dedup();
    let mut lines = String::new();
    for key in keys {
        let (o, n) = (older.get(key), newer.get(key));
        let kind = match (o, n) {
            (Some(_), None) => "DELETE",
            (None, Some(_)) => "CREATE",
            (Some(o), Some(n)) if o.0 != n.0 => "UPDATE",
            _ => continue,
        };
        let mut line = serde_json::json!({ "type": kind, "key": key });
        if let Some(o) = o {
            line["oldRevision"] = o.1.into();
        }
        if let Some(n) = n {
            line["newRevision"] = n.1.into();
        }
        lines.push_str(&format!("{line}\n"));
    }
    lines
}

#[test]
fn compare_equals_etcds_listings_of_both_snapshots() {
    // Two clusters made by the same script at different sizes (fixtures/README.md): many
    // keys in both, some only in one, and values that differ.
    let (old, new) = ("etcd-3.4-basic", "etcd-3.5-cluster");
    let path = |f: &str| format!("fixtures/{f}/snapshot.db");
    let (old_path, new_path) = (path(old), path(new));
    let all = expected(old, new, "");
    let reverse = expected(new, old, "");
    for (answer, kind) in [(&all, "CREATE"), (&all, "UPDATE"), (&reverse, "DELETE")] {
        assert!(answer.contains(&format!("\"type\":\"{kind}\"")), "the fixtures differ by {kind}");
    }
    assert_eq!(ok(&["compare", &old_path, &new_path, "-o", "json"]).stdout, all);
    assert_eq!(ok(&["compare", &new_path, &old_path, "-o", "json"]).stdout, reverse);
    // In several passes over each file, and under a prefix.
    assert_eq!(ok(&["compare", &old_path, &new_path, "-o", "json", "--pass-records", "300"]).stdout, all);
    let pods = "/registry/pods/";
    assert_eq!(ok(&["compare", &old_path, &new_path, pods, "-o", "json"]).stdout, expected(old, new, pods));
    // A snapshot against itself: nothing.
    assert_eq!(ok(&["compare", &new_path, &new_path]).stdout, "");
}

#[test]
fn compare_table() {
    let (old, new) = ("fixtures/etcd-3.4-basic/snapshot.db", "fixtures/etcd-3.5-cluster/snapshot.db");
    let forward = ok(&["compare", old, new, "/registry/secrets/"]).stdout;
    let reverse = ok(&["compare", new, old, "/registry/configmaps/team-b/bulk-cm-0005"]).stdout;
    insta::assert_snapshot!(format!("{forward}{reverse}"));
}
