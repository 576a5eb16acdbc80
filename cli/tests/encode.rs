//! `etcdsnap encode`: the inverse of `decode`. Round trips on the objects of
//! `fixtures/k8s-objects/`, the values of the `etcd-3.5-k8s` fixture (made from those
//! files) byte for byte, Kubernetes' own serialization fixtures byte for byte, the output
//! file's mode, and error messages.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

mod common;
use common::{etcdsnap, ok, run};

fn objects_dir() -> PathBuf {
    testdata::project_fixtures().join("k8s-objects")
}

/// The YAML files of `k8s-objects/` (and `history/`, `bad/` when asked), sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn parse_yaml(path: &Path) -> Value {
    let options = serde_saphyr::options! { strict_booleans: true, legacy_octal_numbers: true };
    serde_saphyr::from_str_with_options(&fs::read_to_string(path).unwrap(), options).unwrap()
}

fn encode(path: &Path) -> Vec<u8> {
    let output = etcdsnap().args(["encode", "--kube-version", "1.29"]).arg(path).output().unwrap();
    assert!(output.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&output.stderr));
    output.stdout
}

fn decode_json(value: &[u8]) -> Value {
    let output =
        etcdsnap().args(["decode", "-", "-o", "json", "--kube-version", "1.29"]).write_stdin(value).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Encode then decode gives the object back (maps compared as maps: custom resources are
/// stored with sorted keys).
#[test]
fn encode_then_decode_is_the_input() {
    let dir = objects_dir();
    let mut files = yaml_files(&dir);
    files.extend(yaml_files(&dir.join("history")));
    files.extend(yaml_files(&dir.join("bad")));
    assert!(files.len() > 50, "{}", files.len());
    let mut protobuf = 0;
    for file in &files {
        let value = encode(file);
        protobuf += usize::from(value.starts_with(b"k8s\0"));
        assert_eq!(decode_json(&value), parse_yaml(file), "{}", file.display());
    }
    // Everything but the CRD, the APIService and the custom resource.
    assert_eq!(protobuf, files.len() - 3);
}

/// The values the API server stores as JSON: typed ones (CRD, APIService) keep their
/// fields' order; custom resources are a Go map, written with sorted keys. Both end in a
/// newline, with Go's HTML-safe escaping.
#[test]
fn json_values() {
    let dir = objects_dir();
    let cr = encode(&dir.join("58-storefront-main.yaml"));
    let text = String::from_utf8(cr).unwrap();
    assert!(
        text.starts_with(r#"{"apiVersion":"shop.example.com/v1","kind":"Storefront","metadata":{"annotations""#),
        "{text}"
    );
    assert!(text.ends_with("}\n") && text.matches('\n').count() == 1);
    let crd =
        String::from_utf8(encode(&dir.join("57-customresourcedefinition-storefronts.shop.example.com.yaml"))).unwrap();
    assert!(crd.starts_with(
        r#"{"kind":"CustomResourceDefinition","apiVersion":"apiextensions.k8s.io/v1beta1","metadata":{"name":"#
    ));
    let out = etcdsnap()
        .args(["encode", "-"])
        .write_stdin("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {z: 1, a: \"<b> & c\"}\n")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"},\"spec\":{\"a\":\"\\u003cb\\u003e \\u0026 c\",\"z\":1}}\n"
    );
}

/// Every value of the etcd-3.5-k8s fixture (etcd's own `get -w json` answer) is the
/// encoding of its file: the fixture and k8s-objects/ agree, and encode is deterministic.
#[test]
fn fixture_values_are_the_encoded_files() {
    let get: Value =
        serde_json::from_str(&fs::read_to_string(testdata::project_fixtures().join("etcd-3.5-k8s/get.json")).unwrap())
            .unwrap();
    let b64 = |v: &Value| base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap();
    let stored: std::collections::BTreeMap<String, Vec<u8>> = get["kvs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| (String::from_utf8(b64(&kv["key"])).unwrap(), b64(&kv["value"])))
        .collect();
    let files = yaml_files(&objects_dir());
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        let key = text.lines().find_map(|l| l.strip_prefix("# etcd: ")).unwrap();
        let value = stored.get(key).unwrap_or_else(|| panic!("{key} is not in the fixture"));
        assert!(value == &encode(file), "{key}: the fixture's value is not the encoding of {}", file.display());
    }
    // The files, the two bad values and compact_rev_key: nothing else.
    assert_eq!(stored.len(), files.len() + 3);
}

/// Kubernetes' serialization fixtures: the `.json` of an object encodes to its `.pb`,
/// byte for byte (`--verbatim`: they hold a resourceVersion and selfLink, which the API
/// server would not store).
#[test]
fn kubernetes_fixtures_encode_to_their_protobuf() {
    let Some(shared) = testdata::shared_fixtures("kubernetes_fixtures_encode_to_their_protobuf") else { return };
    let mut checked = 0;
    for (folder, version) in [("v1.30.0", "1.30"), ("HEAD", "HEAD")] {
        let dir = shared.join("k8s-api-testdata/kubernetes-api").join(folder);
        for name in ["core.v1.ConfigMap", "core.v1.Pod", "core.v1.Service", "apps.v1.Deployment", "batch.v1.Job"] {
            let json = dir.join(format!("{name}.json"));
            let pb = fs::read(dir.join(format!("{name}.pb"))).unwrap();
            let out = etcdsnap().args(["encode", "--verbatim", "--kube-version", version]).arg(&json).output().unwrap();
            assert!(out.status.success(), "{}: {}", json.display(), String::from_utf8_lossy(&out.stderr));
            assert!(out.stdout == pb, "{}: not the bytes of its .pb", json.display());
            checked += 1;
        }
    }
    assert_eq!(checked, 10);
    // Without --verbatim, what the API server stores: resourceVersion and selfLink cleared.
    let json = shared.join("k8s-api-testdata/kubernetes-api/HEAD/core.v1.ConfigMap.json");
    let out = etcdsnap().args(["encode"]).arg(&json).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("metadata.resourceVersion removed") && stderr.contains("metadata.selfLink removed"),
        "{stderr}"
    );
    let decoded = decode_json(&out.stdout);
    assert!(decoded["metadata"].get("resourceVersion").is_none() && decoded["metadata"].get("selfLink").is_none());
    assert_eq!(decoded["metadata"]["uid"], "uidValue");
}

#[test]
fn output_file_is_private_and_holds_the_value() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("value.bin");
    let file = objects_dir().join("24-secret-storefront-db.yaml");
    let r = ok(&["encode", "--kube-version", "1.29", file.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(r.stdout.is_empty());
    assert_eq!(fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(fs::read(&out).unwrap(), encode(&file));
    // From stdin, the same bytes.
    let stdin = etcdsnap()
        .args(["encode", "--kube-version", "1.29", "-"])
        .write_stdin(fs::read(&file).unwrap())
        .output()
        .unwrap();
    assert_eq!(stdin.stdout, fs::read(&out).unwrap());
}

#[test]
fn errors_name_the_file_and_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = tmp.path().join(name);
        fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let bad_field =
        write("deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: many\n");
    let r = run(&["encode", &bad_field]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains(&bad_field) && r.stderr.contains("\"spec.replicas\""), "{}", r.stderr);
    let unknown = write(
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    imagee: x\n",
    );
    let r = run(&["encode", &unknown]);
    assert!(r.stderr.contains("\"imagee\"") && r.stderr.contains("spec.containers[0]"), "{}", r.stderr);
    let yaml = write("broken.yaml", "apiVersion: v1\nkind: [\n");
    let r = run(&["encode", &yaml]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(&yaml) && r.stderr.contains("invalid YAML") && r.stderr.contains("line 2"),
        "{}",
        r.stderr
    );
    let json = write("broken.json", "{\"apiVersion\": \"v1\",\n \"kind\": }");
    let r = run(&["encode", &json]);
    assert!(r.stderr.contains(&json) && r.stderr.contains("invalid JSON at line 2"), "{}", r.stderr);
    // A built-in group with a kind the schema lacks is a mistake, not a custom resource.
    let typo = write("typo.yaml", "apiVersion: apps/v1\nkind: Deploymnet\nmetadata:\n  name: d\n");
    let r = run(&["encode", &typo]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("\"Deploymnet\" is not in the schema"), "{}", r.stderr);
    // Plain scalars are typed as YAML 1.2 does: `n` is a string, not false.
    let r = etcdsnap()
        .args(["encode", "-"])
        .write_stdin("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: n\n  namespace: no\ndata:\n  a: off\n")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(decode_json(&r.stdout)["data"]["a"], "off");
}
