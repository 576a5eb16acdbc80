//! Byte-for-byte comparison of `to_yaml_string` with YAML that Go produced
//! (`sigs.k8s.io/yaml` for Kubernetes' API fixtures, auger's expected
//! outputs) for the same JSON.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use k8s_decode::yaml::to_yaml_string;

/// The shared fixtures directory, or `None` (after saying so) when it is
/// absent outside CI. In CI its absence is a failure.
fn shared_dir() -> Option<PathBuf> {
    testdata::shared_fixtures("yaml_fixtures")
}

/// One JSON input with the YAML Go rendered for it.
struct Pair {
    json: PathBuf,
    yaml: PathBuf,
    /// Lines of `#` comments to drop from the start of the expected YAML
    /// (auger's files carry a license header that Go never emitted).
    strip_leading_comments: bool,
}

/// Pairs in one folder: `X.json` ↔ `X.yaml`, and `X.after_roundtrip.json` ↔
/// `X.after_roundtrip.yaml` when both exist (when only one format has an
/// after_roundtrip file, the other equals the base file and the base pair
/// already covers it).
fn pairs_in(dir: &Path, strip_leading_comments: bool) -> Vec<Pair> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else { return out };
    let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    for json in names {
        if json.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let yaml = json.with_extension("yaml");
        if yaml.is_file() {
            out.push(Pair { json, yaml, strip_leading_comments });
        }
    }
    out
}

fn strip_comment_header(s: &str) -> &str {
    let mut rest = s;
    while rest.starts_with('#') {
        rest = rest.split_once('\n').map_or("", |(_, r)| r);
    }
    rest
}

/// First differing line, for the failure report.
fn first_difference(expected: &str, actual: &str) -> String {
    let mut e = expected.split_inclusive('\n');
    let mut a = actual.split_inclusive('\n');
    for line in 1.. {
        match (e.next(), a.next()) {
            (None, None) => return "identical lines".to_owned(),
            (x, y) if x == y => continue,
            (x, y) => return format!("line {line}:\n  expected: {x:?}\n  actual:   {y:?}"),
        }
    }
    unreachable!()
}

#[test]
fn yaml_matches_go_output_byte_for_byte() {
    let Some(shared) = shared_dir() else { return };

    let mut folders: Vec<(String, PathBuf, bool)> = Vec::new();
    let api = shared.join("k8s-api-testdata");
    if let Ok(repos) = fs::read_dir(&api) {
        let mut repos: Vec<PathBuf> = repos.filter_map(|e| e.ok().map(|e| e.path())).collect();
        repos.sort();
        for repo in repos {
            let Ok(versions) = fs::read_dir(&repo) else { continue };
            let mut versions: Vec<PathBuf> = versions.filter_map(|e| e.ok().map(|e| e.path())).collect();
            versions.sort();
            for v in versions.into_iter().filter(|p| p.is_dir()) {
                let label = v.strip_prefix(&api).unwrap_or(&v).display().to_string();
                folders.push((label, v, false));
            }
        }
    }
    let auger = shared.join("real-snapshots/etcd-io-auger/companion");
    // auger keeps inputs and outputs in sibling folders: pair by file stem.
    let mut auger_pairs = Vec::new();
    if let Ok(entries) = fs::read_dir(auger.join("json")) {
        let mut jsons: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        jsons.sort();
        for json in jsons.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
            let Some(stem) = json.file_stem() else { continue };
            let yaml = auger.join("yaml").join(stem).with_extension("yaml");
            if yaml.is_file() {
                auger_pairs.push(Pair { json, yaml, strip_leading_comments: true });
            }
        }
    }

    let mut table: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let mut check = |label: &str, pairs: Vec<Pair>| {
        let row = table.entry(label.to_owned()).or_default();
        for p in pairs {
            row.0 += 1;
            let json = fs::read_to_string(&p.json).expect("read json fixture");
            let yaml = fs::read_to_string(&p.yaml).expect("read yaml fixture");
            let expected = if p.strip_leading_comments { strip_comment_header(&yaml) } else { &yaml };
            let value: serde_json::Value = serde_json::from_str(&json).expect("parse json fixture");
            match to_yaml_string(&value) {
                Ok(actual) if actual == expected => row.1 += 1,
                Ok(actual) => failures.push(format!("{}: {}", p.yaml.display(), first_difference(expected, &actual))),
                Err(err) => failures.push(format!("{}: error {err}", p.yaml.display())),
            }
        }
    };
    for (label, dir, strip) in &folders {
        check(label, pairs_in(dir, *strip));
    }
    check("etcd-io-auger/companion", auger_pairs);

    println!("{:<45} {:>8} {:>8} {:>10}", "folder", "fixtures", "exact", "mismatched");
    let (mut total, mut exact) = (0, 0);
    for (label, (n, ok)) in &table {
        println!("{label:<45} {n:>8} {ok:>8} {:>10}", n - ok);
        total += n;
        exact += ok;
    }
    println!("{:<45} {total:>8} {exact:>8} {:>10}", "TOTAL", total - exact);
    for f in failures.iter().take(5) {
        println!("MISMATCH {f}");
    }
    assert!(total > 0, "no fixtures found under {}", shared.display());
    assert!(failures.is_empty(), "{} of {total} fixtures differ", failures.len());
}
