//! Real stored values from a GKE ~1.7 cluster (etcd-io/auger test data):
//! `storage/*.bin` (etcd values), `proto/*.bin` (bare messages) vs `json/*.json`.

use std::path::PathBuf;

use k8s_decode::{to_go_json, DecodeOptions, Decoder, Encoding, KubeVersion, WarningKind};
use serde_json::Value;

fn companion() -> Option<PathBuf> {
    testdata::shared("auger_companion", "fixtures/real-snapshots/etcd-io-auger/companion")
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap()
}

/// The objects were written by a 1.7 API server, but the JSON twins were
/// rendered by auger with current client libraries: a zero
/// `spec.template.metadata.creationTimestamp` is omitted (omitzero, 1.34+),
/// so the twins are HEAD renderings (with 1.16–1.33 rules it would be `null`).
fn decoder() -> Decoder {
    Decoder::new(KubeVersion::HEAD)
}

#[test]
fn storage_values_match_json() {
    let Some(dir) = companion() else { return };
    for (bin, json, kind) in [("job", "job", "Job"), ("pod", "pod", "Pod")] {
        let value = std::fs::read(dir.join(format!("storage/{bin}.bin"))).unwrap();
        let expected_text = std::fs::read(dir.join(format!("json/{json}.json"))).unwrap();
        let expected: Value = serde_json::from_slice(&expected_text).unwrap();
        let d = decoder().decode(&value, &DecodeOptions::default()).unwrap();
        assert_eq!(d.encoding, Encoding::Protobuf);
        assert_eq!(d.kind, kind);
        // The exported files carry a trailing newline after the value: one
        // envelope warning, nothing else.
        assert_eq!(d.warnings.len(), 1, "{bin}: {:?}", d.warnings);
        assert_eq!(d.warnings[0].kind, WarningKind::Envelope);
        assert_eq!(compact(&d.object), compact(&expected), "{bin}");
        // Stretch goal: byte-identical to the API server's JSON (+ newline).
        assert_eq!(format!("{}\n", to_go_json(&d.object)).as_bytes(), &expected_text[..], "{bin} bytes");
    }
}

#[test]
fn storage_value_with_key_prefix() {
    let Some(dir) = companion() else { return };
    let data = std::fs::read(dir.join("storage/pod-with-key.bin")).unwrap();
    let nl = data.iter().position(|&b| b == b'\n').unwrap();
    let (key, value) = (&data[..nl], &data[nl + 1..]);
    assert_eq!(key, b"/registry/pods/default/xyz");
    let text = std::fs::read_to_string(dir.join("json/pod-with-key.txt")).unwrap();
    let (want_key, want_json) = text.split_once('\n').unwrap();
    assert_eq!(want_key.as_bytes(), key);
    let expected: Value = serde_json::from_str(want_json).unwrap();
    let d = decoder().decode(value, &DecodeOptions { key: Some(key), ..Default::default() }).unwrap();
    assert_eq!(compact(&d.object), compact(&expected));
}

#[test]
fn bare_messages_match_json() {
    let Some(dir) = companion() else { return };
    for (name, msg) in [("job", "k8s.io.api.batch.v1.Job"), ("pod", "k8s.io.api.core.v1.Pod")] {
        let raw = std::fs::read(dir.join(format!("proto/{name}.bin"))).unwrap();
        let mut expected: Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("json/{name}.json"))).unwrap()).unwrap();
        // A bare message carries no TypeMeta.
        let m = expected.as_object_mut().unwrap();
        m.shift_remove("kind");
        m.shift_remove("apiVersion");
        let d = decoder().decode_as(msg, &raw).unwrap();
        assert_eq!(compact(&d.object), compact(&expected), "{name}");
    }
}
