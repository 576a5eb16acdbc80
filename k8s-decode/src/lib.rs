//! Decode Kubernetes objects stored in etcd (protobuf `k8s\0` envelope, JSON, CBOR)
//! into the JSON/YAML the API server and `kubectl get -o yaml` would show.
//!
//! ```no_run
//! use k8s_decode::{Decoder, DecodeOptions, KubeVersion};
//! let value: &[u8] = b"k8s\0...";
//! let dec = Decoder::new("1.30".parse::<KubeVersion>().unwrap());
//! let d = dec.decode(value, &DecodeOptions { mod_revision: Some(42), ..Default::default() })?;
//! println!("{} {}: {}", d.api_version, d.kind, d.object);
//! # Ok::<(), k8s_decode::DecodeError>(())
//! ```
//!
//! Layout: [`decode`](Decoder) (envelopes), `schema` (generated tables, see
//! `schema/k8s-api.schema` and [`schema::gen`]), `render` (schema-guided
//! protobuf → JSON), `special` (the hand-written custom-JSON types), `cbor`,
//! `wire`.
//!
//! Output values are `serde_json::Value`s with Go's key order. Go's byte-level
//! escaping of `<`, `>`, `&`, U+2028, U+2029 in strings (`\u003c` …) is not a
//! property of the value; use [`to_go_json`] for byte-identical output.

mod base64;
pub mod cbor;
pub mod clean;
mod decode;
mod detect;
pub mod encode;
mod error;
pub mod keys;
mod peek;
mod render;
pub mod resources;
pub mod schema;
mod special;
mod version;
mod wire;
pub mod yaml;

pub use decode::{DecodeOptions, Decoded, Decoder, Encoding, LeaveOut, MetadataFirst};
pub use detect::{detect_from_nodes, detect_kube_version, DetectedVersion};
pub use error::{DecodeError, Warning, WarningKind};
pub use render::{MAX_DEPTH, UNKNOWN_FIELDS_KEY};
pub use version::{KubeVersion, ParseVersionError};

/// Serialise a value as `kubectl get -o json` prints it: indented by four spaces (Go's
/// `json.MarshalIndent`), with Go's HTML-safe escaping, and a final newline.
pub fn to_go_json_pretty(v: &serde_json::Value) -> String {
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    serde::Serialize::serialize(v, &mut ser).expect("a serde_json::Value always serialises");
    let mut out = go_escape(String::from_utf8(buf).expect("serde_json writes UTF-8"));
    out.push('\n');
    out
}

/// Serialise a value exactly as the API server's JSON encoder writes it
/// (compact, Go's HTML-safe escaping of `<`, `>`, `&`, U+2028, U+2029), without
/// the trailing newline `json.Encoder.Encode` adds.
pub fn to_go_json(v: &serde_json::Value) -> String {
    go_escape(serde_json::to_string(v).expect("a serde_json::Value always serialises"))
}

/// Go's `encoding/json` escapes these characters that serde_json writes as they are.
fn go_escape(s: String) -> String {
    // These characters are never structural in JSON, so they only occur
    // inside strings, where Go escapes them.
    if !s.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}
