//! `etcdsnap extract` on `fixtures/etcd-3.5-k8s` (real etcd 3.5 holding Kubernetes 1.29
//! objects, `fixtures/k8s-objects/`): every cleaning rule and every skip of
//! `k8s_decode::clean` end to end, one insta snapshot each showing the cleaned YAML of the
//! objects concerned, the flags that turn rules off, and the two values bad on purpose (an
//! aescbc-encrypted Secret, a truncated protobuf ConfigMap).

use std::fs;

use base64::Engine;
use serde_json::Value;

mod common;
use common::{ok, read_tree, run, Run};

const SNAP: &str = "fixtures/etcd-3.5-k8s/snapshot.db";
const ENCRYPTED_KEY: &str = "/registry/secrets/shop/payment-keys";
const TRUNCATED_KEY: &str = "/registry/configmaps/shop/promo-settings";

/// `extract SNAP ARGS…`, which must succeed.
fn extract(args: &[&str]) -> Run {
    ok(&[&["extract", SNAP], args].concat())
}

/// The cleaned YAML of the objects `args` select.
fn yaml(args: &[&str]) -> String {
    extract(args).stdout
}

/// The YAML documents of a stream (separated by `---` lines; a PEM block's
/// `-----END CERTIFICATE-----` also ends in `---`).
fn docs(stream: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in stream.lines() {
        if line == "---" {
            docs.push(String::new());
        } else {
            let doc = docs.last_mut().unwrap();
            doc.push_str(line);
            doc.push('\n');
        }
    }
    docs.retain(|d| !d.is_empty());
    docs
}

fn names(stream: &str) -> Vec<String> {
    let mut names: Vec<String> = docs(stream)
        .iter()
        .map(|d| {
            let kind = d.lines().find_map(|l| l.strip_prefix("kind: ")).unwrap_or("?");
            let name = d.lines().find_map(|l| l.strip_prefix("  name: ")).unwrap_or("(no name)");
            format!("{kind} {name}")
        })
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------- field rules ---

/// `metadata`: uid, generation, creationTimestamp, managedFields… go (resourceVersion too:
/// the decoder sets it from etcd's mod_revision, as the API server does on read).
#[test]
fn rule_metadata() {
    let raw = yaml(&["secrets", "-n", "shop", "--name", "^storefront-db$", "--raw"]);
    for field in ["uid:", "resourceVersion:", "creationTimestamp:", "managedFields:"] {
        assert!(raw.contains(field), "{field} in the raw object");
    }
    let out = yaml(&["secrets", "-n", "shop", "--name", "^storefront-db$"]);
    for field in ["uid:", "resourceVersion:", "creationTimestamp:", "managedFields:"] {
        assert!(!out.contains(field), "{field} left");
    }
    insta::assert_snapshot!("rule_metadata", out);
    // generation, on an object that has one.
    assert!(yaml(&["deploy", "-n", "shop", "--raw"]).contains("generation: 2"));
    assert!(!yaml(&["deploy", "-n", "shop"]).contains("generation:"));
}

#[test]
fn rule_last_applied() {
    let out = yaml(&["cm", "-n", "shop", "--name", "^storefront-settings$"]);
    assert!(!out.contains("last-applied-configuration") && !out.contains("annotations:"));
    insta::assert_snapshot!("rule_last_applied", out);
}

/// `owner-references`: a ConfigMap owned (not controlled) by the custom resource is kept,
/// without its ownerReferences unless --keep-owner-references.
#[test]
fn rule_owner_references() {
    let args = ["cm", "-n", "shop", "--name", "^storefront-theme$"];
    let out = yaml(&args);
    assert!(!out.contains("ownerReferences"));
    insta::assert_snapshot!("rule_owner_references", out);
    let kept = yaml(&[&args[..], &["--keep-owner-references"]].concat());
    assert!(kept.contains("ownerReferences:") && kept.contains("kind: Storefront"));
    insta::assert_snapshot!("rule_owner_references_kept", kept);
}

/// `template-metadata`: `creationTimestamp: null` of pod, job and claim templates, and the
/// claim templates' status.
#[test]
fn rule_template_metadata() {
    let args = ["deploy,cronjob,sts", "-n", "shop"];
    let raw = yaml(&[&args[..], &["--raw"]].concat());
    assert_eq!(raw.matches("creationTimestamp: null").count(), 5, "{raw}");
    assert!(raw.contains("phase: Pending"));
    let out = yaml(&args);
    assert!(!out.contains("creationTimestamp") && !out.contains("phase:"));
    insta::assert_snapshot!("rule_template_metadata", out);
}

#[test]
fn rule_status() {
    let out = yaml(&["ns", "--name", "^shop$"]);
    assert!(!out.contains("status:") && !out.contains("phase:"));
    insta::assert_snapshot!("rule_status", out);
    assert!(yaml(&["ns", "--name", "^shop$", "--raw"]).contains("phase: Active"));
}

/// `service-cluster-ip`: gone from ClusterIP Services, kept (`None`) on the headless one.
#[test]
fn rule_service_cluster_ip() {
    let out = yaml(&["svc", "-n", "shop", "--name", "^(web|db|legacy-db)$"]);
    assert_eq!(out.matches("clusterIP: None").count(), 1);
    assert_eq!(out.matches("clusterIP").count(), 2, "only the headless Service's clusterIP and clusterIPs: {out}");
    insta::assert_snapshot!("rule_service_cluster_ip", out);
}

/// `service-node-ports`: assigned nodePorts and healthCheckNodePort go; the nodePort the
/// user chose (last-applied, managedFields) stays; --keep-node-ports keeps them all.
#[test]
fn rule_service_node_ports() {
    let args = ["svc", "-n", "shop", "--name", "^(shop-admin|storefront-lb)$"];
    let out = yaml(&args);
    assert!(out.contains("nodePort: 30080"));
    for assigned in ["31947", "32443", "healthCheckNodePort"] {
        assert!(!out.contains(assigned), "{assigned} left");
    }
    insta::assert_snapshot!("rule_service_node_ports", out);
    let kept = yaml(&[&args[..], &["--keep-node-ports"]].concat());
    for port in ["nodePort: 30080", "nodePort: 31947", "nodePort: 32443", "healthCheckNodePort: 31812"] {
        assert!(kept.contains(port), "{port} not kept");
    }
    assert!(!kept.contains("clusterIP"), "--keep-node-ports keeps node ports only");
    insta::assert_snapshot!("rule_service_node_ports_kept", kept);
}

/// The Pod rules on the bare Pod debug-shell: `pod-scheduling` (nodeName, priority),
/// `pod-token-volumes` (kube-api-access-* and default-token-* volumes and their mounts in
/// containers and initContainers; the user volumes stay), `pod-ephemeral-containers`,
/// `pod-service-account-alias`.
#[test]
fn rules_pod() {
    let args = ["pods", "-n", "shop", "--name", "^debug-shell$"];
    let raw = yaml(&[&args[..], &["--raw"]].concat());
    for field in
        ["nodeName:", "priority: 100000", "kube-api-access-m4n8r", "default-token-abcde", "ephemeralContainers:"]
    {
        assert!(raw.contains(field), "{field} not in the raw Pod");
    }
    insta::assert_snapshot!("rules_pod_raw", raw);
    let out = yaml(&args);
    for gone in
        ["nodeName:", "priority:", "kube-api-access", "default-token", "ephemeralContainers:", "serviceAccount:"]
    {
        assert!(!out.contains(gone), "{gone} left");
    }
    for kept in ["name: scratch", "name: settings", "priorityClassName: shop-high", "serviceAccountName: default"] {
        assert!(out.contains(kept), "{kept} removed");
    }
    // The user volumes' mounts stay in the container and the init container.
    assert_eq!(out.matches("mountPath: /scratch").count(), 2);
    insta::assert_snapshot!("rules_pod", out);
}

/// `pvc-binding`: dynamically provisioned claims lose volumeName, the binding marks and
/// the selected node; the statically bound one keeps its volumeName, not the marks.
#[test]
fn rule_pvc_binding() {
    let out = yaml(&["pvc", "-n", "shop"]);
    for gone in ["bind-completed", "bound-by-controller", "selected-node", "volumeName: pvc-"] {
        assert!(!out.contains(gone), "{gone} left");
    }
    assert!(out.contains("volumeName: nfs-archive"));
    assert_eq!(out.matches("volume.kubernetes.io/storage-provisioner: rancher.io/local-path").count(), 2);
    insta::assert_snapshot!("rule_pvc_binding", out);
}

#[test]
fn rule_pv_claim_ref() {
    let out = yaml(&["pv"]);
    assert_eq!(out.matches("claimRef:").count(), 2);
    assert!(!out.contains("uid:") && !out.contains("resourceVersion:"));
    insta::assert_snapshot!("rule_pv_claim_ref", out);
}

/// `job-controller-uid`: the generated selector and both controller-uid labels (legacy and
/// `batch.kubernetes.io/`) go, from the Job and its template; job-name labels stay.
#[test]
fn rule_job_controller_uid() {
    let out = yaml(&["jobs", "-n", "shop"]);
    assert!(!out.contains("controller-uid") && !out.contains("selector:"));
    assert_eq!(out.matches("batch.kubernetes.io/job-name: db-migrate").count(), 2);
    insta::assert_snapshot!("rule_job_controller_uid", out);
}

/// `crd-v1`: the CRD, stored in its v1beta1 form, comes out as apiextensions.k8s.io/v1.
#[test]
fn rule_crd_v1() {
    let raw = yaml(&["crd", "--raw"]);
    assert!(raw.contains("apiVersion: apiextensions.k8s.io/v1beta1") && raw.contains("JSONPath:"));
    let out = yaml(&["crd"]);
    assert!(out.starts_with("apiVersion: apiextensions.k8s.io/v1\n"));
    assert!(!out.contains("JSONPath") && !out.contains("validation:") && !out.contains("  version: v1"));
    insta::assert_snapshot!("rule_crd_v1", out);
    // Its custom resources are found through it and cleaned like the rest.
    insta::assert_snapshot!("custom_resource", yaml(&["storefronts", "-n", "shop"]));
}

// ---------------------------------------------------------------------- skips ---

/// The whole snapshot: what is written, what is skipped and why, the two bad values.
#[test]
fn summary_names_every_skip_and_the_bad_values() {
    let r = run(&["extract", SNAP, "-A", "--cluster-scoped"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("rendering as Kubernetes 1.29 (Pod kube-apiserver-cp-1 image"));
    for (_, id, reason) in k8s_decode::clean::SKIPS {
        assert!(r.stderr.contains(reason), "skip {id} not in the summary:\n{}", r.stderr);
    }
    insta::assert_snapshot!("summary", r.stderr);
    insta::assert_snapshot!("summary_written", names(&r.stdout).join("\n"));
}

/// Each skip with the objects it skips, and what --include-owned then writes for them.
#[test]
fn skips_and_include_owned() {
    let cases: &[(&str, &[&str])] = &[
        // owned: ReplicaSet of a Deployment, Pods of a ReplicaSet / Job / StatefulSet, an
        // EndpointSlice of a Service, a ControllerRevision of a StatefulSet.
        ("owned", &["rs,pods,endpointslices,controllerrevisions", "-n", "shop", "--name", "^(web|db-|debug)"]),
        // Skips by kind give way when the resource is named (below), so these select by prefix.
        ("events", &["--prefix", "/registry/events/shop/"]),
        ("leases", &["--prefix", "/registry/leases/"]),
        ("controller-revisions", &["--prefix", "/registry/controllerrevisions/shop/log-agent"]),
        ("nodes", &["--prefix", "/registry/minions/"]),
        ("endpoint-slices", &["endpointslices", "-n", "shop", "--name", "^web-old"]),
        ("service-endpoints", &["endpoints", "-n", "shop"]),
        ("token-secrets", &["secrets", "-n", "shop", "--name", "^default-token"]),
        (
            "cluster-defaults",
            &[
                "ns,cm,sa,svc,ep,clusterroles,apiservices",
                "-A",
                "--name",
                "^(default|kube-system|kube-root-ca.crt|kubernetes|admin|v1.apps)$",
            ],
        ),
        ("apiserver-internal", &["--prefix", "/registry/ranges/", "--prefix", "/registry/masterleases/"]),
    ];
    let mut report = String::new();
    for (id, args) in cases {
        let (skip, _, reason) = k8s_decode::clean::SKIPS.iter().find(|s| s.1 == *id).unwrap();
        let default = extract(args);
        let skipped_line = default
            .stderr
            .lines()
            .find(|l| l.contains(reason))
            .unwrap_or_else(|| panic!("{id}: {args:?} skips nothing for this reason:\n{}", default.stderr));
        let owned = extract(&[*args, &["--include-owned"]].concat());
        report += &format!(
            "== {id} ({skip:?}): {args:?}\n  default writes: {}\n  {}\n  --include-owned writes: {}\n",
            names(&default.stdout).join(", "),
            skipped_line.trim(),
            names(&owned.stdout).join(", "),
        );
        assert!(!owned.stderr.contains("skipped"), "{id}: {}", owned.stderr);
    }
    insta::assert_snapshot!("skips", report);
    // Naming the resource asks for exactly those objects: skips by kind do not apply.
    for (resource, kind) in
        [("events", "Event"), ("leases", "Lease"), ("no", "Node"), ("controllerrevisions", "ControllerRevision")]
    {
        let named = extract(&[resource, "-A"]);
        assert!(named.stdout.contains(&format!("kind: {kind}\n")), "{resource}: {}", named.stderr);
    }
}

/// --include-owned: owned objects are cleaned like the rest (ownerReferences dropped);
/// with --keep-owner-references they keep them.
#[test]
fn include_owned_and_keep_owner_references() {
    let args = ["rs,pods", "-n", "shop", "--include-owned", "--name", "^(web-7c9d8f6b5|db-migrate)"];
    let out = yaml(&args);
    assert_eq!(docs(&out).len(), 3);
    assert!(!out.contains("ownerReferences") && !out.contains("nodeName") && !out.contains("kube-api-access"));
    insta::assert_snapshot!("include_owned", out);
    let kept = yaml(&[&args[..], &["--keep-owner-references"]].concat());
    assert_eq!(kept.matches("ownerReferences:").count(), 3);
    insta::assert_snapshot!("include_owned_keep_owner_references", kept);
}

/// --raw: no rule, no skip; objects as the API server shows them (resourceVersion = etcd's
/// mod_revision).
#[test]
fn raw() {
    let out = yaml(&["svc", "-n", "shop", "--name", "^storefront-lb$", "--raw"]);
    for field in
        ["clusterIP: 10.108.9.201", "healthCheckNodePort: 31812", "nodePort: 32443", "resourceVersion:", "status:"]
    {
        assert!(out.contains(field), "{field} not kept");
    }
    insta::assert_snapshot!("raw_service", out);
    let r = run(&["extract", SNAP, "-A", "--cluster-scoped", "--raw"]);
    assert_eq!(r.code, 1);
    assert!(!r.stderr.contains("skipped"), "{}", r.stderr);
}

// ----------------------------------------------------------------- bad values ---

/// The ciphertext of the encrypted Secret, from etcd's own answer.
fn ciphertext() -> Vec<u8> {
    let get: Value =
        serde_json::from_str(&fs::read_to_string(testdata::project_fixtures().join("etcd-3.5-k8s/get.json")).unwrap())
            .unwrap();
    let b64 = |v: &Value| base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap();
    let kv = get["kvs"].as_array().unwrap().iter().find(|kv| b64(&kv["key"]) == ENCRYPTED_KEY.as_bytes()).unwrap();
    let value = b64(&kv["value"]);
    value.strip_prefix(b"k8s:enc:aescbc:v1:key1:").unwrap().to_vec()
}

/// No 6-byte run of the ciphertext, nor its base64 or hex, in `out`.
fn assert_no_secret_bytes(out: &[u8], ciphertext: &[u8]) {
    for window in ciphertext.windows(6) {
        assert!(!out.windows(6).any(|w| w == window), "ciphertext bytes printed");
    }
    let text = String::from_utf8_lossy(out);
    let b64 = base64::engine::general_purpose::STANDARD.encode(ciphertext);
    let hex: String = ciphertext.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&b64[..16]) && !text.contains(&hex[..16]));
}

/// The encrypted and the truncated values: exit code 1, both named with their reason in
/// the summary (provider, key name; the wire error), no secret bytes printed, and every
/// other object still written, on stdout and in a directory.
#[test]
fn undecodable_values_are_reported_and_the_rest_written() {
    let secret = ciphertext();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    for output in ["-", dir.to_str().unwrap()] {
        for extra in [&[][..], &["--include-owned"]] {
            let args = [&["extract", SNAP, "-n", "shop", "-o", output][..], extra].concat();
            let output_raw = common::etcdsnap().args(&args).output().unwrap();
            assert_eq!(output_raw.status.code(), Some(1), "{args:?}");
            assert_no_secret_bytes(&output_raw.stderr, &secret);
            assert_no_secret_bytes(&output_raw.stdout, &secret);
            // Again, for the text (the first run's files are not overwritten without --force).
            let _ = fs::remove_dir_all(&dir);
            let r = run(&args);
            let undecodable: Vec<&str> = r.stderr.lines().skip_while(|l| !l.starts_with("  undecodable")).collect();
            assert_eq!(
                undecodable,
                [
                    "  undecodable 2:",
                    &format!("    {TRUNCATED_KEY}: malformed protobuf at byte 21 (in <envelope>): length prefix exceeds remaining bytes"),
                    &format!("    {ENCRYPTED_KEY}: value is encrypted with provider \"aescbc\" (v1), key \"key1\"; it needs the cluster's encryption keys (--encryption-config FILE)"),
                ],
                "{}",
                r.stderr
            );
            // Every other object: with --include-owned nothing is skipped, so every live
            // key of the namespace but the two bad ones is written.
            let written = if output == "-" {
                docs(&r.stdout).len()
            } else {
                let files = read_tree(&dir);
                fs::remove_dir_all(&dir).unwrap();
                files.len()
            };
            if extra.is_empty() {
                let name = if output == "-" { "bad_values_summary_stdout" } else { "bad_values_summary_dir" };
                insta::assert_snapshot!(name, r.stderr.replace(dir.to_str().unwrap(), "DIR"));
            } else {
                let live = ok(&["ls", SNAP, "/registry/"]).stdout;
                // The namespace's keys, its Namespace object and its custom resources' CRD.
                let in_shop = live
                    .lines()
                    .filter(|k| {
                        k.contains("/shop/")
                            || k.ends_with("/namespaces/shop")
                            || k.ends_with("/customresourcedefinitions/storefronts.shop.example.com")
                    })
                    .count();
                assert_eq!(written, in_shop - 2, "{output}: {}", r.stderr);
            }
        }
    }
    // The same objects as when the bad keys are not selected at all.
    let good = yaml(&["cm,secrets", "-n", "shop", "--name", "^(storefront|old)"]);
    let all = run(&["extract", SNAP, "cm,secrets", "-n", "shop"]);
    assert_eq!(all.code, 1);
    assert_eq!(all.stdout, good);
}

/// `get` of the encrypted key fails and says why, without printing the value.
#[test]
fn get_of_the_encrypted_key_fails_clearly() {
    let output = common::etcdsnap().args(["get", SNAP, ENCRYPTED_KEY]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_no_secret_bytes(&output.stderr, &ciphertext());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "{ENCRYPTED_KEY}: cannot decode the stored value: value is encrypted with provider \"aescbc\" (v1), key \"key1\"; it needs the cluster's encryption keys (--encryption-config FILE)"
        )),
        "{stderr}"
    );
    let r = run(&["get", SNAP, TRUNCATED_KEY]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("malformed protobuf at byte 21 (in <envelope>): length prefix exceeds remaining bytes"),
        "{}",
        r.stderr
    );
}
