//! Random damage to real stored values — bytes replaced, bits flipped, runs cut out, bytes
//! inserted, tails cut off, several at once — never makes the decoder, the owner peek,
//! cleaning or either writer panic; whatever still decodes is written out whole; and the
//! owner peek and the two-step decode agree with the full decode (`support/every_step.rs`,
//! which the fuzz target `fuzz/decode` runs too).
//!
//! `decode_rules.rs` tries every single-byte corruption and every truncation of one
//! value; this takes thousands of multi-edit variants of every value we have: those of
//! our fixture snapshots (made by real etcd), and Kubernetes' own protobuf fixtures when
//! `../shared` is present (100k variants, about 1 s; a tenth of them still decode). Runs of
//! the same damage with other seeds for 2 and 5 minutes found nothing either.

use k8s_decode::{Decoder, KubeVersion};

#[path = "support/every_step.rs"]
mod every_step;

/// A deterministic xorshift, so that a failure reproduces from its iteration number.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const VARIANTS: usize = 100_000;

#[test]
fn random_damage_to_real_values_never_panics() {
    let values = real_values();
    assert!(values.len() > 1000, "{} values", values.len());
    let decoders: Vec<Decoder> = [16, 22, 30].map(|minor| Decoder::new(KubeVersion::minor_release(minor))).to_vec();
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    let (mut decoded, mut rendered, mut direct) = (0, 0, 0);
    for iteration in 0..VARIANTS {
        let mut value = values[rng.below(values.len())].clone();
        damage(&mut value, &mut rng);
        let decoder = &decoders[rng.below(decoders.len())];
        let steps = every_step::decode_every_way(decoder, &value, &format!("iteration {iteration}"));
        decoded += usize::from(steps.decoded);
        rendered += usize::from(steps.rendered);
        direct += usize::from(steps.direct);
    }
    // The damage leaves a share of the values decodable, so the writers were exercised.
    eprintln!("{decoded} decoded, {rendered} rendered, {direct} written straight from the wire");
    assert!(decoded > VARIANTS / 20 && rendered > VARIANTS / 20, "{decoded} decoded, {rendered} rendered");
    assert!(direct > VARIANTS / 100, "{direct} written straight from the wire");
}

/// One to four edits of `value`.
fn damage(value: &mut Vec<u8>, rng: &mut Xorshift) {
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(value.len());
        match rng.below(5) {
            0 if !value.is_empty() => value[at] = rng.next() as u8,
            1 if !value.is_empty() => value[at] ^= 1 << rng.below(8),
            2 if !value.is_empty() => {
                let end = (at + rng.below(16)).min(value.len());
                value.drain(at..end);
            }
            // Bytes that matter to the wire format: varint continuations, the common tags
            // of length-delimited fields, NUL, newline.
            3 => value.insert(at, [0x80, 0xff, 0x0a, 0x12, 0x1a, 0x22, 0x00, 0x7f][rng.below(8)]),
            _ if value.len() > 1 => value.truncate(at.max(1)),
            _ => {}
        }
    }
}

/// Every non-empty value of our fixture snapshots, and Kubernetes' `.pb` fixtures.
fn real_values() -> Vec<Vec<u8>> {
    let mut values = Vec::new();
    for dir in testdata::project_snapshot_dirs() {
        let snapshot = etcd_snapshot::Snapshot::open(dir.join("snapshot.db")).unwrap();
        let store = snapshot.store().unwrap();
        values.extend(store.records().map(|r| r.unwrap().kv.value.to_vec()).filter(|v| !v.is_empty()));
    }
    if let Some(shared) = testdata::shared_fixtures("random_damage") {
        let files = testdata::files_under(&shared.join("k8s-api-testdata"), "pb").unwrap();
        values.extend(files.iter().map(|p| std::fs::read(p).unwrap()));
    }
    values
}
