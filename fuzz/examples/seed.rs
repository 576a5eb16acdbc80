//! Writes the fuzzers' starting corpora from real data: every distinct stored value of the
//! given snapshots, and Kubernetes' `.pb` fixtures, for `decode`, with each JSON value also
//! as the CBOR the API server writes for custom resources (no snapshot we have holds one);
//! the small snapshots themselves for `snapshot`; for `decrypt`, the values (a third of them)
//! sealed by one cipher in turn with the target's keys, so that mutations reach the decode
//! of a damaged plaintext, and the encrypted values as the snapshots hold them.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seed -- CORPUS_DIR SNAPSHOT... [--pb DIR]`
//! writes `CORPUS_DIR/decode/`, `CORPUS_DIR/decrypt/` and `CORPUS_DIR/snapshot/`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

// Only the sealing is used here; the checks are the fuzz target's.
#[allow(dead_code)]
#[path = "../../k8s-decode/tests/support/every_decryption.rs"]
mod every_decryption;
#[allow(dead_code)]
#[path = "../../k8s-decode/tests/support/every_step.rs"]
mod every_step;

/// Larger inputs make the fuzzer slow for little more coverage.
const MAX_VALUE: usize = 64 * 1024;
const MAX_SNAPSHOT: u64 = 128 * 1024;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().ok_or("usage: seed CORPUS_DIR SNAPSHOT... [--pb DIR]")?);
    let (decode, decrypt, snapshot) = (out.join("decode"), out.join("decrypt"), out.join("snapshot"));
    for dir in [&decode, &decrypt, &snapshot] {
        std::fs::create_dir_all(dir)?;
    }
    let mut seen = HashSet::new();
    let mut keep = |value: &[u8]| -> std::io::Result<()> {
        if value.is_empty() || value.len() > MAX_VALUE || !seen.insert(value.to_vec()) {
            return Ok(());
        }
        std::fs::write(decode.join(format!("value-{}", seen.len())), value)?;
        let n = seen.len();
        if k8s_decode::encryption::is_encrypted(value) {
            std::fs::write(decrypt.join(format!("value-{n}")), value)?;
        } else if n % 3 == 0 {
            let (cipher, sealed) = Vec::from(every_decryption::sealed_every_way(value)).swap_remove(n / 3 % 3);
            std::fs::write(decrypt.join(format!("value-{n}-{cipher}")), sealed)?;
        }
        if let Some(cbor) = as_cbor(value) {
            std::fs::write(decode.join(format!("value-{}-cbor", seen.len())), cbor)?;
        }
        Ok(())
    };
    while let Some(arg) = args.next() {
        if arg == "--pb" {
            let dir = args.next().ok_or("--pb needs a directory")?;
            for file in testdata::files_under(Path::new(&dir), "pb")? {
                keep(&std::fs::read(&file)?)?;
            }
            continue;
        }
        let snap = etcd_snapshot::Snapshot::open(&arg)?;
        for record in snap.store()?.records().flatten() {
            keep(record.kv.value)?;
        }
        if std::fs::metadata(&arg)?.len() <= MAX_SNAPSHOT {
            let name = arg.replace('/', "_");
            std::fs::copy(&arg, snapshot.join(name))?;
        }
    }
    println!("{} values", seen.len());
    Ok(())
}

/// A JSON value as CBOR behind the self-describe tag (`d9 d9 f7`), as the API server
/// stores custom resources with `CBORServingAndStorage`.
fn as_cbor(value: &[u8]) -> Option<Vec<u8>> {
    let object: serde_json::Value = serde_json::from_slice(value).ok()?;
    let mut cbor = vec![0xd9, 0xd9, 0xf7];
    ciborium::into_writer(&object, &mut cbor).ok()?;
    Some(cbor)
}
