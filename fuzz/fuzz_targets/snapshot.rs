//! Any bytes as a bbolt file, read through every view the library offers.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../etcd-snapshot/tests/support/every_view.rs"]
mod every_view;

fuzz_target!(|bytes: &[u8]| {
    let _ = every_view::scan_everything(bytes);
});
