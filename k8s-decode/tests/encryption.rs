//! Values encrypted at rest as kube-apiserver writes them (the `etcd-3.5-encrypted`
//! fixture: real etcd 3.5, values sealed by Go's own `crypto/aes`, `crypto/cipher` and
//! `x/crypto/nacl/secretbox`, the primitives the API server's transformers call, and
//! cross-checked with Python's `cryptography`) decrypt with the fixture's
//! EncryptionConfiguration to exactly the stored values they hide; the values that cannot
//! be decrypted fail for the reason their row of `values.tsv` gives.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use k8s_decode::encryption::{is_encrypted, DecryptError, EncryptionKeys};
use k8s_decode::{DecodeOptions, Decoder, KubeVersion};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn fixture() -> PathBuf {
    testdata::project_fixtures()
}

fn keys() -> EncryptionKeys {
    let text = std::fs::read_to_string(fixture().join("encryption/encryption-config.yaml")).unwrap();
    let config: Value = serde_saphyr::from_str(&text).unwrap();
    EncryptionKeys::from_config(&config).unwrap()
}

/// `values.tsv`: etcd key, provider, key name, object file, plaintext sha256, note.
fn rows() -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(fixture().join("etcd-3.5-encrypted/values.tsv")).unwrap();
    text.lines().skip(1).map(|line| line.split('\t').map(str::to_string).collect()).collect()
}

#[test]
fn every_value_decrypts_to_what_was_encrypted_or_fails_for_its_reason() {
    let keys = keys();
    let snapshot = etcd_snapshot::Snapshot::open(fixture().join("etcd-3.5-encrypted/snapshot.db")).unwrap();
    let store = snapshot.store().unwrap();
    let decoder = Decoder::new(KubeVersion::minor_release(29));
    let rows = rows();
    // A key put several times has a row per put, in order: its history, oldest first.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut providers = BTreeSet::new();
    for row in &rows {
        let [etcd_key, provider, key_name, _file, sha, note] = &row[..] else { panic!("row {row:?}") };
        let nth = seen.entry(etcd_key).or_default();
        let history = store.history(etcd_key.as_bytes());
        assert!(history.errors.is_empty());
        let value = history
            .items
            .iter()
            .filter(|r| !r.is_tombstone())
            .nth(*nth)
            .unwrap_or_else(|| panic!("{etcd_key}"))
            .kv
            .value;
        *nth += 1;
        providers.insert(provider.clone());
        if provider == "identity" {
            assert!(!is_encrypted(value), "{etcd_key}");
            assert_eq!(&hex(&Sha256::digest(value)), sha, "{etcd_key}");
            continue;
        }
        assert!(is_encrypted(value), "{etcd_key}");
        let result = keys.decrypt(etcd_key.as_bytes(), value);
        match note.as_str() {
            "-" => {
                let plain = result.unwrap_or_else(|e| panic!("{etcd_key}: {e}"));
                assert_eq!(&hex(&Sha256::digest(&plain)), sha, "{etcd_key}");
                // And it is the object the key names.
                let decoded = decoder.decode(&plain, &DecodeOptions::default()).unwrap();
                let name = etcd_key.rsplit('/').next().unwrap();
                assert_eq!(decoded.object["metadata"]["name"], name, "{etcd_key}");
            }
            "unknown-key" => assert_eq!(
                result,
                Err(DecryptError::NoKey { provider: provider.clone(), key_name: key_name.clone() }),
                "{etcd_key}"
            ),
            "copied-to-other-key" => {
                let e = result.unwrap_err();
                assert!(matches!(&e, DecryptError::Failed { key_name: k, .. } if k == key_name), "{etcd_key}: {e}");
                assert!(e.to_string().contains("copied from another etcd key"), "{e}");
            }
            "kms" => {
                assert!(matches!(result, Err(DecryptError::Kms { ref name, .. }) if name == key_name), "{etcd_key}")
            }
            other => panic!("{etcd_key}: unknown note {other}"),
        }
    }
    // Every provider the fixture covers was met.
    for provider in ["identity", "aescbc", "aesgcm", "secretbox", "kms-v2"] {
        assert!(providers.contains(provider), "{provider} not in values.tsv");
    }
}

/// The older, plaintext revision of a key encrypted later still reads as it is.
#[test]
fn history_keeps_the_plaintext_revision_before_encryption() {
    let keys = keys();
    let snapshot = etcd_snapshot::Snapshot::open(fixture().join("etcd-3.5-encrypted/snapshot.db")).unwrap();
    let store = snapshot.store().unwrap();
    let history = store.history(b"/registry/secrets/shop/storefront-db");
    assert!(history.errors.is_empty());
    let values: Vec<&[u8]> = history.items.iter().map(|r| r.kv.value).collect();
    assert!(values.len() >= 2, "{} revisions", values.len());
    assert!(!is_encrypted(values[0]) && is_encrypted(values[values.len() - 1]));
    let newest = keys.decrypt(b"/registry/secrets/shop/storefront-db", values[values.len() - 1]).unwrap();
    assert_ne!(newest, values[0], "the object changed between the two revisions");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
