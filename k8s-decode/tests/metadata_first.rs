//! Deciding from the metadata before decoding the rest, as `extract` does: the owner check
//! read from the bytes (`Decoder::controlled`) and the two-step decode
//! (`Decoder::decode_metadata` + `decode_rest`) answer what one full decode answers, on
//! every value of every snapshot we have: real etcd's, and real clusters'.

use std::path::PathBuf;

use k8s_decode::clean::{is_controlled, selector_owner};
use k8s_decode::{DecodeOptions, Decoder, Encoding, KubeVersion, LeaveOut};

#[path = "support/snapshot_values.rs"]
mod snapshot_values;

fn snapshots() -> Vec<PathBuf> {
    snapshot_values::snapshots("metadata_first")
}

#[test]
fn controlled_from_the_bytes_matches_the_decode() {
    let options = DecodeOptions {
        leave_out: LeaveOut { all_but_metadata: true, managed_fields: true, status: true, ..Default::default() },
        ..Default::default()
    };
    let (mut compared, mut controlled) = (0, 0);
    snapshot_values::for_each_value(&snapshots(), &[16, 24, 30], |path, decoder, kv| {
        let Ok(decoded) = decoder.decode(kv.value, &options) else { return };
        let key = String::from_utf8_lossy(kv.key);
        let peeked = decoder.controlled(kv.value);
        if decoded.encoding == Encoding::Protobuf {
            // Every well-formed protobuf value of a real cluster is answered.
            assert_eq!(peeked, Some(is_controlled(&decoded.object)), "{}: {key}", path.display());
            compared += 1;
            controlled += usize::from(peeked == Some(true));
        } else {
            assert_eq!(peeked, None, "{}: {key}", path.display());
        }
    });
    println!("{compared} protobuf values compared, {controlled} controlled");
    assert!(compared > 1000 && controlled > 100, "{compared} compared, {controlled} controlled");
}

/// A Service's selector read from the bytes (`Decoder::selector_owner`) is what the decode
/// gives, for every value of every snapshot; every protobuf Service is answered.
#[test]
fn selector_owner_from_the_bytes_matches_the_decode() {
    let options = DecodeOptions {
        leave_out: LeaveOut { managed_fields: true, status: true, assigned_metadata: true, ..Default::default() },
        ..Default::default()
    };
    let (mut services, mut with_selector, mut answered) = (0, 0, 0);
    for path in snapshots() {
        let snap = etcd_snapshot::Snapshot::open(&path).unwrap();
        let store = snap.store().unwrap();
        let decoder = Decoder::new(KubeVersion::minor_release(30));
        for rec in store.records() {
            let kv = rec.unwrap().kv;
            let Ok(decoded) = decoder.decode(kv.value, &options) else { continue };
            let key = String::from_utf8_lossy(kv.key);
            let peeked = decoder.selector_owner(kv.value);
            let from_decode = selector_owner(&decoded.object);
            if let Some(peeked) = &peeked {
                assert_eq!(peeked, &from_decode, "{}: {key}", path.display());
                answered += 1;
            }
            if decoded.encoding == Encoding::Protobuf && decoded.kind == "Service" {
                assert!(peeked.is_some(), "{}: {key}: a protobuf Service is answered", path.display());
                services += 1;
                with_selector += usize::from(from_decode.is_some());
            }
        }
    }
    println!("{answered} values answered, {services} Services, {with_selector} with a selector");
    // The project's fixtures alone have six protobuf Services, four with a selector.
    assert!(
        services >= 6 && with_selector >= 4 && services > with_selector,
        "{services} Services, {with_selector} with a selector"
    );
}

#[test]
fn two_step_decode_is_the_full_decode() {
    let mut compared = 0;
    for path in snapshots() {
        let snap = etcd_snapshot::Snapshot::open(&path).unwrap();
        let store = snap.store().unwrap();
        for version in [16, 30] {
            let decoder = Decoder::new(KubeVersion::minor_release(version));
            for rec in store.records() {
                let kv = rec.unwrap().kv;
                let key = String::from_utf8_lossy(kv.key);
                // (first step's managed_fields and assigned_metadata, then the rest's, and
                // status): what extract asks, what it asks of Services, and mismatches.
                for (first_managed, first_assigned, managed, assigned, status) in [
                    (true, true, true, true, true),
                    (false, true, false, true, true),
                    (true, false, true, true, true),
                    (true, false, false, false, false),
                    (false, false, false, false, true),
                ] {
                    let options = DecodeOptions {
                        mod_revision: Some(kv.mod_revision),
                        leave_out: LeaveOut {
                            managed_fields: managed,
                            assigned_metadata: assigned,
                            status,
                            ..Default::default()
                        },
                        ..Default::default()
                    };
                    let whole = decoder.decode(kv.value, &options);
                    let first_leave_out = LeaveOut {
                        managed_fields: first_managed,
                        assigned_metadata: first_assigned,
                        ..Default::default()
                    };
                    let Ok(first) = decoder.decode_metadata(kv.value, first_leave_out) else {
                        assert!(whole.is_err(), "{}: {key}: the metadata fails alone", path.display());
                        continue;
                    };
                    let two_steps = decoder.decode_rest(first, &options);
                    match (whole, two_steps) {
                        (Ok(a), Ok(b)) => {
                            assert_eq!(a.object, b.object, "{}: {key}", path.display());
                            // Same key order too (Value equality ignores it).
                            assert_eq!(a.object.to_string(), b.object.to_string(), "{}: {key}", path.display());
                            assert_eq!((a.api_version, a.kind, a.encoding), (b.api_version, b.kind, b.encoding));
                            assert_eq!(a.warnings.len(), b.warnings.len(), "{}: {key}", path.display());
                            compared += 1;
                        }
                        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                        (a, b) => panic!("{}: {key}: {a:?} vs {b:?}", path.display()),
                    }
                }
            }
        }
    }
    assert!(compared > 3000, "{compared}");
}

/// Cut and flipped values: when the first step succeeds, the two steps fail or succeed
/// with the full decode, and agree on the object.
#[test]
fn two_step_decode_of_damaged_values() {
    let path = testdata::project_fixtures().join("etcd-3.5-k8s/snapshot.db");
    let snap = etcd_snapshot::Snapshot::open(&path).unwrap();
    let store = snap.store().unwrap();
    let decoder = Decoder::new(KubeVersion::minor_release(30));
    let options = DecodeOptions {
        mod_revision: Some(7),
        leave_out: LeaveOut { managed_fields: true, status: true, assigned_metadata: true, ..Default::default() },
        ..Default::default()
    };
    let values: Vec<Vec<u8>> =
        store.records().map(|r| r.unwrap().kv.value.to_vec()).filter(|v| v.starts_with(b"k8s\0")).take(40).collect();
    assert!(values.len() >= 30, "{}", values.len());
    let (mut both_ok, mut both_err) = (0, 0);
    for value in &values {
        let mut variants: Vec<Vec<u8>> = (4..value.len()).step_by(5).map(|n| value[..n].to_vec()).collect();
        for i in (4..value.len()).step_by(3) {
            let mut v = value.clone();
            v[i] ^= 0x85;
            variants.push(v);
        }
        for v in &variants {
            let first_leave_out = LeaveOut { managed_fields: true, assigned_metadata: true, ..Default::default() };
            let Ok(first) = decoder.decode_metadata(v, first_leave_out) else { continue };
            match (decoder.decode(v, &options), decoder.decode_rest(first, &options)) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.object.to_string(), b.object.to_string());
                    both_ok += 1;
                }
                (Err(a), Err(b)) => {
                    assert_eq!(a.to_string(), b.to_string());
                    both_err += 1;
                }
                (a, b) => panic!("{a:?} vs {b:?}"),
            }
        }
    }
    assert!(both_ok > 100 && both_err > 100, "{both_ok} {both_err}");
}

/// What the skips need beyond the metadata (`Decoder::skip_needs_content`): a
/// ServiceAccount only when named `default` (its `imagePullSecrets` decide), a Secret only
/// when its type, read from the bytes, is the token type. Where the metadata is enough, it
/// decides what the whole object decides.
#[test]
fn skips_need_content_only_where_the_metadata_cannot_decide() {
    use k8s_decode::clean::{skip_reason, SkipContext};
    use k8s_decode::encode::Encoder;
    use serde_json::json;

    let decoder = Decoder::new(KubeVersion::HEAD);
    let encoder = Encoder::new(KubeVersion::HEAD);
    let context = SkipContext { internal: false, service_has_selector: None };
    let account = |name: &str, pull: bool| {
        let mut o = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": "a"}});
        if pull {
            o["imagePullSecrets"] = json!([{"name": "registry"}]);
        }
        o
    };
    let secret = |name: &str, kind: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "type": kind, "data": {"token": "eA=="},
            "metadata": {"name": name, "namespace": "a",
                "annotations": {"kubernetes.io/service-account.name": "builder"}}})
    };
    let token = "kubernetes.io/service-account-token";
    let cases = [
        (account("default", false), true),
        (account("default", true), true),
        (account("builder", true), false),
        (secret("builder-token-abcde", token), true),
        (secret("builder-token-abcde", "Opaque"), false),
        (secret("ci-token", token), true),
    ];
    for (object, needs) in cases {
        let value = encoder.encode(&object).unwrap();
        let first = decoder.decode_metadata(&value, LeaveOut::dropped_by_cleaning()).unwrap();
        assert_eq!(decoder.skip_needs_content(first.object(), &value), needs, "{object}");
        let whole = decoder.decode(&value, &DecodeOptions::default()).unwrap().object;
        if !needs {
            assert_eq!(skip_reason(first.object(), &context), skip_reason(&whole, &context), "{object}");
        }
    }
    // The default ServiceAccount without pull secrets and the generated token Secret are
    // skipped, which the metadata alone would not tell.
    let skipped = |object: &serde_json::Value| skip_reason(object, &context).is_some();
    assert!(skipped(&account("default", false)) && !skipped(&account("default", true)));
    assert!(skipped(&secret("builder-token-abcde", token)) && !skipped(&secret("builder-token-abcde", "Opaque")));
}

/// What `extract` reads of the metadata from the bytes for the skips
/// (`Decoder::peek_for_skips`) answers every well-formed protobuf value of a kind the
/// schema knows, and the skips answer on it what they answer on the decoded metadata, for
/// every value of every snapshot.
#[test]
fn peek_for_skips_decides_what_the_decoded_metadata_decides() {
    use k8s_decode::clean::{skip_reason, SkipContext};

    let leave_out = LeaveOut::dropped_by_cleaning();
    let has_selector = |ns: &str, name: &str| (ns.len() + name.len()).is_multiple_of(2);
    let context = SkipContext { internal: false, service_has_selector: Some(&has_selector) };
    let (mut compared, mut skipped) = (0, 0);
    snapshot_values::for_each_value(&snapshots(), &[16, 30], |path, decoder, kv| {
        let Ok(first) = decoder.decode_metadata(kv.value, leave_out) else { return };
        let key = String::from_utf8_lossy(kv.key);
        let Some(for_skips) = decoder.peek_for_skips(kv.value) else {
            let known = first.decoded().message.is_some();
            assert!(first.decoded().encoding != Encoding::Protobuf || !known, "{}: {key}", path.display());
            return;
        };
        let skip = skip_reason(first.object(), &context);
        assert_eq!(skip_reason(&for_skips, &context), skip, "{}: {key}", path.display());
        assert_eq!(
            decoder.skip_needs_content(&for_skips, kv.value),
            decoder.skip_needs_content(first.object(), kv.value),
            "{}: {key}",
            path.display()
        );
        compared += 1;
        skipped += usize::from(skip.is_some());
    });
    println!("{compared} compared, {skipped} skipped");
    assert!(compared > 1000 && skipped > 100, "{compared} compared, {skipped} skipped");
}
