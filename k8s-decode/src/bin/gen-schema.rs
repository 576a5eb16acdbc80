//! Regenerate `k8s-decode/schema/k8s-api.schema` from the shared API field table.
//!
//! Usage: `cargo run -p k8s-decode --bin gen-schema [-- <k8s-api-fields dir> [<output>]]`
//! Defaults: `<workspace>/../shared/data/k8s-api-fields` and the committed schema path.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut args = std::env::args().skip(1);
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| manifest.join("../../shared/data/k8s-api-fields"));
    let out = args.next().map(PathBuf::from).unwrap_or_else(|| manifest.join("schema/k8s-api.schema"));
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| {
            eprintln!("gen-schema: cannot read {}: {e}", dir.join(name).display());
            std::process::exit(1)
        })
    };
    let text = match k8s_decode::schema::gen::generate(&read("fields.tsv"), &read("types.tsv")) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("gen-schema: {e}");
            std::process::exit(1)
        }
    };
    if let Err(e) = std::fs::write(&out, text) {
        eprintln!("gen-schema: cannot write {}: {e}", out.display());
        std::process::exit(1)
    }
    eprintln!("gen-schema: wrote {}", out.display());
}
