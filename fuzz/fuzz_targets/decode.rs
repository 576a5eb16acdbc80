//! Any bytes as a stored value, through every step `extract` and `get` take, with the
//! rules of the newest release and of the oldest.
#![no_main]

use k8s_decode::{Decoder, KubeVersion};
use libfuzzer_sys::fuzz_target;

#[path = "../../k8s-decode/tests/support/every_step.rs"]
mod every_step;

fuzz_target!(|value: &[u8]| {
    for version in [KubeVersion::HEAD, KubeVersion::minor_release(16)] {
        every_step::decode_every_way(&Decoder::new(version), value, "fuzz input");
    }
});
