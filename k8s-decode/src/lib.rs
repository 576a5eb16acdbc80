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
//! protobuf → JSON; `render::direct`: protobuf → cleaned YAML without the value tree,
//! for `extract`), `special` (the hand-written custom-JSON types), `json_read` (JSON
//! values without what the caller leaves out), `cbor`, `wire`.
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
pub mod encryption;
mod error;
mod json;
mod json_direct;
mod json_read;
pub mod keys;
mod member;
pub mod namespace_map;
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
pub use json::{to_go_json, to_go_json_pretty, to_kubectl_json, to_kubectl_json_pretty};
pub use json_direct::JsonObject;
pub use peek::SkipsPeek;
pub use render::{MAX_DEPTH, UNKNOWN_FIELDS_KEY};
pub use version::{KubeVersion, ParseVersionError};
