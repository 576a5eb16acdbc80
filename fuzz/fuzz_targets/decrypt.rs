//! Any bytes as an encrypted stored value, as the plaintext each cipher seals, and as an
//! EncryptionConfiguration, through the decryption `extract` and `get` use.
#![no_main]

use std::sync::LazyLock;

use k8s_decode::encryption::EncryptionKeys;
use k8s_decode::{Decoder, KubeVersion};
use libfuzzer_sys::fuzz_target;

#[path = "../../k8s-decode/tests/support/every_step.rs"]
mod every_step;

#[path = "../../k8s-decode/tests/support/every_decryption.rs"]
mod every_decryption;

static KEYS: LazyLock<EncryptionKeys> = LazyLock::new(every_decryption::keys);

fuzz_target!(|value: &[u8]| {
    every_decryption::decrypt_every_way(&KEYS, &Decoder::new(KubeVersion::HEAD), value, "fuzz input");
});
