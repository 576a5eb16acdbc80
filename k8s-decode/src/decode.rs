//! Value envelopes (FORMATS.md §4.4–4.5) and the public decoding entry points.

use serde_json::{Map, Value};

use crate::encryption::EncryptedWith;
use crate::error::{DecodeError, Warning, WarningKind};
use crate::render::{Renderer, TopTypeMeta, UNKNOWN_FIELDS_KEY};
use crate::schema::Schema;
use crate::version::KubeVersion;
use crate::wire::{Fields, WireValue};

/// How the stored value was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `k8s\0` + runtime.Unknown protobuf envelope.
    Protobuf,
    /// JSON text.
    Json,
    /// CBOR with the self-describe tag.
    Cbor,
}

/// Per-value options.
#[derive(Debug, Clone, Copy, Default)]
pub struct DecodeOptions<'a> {
    /// The etcd key of the value (informational; used in warnings' context by callers).
    pub key: Option<&'a [u8]>,
    /// The etcd `mod_revision`; when set, `metadata.resourceVersion` is set to it
    /// (as the API server does on read).
    pub mod_revision: Option<i64>,
    /// Protobuf message to use when the envelope names no type (e.g. a
    /// WatchEvent: `k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent`).
    pub message: Option<&'a str>,
    /// Fields not to decode at all, for callers that would drop them anyway.
    pub leave_out: LeaveOut,
}

/// Fields a caller has no use for, left out of protobuf values without being decoded. They
/// are often most of an object's bytes (`managedFields` alone is commonly half), so
/// cleaning them away after decoding would waste most of the work. JSON values leave out
/// `status`, `managedFields` and the last-applied annotation too (they are parsed, to find
/// syntax errors, but not built) and keep the rest; CBOR values are parsed whole and keep
/// everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeaveOut {
    /// The top-level `status`.
    pub status: bool,
    /// `metadata.managedFields`.
    pub managed_fields: bool,
    /// Every top-level field but `metadata` (kind and apiVersion stay): enough to decide
    /// from the metadata alone whether an object is wanted before decoding all of it.
    pub all_but_metadata: bool,
    /// The metadata the API server assigns ([`ASSIGNED_METADATA`](crate::clean::ASSIGNED_METADATA): `uid`,
    /// `creationTimestamp`, …), which [`clean`](crate::clean::clean) removes; `mod_revision`
    /// then sets no `resourceVersion` either, whatever the encoding.
    pub assigned_metadata: bool,
    /// The annotation `kubectl.kubernetes.io/last-applied-configuration`, which
    /// [`clean`](crate::clean::clean) removes: a copy of the whole manifest as `kubectl apply`
    /// last sent it, so often the largest string of an object.
    pub last_applied: bool,
}

impl LeaveOut {
    /// What [`clean`](crate::clean::clean) removes, so that it is not even decoded:
    /// `status`, the assigned metadata, `managedFields` and the last-applied annotation.
    ///
    /// One object needs its `managedFields` and last-applied annotation back: a Service with
    /// node ports, whose `managedFields` and annotation tell the ports a user asked for from
    /// those the API server assigned. Decode it again with
    /// [`LeaveOut::keeping_node_port_owners`] when
    /// [`reads_managed_fields`](crate::clean::reads_managed_fields) says so, or the cleaning
    /// takes every node port for an assigned one. Most Services have none (type
    /// `ClusterIP`), and their `managedFields` were most of the cost of decoding them.
    pub fn dropped_by_cleaning() -> LeaveOut {
        LeaveOut {
            status: true,
            managed_fields: true,
            assigned_metadata: true,
            last_applied: true,
            all_but_metadata: false,
        }
    }

    /// These, but with what tells who asked for a Service's node ports
    /// (`managedFields` and the last-applied annotation) decoded.
    pub fn keeping_node_port_owners(self) -> LeaveOut {
        LeaveOut { managed_fields: false, last_applied: false, ..self }
    }
}

/// A decoded object.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The object as the API server renders it (key order = JSON key order).
    pub object: Value,
    pub encoding: Encoding,
    /// apiVersion as stored (envelope or JSON field), `""` if none.
    pub api_version: String,
    /// kind as stored, `""` if none.
    pub kind: String,
    /// Proto message used to decode a protobuf value (`None` for JSON/CBOR or an unknown kind).
    pub message: Option<&'static str>,
    pub warnings: Vec<Warning>,
}

/// A value whose `kind`, `apiVersion` and `metadata` are decoded
/// ([`Decoder::decode_metadata`]), the rest to follow if wanted ([`Decoder::decode_rest`]).
#[derive(Debug, Clone)]
pub struct MetadataFirst<'v> {
    value: &'v [u8],
    decoded: Decoded,
    /// What the first step left out of the metadata.
    leave_out: LeaveOut,
}

impl MetadataFirst<'_> {
    /// What is decoded so far: `kind`, `apiVersion` and `metadata` (JSON and CBOR values:
    /// the whole object).
    pub fn decoded(&self) -> &Decoded {
        &self.decoded
    }

    pub fn object(&self) -> &Value {
        &self.decoded.object
    }
}

/// Decodes stored values for one Kubernetes release. Cheap to create and `Copy`:
/// the schema is shared and parsed once per process.
#[derive(Debug, Clone, Copy)]
pub struct Decoder {
    pub(crate) schema: &'static Schema,
    pub(crate) release: usize,
    version: KubeVersion,
}

/// What every protobuf-encoded stored value starts with.
pub(crate) const PROTO_PREFIX: &[u8] = b"k8s\0";

impl Decoder {
    /// A decoder applying the rules of `version` (fields and omission rules of
    /// that release; data from other releases is still decoded).
    pub fn new(version: KubeVersion) -> Self {
        let schema = Schema::get();
        Decoder { schema, release: schema.release_index(version), version }
    }

    pub fn version(&self) -> KubeVersion {
        self.version
    }

    /// The schema release label actually used (`"30"`, `"HEAD"`, …).
    pub fn release_label(&self) -> &'static str {
        self.schema.releases[self.release]
    }

    /// Decode one stored etcd value.
    pub fn decode(&self, value: &[u8], opts: &DecodeOptions<'_>) -> Result<Decoded, DecodeError> {
        self.decode_with(value, opts, None)
    }

    /// The YAML of a protobuf value cleaned with the default rules (what
    /// [`decode`](Self::decode) with [`LeaveOut::dropped_by_cleaning`], then
    /// [`clean`](crate::clean::clean) and [`to_yaml_string`](crate::yaml::to_yaml_string) give),
    /// written straight from the wire without building the value; `Err` with the reason where
    /// that path does not apply (then take those three steps).
    #[doc(hidden)]
    pub fn clean_yaml_direct(&self, value: &[u8], keep_owner_references: bool) -> Result<String, &'static str> {
        crate::render::DirectYaml::render(self.schema, self.release, value, keep_owner_references)
    }

    /// [`clean_yaml_direct`](Self::clean_yaml_direct) of the value this decoder's
    /// [`peek_for_skips`](Self::peek_for_skips) peeked at, without reading its envelope and
    /// looking up its kind again.
    #[doc(hidden)]
    pub fn clean_yaml_direct_peeked(
        &self,
        peeked: &crate::SkipsPeek<'_>,
        keep_owner_references: bool,
    ) -> Result<String, &'static str> {
        let (value, kind, message, raw) = peeked.for_direct_yaml();
        crate::render::DirectYaml::render_object(
            self.schema,
            self.release,
            value,
            kind,
            message,
            raw,
            keep_owner_references,
        )
    }

    /// Decode a value's `kind`, `apiVersion` and `metadata` only, enough to decide whether
    /// the rest is wanted; [`Decoder::decode_rest`] then decodes the rest without decoding
    /// the metadata again. Of `leave_out`, what concerns the metadata applies
    /// (`managed_fields`, `assigned_metadata`, `last_applied`). JSON and CBOR values are
    /// parsed whole (their rest costs nothing more), JSON values without what `leave_out`
    /// leaves out of them (`status` included): pass `decode_rest` the same `leave_out`.
    pub fn decode_metadata<'v>(&self, value: &'v [u8], leave_out: LeaveOut) -> Result<MetadataFirst<'v>, DecodeError> {
        // `status` as the caller asks: left out with the rest of a protobuf value anyway, and
        // what a JSON value, parsed whole here, leaves out.
        let leave_out = LeaveOut { all_but_metadata: true, ..leave_out };
        let decoded = self.decode(value, &DecodeOptions { leave_out, ..Default::default() })?;
        Ok(MetadataFirst { value, decoded, leave_out })
    }

    /// The whole object of a value whose metadata was decoded first: the same as
    /// [`Decoder::decode`]`(value, opts)`, reusing the metadata when `opts` leaves out what
    /// the first step left out (otherwise the value is decoded again in full). Warnings
    /// about the metadata come after the others.
    pub fn decode_rest(&self, first: MetadataFirst<'_>, opts: &DecodeOptions<'_>) -> Result<Decoded, DecodeError> {
        let MetadataFirst { value, mut decoded, leave_out } = first;
        let same_metadata = opts.message.is_none()
            && !opts.leave_out.all_but_metadata
            && opts.leave_out.status == leave_out.status
            && opts.leave_out.managed_fields == leave_out.managed_fields
            && opts.leave_out.last_applied == leave_out.last_applied
            && opts.leave_out.assigned_metadata == leave_out.assigned_metadata;
        if !same_metadata {
            return self.decode(value, opts);
        }
        if decoded.encoding != Encoding::Protobuf {
            if let Some(rev) = opts.mod_revision.filter(|_| !opts.leave_out.assigned_metadata) {
                set_resource_version(&mut decoded.object, rev, decoded.encoding);
            }
            return Ok(decoded);
        }
        let metadata = decoded.object.as_object_mut().and_then(|o| o.shift_remove("metadata"));
        let mut rest = self.decode_with(value, opts, Some(metadata))?;
        rest.warnings.extend(decoded.warnings.into_iter().filter(|w| w.path.starts_with("metadata")));
        Ok(rest)
    }

    fn decode_with(
        &self,
        value: &[u8],
        opts: &DecodeOptions<'_>,
        metadata: Option<Option<Value>>,
    ) -> Result<Decoded, DecodeError> {
        if value.is_empty() {
            return Err(DecodeError::Empty);
        }
        let mut d = if crate::encryption::is_encrypted(value) {
            return Err(encrypted_error(value));
        } else if value.starts_with(PROTO_PREFIX) {
            self.decode_protobuf(value, opts, metadata)?
        } else if value.starts_with(&crate::cbor::SELF_DESCRIBE) {
            let object = crate::cbor::to_json(value)
                .map_err(|e| DecodeError::Cbor { offset: e.offset, reason: e.reason.to_string() })?;
            typed_from_object(object, Encoding::Cbor)?
        } else if value.trim_ascii_start().first() == Some(&b'{') {
            let object: Value = crate::json_read::parse(value, opts.leave_out).map_err(|e| DecodeError::Json {
                line: e.line(),
                column: e.column(),
                reason: e.to_string(),
            })?;
            typed_from_object(object, Encoding::Json)?
        } else {
            return Err(DecodeError::UnrecognizedFormat { prefix: escape_prefix(value, 32) });
        };
        if let Some(rev) = opts.mod_revision.filter(|_| !opts.leave_out.assigned_metadata) {
            set_resource_version(&mut d.object, rev, d.encoding);
        }
        Ok(d)
    }

    /// Decode one stored value straight into a typed object, e.g. a `k8s-openapi` type:
    /// `decoder.decode_into::<k8s_openapi::api::apps::v1::Deployment>(value, &opts)`. Any
    /// `serde` type works, so this crate does not tie its users to one `k8s-openapi`
    /// release. Warnings are dropped; use [`Decoder::decode`] to see them.
    pub fn decode_into<T: serde::de::DeserializeOwned>(
        &self,
        value: &[u8],
        opts: &DecodeOptions<'_>,
    ) -> Result<T, DecodeError> {
        let decoded = self.decode(value, opts)?;
        serde_json::from_value(decoded.object)
            .map_err(|e| DecodeError::Typed { kind: decoded.kind, reason: e.to_string() })
    }

    /// Decode a bare protobuf message (no envelope) as the named message type
    /// (`k8s.io.api.core.v1.Pod`). No kind/apiVersion is added.
    pub fn decode_as(&self, message: &str, raw: &[u8]) -> Result<Decoded, DecodeError> {
        let id = self.schema.message_id(message).ok_or_else(|| DecodeError::UnknownMessage(message.to_string()))?;
        let mut r = Renderer::new(self.schema, self.release, raw);
        let object = r.message(id, raw, 0)?;
        Ok(Decoded {
            object,
            encoding: Encoding::Protobuf,
            api_version: String::new(),
            kind: String::new(),
            message: Some(self.schema.message_name(id)),
            warnings: r.warnings,
        })
    }

    fn decode_protobuf(
        &self,
        value: &[u8],
        opts: &DecodeOptions<'_>,
        metadata: Option<Option<Value>>,
    ) -> Result<Decoded, DecodeError> {
        let body = &value[PROTO_PREFIX.len()..];
        let env_err = |e: crate::wire::WireError, base: usize| DecodeError::Wire {
            offset: PROTO_PREFIX.len() + base + e.offset,
            path: "<envelope>".into(),
            reason: e.reason.to_string(),
        };
        let mut warnings = Vec::new();
        let mut env_warn = |detail: String| {
            warnings.push(Warning {
                path: String::new(),
                message_type: Some("k8s.io.apimachinery.pkg.runtime.Unknown".into()),
                field: None,
                kind: WarningKind::Envelope,
                detail,
            })
        };
        let (mut api_version, mut kind) = (String::new(), String::new());
        let mut raw: &[u8] = &[];
        let mut content_encoding = String::new();
        let mut content_type = String::new();
        let mut seen_raw = false;
        for f in Fields::new(body) {
            let f = match f {
                Ok(f) => f,
                // Trailing garbage after the object (e.g. a newline appended
                // by a tool that exported the value): keep what was read.
                Err(e) if seen_raw => {
                    env_warn(format!(
                        "envelope: {} at byte {}; the rest of the value is ignored",
                        e.reason,
                        PROTO_PREFIX.len() + e.offset
                    ));
                    break;
                }
                Err(e) => return Err(env_err(e, 0)),
            };
            match (f.number, f.value) {
                (1, WireValue::Bytes(tm)) => {
                    let base = tm.as_ptr() as usize - body.as_ptr() as usize;
                    for g in Fields::new(tm) {
                        let g = g.map_err(|e| env_err(e, base))?;
                        match (g.number, g.value) {
                            (1, WireValue::Bytes(b)) => api_version = String::from_utf8_lossy(b).into_owned(),
                            (2, WireValue::Bytes(b)) => kind = String::from_utf8_lossy(b).into_owned(),
                            (n, _) => env_warn(format!("unknown typeMeta field {n} ignored")),
                        }
                    }
                }
                (2, WireValue::Bytes(b)) => {
                    raw = b;
                    seen_raw = true;
                }
                (3, WireValue::Bytes(b)) => content_encoding = String::from_utf8_lossy(b).into_owned(),
                (4, WireValue::Bytes(b)) => content_type = String::from_utf8_lossy(b).into_owned(),
                (n, _) => env_warn(format!("unknown envelope field {n} ignored")),
            }
        }
        if !content_encoding.is_empty() {
            return Err(DecodeError::ContentEncoding(content_encoding));
        }
        if content_type == "application/json" {
            // runtime.Unknown may carry JSON; render it as stored.
            let mut d = typed_from_object(
                serde_json::from_slice(raw).map_err(|e| DecodeError::Json {
                    line: e.line(),
                    column: e.column(),
                    reason: e.to_string(),
                })?,
                Encoding::Json,
            )?;
            d.warnings = warnings;
            return Ok(d);
        }
        if !content_type.is_empty() && content_type != "application/vnd.kubernetes.protobuf" {
            env_warn(format!("envelope contentType {content_type:?}; decoding raw as protobuf anyway"));
        }
        let mut message = self.schema.message_for_gvk(&api_version, &kind);
        if let Some(name) = opts.message {
            if message.is_none() || (api_version.is_empty() && kind.is_empty()) {
                message =
                    Some(self.schema.message_id(name).ok_or_else(|| DecodeError::UnknownMessage(name.to_string()))?);
            }
        }
        let mut r = Renderer::new(self.schema, self.release, value);
        r.warnings = warnings;
        r.leave_out = opts.leave_out;
        r.metadata = metadata;
        let top = TopTypeMeta { api_version: &api_version, kind: &kind };
        let object = match message {
            Some(id) => {
                let mut out = Map::new();
                r.message_into(id, raw, 0, &mut out, Some(top))?;
                Value::Object(out)
            }
            None => self.unknown_kind(&mut r, raw, top)?,
        };
        Ok(Decoded {
            object,
            encoding: Encoding::Protobuf,
            message: message.map(|id| self.schema.message_name(id)),
            api_version,
            kind,
            warnings: r.warnings,
        })
    }

    /// Unknown (apiVersion, kind): field 1 as ObjectMeta, the rest as a generic wire tree.
    fn unknown_kind<'a>(
        &self,
        r: &mut Renderer<'a>,
        raw: &'a [u8],
        top: TopTypeMeta<'_>,
    ) -> Result<Value, DecodeError> {
        r.warnings.push(Warning {
            path: String::new(),
            message_type: None,
            field: None,
            kind: WarningKind::UnknownKind,
            detail: format!(
                "apiVersion {:?} kind {:?} is not in the schema; metadata decoded as ObjectMeta, other fields kept under {UNKNOWN_FIELDS_KEY}",
                top.api_version, top.kind
            ),
        });
        let mut out = Map::new();
        if !top.kind.is_empty() {
            out.insert("kind".into(), Value::String(top.kind.into()));
        }
        if !top.api_version.is_empty() {
            out.insert("apiVersion".into(), Value::String(top.api_version.into()));
        }
        let mut rest = Vec::new();
        for f in Fields::new(raw) {
            let f = f.map_err(|e| r.wire_err(raw, e))?;
            match (f.number, f.value) {
                (1, WireValue::Bytes(b)) if !out.contains_key("metadata") => {
                    if let Some(m) = r.metadata.take().flatten() {
                        out.insert("metadata".into(), m);
                        continue;
                    }
                    r.path.push(crate::render::Seg::Key("metadata"));
                    let m = r.message(self.schema.well_known.object_meta, b, 1);
                    r.path.pop();
                    out.insert("metadata".into(), m?);
                }
                _ => rest.push(f),
            }
        }
        if !rest.is_empty() {
            let tree = r.generic_fields(&rest, 1)?;
            out.insert(UNKNOWN_FIELDS_KEY.into(), tree);
        }
        Ok(Value::Object(out))
    }
}

fn typed_from_object(object: Value, encoding: Encoding) -> Result<Decoded, DecodeError> {
    let Value::Object(m) = &object else {
        return Err(DecodeError::NotAnObject);
    };
    let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    Ok(Decoded { api_version: s("apiVersion"), kind: s("kind"), object, encoding, message: None, warnings: Vec::new() })
}

/// Set `metadata.resourceVersion`, keeping ObjectMeta's key order (or, for
/// JSON/CBOR objects whose metadata keys are sorted, i.e. unstructured ones,
/// the alphabetical order).
fn set_resource_version(object: &mut Value, rev: i64, encoding: Encoding) {
    let Some(Value::Object(meta)) = object.get_mut("metadata") else {
        return;
    };
    let v = Value::String(rev.to_string());
    if let Some(slot) = meta.get_mut("resourceVersion") {
        *slot = v;
        return;
    }
    let keys: Vec<&String> = meta.keys().collect();
    let sorted = encoding != Encoding::Protobuf && keys.windows(2).all(|w| w[0] <= w[1]);
    let idx = if sorted {
        keys.iter().position(|k| k.as_str() > "resourceVersion").unwrap_or(keys.len())
    } else {
        // ObjectMeta declares name, generateName, namespace, selfLink, uid, then resourceVersion.
        const BEFORE: [&str; 5] = ["name", "generateName", "namespace", "selfLink", "uid"];
        keys.iter().rposition(|k| BEFORE.contains(&k.as_str())).map_or(0, |i| i + 1)
    };
    meta.shift_insert(idx, "resourceVersion".to_string(), v);
}

/// `k8s:enc:<provider>:<version>:<name>:…` (FORMATS.md §5.1).
fn encrypted_error(value: &[u8]) -> DecodeError {
    let EncryptedWith { provider, version, key_name } = EncryptedWith::read(value).unwrap_or_default();
    DecodeError::Encrypted { provider, version, key_name }
}

/// Printable ASCII kept, everything else as `\xNN`; at most `max` bytes, `…` if cut.
pub(crate) fn escape_prefix(b: &[u8], max: usize) -> String {
    let mut s = String::new();
    for &c in b.iter().take(max) {
        match c {
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    if b.len() > max {
        s.push('…');
    }
    s
}
