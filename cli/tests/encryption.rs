//! Values encrypted at rest, end to end: `extract`, `get` and `decode` with the API server's
//! EncryptionConfiguration (`--encryption-config`) on the `etcd-3.5-encrypted` fixture
//! (real etcd 3.5; see fixtures/README.md). The key material never reaches the output.

mod common;

use common::{ok, run};

const SNAP: &str = "fixtures/etcd-3.5-encrypted/snapshot.db";
const CONFIG: &str = "fixtures/encryption/encryption-config.yaml";

/// The secrets of the config file, as written there (base64) and decoded.
fn secrets() -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(testdata::workspace_root().join(CONFIG)).unwrap();
    let mut out = Vec::new();
    for line in text.lines().filter_map(|l| l.trim().strip_prefix("secret: ")) {
        out.push(line.as_bytes().to_vec());
        use base64::Engine as _;
        out.push(base64::engine::general_purpose::STANDARD.decode(line).unwrap());
    }
    assert!(out.len() >= 10);
    out
}

fn assert_no_secrets(text: &str) {
    for secret in secrets() {
        assert!(!text.as_bytes().windows(secret.len()).any(|w| w == secret.as_slice()), "key material in output");
    }
}

/// Every object of the namespace comes out decrypted and clean, whatever provider sealed
/// it; the three that cannot be decrypted are named with the reason, and make the exit
/// code 1.
#[test]
fn extract_decrypts_every_provider_and_names_what_it_cannot() {
    let r = run(&["extract", SNAP, "-n", "shop", "--encryption-config", CONFIG]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_no_secrets(&r.stdout);
    assert_no_secrets(&r.stderr);
    insta::assert_snapshot!("extract_decrypted", r.stdout);
    insta::assert_snapshot!("extract_decrypted_summary", r.stderr);
}

/// Without the config, the encrypted values are named as such, with the flag to pass.
#[test]
fn without_the_config_the_summary_says_what_to_pass() {
    let r = run(&["extract", SNAP, "-n", "shop"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("it needs the cluster's encryption keys (--encryption-config FILE)"), "{}", r.stderr);
    let r = run(&["get", SNAP, "/registry/secrets/shop/api-token"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("(--encryption-config FILE)"), "{}", r.stderr);
}

/// `get` decrypts each revision of a key: the plaintext one before encryption was turned
/// on, and the encrypted one after.
#[test]
fn get_history_reads_the_revisions_before_and_after_encryption() {
    let r = ok(&["get", SNAP, "/registry/secrets/shop/storefront-db", "--history", "--encryption-config", CONFIG]);
    assert_no_secrets(&r.stdout);
    insta::assert_snapshot!("get_history_decrypted", r.stdout);
}

/// `decode` reads a raw encrypted value from stdin like `auger decode`; AES-GCM needs the
/// value's etcd key, and the same value under another key does not authenticate.
#[test]
fn decode_needs_the_etcd_key_for_aesgcm() {
    let key = "/registry/secrets/shop/storefront-db";
    let raw = common::etcdsnap().args(["get", SNAP, key, "-o", "raw"]).output().unwrap().stdout;
    assert!(raw.starts_with(b"k8s:enc:aesgcm:v1:gcm-2024:"));
    let decode = |args: &[&str]| {
        let output = common::etcdsnap().args(args).write_stdin(raw.clone()).output().unwrap();
        (output.status.code(), String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap())
    };
    let (code, _, stderr) = decode(&["decode", "--encryption-config", CONFIG]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("give it with --etcd-key"), "{stderr}");
    let (code, stdout, _) = decode(&["decode", "--encryption-config", CONFIG, "--etcd-key", key]);
    assert_eq!(code, Some(0));
    let got = ok(&["get", SNAP, key, "--encryption-config", CONFIG]).stdout;
    // `get` sets resourceVersion from etcd; `decode` has no revision to give.
    assert_eq!(
        stdout,
        got.lines().filter(|l| !l.contains("resourceVersion")).map(|l| format!("{l}\n")).collect::<String>()
    );
    let (code, _, stderr) =
        decode(&["decode", "--encryption-config", CONFIG, "--etcd-key", "/registry/secrets/shop/other"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("authentication failed"), "{stderr}");
    assert_no_secrets(&stderr);
}

/// A config that does not parse or holds a bad key is refused before anything is read,
/// naming the file and the place, not the key.
#[test]
fn bad_configs_are_refused_naming_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(testdata::workspace_root().join(CONFIG)).unwrap();
    let short = dir.path().join("short.yaml");
    std::fs::write(&short, text.replace("odITKLwX2vHZ+ilo6yZAyQ==", "c2hvcnQ=")).unwrap();
    let r = run(&["extract", SNAP, "--encryption-config", short.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("resources[0].providers[1].aescbc.keys[1].secret: 5 bytes"), "{}", r.stderr);
    assert!(!r.stderr.contains("c2hvcnQ"), "{}", r.stderr);
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "kind: [EncryptionConfiguration\n").unwrap();
    let r = run(&["get", SNAP, "/registry/secrets/shop/api-token", "--encryption-config", broken.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("does not parse as YAML or JSON"), "{}", r.stderr);
}

/// `status` counts the live values encrypted at rest by provider and key, as their prefixes
/// name them (a name is read up to its first `:`, so `old:key` shows as `old`): the keys a
/// restore needs, known before decrypting anything.
#[test]
fn status_names_the_keys_a_restore_needs() {
    let r = ok(&["status", SNAP, "-o", "json"]);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        report["encryptedKeys"],
        serde_json::json!({
            "aescbc/key1": 2, "aescbc/old": 1, "aescbc/retired": 1, "aesgcm/gcm-2024": 2,
            "kms-v2/cloud-kms": 1, "secretbox/box1": 1
        })
    );
    // 11 live keys: the Namespace and plain-settings are not encrypted; api-token-2023 was deleted.
    assert_eq!(report["liveKeys"], 11);
}
