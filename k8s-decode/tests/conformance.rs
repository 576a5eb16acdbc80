//! Conformance against Kubernetes' own API serialization fixtures: every `.pb`
//! under `shared/fixtures/k8s-api-testdata/*/*/` must decode to exactly its
//! `.json` twin (deep equality and key order), rendered with the folder's
//! release, and the `.yaml` twin must equal `yaml::to_yaml_string` of the
//! result (`vX.Y.0` → X.Y, `HEAD` → newest; `*.after_roundtrip.*` files are
//! output of the next release's code and are rendered as X.(Y+1)).

mod common;

use std::path::{Path, PathBuf};

use k8s_decode::clean::ASSIGNED_METADATA;
use k8s_decode::{DecodeOptions, Decoder, KubeVersion, LeaveOut, UNKNOWN_FIELDS_KEY};
use serde_json::Value;

/// `../shared` (its absence fails CI; elsewhere the test reports itself skipped).
fn shared() -> Option<PathBuf> {
    testdata::shared("conformance", "fixtures/k8s-api-testdata").map(|d| d.join("../.."))
}

/// Expected JSON for a `.pb`: `<stem>.json` (for `X.after_roundtrip.pb`,
/// `X.after_roundtrip.json` if present, else `X.json`).
fn expected_json(pb: &Path) -> Option<PathBuf> {
    let stem = pb.file_name()?.to_str()?.strip_suffix(".pb")?;
    let direct = pb.with_file_name(format!("{stem}.json"));
    if direct.exists() {
        return Some(direct);
    }
    let base = stem.strip_suffix(".after_roundtrip")?;
    let p = pb.with_file_name(format!("{base}.json"));
    p.exists().then_some(p)
}

/// Expected YAML, found like [`expected_json`].
fn expected_yaml(pb: &Path) -> Option<PathBuf> {
    let stem = pb.file_name()?.to_str()?.strip_suffix(".pb")?;
    let direct = pb.with_file_name(format!("{stem}.yaml"));
    if direct.exists() {
        return Some(direct);
    }
    let base = stem.strip_suffix(".after_roundtrip")?;
    let p = pb.with_file_name(format!("{base}.yaml"));
    p.exists().then_some(p)
}

/// First differing path between two values (for the report).
fn first_diff(a: &Value, b: &Value, path: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let xk: Vec<_> = x.keys().collect();
            let yk: Vec<_> = y.keys().collect();
            for (k, v) in x {
                match y.get(k) {
                    None => return Some(format!("{path}.{k}: unexpected key (got {})", short(v))),
                    Some(w) => {
                        if let Some(d) = first_diff(v, w, format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                }
            }
            for k in y.keys() {
                if !x.contains_key(k) {
                    return Some(format!("{path}.{k}: missing (want {})", short(&y[k])));
                }
            }
            if xk != yk {
                return Some(format!("{path}: key order {xk:?} != {yk:?}"));
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: array length {} != {}", x.len(), y.len()));
            }
            x.iter().zip(y).enumerate().find_map(|(i, (v, w))| first_diff(v, w, format!("{path}[{i}]")))
        }
        _ => (compact(a) != compact(b)).then(|| format!("{path}: got {} want {}", short(a), short(b))),
    }
}

/// Compact serialisation: equal strings mean equal values AND equal key order.
fn compact(v: &Value) -> String {
    serde_json::to_string(v).expect("serialisable")
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 120 {
        format!("{}…", &s[..s.char_indices().nth(120).map_or(s.len(), |c| c.0)])
    } else {
        s
    }
}

#[derive(Default)]
struct Row {
    fixtures: usize,
    exact: usize,
    yaml: usize,
    yaml_exact: usize,
    unknown: usize,
    failed: usize,
}

#[test]
fn k8s_api_testdata() {
    let Some(shared) = shared() else { return };
    let root = shared.join("fixtures/k8s-api-testdata");
    let folders = common::fixture_folders(&root);
    let verbose = std::env::var_os("CONFORMANCE_VERBOSE").is_some();
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for folder in &folders {
        let name = folder.file_name().unwrap().to_str().unwrap().to_string();
        let label = format!("{}/{}", folder.parent().unwrap().file_name().unwrap().to_str().unwrap(), name);
        let dec = Decoder::new(common::folder_version(&name));
        // `*.after_roundtrip.*` is what newer code produced after reading the
        // old fixture (fixtures/README.md): upstream adds the `vX.Y.0` folder
        // during the X.(Y+1) development cycle, so render those as X.(Y+1).
        let next = Decoder::new(match common::folder_version(&name).minor() {
            Some(m) => KubeVersion::minor_release(m + 1),
            None => KubeVersion::HEAD,
        });
        let mut pbs: Vec<PathBuf> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "pb"))
            .collect();
        pbs.sort();
        let mut row = Row::default();
        for pb in &pbs {
            let file = pb.file_name().unwrap().to_str().unwrap();
            let Some(json_path) = expected_json(pb) else {
                continue;
            };
            row.fixtures += 1;
            let value = std::fs::read(pb).unwrap();
            let opts = DecodeOptions {
                message: file.contains(".WatchEvent.").then_some("k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent"),
                ..Default::default()
            };
            let expected: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
            let d = if file.contains(".after_roundtrip.") { &next } else { &dec };
            let got = match d.decode(&value, &opts) {
                Ok(d) => d,
                Err(e) => {
                    row.failed += 1;
                    failures.push(format!("{label}/{file}: error: {e}"));
                    continue;
                }
            };
            let has_unknown = got.object.to_string().contains(UNKNOWN_FIELDS_KEY);
            if let Some(yp) = expected_yaml(pb) {
                row.yaml += 1;
                let want = std::fs::read_to_string(&yp).unwrap();
                match k8s_decode::yaml::to_yaml_string(&got.object) {
                    Ok(y) if y == want => row.yaml_exact += 1,
                    Ok(y) => {
                        let line = y.lines().zip(want.lines()).position(|(a, b)| a != b).unwrap_or(0);
                        failures.push(format!(
                            "{label}/{file}: YAML differs at line {}: got {:?} want {:?}",
                            line + 1,
                            y.lines().nth(line),
                            want.lines().nth(line)
                        ));
                    }
                    Err(e) => failures.push(format!("{label}/{file}: YAML error: {e}")),
                }
            }
            if compact(&got.object) == compact(&expected) {
                row.exact += 1;
                if verbose && !got.warnings.is_empty() {
                    for w in &got.warnings {
                        eprintln!("{label}/{file}: warning: {w}");
                    }
                }
            } else if has_unknown {
                row.unknown += 1;
                failures.push(format!(
                    "{label}/{file}: unknown fields: {}",
                    got.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>().join("; ")
                ));
            } else {
                row.failed += 1;
                let d = first_diff(&got.object, &expected, String::new()).unwrap_or_default();
                failures.push(format!("{label}/{file}: {d}"));
            }
        }
        rows.push((label, row));
    }
    println!();
    println!("| folder | fixtures | exact JSON | with unknown fields | failed | YAML twins | exact YAML |");
    println!("|---|---|---|---|---|---|---|");
    let mut total = Row::default();
    for (label, r) in &rows {
        println!(
            "| {label} | {} | {} | {} | {} | {} | {} |",
            r.fixtures, r.exact, r.unknown, r.failed, r.yaml, r.yaml_exact
        );
        total.yaml += r.yaml;
        total.yaml_exact += r.yaml_exact;
        total.fixtures += r.fixtures;
        total.exact += r.exact;
        total.unknown += r.unknown;
        total.failed += r.failed;
    }
    println!(
        "| total | {} | {} | {} | {} | {} | {} |",
        total.fixtures, total.exact, total.unknown, total.failed, total.yaml, total.yaml_exact
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(total.fixtures > 0, "no fixtures found");
    assert!(failures.is_empty(), "{} fixtures do not match (see table above)", failures.len());
}

/// Leaving `status`, `metadata.managedFields` and the metadata the API server assigns out
/// while decoding gives exactly what decoding everything and then removing them gives, on
/// every fixture; the `mod_revision` asked for then sets no `resourceVersion`.
#[test]
fn leave_out_equals_removing_after_decoding() {
    let Some(shared) = shared() else { return };
    let root = shared.join("fixtures/k8s-api-testdata");
    let mut compared = 0;
    let mut with_fields = 0;
    let mut with_assigned = 0;
    for folder in common::fixture_folders(&root) {
        let name = folder.file_name().unwrap().to_str().unwrap().to_string();
        let dec = Decoder::new(common::folder_version(&name));
        for entry in std::fs::read_dir(&folder).unwrap() {
            let pb = entry.unwrap().path();
            if pb.extension().is_none_or(|e| e != "pb") || pb.to_str().unwrap().contains(".WatchEvent.") {
                continue;
            }
            let value = std::fs::read(&pb).unwrap();
            let Ok(full) = dec.decode(&value, &DecodeOptions::default()) else { continue };
            for assigned_metadata in [false, true] {
                let leave_out =
                    LeaveOut { status: true, managed_fields: true, assigned_metadata, ..Default::default() };
                let options = DecodeOptions {
                    leave_out,
                    mod_revision: Some(42).filter(|_| assigned_metadata),
                    ..Default::default()
                };
                let partial = dec.decode(&value, &options).unwrap();
                let mut expected = full.object.clone();
                let mut removed = expected.as_object_mut().unwrap().shift_remove("status").is_some();
                if let Some(meta) = expected.get_mut("metadata").and_then(Value::as_object_mut) {
                    removed |= meta.shift_remove("managedFields").is_some();
                    if assigned_metadata {
                        let before = meta.len();
                        meta.retain(|k, _| !ASSIGNED_METADATA.contains(&k.as_str()));
                        with_assigned += usize::from(meta.len() < before);
                    }
                }
                with_fields += usize::from(removed && !assigned_metadata);
                assert_eq!(compact(&partial.object), compact(&expected), "{}", pb.display());
                compared += 1;
            }
        }
    }
    assert!(
        compared > 1600 && with_fields > 400 && with_assigned > 400,
        "{compared} compared, {with_fields} had the fields, {with_assigned} assigned metadata"
    );
}
