//! End-to-end tests of `etcdsnap extract`: every output mode and cleaning rule pinned with
//! insta on the fixtures, thread-count independence, file safety, and on the real cluster
//! snapshots: every live object written, and every file round-trips through k8s-openapi's
//! typed structs unchanged.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;
use common::{ok, read_tree, run};

const SNAP34: &str = "fixtures/etcd-3.4-basic/snapshot.db";
const SNAP35: &str = "fixtures/etcd-3.5-cluster/snapshot.db";

fn listing(tree: &BTreeMap<String, String>) -> String {
    tree.keys().map(|k| format!("{k}\n")).collect()
}

#[test]
fn stdout_yaml_stream() {
    let r = ok(&["extract", SNAP34, "-n", "team-a"]);
    insta::assert_snapshot!("stdout_yaml", r.stdout);
    insta::assert_snapshot!("stdout_yaml_summary", r.stderr);
}

#[test]
fn stdout_json_list_and_jsonl() {
    let list = ok(&["extract", SNAP34, "-n", "team-a", "deploy,rs", "--format", "json"]).stdout;
    let parsed: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(parsed["kind"], "List");
    insta::assert_snapshot!("stdout_json_list", list);
    let jsonl = ok(&["extract", SNAP34, "-n", "team-a", "deploy,rs", "--format", "jsonl"]).stdout;
    assert!(jsonl.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()));
    insta::assert_snapshot!("stdout_jsonl", jsonl);
}

/// `--format name` lists what the other formats write, one `kind.group/name` per object as
/// `kubectl get -o name` prints it, in the same order and with the same skips.
#[test]
fn names_list_what_would_be_written() {
    const K8S: &str = "fixtures/etcd-3.5-k8s/snapshot.db";
    for args in [&["-A", "--cluster-scoped"][..], &["-n", "shop", "--include-owned"], &["--order", "apply"]] {
        let with = |format: &str| {
            let mut all = vec!["extract", K8S, "--format", format];
            all.extend_from_slice(args);
            // The fixture's two bad values make the exit code 1, whatever the format.
            run(&all).stdout
        };
        let names = with("name");
        let expected: String = with("jsonl")
            .lines()
            .map(|line| {
                let object: Value = serde_json::from_str(line).unwrap();
                let kind = object["kind"].as_str().unwrap().to_lowercase();
                let group = object["apiVersion"].as_str().unwrap().split_once('/').map(|(g, _)| format!(".{g}"));
                format!("{kind}{}/{}\n", group.unwrap_or_default(), object["metadata"]["name"].as_str().unwrap())
            })
            .collect();
        assert!(names.lines().count() > 5, "{args:?}");
        assert_eq!(names, expected, "{args:?}");
    }
    insta::assert_snapshot!("names_in_shop", run(&["extract", K8S, "-n", "shop", "--format", "name"]).stdout);
    let r = run(&["extract", K8S, "--format", "name", "-o", "/tmp/etcdsnap-never-created"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--format name writes one stream; use it with -o -"), "{}", r.stderr);
}

#[test]
fn resource_names_as_kubectl_accepts_them() {
    let expected = ok(&["extract", SNAP35, "deployments"]).stdout;
    assert!(expected.contains("kind: Deployment"));
    for name in ["deploy", "deployment", "Deployment", "deployments.apps", "deployments.v1.apps"] {
        assert_eq!(ok(&["extract", SNAP35, name]).stdout, expected, "{name}");
        assert_eq!(ok(&["extract", SNAP35, "--resource", name]).stdout, expected, "{name}");
    }
    // Custom resources, resolved through the CRD stored in the snapshot.
    let widgets = ok(&["extract", SNAP35, "widgets"]).stdout;
    for name in ["Widget", "widget", "widgets.example.com"] {
        assert_eq!(ok(&["extract", SNAP35, name]).stdout, widgets, "{name}");
    }
    insta::assert_snapshot!("custom_resources", widgets);
    // Special storage names: nodes are under /registry/minions, services under services/specs.
    insta::assert_snapshot!("nodes_from_minions", ok(&["extract", SNAP35, "no", "--name", "node-1"]).stdout);
    let r = run(&["extract", SNAP35, "nosuch"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("doesn't have a resource type \"nosuch\""), "{}", r.stderr);
}

#[test]
fn scope_name_prefix_and_label_selection() {
    // Cluster-scoped objects only when asked or named.
    assert!(!ok(&["extract", SNAP35]).stdout.contains("kind: Namespace"));
    assert!(ok(&["extract", SNAP35, "--cluster-scoped"]).stdout.contains("kind: Namespace"));
    assert!(ok(&["extract", SNAP35, "ns", "--include-owned"]).stdout.contains("kind: Namespace"));
    let names = |out: &str| -> Vec<String> {
        out.lines().filter_map(|l| l.strip_prefix("  name: ")).map(String::from).collect()
    };
    let r = ok(&["extract", SNAP35, "-n", "team-b", "-n", "team-a", "pods", "--name", "^(api|web)-[0-9]$"]);
    insta::assert_snapshot!("selection_by_name", names(&r.stdout).join("\n"));
    let r = ok(&["extract", SNAP35, "--prefix", "/registry/secrets/team-b/"]);
    assert_eq!(r.stdout.matches("kind: Secret").count(), 2, "{}", r.stderr);
    let by_label = ok(&["extract", SNAP35, "-l", "app=web"]).stdout;
    let by_set = ok(&["extract", SNAP35, "-l", "app in (web)"]).stdout;
    assert_eq!(by_label, by_set);
    insta::assert_snapshot!("selection_by_label", names(&by_label).join("\n"));
    let negated = ok(&["extract", SNAP35, "pods", "-n", "team-a", "-l", "!app"]).stdout;
    assert!(!negated.contains("app: web"));
}

#[test]
fn exclusions() {
    let all = ["extract", SNAP35, "-A", "--cluster-scoped", "--include-deleted", "--format", "jsonl"];
    let parse = |out: String| -> Vec<Value> { out.lines().map(|l| serde_json::from_str(l).unwrap()).collect() };
    let everything = parse(ok(&all).stdout);
    let kept = parse(
        ok(&[
            &all[..],
            &["--exclude-namespace", "team-a,team-c", "--exclude-resources", "po", "--exclude-resource", "Secret"],
        ]
        .concat())
        .stdout,
    );
    let in_excluded = |o: &Value| {
        let namespace = if o["kind"] == "Namespace" { &o["metadata"]["name"] } else { &o["metadata"]["namespace"] };
        namespace == "team-a" || namespace == "team-c" || o["kind"] == "Pod" || o["kind"] == "Secret"
    };
    let expected: Vec<Value> = everything.iter().filter(|o| !in_excluded(o)).cloned().collect();
    assert_eq!(kept, expected);
    assert!(kept.len() > 10 && kept.len() * 2 < everything.len(), "{} of {}", kept.len(), everything.len());
    // What `-n` brings along is left out too when excluded.
    let r = ok(&["extract", SNAP35, "-n", "team-a", "--exclude-resource", "ns,crd", "--format", "name"]);
    assert!(!r.stdout.contains("namespace/") && !r.stdout.contains("customresourcedefinition"), "{}", r.stdout);
    assert!(run(&[&all[..], &["--exclude-resource", "nosuch"]].concat()).code != 0);
}

#[test]
fn deleted_objects_and_older_revisions() {
    let r = ok(&["extract", SNAP35, "-n", "team-c", "--include-deleted", "--include-owned"]);
    assert!(r.stdout.contains("etcdsnap.io/deleted-at-revision: \""), "{}", r.stdout);
    insta::assert_snapshot!("include_deleted", r.stdout);
    // At an older revision, objects deleted since are live again and not marked.
    let old = ok(&["extract", SNAP35, "-n", "team-c", "--revision", "3080", "--include-owned"]).stdout;
    assert!(old.contains("namespace: team-c") && !old.contains("deleted-at-revision"));
}

#[test]
fn apply_order() {
    let r = ok(&["extract", SNAP35, "--cluster-scoped", "--order", "apply", "--format", "jsonl"]);
    let kinds: Vec<String> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["kind"].as_str().unwrap().to_string())
        .fold(Vec::new(), |mut acc, k| {
            if acc.last() != Some(&k) {
                acc.push(k);
            }
            acc
        });
    insta::assert_snapshot!("apply_order_kinds", kinds.join("\n"));
}

/// Files in the order `kubectl create -R -f DIR` reads them: Go's `filepath.Walk`, each
/// directory's entries by name, depth first.
fn walk_order(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn apply_order_in_directories() {
    let args = ["extract", SNAP35, "--cluster-scoped", "--order", "apply"];
    let stream = ok(&[&args[..], &["--format", "jsonl"]].concat()).stdout;
    let mut kinds: Vec<String> = Vec::new();
    for line in stream.lines() {
        let kind = serde_json::from_str::<Value>(line).unwrap()["kind"].as_str().unwrap().to_string();
        if kinds.last() != Some(&kind) {
            assert!(!kinds.contains(&kind), "{kind} apart in the stream");
            kinds.push(kind);
        }
    }
    let place = |text: &str| {
        let kind = text.lines().find_map(|l| l.strip_prefix("kind: ")).unwrap();
        kinds.iter().position(|k| k == kind).unwrap()
    };
    let tmp = tempfile::tempdir().unwrap();
    for layout in ["tree", "flat"] {
        let dir = tmp.path().join(layout);
        ok(&[&args[..], &["--layout", layout, "-o", dir.to_str().unwrap()]].concat());
        let files = walk_order(&dir);
        assert_eq!(files.len(), stream.lines().count(), "{layout}");
        // The tree layout goes namespace by namespace (`namespaces/<ns>/`), cluster-scoped
        // objects first; the flat one is a single sequence.
        let scope = |f: &PathBuf| match layout {
            "tree" => f.iter().take(if f.starts_with("namespaces") { 2 } else { 1 }).collect::<PathBuf>().into(),
            _ => std::ffi::OsString::new(),
        };
        if layout == "tree" {
            assert_eq!(scope(&files[0]), "_cluster");
            assert!(files.iter().all(|f| f.starts_with("_cluster") || f.starts_with("namespaces")), "{files:?}");
        }
        let mut previous: Option<(std::ffi::OsString, usize, &PathBuf)> = None;
        for file in &files {
            let here = (scope(file), place(&fs::read_to_string(dir.join(file)).unwrap()));
            if let Some((scope, at, before)) = &previous {
                assert!(*scope != here.0 || *at <= here.1, "{layout}: {} before {}", before.display(), file.display());
            }
            previous = Some((here.0, here.1, file));
        }
    }
    // The places are in the names: flat `05-secrets_team-a_db.yaml`, tree
    // `namespaces/team-a/05-secrets/`.
    let flat = walk_order(&tmp.path().join("flat"));
    assert!(flat.iter().any(|f| f.to_str() == Some("01-namespaces_team-a.yaml")), "{flat:?}");
    let tree = walk_order(&tmp.path().join("tree"));
    assert!(tree.iter().any(|f| f.starts_with("namespaces/team-a/05-secrets")), "{tree:?}");
}

/// A namespace may start with a digit, which sorts before `_cluster`: its Namespace object
/// must still be read before its objects, in either layout.
#[test]
fn apply_order_creates_a_digit_led_namespace_first() {
    let tmp = tempfile::tempdir().unwrap();
    for layout in ["tree", "flat"] {
        let dir = tmp.path().join(layout);
        let args = ["extract", SNAP35, "-n", "team-a", "--namespace-mapping", "team-a:3team", "--order", "apply"];
        ok(&[&args[..], &["--layout", layout, "-o", dir.to_str().unwrap()]].concat());
        let files = walk_order(&dir);
        let namespace_at = files
            .iter()
            .position(|f| fs::read_to_string(dir.join(f)).unwrap().contains("\nkind: Namespace\n"))
            .unwrap_or_else(|| panic!("{layout}: no Namespace in {files:?}"));
        let first_object = files
            .iter()
            .position(|f| fs::read_to_string(dir.join(f)).unwrap().contains("\n  namespace: 3team\n"))
            .unwrap_or_else(|| panic!("{layout}: nothing in 3team in {files:?}"));
        assert!(namespace_at < first_object, "{layout}: {:?} before {:?}", files[first_object], files[namespace_at]);
    }
}

/// `stream` (YAML documents) as `--namespace-mapping FROM:TO` should make it: the
/// namespace of every object, and the name of the Namespace, changed; nothing else.
fn moved(stream: &str, from: &str, to: &str) -> String {
    stream
        .split_inclusive("---\n")
        .map(|doc| {
            let is_namespace = doc.contains("\nkind: Namespace\n");
            doc.split_inclusive('\n')
                .map(|line| match line.strip_suffix('\n') {
                    Some(l) if l == format!("  namespace: {from}") => format!("  namespace: {to}\n"),
                    Some(l) if is_namespace && l == format!("  name: {from}") => format!("  name: {to}\n"),
                    _ => line.to_string(),
                })
                .collect::<String>()
        })
        .collect()
}

#[test]
fn namespace_mapping() {
    // A live namespace, and a deleted one brought back under another name.
    for (args, from) in [(&["-n", "team-a"][..], "team-a"), (&["-n", "team-c", "--include-deleted"], "team-c")] {
        let to = format!("{from}-restored");
        let plain = ok(&[&["extract", SNAP35][..], args].concat());
        let mapping = format!("{from}:{to}");
        let mapped = ok(&[&["extract", SNAP35, "--namespace-mapping", &mapping][..], args].concat());
        assert!(plain.stdout.contains("\nkind: Namespace\n"), "{args:?}");
        assert_eq!(mapped.stdout, moved(&plain.stdout, from, &to), "{args:?}");
        assert_ne!(mapped.stdout, plain.stdout);
        let objects = plain.stdout.matches(&format!("\n  namespace: {from}\n")).count() + 1;
        assert!(mapped.stderr.contains(&format!("namespaces mapped: {from} → {to} {objects}\n")), "{}", mapped.stderr);
    }
    // Files go under the new name, the Namespace object too.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    ok(&["extract", SNAP35, "-n", "team-a", "--namespace-mapping", "team-a:copy", "-o", dir.to_str().unwrap()]);
    let files = read_tree(&dir);
    assert!(files.contains_key("_cluster/namespaces/copy.yaml") && files.contains_key("copy/deployments/web.yaml"));
    assert!(files.keys().all(|f| !f.starts_with("team-a/") && !f.contains("team-a.yaml")), "{files:?}");
    // `default` is skipped as every cluster's own, but not once it is moved: no cluster has
    // the namespace it becomes.
    let k8s = "fixtures/etcd-3.5-k8s/snapshot.db";
    assert!(!ok(&["extract", k8s, "-n", "default"]).stdout.contains("kind: Namespace"));
    let r = ok(&["extract", k8s, "-n", "default", "--namespace-mapping", "default:restored"]);
    assert!(
        r.stdout.contains(
            "kind: Namespace\nmetadata:\n  labels:\n    kubernetes.io/metadata.name: restored\n  name: restored\n"
        ),
        "{}",
        r.stdout
    );
    // A mapping that moves nothing is reported; bad ones are refused.
    let r = ok(&["extract", SNAP35, "-n", "team-a", "--namespace-mappings", "team-x:y"]);
    assert!(r.stderr.contains("team-x → y none (no object of \"team-x\" written)"), "{}", r.stderr);
    for bad in ["team-a", "team-a:Team-B", "team-a:b,team-a:c"] {
        let r = run(&["extract", SNAP35, "--namespace-mapping", bad]);
        assert_eq!(r.code, 1, "{bad}");
        assert!(r.stderr.contains(&format!("namespace mapping {:?}", bad.rsplit(',').next().unwrap())), "{}", r.stderr);
    }
}

#[test]
fn namespace_mapping_moves_binding_subjects_of_a_real_cluster() {
    let Some(shared) = testdata::shared_fixtures("namespace_mapping_moves_binding_subjects") else { return };
    let snapshot = shared.join("real-snapshots/ggkarthikgit-infosys/snapshot.db");
    let args = ["extract", snapshot.to_str().unwrap(), "rolebindings,clusterrolebindings", "-A", "--format", "jsonl"];
    let parse = |out: &str| -> Vec<Value> { out.lines().map(|l| serde_json::from_str(l).unwrap()).collect() };
    let plain = parse(&ok(&args).stdout);
    let mapped = parse(&ok(&[&args[..], &["--namespace-mapping", "kube-system:ks2"]].concat()).stdout);
    assert_eq!(plain.len(), mapped.len());
    let mut subjects_moved = 0;
    for (mut expected, got) in plain.into_iter().zip(mapped) {
        if expected["metadata"]["namespace"] == "kube-system" {
            expected["metadata"]["namespace"] = "ks2".into();
        }
        for subject in expected["subjects"].as_array_mut().into_iter().flatten() {
            if subject["namespace"] == "kube-system" {
                subject["namespace"] = "ks2".into();
                subjects_moved += 1;
            }
        }
        assert_eq!(got, expected);
    }
    assert!(subjects_moved >= 5, "{subjects_moved} subjects moved");
}

/// A real cluster's NodePort Service made by `kubectl create`: the nodePort the user chose is
/// in its managedFields alone (no last-applied annotation). `extract` leaves managedFields
/// out of every object's decode, and decodes a Service with node ports again with them.
#[test]
fn node_port_chosen_in_managed_fields_alone_is_kept() {
    let Some(shared) = testdata::shared_fixtures("node_port_chosen_in_managed_fields_alone_is_kept") else { return };
    let snapshot = shared.join("real-snapshots/ggkarthikgit-infosys/snapshot.db");
    let args =
        ["extract", snapshot.to_str().unwrap(), "svc", "-n", "default", "--name", "^mypod-svc$", "--format", "json"];
    let raw: Value = serde_json::from_str(&ok(&[&args[..], &["--raw"]].concat()).stdout).unwrap();
    let raw = &raw["items"][0];
    assert!(raw["metadata"]["annotations"].get("kubectl.kubernetes.io/last-applied-configuration").is_none());
    assert!(raw["metadata"]["managedFields"].to_string().contains("f:nodePort"), "{raw}");
    assert_eq!(raw["spec"]["ports"][0]["nodePort"], 30123);

    let cleaned: Value = serde_json::from_str(&ok(&args).stdout).unwrap();
    let cleaned = &cleaned["items"][0];
    assert_eq!(cleaned["spec"]["ports"][0]["nodePort"], 30123, "{cleaned}");
    assert!(cleaned["metadata"].get("managedFields").is_none());
}

#[test]
fn directory_layouts_modes_and_force() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let r = ok(&["extract", SNAP34, "--cluster-scoped", "-o", tree.to_str().unwrap()]);
    let files = read_tree(&tree);
    insta::assert_snapshot!("layout_tree", listing(&files));
    assert!(r.stderr.contains(&format!("written to {}", tree.display())));
    // Same bytes as the stream, document by document.
    let stream = ok(&["extract", SNAP34, "--cluster-scoped"]).stdout;
    let mut docs: Vec<&str> = stream.split("---\n").collect();
    docs.sort();
    let mut contents: Vec<&str> = files.values().map(String::as_str).collect();
    contents.sort();
    assert_eq!(docs, contents);
    for path in files.keys() {
        let mode = fs::metadata(tree.join(path)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{path}");
    }
    for dir in [tree.clone(), tree.join("_cluster"), tree.join("team-a/pods")] {
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700, "{}", dir.display());
    }
    // An existing output is not overwritten without --force.
    let again = run(&["extract", SNAP34, "--cluster-scoped", "-o", tree.to_str().unwrap()]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already exists") && again.stderr.contains("--force"), "{}", again.stderr);
    ok(&["extract", SNAP34, "--cluster-scoped", "-o", tree.to_str().unwrap(), "--force"]);
    assert_eq!(read_tree(&tree), files);

    let flat = tmp.path().join("flat");
    ok(&["extract", SNAP34, "--cluster-scoped", "--layout", "flat", "--format", "json", "-o", flat.to_str().unwrap()]);
    let flat_files = read_tree(&flat);
    insta::assert_snapshot!("layout_flat", listing(&flat_files));
    assert!(flat_files.contains_key("deployments_team-a_web.json"));
    assert!(flat_files.contains_key("namespaces_team-a.json"));
}

#[test]
fn thread_count_does_not_change_output() {
    let tmp = tempfile::tempdir().unwrap();
    let mut streams = Vec::new();
    let mut trees = Vec::new();
    for threads in ["1", "2", "4"] {
        let args = ["extract", SNAP35, "-A", "--cluster-scoped", "--include-owned", "--threads", threads];
        streams.push(ok(&args).stdout);
        let dir = tmp.path().join(threads);
        ok(&[&args[..], &["-o", dir.to_str().unwrap()]].concat());
        trees.push(read_tree(&dir));
    }
    assert!(streams[0].len() > 100_000);
    assert!(trees[0].len() > 3000, "{}", trees[0].len());
    assert!(streams.iter().all(|s| *s == streams[0]));
    assert!(trees.iter().all(|t| *t == trees[0]));
    let json: Vec<String> = ["1", "4"]
        .iter()
        .map(|t| ok(&["extract", SNAP35, "--format", "json", "--order", "apply", "--threads", t]).stdout)
        .collect();
    assert_eq!(json[0], json[1]);
}

/// Snapshots too large for one pass are read in several (key ranges, in output order):
/// the output must not show it.
#[test]
fn passes_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, args) in [
        &["extract", SNAP35, "-A", "--cluster-scoped", "--include-owned"][..],
        &["extract", SNAP35, "-A", "--order", "apply", "--format", "json"],
        &["extract", "fixtures/etcd-3.5-k8s/snapshot.db", "-A", "--order", "apply", "--include-deleted"],
        &["extract", "fixtures/etcd-3.5-k8s/snapshot.db", "-n", "shop"],
        &["extract", SNAP35, "-n", "team-a", "-n", "team-b", "--order", "apply", "--include-deleted"],
        &["extract", SNAP35, "-n", "team-a", "-n", "team-c", "--include-deleted", "--namespace-mapping", "team-c:c2"],
    ]
    .into_iter()
    .enumerate()
    {
        let one = run(args);
        assert!(one.stdout.len() > 2_000, "{args:?}");
        // Dozens of passes (past those whose leaf pages are noted: see `LeafPasses`) and a
        // few.
        for pass_records in ["30", "400"] {
            let many = run(&[args, &["--pass-records", pass_records]].concat());
            assert_eq!(one.stdout, many.stdout, "{args:?} {pass_records}");
            assert_eq!(one.stderr, many.stderr, "{args:?} {pass_records}");
            assert_eq!(one.code, many.code, "{args:?} {pass_records}");
        }
        let (dir_one, dir_many) = (tmp.path().join(format!("{i}-one")), tmp.path().join(format!("{i}-many")));
        run(&[args, &["-o", dir_one.to_str().unwrap()]].concat());
        run(&[args, &["-o", dir_many.to_str().unwrap(), "--pass-records", "30"]].concat());
        assert_eq!(read_tree(&dir_one), read_tree(&dir_many), "{args:?}");
    }
}

/// A damaged leaf page of the `key` bucket: whatever the passes, what is readable is written
/// and the page is reported once, naming it, with exit code 1. (With several passes, the
/// scan of CRDs and Services reads every page and meets the damage; the passes then read
/// only their own leaves.)
#[test]
fn damage_is_reported_once_whatever_the_passes() {
    const PAGE: usize = 4096;
    let mut bytes = fs::read(testdata::workspace_root().join(SNAP35)).unwrap();
    bytes.truncate(bytes.len() - 32);
    let leaf = |page: usize| u16::from_le_bytes([bytes[page * PAGE + 8], bytes[page * PAGE + 9]]) == 0x02;
    let leaves: Vec<usize> = (2..bytes.len() / PAGE).filter(|&p| leaf(p)).collect();
    let damaged_page = leaves[leaves.len() / 2];
    bytes[damaged_page * PAGE + 8] = 0x7f;
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("damaged.db");
    fs::write(&damaged, &bytes).unwrap();
    let damaged = damaged.to_str().unwrap();
    let one = run(&["extract", damaged, "-A"]);
    assert_eq!(one.code, 1, "{}", one.stderr);
    assert!(one.stdout.len() > 100_000, "the readable objects are written");
    let report = format!("page {damaged_page}: unexpected page type flags 0x007f");
    assert_eq!(one.stderr.matches(&report).count(), 1, "{}", one.stderr);
    for order in ["key", "apply"] {
        for pass_records in ["30", "400"] {
            let many = run(&["extract", damaged, "-A", "--order", order, "--pass-records", pass_records]);
            let one = run(&["extract", damaged, "-A", "--order", order]);
            assert_eq!(
                (one.code, &one.stderr, &one.stdout),
                (many.code, &many.stderr, &many.stdout),
                "{order} {pass_records}"
            );
        }
    }
}

/// A real cluster: the cleaning rules as they act on real objects.
#[test]
fn cleaning_on_a_real_cluster() {
    let Some(shared) = testdata::shared_fixtures("cleaning_on_a_real_cluster") else { return };
    let snapshot = shared.join("real-snapshots/ggkarthikgit-infosys/snapshot.db");
    let snapshot = snapshot.to_str().unwrap();
    let r = ok(&["extract", snapshot, "-A", "--cluster-scoped"]);
    insta::assert_snapshot!("real_cluster_summary", r.stderr);
    for forbidden in ["resourceVersion:", "uid:", "managedFields:", "creationTimestamp:", "clusterIP:", "status:"] {
        assert!(!r.stdout.contains(forbidden), "{forbidden} left in the output");
    }
    // Pods with their kube-api-access volumes, as they are kept with --include-owned.
    let pod = ok(&["extract", snapshot, "-n", "default", "pods", "--include-owned", "--name", "^apple"]);
    assert!(!pod.stdout.contains("kube-api-access") && !pod.stdout.contains("nodeName"), "{}", pod.stdout);
    insta::assert_snapshot!("real_cluster_pods", pod.stdout);
    insta::assert_snapshot!("real_cluster_services", ok(&["extract", snapshot, "svc", "-n", "default"]).stdout);
    insta::assert_snapshot!(
        "real_cluster_deployment",
        ok(&["extract", snapshot, "deploy", "-n", "kube-system", "--name", "coredns"]).stdout
    );
    // --raw keeps everything the API server shows.
    let raw = ok(&["extract", snapshot, "svc", "-n", "default", "--raw"]).stdout;
    assert!(raw.contains("clusterIP:") && raw.contains("resourceVersion:"));

    let Some(_) = Some(()) else { return };
    let auger = shared.join("real-snapshots/etcd-io-auger/db");
    let job = ok(&["extract", auger.to_str().unwrap(), "jobs"]).stdout;
    assert!(!job.contains("controller-uid"), "{job}");
    insta::assert_snapshot!("real_cluster_job", job);
}

/// Deserialize into the k8s-openapi type for (apiVersion, kind), serialize back.
macro_rules! typed_round_trip {
    ($value:expr, $api_version:expr, $kind:expr, [$($ty:ty),* $(,)?]) => {{
        use k8s_openapi::Resource;
        let mut result: Option<Result<Value, String>> = None;
        $(
            if result.is_none() && $api_version == <$ty as Resource>::API_VERSION && $kind == <$ty as Resource>::KIND {
                result = Some(
                    serde_json::from_value::<$ty>($value.clone())
                        .map_err(|e| e.to_string())
                        .and_then(|typed| serde_json::to_value(&typed).map_err(|e| e.to_string())),
                );
            }
        )*
        result
    }};
}

fn round_trip(value: &Value) -> Option<Result<Value, String>> {
    use k8s_openapi::api::{
        admissionregistration, apps, autoscaling, batch, certificates, coordination, core, discovery, events,
        flowcontrol, networking, node, policy, rbac, scheduling, storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration;
    let api_version = value["apiVersion"].as_str().unwrap_or("");
    let kind = value["kind"].as_str().unwrap_or("");
    typed_round_trip!(
        value,
        api_version,
        kind,
        [
            core::v1::ConfigMap,
            core::v1::Endpoints,
            core::v1::Event,
            core::v1::LimitRange,
            core::v1::Namespace,
            core::v1::Node,
            core::v1::PersistentVolume,
            core::v1::PersistentVolumeClaim,
            core::v1::Pod,
            core::v1::PodTemplate,
            core::v1::ReplicationController,
            core::v1::ResourceQuota,
            core::v1::Secret,
            core::v1::Service,
            core::v1::ServiceAccount,
            admissionregistration::v1::MutatingWebhookConfiguration,
            admissionregistration::v1::ValidatingWebhookConfiguration,
            apps::v1::ControllerRevision,
            apps::v1::DaemonSet,
            apps::v1::Deployment,
            apps::v1::ReplicaSet,
            apps::v1::StatefulSet,
            autoscaling::v1::HorizontalPodAutoscaler,
            autoscaling::v2::HorizontalPodAutoscaler,
            batch::v1::CronJob,
            batch::v1::Job,
            certificates::v1::CertificateSigningRequest,
            coordination::v1::Lease,
            discovery::v1::EndpointSlice,
            events::v1::Event,
            flowcontrol::v1::FlowSchema,
            flowcontrol::v1::PriorityLevelConfiguration,
            networking::v1::Ingress,
            networking::v1::IngressClass,
            networking::v1::NetworkPolicy,
            node::v1::RuntimeClass,
            policy::v1::PodDisruptionBudget,
            rbac::v1::ClusterRole,
            rbac::v1::ClusterRoleBinding,
            rbac::v1::Role,
            rbac::v1::RoleBinding,
            scheduling::v1::PriorityClass,
            storage::v1::CSIDriver,
            storage::v1::CSINode,
            storage::v1::StorageClass,
            storage::v1::VolumeAttachment,
            apiextensions::v1::CustomResourceDefinition,
            apiregistration::v1::APIService,
        ]
    )
}

/// Paths (JSON-pointer-like) where two values differ.
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                match (x.get(k), y.get(k)) {
                    (Some(v), Some(w)) => differences(v, w, &format!("{path}/{k}"), out),
                    // The API server writes Go's nil slices/pointers of fields without
                    // `omitempty` as `null` (`eventTime: null`, CSINode `drivers: null`);
                    // k8s-openapi's `Option::None` omits them. Same meaning, so not a
                    // difference; a misnamed field would carry a non-null value and still count.
                    (Some(Value::Null), None) => {}
                    (Some(_), None) => out.push(format!("{path}/{k}: dropped by the typed struct")),
                    (None, Some(_)) => out.push(format!("{path}/{k}: added by the typed struct")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                differences(v, w, &format!("{path}/{i}"), out);
            }
        }
        // A required list that Go left nil (`null`) comes back from k8s-openapi as `[]`.
        (Value::Null, Value::Array(y)) if y.is_empty() => {}
        // Values are not printed: this runs on Secrets.
        _ if a != b => out.push(format!("{path}: value differs")),
        _ => {}
    }
}

#[test]
fn real_snapshots_write_every_object_and_round_trip_through_k8s_openapi() {
    let Some(shared) = testdata::shared_fixtures("real_snapshots_round_trip") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for name in ["ggkarthikgit-infosys/snapshot.db", "etcd-io-auger/db"] {
        let snapshot = shared.join("real-snapshots").join(name);
        let snapshot = snapshot.to_str().unwrap();
        // Every live key under the prefix is an object and gets a file.
        let live: Vec<String> = ok(&["ls", snapshot, "/registry/"]).stdout.lines().map(String::from).collect();
        let dir: PathBuf = tmp.path().join(name.replace('/', "_"));
        let r = ok(&[
            "extract",
            snapshot,
            "-A",
            "--cluster-scoped",
            "--include-owned",
            "--format",
            "json",
            "-o",
            dir.to_str().unwrap(),
        ]);
        assert!(!r.stderr.contains("not object keys") && !r.stderr.contains("undecodable"), "{}", r.stderr);
        let files = read_tree(&dir);
        assert_eq!(files.len(), live.len(), "{name}: {}", r.stderr);
        let mut unchecked: BTreeMap<String, usize> = BTreeMap::new();
        let mut failures = Vec::new();
        for (path, text) in &files {
            let value: Value = serde_json::from_str(text).unwrap();
            match round_trip(&value) {
                None => *unchecked.entry(format!("{} {}", value["apiVersion"], value["kind"])).or_default() += 1,
                Some(Err(e)) => failures.push(format!("{path}: does not deserialize: {e}")),
                Some(Ok(typed)) => {
                    checked += 1;
                    let mut diffs = Vec::new();
                    differences(&value, &typed, "", &mut diffs);
                    failures.extend(diffs.into_iter().map(|d| format!("{path}: {d}")));
                }
            }
        }
        eprintln!("{name}: {} files; kinds k8s-openapi does not define (not checked): {unchecked:?}", files.len());
        assert!(failures.is_empty(), "{name}:\n{}", failures.join("\n"));
    }
    assert!(checked > 300, "only {checked} files were checked");
}

/// `-n` alone narrows the scan to the namespace's keys before any decoding. It must select
/// exactly the objects of those namespaces that `-A` writes, and bring along their
/// Namespace objects and the CRDs of their custom resources (as `--cluster-scoped` writes
/// them).
#[test]
fn namespace_narrowing_changes_nothing() {
    for (snapshot, namespaces) in
        [(SNAP35, &["team-a"][..]), (SNAP35, &["team-b", "default"]), ("fixtures/etcd-3.5-k8s/snapshot.db", &["shop"])]
    {
        let mut args = vec!["extract", snapshot, "--format", "jsonl"];
        for ns in namespaces {
            args.extend(["-n", ns]);
        }
        let narrowed = run(&args);
        let all = run(&["extract", snapshot, "--format", "jsonl", "-A"]);
        let in_namespaces: Vec<&str> = all
            .stdout
            .lines()
            .filter(|line| {
                let object: Value = serde_json::from_str(line).unwrap();
                object["metadata"]["namespace"].as_str().is_some_and(|ns| namespaces.contains(&ns))
            })
            .collect();
        assert!(in_namespaces.len() > 10, "{args:?}");
        let namespace_of = |line: &str| -> Option<String> {
            let object: Value = serde_json::from_str(line).unwrap();
            object["metadata"]["namespace"].as_str().map(str::to_string)
        };
        let (namespaced, brought): (Vec<&str>, Vec<&str>) =
            narrowed.stdout.lines().partition(|line| namespace_of(line).is_some());
        assert_eq!(namespaced, in_namespaces, "{args:?}");
        assert_eq!(narrowed.code, all.code, "{args:?}");
        // What came along is exactly what -A --cluster-scoped writes of the namespaces' own
        // objects and of the CRDs whose resources the namespaces hold.
        let cluster = run(&["extract", snapshot, "--format", "jsonl", "-A", "--cluster-scoped"]);
        let custom: Vec<String> = namespaced
            .iter()
            .filter_map(|line| {
                let object: Value = serde_json::from_str(line).unwrap();
                let (group, _) = object["apiVersion"].as_str()?.split_once('/')?;
                group.contains('.').then(|| format!("{}/{group}", object["kind"].as_str().unwrap()))
            })
            .collect();
        let expected: Vec<&str> = cluster
            .stdout
            .lines()
            .filter(|line| {
                let object: Value = serde_json::from_str(line).unwrap();
                let name = object["metadata"]["name"].as_str().unwrap();
                match object["kind"].as_str().unwrap() {
                    "Namespace" => namespaces.contains(&name),
                    "CustomResourceDefinition" => {
                        let kind = object["spec"]["names"]["kind"].as_str().unwrap();
                        custom.contains(&format!("{kind}/{}", object["spec"]["group"].as_str().unwrap()))
                    }
                    _ => false,
                }
            })
            .collect();
        assert!(brought.len() >= 2, "a Namespace and a CRD at least: {brought:?}");
        assert_eq!(brought, expected, "{args:?}");
    }
}
