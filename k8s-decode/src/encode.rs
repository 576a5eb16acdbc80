//! The inverse of decoding: a Kubernetes object as the API server renders it
//! (a `serde_json::Value`, e.g. what [`Decoder`](crate::Decoder) returns) →
//! the exact protobuf bytes kube-apiserver writes to etcd.
//!
//! Guided by the same generated schema as the decoder (no hand-typed field
//! tables). The wire rules are gogo-protobuf's generated `Marshal` (FORMATS.md
//! §6.1): fields in ascending number order; non-pointer scalars and strings
//! always written, even when zero; pointers only when non-nil (non-null in
//! JSON); non-pointer structs always written (possibly as a 0-length
//! message); repeated scalars unpacked; maps as `{key = 1, value = 2}` entries
//! sorted by key; `int32` negatives as 10-byte sign-extended varints.
//!
//! Pointer-ness comes from the schema's `zero` column: a field whose Go zero
//! value renders as `null` is a pointer, slice or map (nil-able), anything
//! else is a value that gogo always writes.
//!
//! The custom-JSON types of `special.rs` are encoded by the inverse rules in
//! `special` (this module's submodule).
//!
//! `metadata.resourceVersion` and `selfLink`: the API server clears both
//! before storing (FORMATS.md §4.5) but the encoder keeps whatever the object
//! holds, because upstream's storage fixtures contain them; strip them first
//! if you want what a live API server would store.

mod special;
mod timefmt;

use serde_json::{Map, Value};

use crate::decode::PROTO_PREFIX;
use crate::schema::{Elem, Field, MsgView, Omit, Schema, Shape, Zero};
use crate::special::Special;
use crate::version::KubeVersion;

/// Maximum message nesting depth, as for decoding (hostile input must not
/// overflow the stack).
pub const MAX_ENCODE_DEPTH: u32 = crate::render::MAX_DEPTH;

/// An object could not be encoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EncodeError {
    /// The object is not a JSON object (or a nested message value is not one).
    #[error("expected a JSON object at {path:?}")]
    NotAnObject { path: String },
    /// The object's apiVersion/kind is not in the schema.
    #[error("apiVersion {api_version:?} kind {kind:?} is not in the schema")]
    UnknownKind { api_version: String, kind: String },
    /// `encode_as` was given a message name the schema does not know.
    #[error("unknown protobuf message {0:?}")]
    UnknownMessage(String),
    /// A JSON key the message (in this release, or any release) does not have;
    /// encoding it would silently lose data.
    #[error("field {key:?} at {path:?} is not part of {message}")]
    UnknownField { path: String, key: String, message: String },
    /// A value of the wrong JSON type or out of range for its field.
    #[error("invalid value at {path:?}: expected {expected}, got {got}")]
    InvalidValue { path: String, expected: &'static str, got: String },
    /// Nesting deeper than [`MAX_ENCODE_DEPTH`] message levels.
    #[error("nesting deeper than {limit} levels at {path:?}")]
    TooDeep { limit: u32, path: String },
}

/// Encodes objects for one Kubernetes release (its field set and rules).
/// Cheap to create and `Copy`: the schema is shared.
#[derive(Debug, Clone, Copy)]
pub struct Encoder {
    schema: &'static Schema,
    release: usize,
}

impl Encoder {
    /// An encoder applying the field set of `version`.
    pub fn new(version: KubeVersion) -> Self {
        let schema = Schema::get();
        Encoder { schema, release: schema.release_index(version) }
    }

    /// The full stored value: `k8s\0` + runtime.Unknown whose typeMeta is the
    /// object's `apiVersion`/`kind`, `raw` the object message, and
    /// `contentEncoding`/`contentType` empty but present (`1a 00 22 00`), as
    /// the API server writes them. The object's `resourceVersion`/`selfLink`
    /// are kept (see the module documentation).
    pub fn encode(&self, object: &Value) -> Result<Vec<u8>, EncodeError> {
        self.encode_with(object, None)
    }

    /// Like [`encode`](Self::encode), with an explicit message type for
    /// objects whose JSON names no kind (a WatchEvent's envelope has empty
    /// apiVersion and kind, which are written as such).
    pub fn encode_with(&self, object: &Value, message: Option<&str>) -> Result<Vec<u8>, EncodeError> {
        let Value::Object(map) = object else {
            return Err(EncodeError::NotAnObject { path: String::new() });
        };
        let s = |k: &str| map.get(k).and_then(Value::as_str).unwrap_or_default();
        let (api_version, kind) = (s("apiVersion"), s("kind"));
        let id = match message {
            Some(name) => self.message_id(name)?,
            None => self.schema.message_for_gvk(api_version, kind).ok_or_else(|| EncodeError::UnknownKind {
                api_version: api_version.to_string(),
                kind: kind.to_string(),
            })?,
        };
        let mut st = State { enc: self, path: Vec::new() };
        let mut raw = Vec::new();
        // The top-level TypeMeta (kind/apiVersion) is not part of the object
        // message: it lives in the envelope.
        st.fields_into(id, map, 0, &mut raw, true)?;

        let mut type_meta = Vec::new();
        put_bytes(&mut type_meta, 1, api_version.as_bytes());
        put_bytes(&mut type_meta, 2, kind.as_bytes());
        let mut out = Vec::with_capacity(raw.len() + type_meta.len() + 16);
        out.extend_from_slice(PROTO_PREFIX);
        // runtime.Unknown.NestedMarshalTo: typeMeta, raw, contentEncoding,
        // contentType, all always written.
        put_bytes(&mut out, 1, &type_meta);
        put_bytes(&mut out, 2, &raw);
        put_bytes(&mut out, 3, b"");
        put_bytes(&mut out, 4, b"");
        Ok(out)
    }

    /// A bare message of the named proto type (`k8s.io.api.core.v1.Pod`); a
    /// `kind`/`apiVersion` in the object is ignored (TypeMeta has no field
    /// number).
    pub fn encode_as(&self, message: &str, object: &Value) -> Result<Vec<u8>, EncodeError> {
        let id = self.message_id(message)?;
        let mut st = State { enc: self, path: Vec::new() };
        st.message(id, Some(object), 0)
    }

    fn message_id(&self, name: &str) -> Result<u32, EncodeError> {
        self.schema.message_id(name).ok_or_else(|| EncodeError::UnknownMessage(name.to_string()))
    }

    fn view(&self, msg: u32) -> &'static MsgView {
        &self.schema.views(self.release)[msg as usize]
    }
}

/// One encoding run: the encoder plus the JSON path for error messages.
struct State<'e> {
    enc: &'e Encoder,
    path: Vec<Seg>,
}

enum Seg {
    Key(String),
    Index(usize),
}

impl State<'_> {
    fn path_string(&self) -> String {
        crate::render::json_path(self.path.iter().map(|seg| match seg {
            Seg::Key(k) => crate::render::Seg::Key(k),
            Seg::Index(i) => crate::render::Seg::Index(*i),
        }))
    }

    fn invalid(&self, expected: &'static str, got: &Value) -> EncodeError {
        let mut g = got.to_string();
        if g.len() > 80 {
            let cut = g.char_indices().nth(80).map_or(g.len(), |c| c.0);
            g.truncate(cut);
            g.push('…');
        }
        EncodeError::InvalidValue { path: self.path_string(), expected, got: g }
    }

    fn check_depth(&self, depth: u32) -> Result<(), EncodeError> {
        if depth > MAX_ENCODE_DEPTH {
            return Err(EncodeError::TooDeep { limit: MAX_ENCODE_DEPTH, path: self.path_string() });
        }
        Ok(())
    }

    /// Encode one message value (`None` = the Go zero value of the struct).
    fn message(&mut self, msg: u32, v: Option<&Value>, depth: u32) -> Result<Vec<u8>, EncodeError> {
        self.check_depth(depth)?;
        let schema = self.enc.schema;
        let sp = schema.messages[msg as usize].special;
        if sp != Special::None {
            return self.special(sp, v, depth);
        }
        let empty = Map::new();
        let map = match v {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(m)) => m,
            Some(other) => return Err(self.invalid("a JSON object", other)),
        };
        let mut out = Vec::new();
        self.fields_into(msg, map, depth, &mut out, false)?;
        Ok(out)
    }

    /// Write the fields of `msg`, taken from `map`, in field-number order,
    /// and check that every key of `map` belongs to the message.
    fn fields_into(
        &mut self,
        msg: u32,
        map: &Map<String, Value>,
        depth: u32,
        out: &mut Vec<u8>,
        top: bool,
    ) -> Result<(), EncodeError> {
        let mut used = Vec::new();
        self.write_fields(msg, map, depth, out, &mut used)?;
        for k in map.keys() {
            if used.contains(&k.as_str()) {
                continue;
            }
            // The top-level kind/apiVersion belong to the envelope; nested
            // TypeMeta keys are consumed by the inline TypeMeta row.
            if top && (k == "kind" || k == "apiVersion") {
                continue;
            }
            return Err(EncodeError::UnknownField {
                path: self.path_string(),
                key: k.clone(),
                message: self.enc.schema.message_name(msg).to_string(),
            });
        }
        Ok(())
    }

    /// The fields of `msg` (and, for inline rows, of the embedded messages,
    /// whose keys are flattened into the same JSON object).
    fn write_fields(
        &mut self,
        msg: u32,
        map: &Map<String, Value>,
        depth: u32,
        out: &mut Vec<u8>,
        used: &mut Vec<&'static str>,
    ) -> Result<(), EncodeError> {
        self.check_depth(depth)?;
        let schema = self.enc.schema;
        let view = self.enc.view(msg);
        let bit = 1u64 << self.enc.release;
        // The view holds the release's rows plus, for numbers the release
        // lacks, the nearest release's row (the decoder renders those only
        // when present on the wire, so they are written only when present).
        let mut rows: Vec<&'static Field> = view.order.iter().map(|&i| &schema.fields[i as usize]).collect();
        rows.sort_by_key(|f| f.num);
        for f in rows {
            let valid = f.mask & bit != 0;
            if f.num == 0 {
                // No protobuf field (TypeMeta, `protobuf:"-"`): only its JSON
                // keys are accounted for.
                if f.inline {
                    if let Elem::Message(t) = f.elem {
                        for g in schema.fields_of(t) {
                            used.push(g.json);
                        }
                    }
                } else {
                    used.push(f.json);
                }
                continue;
            }
            if f.inline {
                let Elem::Message(t) = f.elem else { continue };
                // Embedded struct: a nested message on the wire, its fields
                // flattened into this JSON object. Always written (value).
                let mut sub = Vec::new();
                self.write_fields(t, map, depth + 1, &mut sub, used)?;
                if valid || !sub.is_empty() {
                    put_bytes(out, f.num, &sub);
                }
                continue;
            }
            used.push(f.json);
            if f.omit == Omit::Skip {
                // `json:"-"`: never in JSON, so always nil when decoded.
                continue;
            }
            let v = map.get(f.json);
            if !valid && v.is_none_or(Value::is_null) {
                continue;
            }
            self.path.push(Seg::Key(f.json.to_string()));
            let r = self.field(f, v, depth, out);
            self.path.pop();
            r?;
        }
        Ok(())
    }

    /// One (non-inline) field from its JSON value (`None` = key absent).
    fn field(&mut self, f: &Field, v: Option<&Value>, depth: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match f.shape {
            Shape::Map => {
                let m = match v {
                    None | Some(Value::Null) => return Ok(()),
                    Some(Value::Object(m)) => m,
                    Some(other) => return Err(self.invalid("a JSON object (map)", other)),
                };
                // gogo sorts map keys (sort.Strings: bytewise).
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                for k in keys {
                    self.path.push(Seg::Key(k.clone()));
                    let r = self.map_entry(f, k, &m[k.as_str()], depth);
                    self.path.pop();
                    put_bytes(out, f.num, &r?);
                }
            }
            Shape::Repeated => {
                let items = match v {
                    None | Some(Value::Null) => return Ok(()),
                    Some(Value::Array(a)) => a,
                    Some(other) => return Err(self.invalid("a JSON array", other)),
                };
                for (i, item) in items.iter().enumerate() {
                    self.path.push(Seg::Index(i));
                    let r = self.elem(f.elem, f.num, item, depth, out);
                    self.path.pop();
                    r?;
                }
            }
            Shape::Single => {
                // Nil-able (pointer, []byte): written only when non-null.
                // Values: always written, the Go zero value when absent.
                let nilable = f.zero == Zero::Null;
                match v {
                    None | Some(Value::Null) if nilable => {}
                    None | Some(Value::Null) => self.zero_value(f, depth, out)?,
                    Some(v) => self.elem(f.elem, f.num, v, depth, out)?,
                }
            }
        }
        Ok(())
    }

    /// A value field that is absent (omitted because zero) or `null` (a zero
    /// struct such as Time): the Go zero value, which gogo writes.
    fn zero_value(&mut self, f: &Field, depth: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match f.elem {
            Elem::String | Elem::Bytes => put_bytes(out, f.num, b""),
            Elem::Int32 | Elem::Int64 | Elem::Bool => put_varint_field(out, f.num, 0),
            Elem::Double => {
                put_tag(out, f.num, 1);
                out.extend_from_slice(&0f64.to_le_bytes());
            }
            Elem::Message(t) => {
                let b = self.message(t, None, depth + 1)?;
                put_bytes(out, f.num, &b);
            }
        }
        Ok(())
    }

    fn map_entry(&mut self, f: &Field, key: &str, v: &Value, depth: u32) -> Result<Vec<u8>, EncodeError> {
        let mut e = Vec::new();
        put_bytes(&mut e, 1, key.as_bytes());
        match (f.elem, v) {
            // gogo writes no value field for a nil []byte; JSON null is the
            // only way to say nil (`""` decodes to a non-nil empty slice).
            (Elem::Bytes, Value::Null) => {}
            (Elem::Message(t), Value::Null) => {
                let b = self.message(t, None, depth + 1)?;
                put_bytes(&mut e, 2, &b);
            }
            _ => self.elem(f.elem, 2, v, depth, &mut e)?,
        }
        Ok(e)
    }

    /// One element value as field `num`.
    fn elem(&mut self, elem: Elem, num: u32, v: &Value, depth: u32, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match elem {
            Elem::String => match v {
                Value::String(s) => put_bytes(out, num, s.as_bytes()),
                _ => return Err(self.invalid("a string", v)),
            },
            Elem::Bytes => match v {
                Value::String(s) => match base64_decode(s) {
                    Some(b) => put_bytes(out, num, &b),
                    None => return Err(self.invalid("standard base64", v)),
                },
                _ => return Err(self.invalid("a base64 string", v)),
            },
            Elem::Int32 => {
                let n = v.as_i64().filter(|n| i32::try_from(*n).is_ok());
                let Some(n) = n else { return Err(self.invalid("an int32", v)) };
                // Sign-extended: negatives take 10 bytes, as gogo writes them.
                put_varint_field(out, num, n as u64);
            }
            Elem::Int64 => {
                let Some(n) = v.as_i64() else { return Err(self.invalid("an int64", v)) };
                put_varint_field(out, num, n as u64);
            }
            Elem::Bool => {
                let Some(b) = v.as_bool() else { return Err(self.invalid("a boolean", v)) };
                put_varint_field(out, num, u64::from(b));
            }
            Elem::Double => {
                let Some(x) = v.as_f64() else { return Err(self.invalid("a number", v)) };
                put_tag(out, num, 1);
                out.extend_from_slice(&x.to_le_bytes());
            }
            Elem::Message(t) => {
                let b = self.message(t, Some(v), depth + 1)?;
                put_bytes(out, num, &b);
            }
        }
        Ok(())
    }
}

// ---- wire writing ----------------------------------------------------------

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_tag(out: &mut Vec<u8>, num: u32, wire: u8) {
    put_varint(out, (u64::from(num) << 3) | u64::from(wire));
}

pub(crate) fn put_varint_field(out: &mut Vec<u8>, num: u32, v: u64) {
    put_tag(out, num, 0);
    put_varint(out, v);
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, num: u32, b: &[u8]) {
    put_tag(out, num, 2);
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Standard base64 with padding (Go's `encoding/json` for `[]byte`). Go's
/// decoder also accepts unpadded input and ignores `\r`/`\n`; so do we.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let clean: Vec<u8> = s.bytes().filter(|&c| c != b'\r' && c != b'\n').collect();
    let body = clean.strip_suffix(b"==").or_else(|| clean.strip_suffix(b"=")).unwrap_or(&clean);
    if body.len() % 4 == 1 || (body.len() != clean.len() && !clean.len().is_multiple_of(4)) {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 2);
    for chunk in body.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let e = crate::base64::encode(s.as_bytes());
            assert_eq!(base64_decode(&e).as_deref(), Some(s.as_bytes()), "{e}");
        }
        assert_eq!(base64_decode("//4="), Some(vec![0xff, 0xfe]));
        assert_eq!(base64_decode("a"), None);
        assert_eq!(base64_decode("a*=="), None);
    }

    #[test]
    fn varints() {
        let mut b = Vec::new();
        put_varint(&mut b, -1i64 as u64);
        assert_eq!(b.len(), 10);
        b.clear();
        put_varint(&mut b, 300);
        assert_eq!(b, [0xac, 0x02]);
    }
}
