//! Made-up framings, damaged ciphertexts and real stored values sealed by each cipher never
//! make decryption panic; what decrypts is a stored value and goes on through every decode
//! step; a sealed value opens to itself exactly when it is a stored value; the
//! authenticated ciphers refuse damage (`support/every_decryption.rs`, which the fuzz target
//! `fuzz/decrypt` runs too).

use k8s_decode::{Decoder, KubeVersion};

#[path = "support/every_step.rs"]
mod every_step;

#[path = "support/every_decryption.rs"]
mod every_decryption;

use every_decryption::{decrypt_every_way, keys, sealed_every_way};

#[test]
fn made_up_framings() {
    let (keys, decoder) = (keys(), Decoder::new(KubeVersion::HEAD));
    let prefixes = [
        "",
        "k8s:enc:",
        "k8s:enc:aescbc",
        "k8s:enc:aescbc:v1:",
        "k8s:enc:aescbc:v1:key1",
        "k8s:enc:aescbc:v1:key1:",
        "k8s:enc:aescbc:v1:old:key:",
        "k8s:enc:aescbc:v1:old:",
        "k8s:enc:aescbc:v1:unknown:",
        "k8s:enc:aescbc:v2:key1:",
        "k8s:enc:aesgcm:v1:g1:",
        "k8s:enc:secretbox:v1:box:",
        "k8s:enc:kms:v1:legacy:",
        "k8s:enc:kms:v2:cloud-kms:",
        "k8s:enc:kms:v2:",
        "k8s:enc:identity:v1:",
    ];
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for prefix in prefixes {
        for len in [0, 1, 11, 12, 15, 16, 17, 23, 24, 31, 32, 39, 40, 48, 64] {
            inputs.push([prefix.as_bytes(), &(0..len).map(|i| (i * 37) as u8).collect::<Vec<u8>>()].concat());
        }
    }
    inputs.extend([
        b"k8s\0".to_vec(),
        b"{}".to_vec(),
        vec![0xd9, 0xd9, 0xf7],
        br#"{"kind":"EncryptionConfiguration","resources":[{"providers":[{"aescbc":{"keys":[{"name":"k","secret":"AAAA"}]}}]}]}"#.to_vec(),
        br#"{"kind":"EncryptionConfig","resources":[{"providers":[{"kms":{"name":"x","apiVersion":"v3"}}]}]}"#.to_vec(),
        br#"{"kind":"EncryptionConfiguration","resources":[{"providers":[{"aesgcm":{},"identity":{}}]}]}"#.to_vec(),
    ]);
    for (i, input) in inputs.iter().enumerate() {
        assert!(!decrypt_every_way(&keys, &decoder, input, &format!("input {i}")), "input {i} decrypted");
    }
}

#[test]
fn real_values_sealed_then_damaged() {
    let (keys, decoder) = (keys(), Decoder::new(KubeVersion::HEAD));
    let mut values = Vec::new();
    for dir in testdata::project_snapshot_dirs() {
        let snapshot = etcd_snapshot::Snapshot::open(dir.join("snapshot.db")).unwrap();
        let store = snapshot.store().unwrap();
        values.extend(store.records().map(|r| r.unwrap().kv.value.to_vec()).filter(|v| !v.is_empty()));
    }
    assert!(values.len() > 1000, "{} values", values.len());
    let (mut tried, mut opened) = (0, 0);
    for (i, value) in values.iter().enumerate() {
        // As plaintexts: each cipher opens them to themselves (the stored ones).
        decrypt_every_way(&keys, &decoder, value, &format!("value {i}"));
        // Sealed by AES-CBC, which has no MAC, with one byte changed past the first block and
        // before the last two: the padding and the first bytes survive, so it decrypts to a
        // damaged stored value, which must go through the decode steps without a panic.
        let [(_, sealed), ..] = sealed_every_way(value);
        let header = "k8s:enc:aescbc:v1:key1:".len() + 16;
        let blocks = (sealed.len() - header) / 16;
        if blocks < 4 {
            continue;
        }
        let mut damaged = sealed.clone();
        damaged[header + 16 + (i * 7919) % ((blocks - 3) * 16)] ^= 0x5a;
        tried += 1;
        opened += usize::from(decrypt_every_way(&keys, &decoder, &damaged, &format!("damaged value {i}")));
    }
    eprintln!("{opened} of {tried} damaged values decrypted");
    assert!(tried > 1000 && opened * 2 > tried, "{opened} of {tried} damaged values decrypted");
}
