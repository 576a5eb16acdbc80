//! The configuration and the error cases. Decryption of values written by the API server's
//! own ciphers is checked against the `etcd-3.5-encrypted` fixture
//! (`k8s-decode/tests/encryption.rs`); here the framing is checked with values sealed by
//! the same RustCrypto ciphers.

use aes::cipher::{BlockEncryptMut, KeyIvInit};
use serde_json::json;

use super::*;

const CBC_KEY: [u8; 32] = [7; 32];
const GCM_KEY: [u8; 16] = [9; 16];
const BOX_KEY: [u8; 32] = [3; 32];

fn config() -> Value {
    let b64 = |k: &[u8]| STANDARD.encode_to_string(k);
    json!({
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [
            {"resources": ["secrets"], "providers": [
                {"aesgcm": {"keys": [{"name": "g1", "secret": b64(&GCM_KEY)}]}},
                {"aescbc": {"keys": [{"name": "old:key", "secret": b64(&[1; 16])}, {"name": "key1", "secret": b64(&CBC_KEY)}]}},
                {"secretbox": {"keys": [{"name": "box", "secret": b64(&BOX_KEY)}]}},
                {"identity": {}}
            ]},
            {"resources": ["configmaps"], "providers": [
                {"kms": {"apiVersion": "v2", "name": "cloud-kms", "endpoint": "unix:///kms.sock"}},
                {"aescbc": {"keys": [{"name": "key1", "secret": b64(&[5; 24])}]}}
            ]}
        ]
    })
}

const PLAIN: &[u8] = b"k8s\0\n\x0cv1\x12\x06Secret";

fn cbc_value(name: &str, key: &[u8; 32], plain: &[u8]) -> Vec<u8> {
    let iv = [0x42; 16];
    let sealed =
        cbc::Encryptor::<aes::Aes256>::new_from_slices(key, &iv).unwrap().encrypt_padded_vec_mut::<Pkcs7>(plain);
    [format!("k8s:enc:aescbc:v1:{name}:").as_bytes(), &iv, &sealed].concat()
}

#[test]
fn each_cipher_opens_its_framing() {
    let keys = EncryptionKeys::from_config(&config()).unwrap();
    let etcd_key = b"/registry/secrets/shop/db";

    assert_eq!(keys.decrypt(etcd_key, &cbc_value("key1", &CBC_KEY, PLAIN)).unwrap(), PLAIN);

    let nonce = [0x11; 12];
    let sealed = Aes128Gcm::new_from_slice(&GCM_KEY)
        .unwrap()
        .encrypt(aes_gcm::Nonce::from_slice(&nonce), Payload { msg: PLAIN, aad: etcd_key })
        .unwrap();
    let gcm = [&b"k8s:enc:aesgcm:v1:g1:"[..], &nonce, &sealed].concat();
    assert_eq!(keys.decrypt(etcd_key, &gcm).unwrap(), PLAIN);
    // The etcd key is authenticated: the same bytes under another key do not open.
    let moved = keys.decrypt(b"/registry/secrets/shop/other", &gcm).unwrap_err();
    assert!(
        matches!(&moved, DecryptError::Failed { provider, key_name, .. } if provider == "aesgcm" && key_name == "g1")
    );
    assert!(moved.to_string().contains("copied from another etcd key"), "{moved}");

    let nonce = [0x22; 24];
    let sealed = crypto_secretbox::XSalsa20Poly1305::new_from_slice(&BOX_KEY)
        .unwrap()
        .encrypt(crypto_secretbox::Nonce::from_slice(&nonce), PLAIN)
        .unwrap();
    let boxed = [&b"k8s:enc:secretbox:v1:box:"[..], &nonce, &sealed].concat();
    assert_eq!(keys.decrypt(etcd_key, &boxed).unwrap(), PLAIN);
}

#[test]
fn key_names_may_hold_colons_and_keys_with_one_name_are_all_tried() {
    let mut keys = EncryptionKeys::from_config(&config()).unwrap();
    // `old:key` is matched whole, not cut at its colon.
    let key16 = [1u8; 16];
    let iv = [0x42; 16];
    let sealed =
        cbc::Encryptor::<aes::Aes128>::new_from_slices(&key16, &iv).unwrap().encrypt_padded_vec_mut::<Pkcs7>(PLAIN);
    let value = [&b"k8s:enc:aescbc:v1:old:key:"[..], &iv, &sealed].concat();
    assert_eq!(keys.decrypt(b"/k", &value).unwrap(), PLAIN);
    // Two keys named key1 (secrets' and configmaps'): the configmaps' one is found after
    // the secrets' one fails.
    let key24 = [5u8; 24];
    let sealed =
        cbc::Encryptor::<aes::Aes192>::new_from_slices(&key24, &iv).unwrap().encrypt_padded_vec_mut::<Pkcs7>(PLAIN);
    let value = [&b"k8s:enc:aescbc:v1:key1:"[..], &iv, &sealed].concat();
    assert_eq!(keys.decrypt(b"/k", &value).unwrap(), PLAIN);
    // Without it, the failure names the key and says why.
    keys.providers.pop();
    let e = keys.decrypt(b"/k", &value).unwrap_err();
    assert!(matches!(&e, DecryptError::Failed { key_name, .. } if key_name == "key1"), "{e}");
}

#[test]
fn a_wrong_key_is_told_from_the_plaintext() {
    let keys = EncryptionKeys::from_config(&config()).unwrap();
    // Sealed with another key: the padding or the result gives it away (CBC has no MAC).
    let value = cbc_value("key1", &[8; 32], PLAIN);
    assert!(matches!(keys.decrypt(b"/k", &value), Err(DecryptError::Failed { .. })));
    // The right key, but what it hides is not a stored Kubernetes value.
    let value = cbc_value("key1", &CBC_KEY, b"not a kubernetes value");
    let e = keys.decrypt(b"/k", &value).unwrap_err();
    assert!(e.to_string().contains("not a stored Kubernetes value"), "{e}");
}

#[test]
fn unknown_keys_kms_and_damage_are_named() {
    let keys = EncryptionKeys::from_config(&config()).unwrap();
    let e = keys.decrypt(b"/k", b"k8s:enc:aescbc:v1:retired:0123456789abcdef0123456789abcdef").unwrap_err();
    assert_eq!(e, DecryptError::NoKey { provider: "aescbc".into(), key_name: "retired".into() });
    let e = keys.decrypt(b"/k", b"k8s:enc:kms:v2:cloud-kms:\x0a\x02ab").unwrap_err();
    assert_eq!(e, DecryptError::Kms { version: "v2".into(), name: "cloud-kms".into() });
    assert!(e.to_string().contains("cannot be decrypted offline"));
    let e = keys.decrypt(b"/k", b"k8s:enc:kms:v1:elsewhere:\x00\x02ab").unwrap_err();
    assert_eq!(e, DecryptError::Kms { version: "v1".into(), name: "elsewhere".into() });
    assert!(matches!(keys.decrypt(b"/k", b"k8s:enc:rot13:v1:k:abc"), Err(DecryptError::UnknownProvider { .. })));
    assert!(matches!(keys.decrypt(b"/k", b"k8s\0plain"), Err(DecryptError::UnknownProvider { .. })));
    // Every cut of a good value is an error, never a panic.
    let good = cbc_value("key1", &CBC_KEY, PLAIN);
    for n in 0..good.len() {
        assert!(keys.decrypt(b"/k", &good[..n]).is_err(), "cut at {n}");
    }
}

#[test]
fn bad_configurations_are_errors_that_keep_secrets() {
    let bad = |edit: &dyn Fn(&mut Value)| {
        let mut config = config();
        edit(&mut config);
        EncryptionKeys::from_config(&config).unwrap_err()
    };
    let e = bad(&|c| c["kind"] = json!("Pod"));
    assert_eq!(e.at, "kind");
    let e = bad(&|c| c["resources"][0]["providers"][1]["aescbc"]["keys"][1]["secret"] = json!("c2VjcmV0LXNlY3JldA=="));
    assert_eq!(e.at, "resources[0].providers[1].aescbc.keys[1].secret");
    assert!(e.reason.contains("13 bytes"), "{e}");
    assert!(!e.to_string().contains("c2VjcmV0"), "{e}");
    let e = bad(&|c| c["resources"][0]["providers"][2]["secretbox"]["keys"][0]["secret"] = json!("%%%"));
    assert_eq!(e.reason, "not valid base64");
    let e = bad(&|c| c["resources"][1]["providers"][0] = json!({"rot13": {}}));
    assert_eq!(e.at, "resources[1].providers[0].rot13");
    // The legacy alias is accepted.
    let mut legacy = config();
    legacy["apiVersion"] = json!("v1");
    legacy["kind"] = json!("EncryptionConfig");
    assert!(EncryptionKeys::from_config(&legacy).is_ok());
    // Debug output shows names and sizes, not key bytes.
    let debug = format!("{:?}", EncryptionKeys::from_config(&config()).unwrap());
    assert!(debug.contains("<32 bytes>") && debug.contains("\"key1\"") && !debug.contains("7, 7"), "{debug}");
}
