//! End-to-end tests of the `etcdsnap` binary on real snapshots: output pinned with insta,
//! exit codes and error messages checked.

use assert_cmd::Command;
use predicates::prelude::*;

/// Run from the workspace root so that paths in the output are stable.
fn etcdsnap() -> Command {
    let mut cmd = Command::cargo_bin("etcdsnap").unwrap();
    cmd.current_dir(testdata::workspace_root());
    cmd
}

fn stdout_of(args: &[&str]) -> String {
    let output = etcdsnap().args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

const SNAP34: &str = "fixtures/etcd-3.4-basic/snapshot.db";
const SNAP35: &str = "fixtures/etcd-3.5-cluster/snapshot.db";

#[test]
fn status_json_carries_etcdutl_fields_first() {
    let out = stdout_of(&["status", SNAP34, "-o", "json"]);
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    let etcdutl: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(testdata::project_fixtures().join("etcd-3.4-basic/status.json")).unwrap(),
    )
    .unwrap();
    let ours: Vec<(&String, &serde_json::Value)> = status.as_object().unwrap().iter().take(4).collect();
    let theirs: Vec<(&String, &serde_json::Value)> = etcdutl.as_object().unwrap().iter().collect();
    assert_eq!(ours, theirs);
    insta::assert_snapshot!(out);
}

#[test]
fn status_table() {
    insta::assert_snapshot!(stdout_of(&["status", SNAP35]));
}

#[test]
fn ls_prefix_revision_and_deleted() {
    insta::assert_snapshot!("ls_prefix", stdout_of(&["ls", SNAP34, "/registry/pods/team-a/"]));
    insta::assert_snapshot!(
        "ls_revision",
        stdout_of(&["ls", SNAP34, "/registry/configmaps/default/", "--revision", "385"])
    );
    insta::assert_snapshot!("ls_deleted", stdout_of(&["ls", SNAP34, "--deleted"]));
    insta::assert_snapshot!("ls_long_deleted", stdout_of(&["ls", SNAP34, "--deleted", "-l"]));
}

/// `ls -l` = etcd's own records: `etcdctl get --prefix "" -w json` (get.json), key by key.
#[test]
fn ls_long_equals_etcdctl_records() {
    use base64::Engine;
    let b64 = |v: &serde_json::Value| base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap();
    for dir in testdata::project_snapshot_dirs() {
        let answer: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("get.json")).unwrap()).unwrap();
        let expected: String = answer["kvs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|kv| {
                let key = String::from_utf8(b64(&kv["key"])).unwrap();
                let (revision, version) = (kv["mod_revision"].as_i64().unwrap(), kv["version"].as_i64().unwrap());
                format!("{revision:>10} {version:>6} {:>9} {key}\n", b64(&kv["value"]).len())
            })
            .collect();
        assert_eq!(stdout_of(&["ls", "-l", dir.join("snapshot.db").to_str().unwrap()]), expected, "{}", dir.display());
    }
}

#[test]
fn ls_in_several_passes_lists_the_same_keys() {
    for args in [
        &["ls", SNAP35][..],
        &["ls", SNAP35, "--deleted"],
        &["ls", SNAP35, "/registry/", "--revision", "3085"],
        &["ls", SNAP35, "--salvage"],
        &["ls", SNAP35, "/registry/", "--salvage", "--deleted"],
    ] {
        let one = stdout_of(args);
        assert!(!one.is_empty(), "{args:?}");
        // About 3000 records: 40 per pass is dozens of passes (past those whose leaf pages
        // are noted: see `LeafPasses`), 400 a few.
        for pass_records in ["40", "400"] {
            let many = stdout_of(&[args, &["--pass-records", pass_records]].concat());
            assert_eq!(one, many, "{args:?} {pass_records}");
        }
    }
}

#[test]
fn get_outputs() {
    let key = "/registry/configmaps/default/feature-flags";
    insta::assert_snapshot!("get_yaml", stdout_of(&["get", SNAP34, key]));
    insta::assert_snapshot!("get_json", stdout_of(&["get", SNAP34, key, "-o", "json"]));
    insta::assert_snapshot!("get_record", stdout_of(&["get", SNAP34, key, "-o", "record"]));
    insta::assert_snapshot!("get_history", stdout_of(&["get", SNAP34, key, "--history"]));
    let raw = etcdsnap().args(["get", SNAP34, key, "-o", "raw"]).output().unwrap().stdout;
    assert!(raw.starts_with(b"{\"kind\":\"ConfigMap\""), "{}", String::from_utf8_lossy(&raw));
}

/// kubectl's ways of naming an object reach the same key as the key itself: plural,
/// singular, short name, kind, `resource.group`, `TYPE/NAME`, custom resources of the
/// snapshot's CRDs, `default` as the namespace, and cluster-scoped types ignoring `-n`.
#[test]
fn get_takes_kubectl_names() {
    const K8S: &str = "fixtures/etcd-3.5-k8s/snapshot.db";
    let by_key = |key: &str| stdout_of(&["get", K8S, key, "-o", "record"]);
    let deployment = by_key("/registry/deployments/shop/web");
    for names in [
        &["deployments", "web"][..],
        &["deployment", "web"],
        &["deploy", "web"],
        &["Deployment", "web"],
        &["deployments.apps", "web"],
        &["deployments.v1.apps", "web"],
        &["deploy/web"],
    ] {
        let mut args = vec!["get", K8S];
        args.extend_from_slice(names);
        args.extend_from_slice(&["-n", "shop", "-o", "record"]);
        assert_eq!(stdout_of(&args), deployment, "{names:?}");
    }
    // A custom resource: its type is known from the CRD in the snapshot.
    let storefront = by_key("/registry/shop.example.com/storefronts/shop/main");
    for names in [
        &["storefronts", "main"][..],
        &["storefront/main"],
        &["Storefront", "main"],
        &["storefronts.shop.example.com", "main"],
    ] {
        let mut args = vec!["get", K8S];
        args.extend_from_slice(names);
        args.extend_from_slice(&["-n", "shop", "-o", "record"]);
        assert_eq!(stdout_of(&args), storefront, "{names:?}");
    }
    // Cluster-scoped: -n is ignored, as kubectl ignores it.
    let namespace = by_key("/registry/namespaces/shop");
    assert_eq!(stdout_of(&["get", K8S, "ns", "shop", "-n", "elsewhere", "-o", "record"]), namespace);
    // Without -n, the namespace is `default`.
    assert_eq!(
        stdout_of(&["get", SNAP35, "cm/feature-flags", "-o", "record"]),
        stdout_of(&["get", SNAP35, "/registry/configmaps/default/feature-flags", "-o", "record"])
    );
    // -o name, as kubectl prints it.
    assert_eq!(stdout_of(&["get", K8S, "deploy/web", "-n", "shop", "-o", "name"]), "deployment.apps/web\n");
    assert_eq!(
        stdout_of(&["get", K8S, "storefront", "main", "-n", "shop", "-o", "name"]),
        "storefront.shop.example.com/main\n"
    );
    // --history goes with it.
    assert_eq!(
        stdout_of(&["get", K8S, "configmap", "old-banner", "-n", "shop", "--history", "-o", "record"]),
        stdout_of(&["get", K8S, "/registry/configmaps/shop/old-banner", "--history", "-o", "record"])
    );

    let failed = |args: &[&str]| {
        let output = etcdsnap().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        String::from_utf8(output.stderr)
            .unwrap()
            .lines()
            .filter(|l| !l.contains("rendering as"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    insta::assert_snapshot!(
        "get_kubectl_name_errors",
        [
            failed(&["get", K8S, "widgets", "w1", "-n", "shop"]),
            failed(&["get", K8S, "svc", "web"]),
            failed(&["get", K8S, "/registry/namespaces/shop", "-n", "shop"]),
            failed(&["get", K8S, "deploy/"]),
        ]
        .join("\n")
    );
}

#[test]
fn get_decodes_protobuf_from_a_real_cluster() {
    let Some(shared) = testdata::shared_fixtures("get_decodes_protobuf_from_a_real_cluster") else { return };
    let snapshot = shared.join("real-snapshots/ggkarthikgit-infosys/snapshot.db");
    let snapshot = snapshot.to_str().unwrap();
    let output = etcdsnap().args(["get", snapshot, "/registry/deployments/kube-system/coredns"]).output().unwrap();
    assert!(output.status.success());
    // The version is detected from the cluster's Node and reported.
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("rendering as Kubernetes 1.24 (Pod kube-apiserver-master image k8s.gcr.io/kube-apiserver:v1.24.0)"));
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[test]
fn decode_reads_stdin_like_auger() {
    let Some(shared) = testdata::shared_fixtures("decode_reads_stdin_like_auger") else { return };
    let companion = shared.join("real-snapshots/etcd-io-auger/companion");
    let value = std::fs::read(companion.join("storage/job.bin")).unwrap();
    let expected = std::fs::read_to_string(companion.join("yaml/job.yaml")).unwrap();
    // auger's file starts with a licence header that Go never printed.
    let expected: String = expected.lines().skip_while(|l| l.starts_with('#')).map(|l| format!("{l}\n")).collect();
    etcdsnap().args(["decode", "-"]).write_stdin(value).assert().success().stdout(expected);
}

#[test]
fn salvage_brings_back_compacted_history() {
    // etcd compacted this key's 40 revisions down to 2; the free pages still hold them.
    let snapshot = "fixtures/etcd-3.5-stale-pages/snapshot.db";
    let key = "/registry/configmaps/hist/cm-2";
    let tree = stdout_of(&["get", snapshot, key, "--history", "-o", "record"]);
    let salvaged = stdout_of(&["get", snapshot, key, "--history", "-o", "record", "--salvage"]);
    // etcd's own history of the key, recorded before the compaction.
    let watch =
        std::fs::read_to_string(testdata::project_fixtures().join("etcd-3.5-stale-pages/watch-from-1.json")).unwrap();
    let key_b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key);
    let etcd_events = watch.matches(&format!("\"key\":\"{key_b64}\"")).count();
    assert_eq!(tree.lines().count(), 2, "the compacted tree keeps two revisions");
    assert_eq!(salvaged.lines().count(), etcd_events, "every change etcd reported, deletion included");
    assert!(salvaged.contains("\"deleted\":true"));
    assert!(salvaged.ends_with(&tree), "the retained revisions are the newest salvaged ones");
    insta::assert_snapshot!("ls_salvage", stdout_of(&["ls", snapshot, "--salvage", "--deleted"]));
}

#[test]
fn bad_input_exits_1_naming_the_file() {
    etcdsnap()
        .args(["ls", "fixtures/no-such.db"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("fixtures/no-such.db").and(predicate::str::contains("No such file")));
    etcdsnap()
        .args(["status", "Cargo.toml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Cargo.toml").and(predicate::str::contains("no valid meta page")));
    etcdsnap()
        .args(["ls", SNAP34, "--revision", "300"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("revision 300 has been compacted (compaction revision is 368)"));
    etcdsnap()
        .args(["get", SNAP34, "/registry/nothing/here"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not found at revision 396"));
}

#[test]
fn bad_usage_exits_2() {
    etcdsnap().args(["ls"]).assert().code(2);
    etcdsnap().args(["get", SNAP34, "/k", "-o", "xml"]).assert().code(2);
    etcdsnap().args(["get", SNAP34, "/k", "--kube-version", "2.0"]).assert().code(2);
}

/// `hashkv` prints etcd's `endpoint hashkv` answers (hashkv.jsonl, recorded from etcd
/// serving each fixture), at every revision etcd was asked for, in one pass and in several.
#[test]
fn hashkv_equals_etcds_endpoint_hashkv() {
    for dir in testdata::project_snapshot_dirs() {
        let snapshot = dir.join("snapshot.db");
        let snapshot = snapshot.to_str().unwrap();
        let answers = std::fs::read_to_string(dir.join("hashkv.jsonl")).unwrap();
        for answer in answers.lines() {
            let answer: serde_json::Value = serde_json::from_str(answer).unwrap();
            let requested = answer["requested"].as_i64().unwrap();
            let revision = if requested == 0 { answer["revision"].as_i64().unwrap() } else { requested };
            let expected = serde_json::json!({
                "hash": answer["hash"], "hashRevision": revision, "compactRevision": answer["compact_revision"],
            });
            let requested = requested.to_string();
            for pass_records in ["550000", "8"] {
                let mut args = vec!["hashkv", snapshot, "-o", "json", "--pass-records", pass_records];
                if requested != "0" {
                    args.extend(["--rev", requested.as_str()]);
                }
                let ours: serde_json::Value = serde_json::from_str(&stdout_of(&args)).unwrap();
                assert_eq!(ours, expected, "{args:?}");
            }
        }
    }
}

#[test]
fn hashkv_table_and_refusals() {
    insta::assert_snapshot!("hashkv_table", stdout_of(&["hashkv", SNAP35]));
    let mut refusals = String::new();
    for revision in ["3000", "4000"] {
        let output = etcdsnap().args(["hashkv", SNAP35, "--revision", revision]).output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        assert!(output.stdout.is_empty());
        refusals.push_str(&String::from_utf8(output.stderr).unwrap());
    }
    insta::assert_snapshot!("hashkv_refusals", refusals);
}
