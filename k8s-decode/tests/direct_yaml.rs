//! The YAML written straight from the wire (`Decoder::clean_yaml_direct`) is byte for byte
//! what decoding, cleaning and writing the tree give, on every value of every snapshot we
//! have: real etcd's, and real clusters'. `DIRECT_YAML_SNAPSHOT=FILE` adds one more (the
//! benchmark snapshots).

use std::collections::BTreeMap;

use k8s_decode::clean::{clean, skip_needs_content, skip_reason, CleanOptions, SkipContext, SkipFacts};
use k8s_decode::{DecodeOptions, JsonObject, LeaveOut};

#[path = "support/snapshot_values.rs"]
mod snapshot_values;

#[test]
fn direct_yaml_is_the_tree_paths_yaml() {
    let options = DecodeOptions { leave_out: LeaveOut::dropped_by_cleaning(), ..Default::default() };
    let clean_options = CleanOptions::default();
    let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut reasons: BTreeMap<(String, &str), usize> = BTreeMap::new();
    let mut paths = snapshot_values::snapshots("direct_yaml");
    paths.extend(std::env::var_os("DIRECT_YAML_SNAPSHOT").map(Into::into));
    snapshot_values::for_each_value(&paths, &[16, 24, 30], |path, decoder, kv| {
        let Ok(mut decoded) = decoder.decode(kv.value, &options) else { return };
        let direct = decoder.clean_yaml_direct(kv.value, clean_options.keep_owner_references);
        if let Some(peeked) = decoder.peek_for_skips(kv.value) {
            let after_peek = decoder.clean_yaml_direct_peeked(&peeked, clean_options.keep_owner_references);
            assert_eq!(after_peek, direct, "{}: {}", path.display(), String::from_utf8_lossy(kv.key));
        }
        let counts = by_kind.entry(decoded.kind.clone()).or_default();
        let direct = match direct {
            Ok(direct) => direct,
            Err(why) => {
                counts.1 += 1;
                *reasons.entry((decoded.kind.clone(), why)).or_default() += 1;
                return;
            }
        };
        counts.0 += 1;
        clean(&mut decoded.object, &clean_options);
        let tree = k8s_decode::yaml::to_yaml_string(&decoded.object).unwrap();
        let release = decoder.release_label();
        assert_eq!(direct, tree, "{}: {} (1.{release})", path.display(), String::from_utf8_lossy(kv.key));
    });
    for (kind, (direct, tree)) in &by_kind {
        println!("{kind:40} direct {direct:8} tree {tree:8}");
    }
    for ((kind, why), n) in &reasons {
        println!("{kind:40} {n:8} {why}");
    }
    let direct: usize = by_kind.values().map(|c| c.0).sum();
    assert!(direct > 1000, "{direct} values written directly");
}

/// The same for values stored as JSON (custom resources, mostly), written from the tree
/// borrowed from the value (`JsonObject::clean_yaml`); and their skips, decided on that
/// tree, are the decoded object's.
#[test]
fn json_direct_yaml_is_the_tree_paths_yaml() {
    let options = DecodeOptions { leave_out: LeaveOut::dropped_by_cleaning(), ..Default::default() };
    let selector = |_: &str, _: &str| true;
    let context = SkipContext { internal: false, service_has_selector: Some(&selector) };
    let (mut direct, mut tree) = (0, 0);
    let mut paths = snapshot_values::snapshots("json_direct_yaml");
    paths.extend(std::env::var_os("DIRECT_YAML_SNAPSHOT").map(Into::into));
    snapshot_values::for_each_value(&paths, &[16, 30], |path, decoder, kv| {
        let Some(json) = JsonObject::parse(kv.value) else { return };
        let at = || format!("{}: {}", path.display(), String::from_utf8_lossy(kv.key));
        let decoded = decoder.decode(kv.value, &options).unwrap_or_else(|e| panic!("{}: {e}", at()));
        assert_eq!(json.controlled(), decoded.object.controlled(), "{}", at());
        if !skip_needs_content(&json) {
            assert_eq!(skip_reason(&json, &context), skip_reason(&decoded.object, &context), "{}", at());
        }
        for keep_owner_references in [false, true] {
            let clean_options = CleanOptions { keep_owner_references, ..Default::default() };
            let Ok(yaml) = json.clone().clean_yaml(keep_owner_references) else {
                tree += 1;
                continue;
            };
            direct += 1;
            let mut object = decoded.object.clone();
            clean(&mut object, &clean_options);
            assert_eq!(yaml, k8s_decode::yaml::to_yaml_string(&object).unwrap(), "{}", at());
        }
    });
    println!("JSON values written directly {direct}, left to the tree path {tree}");
    assert!(direct > 0, "{direct} JSON values written directly");
}
