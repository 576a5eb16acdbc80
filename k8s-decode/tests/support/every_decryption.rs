//! Any bytes through the decryption of values encrypted at rest, checking what must hold
//! whatever the bytes: no panic; what decrypts is a stored Kubernetes value, which then goes
//! through every decode step; a plaintext sealed by each cipher opens to itself exactly
//! when it looks like a stored value; the authenticated ciphers refuse a flipped bit or a
//! value moved to another etcd key; any configuration text is read or refused.
//!
//! Shared by `decryption_damage.rs` and the coverage-guided fuzz target `fuzz/decrypt`
//! (included there by path), so that what the fuzzer finds is replayed by `cargo test`.
//! Uses `every_step.rs`, which the includer declares beside it.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockEncryptMut, KeyIvInit};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use k8s_decode::encryption::{EncryptedWith, EncryptionKeys};
use k8s_decode::Decoder;
use serde_json::{json, Value};

use super::every_step;

const CBC_KEY: [u8; 32] = [7; 32];
const GCM_KEY: [u8; 16] = [9; 16];
const BOX_KEY: [u8; 32] = [3; 32];

/// The etcd key values are sealed for (AES-GCM authenticates it).
pub const ETCD_KEY: &[u8] = b"/registry/secrets/shop/db";

/// One key of each cipher, a second AES-CBC key whose name has a `:`, a KMS v2 provider
/// and identity: every branch the decryption takes.
pub fn keys() -> EncryptionKeys {
    let b64 = |k: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, k);
    let config = json!({
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
                {"kms": {"name": "legacy", "endpoint": "unix:///kms1.sock"}}
            ]}
        ]
    });
    EncryptionKeys::from_config(&config).expect("the checks' own configuration reads")
}

/// What the API server encrypts: protobuf, JSON or CBOR, by their first bytes.
fn looks_stored(plain: &[u8]) -> bool {
    plain.starts_with(b"k8s\0") || plain.starts_with(b"{") || plain.starts_with(&[0xd9, 0xd9, 0xf7])
}

/// `plain` sealed by each cipher as the API server frames it, with fixed IVs and nonces;
/// AES-CBC first.
pub fn sealed_every_way(plain: &[u8]) -> [(&'static str, Vec<u8>); 3] {
    let iv = [0x42; 16];
    let cbc = cbc::Encryptor::<aes::Aes256>::new_from_slices(&CBC_KEY, &iv)
        .expect("a 32-byte key")
        .encrypt_padded_vec_mut::<Pkcs7>(plain);
    let nonce = [0x11; 12];
    let gcm = aes_gcm::Aes128Gcm::new_from_slice(&GCM_KEY)
        .expect("a 16-byte key")
        .encrypt(aes_gcm::Nonce::from_slice(&nonce), Payload { msg: plain, aad: ETCD_KEY })
        .expect("AES-GCM seals any length this test gives it");
    let box_nonce = [0x24; 24];
    let boxed = crypto_secretbox::XSalsa20Poly1305::new_from_slice(&BOX_KEY)
        .expect("a 32-byte key")
        .encrypt(crypto_secretbox::Nonce::from_slice(&box_nonce), plain)
        .expect("secretbox seals any length this test gives it");
    [
        ("aescbc", [&b"k8s:enc:aescbc:v1:key1:"[..], &iv, &cbc].concat()),
        ("aesgcm", [&b"k8s:enc:aesgcm:v1:g1:"[..], &nonce, &gcm].concat()),
        ("secretbox", [&b"k8s:enc:secretbox:v1:box:"[..], &box_nonce, &boxed].concat()),
    ]
}

/// Panics (with `context` in the message) where a property fails. Returns whether `input`
/// itself decrypted (and so went on through the decode steps).
pub fn decrypt_every_way(keys: &EncryptionKeys, decoder: &Decoder, input: &[u8], context: &str) -> bool {
    // The bytes as a stored value.
    let _ = EncryptedWith::read(input);
    let decrypted = keys.decrypt(ETCD_KEY, input);
    if let Ok(plain) = &decrypted {
        assert!(looks_stored(plain), "{context}: decrypted to something not a stored value");
        every_step::decode_every_way(decoder, plain, context);
    }

    // The bytes as the plaintext the API server sealed.
    for (cipher, sealed) in sealed_every_way(input) {
        match keys.decrypt(ETCD_KEY, &sealed) {
            Ok(plain) => {
                assert!(looks_stored(input), "{context}: {cipher} opened a plaintext that is not a stored value");
                assert_eq!(plain, input, "{context}: {cipher} opened to other bytes");
            }
            Err(e) => assert!(!looks_stored(input), "{context}: {cipher} did not open: {e}"),
        }
        if cipher == "aescbc" {
            // No MAC: a damaged value may still open, to other bytes; it must not panic.
            let mut damaged = sealed.clone();
            let last = damaged.len() - 1;
            damaged[last] ^= 1;
            let _ = keys.decrypt(ETCD_KEY, &damaged);
        } else {
            let mut damaged = sealed.clone();
            let last = damaged.len() - 1;
            damaged[last] ^= 1;
            assert!(keys.decrypt(ETCD_KEY, &damaged).is_err(), "{context}: {cipher} opened a damaged value");
            assert!(
                cipher != "aesgcm" || keys.decrypt(b"/registry/secrets/shop/other", &sealed).is_err(),
                "{context}: aesgcm opened a value moved to another etcd key"
            );
        }
        // Cut anywhere: refused or (AES-CBC at a block boundary) opened, never a panic.
        for cut in [0, 1, sealed.len() / 2, sealed.len() - 1] {
            let _ = keys.decrypt(ETCD_KEY, &sealed[..cut]);
        }
    }

    // The bytes as an EncryptionConfiguration.
    if let Ok(config) = serde_json::from_slice::<Value>(input) {
        let _ = EncryptionKeys::from_config(&config);
    }
    decrypted.is_ok()
}
