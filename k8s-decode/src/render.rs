//! Schema-guided protobuf → JSON rendering, straight from the wire bytes.
//!
//! The output is a `serde_json::Value` (with `preserve_order`, so key order is
//! exactly Go's declaration order). Go's byte-level string escaping (`<`, `>`,
//! `&`, U+2028, U+2029 as `\u003c` …) is a serialisation detail and is not
//! represented in the value: a byte-identical writer must apply it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::clean::{ASSIGNED_METADATA, LAST_APPLIED};
use crate::decode::LeaveOut;
use crate::error::{DecodeError, Warning, WarningKind};
use crate::schema::{Elem, Field, MsgView, Omit, Schema, Shape, Zero};
use crate::special::Special;
use crate::wire::{Fields, WireError, WireField, WireType, WireValue};

/// Key under which fields unknown to the schema are kept, as a generic wire tree.
pub const UNKNOWN_FIELDS_KEY: &str = "etcdsnap.io/unknownFields";

/// Maximum message nesting depth (hostile input must not overflow the stack).
pub const MAX_DEPTH: u32 = 100;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg<'a> {
    Key(&'a str),
    Index(usize),
    MapKey(&'a [u8]),
}

/// A JSON path as errors and warnings show it, for decoding and encoding alike:
/// `spec.containers[0].env`, map keys quoted (`data["a.b"]`).
pub(crate) fn json_path<'s>(segs: impl IntoIterator<Item = Seg<'s>>) -> String {
    let mut s = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
            Seg::MapKey(k) => s.push_str(&format!("[{:?}]", String::from_utf8_lossy(k))),
        }
    }
    s
}

/// Room made at the start of every decode, so that the path and the field stack do not
/// grow from nothing each time (six reallocations a decode, 1% of `extract`'s instructions):
/// deeper paths and larger stacks still grow.
const PATH_CAPACITY: usize = 16;
const SCRATCH_CAPACITY: usize = 128;

/// Room for the absent fields a message still shows, beyond the fields present.
const ABSENT_SHOWN_SLACK: usize = 2;

/// How many distinct positions a sorted run of scanned fields has (a repeated field is one).
fn count_positions<T>(sorted: &[(usize, T)]) -> usize {
    sorted.iter().enumerate().filter(|(i, (pos, _))| *i == 0 || sorted[i - 1].0 != *pos).count()
}

/// A protobuf string as Go's JSON encoder writes it (invalid UTF-8 becomes U+FFFD). Valid
/// UTF-8 (nearly always) takes the fast validation path without copying twice.
pub(crate) fn utf8_lossy(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// A map's entries as Go's JSON encoder writes them: sorted by key, and of a key given more
/// than once the last (Go's decoding assigns each entry in turn). Go's own marshalling
/// writes maps sorted, so the entries nearly always come sorted and distinct.
fn sorted_map(mut entries: Vec<(String, Value)>) -> Vec<(String, Value)> {
    if entries.windows(2).all(|w| w[0].0 < w[1].0) {
        return entries;
    }
    // Stable: entries with equal keys stay in wire order, the last one last.
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut distinct: Vec<(String, Value)> = Vec::with_capacity(entries.len());
    for entry in entries {
        match distinct.last_mut() {
            Some(last) if last.0 == entry.0 => *last = entry,
            _ => distinct.push(entry),
        }
    }
    distinct
}

mod direct;
pub(crate) use direct::DirectYaml;

pub(crate) struct Renderer<'a> {
    pub schema: &'static Schema,
    views: &'static [MsgView],
    release_bit: u64,
    /// Start of the buffer all offsets are reported against.
    root: &'a [u8],
    pub path: Vec<Seg<'a>>,
    pub warnings: Vec<Warning>,
    /// Field occurrences of the messages being rendered, used as a stack:
    /// each nested message works above its parent's region and truncates
    /// back, so no per-message allocation is needed.
    scratch: Vec<(usize, WireField<'a>)>,
    /// Fields not rendered (see [`LeaveOut`]).
    pub leave_out: LeaveOut,
    /// The object's metadata, decoded before (see [`crate::MetadataFirst`]): rendered in
    /// place of the top-level `metadata` field (`Some(None)`: it had none).
    pub metadata: Option<Option<Value>>,
}

/// kind/apiVersion from the envelope, rendered where the top-level message
/// declares its (numberless, inline) TypeMeta.
#[derive(Clone, Copy)]
pub(crate) struct TopTypeMeta<'s> {
    pub api_version: &'s str,
    pub kind: &'s str,
}

impl<'a> Renderer<'a> {
    pub fn new(schema: &'static Schema, release: usize, root: &'a [u8]) -> Self {
        Renderer {
            schema,
            views: schema.views(release),
            release_bit: 1u64 << release,
            root,
            path: Vec::with_capacity(PATH_CAPACITY),
            warnings: Vec::new(),
            scratch: Vec::with_capacity(SCRATCH_CAPACITY),
            leave_out: LeaveOut::default(),
            metadata: None,
        }
    }

    pub fn path_string(&self) -> String {
        json_path(self.path.iter().copied())
    }

    fn offset_of(&self, part: &[u8]) -> usize {
        (part.as_ptr() as usize).wrapping_sub(self.root.as_ptr() as usize)
    }

    pub fn wire_err(&self, buf: &[u8], e: WireError) -> DecodeError {
        DecodeError::Wire {
            offset: self.offset_of(buf) + e.offset,
            path: self.path_string(),
            reason: e.reason.to_string(),
        }
    }

    pub fn warn(&mut self, msg: Option<u32>, field: Option<u32>, kind: WarningKind, detail: String) {
        self.warnings.push(Warning {
            path: self.path_string(),
            message_type: msg.map(|m| self.schema.message_name(m).to_string()),
            field,
            kind,
            detail,
        });
    }

    pub fn check_depth(&self, depth: u32) -> Result<(), DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep { limit: MAX_DEPTH, path: self.path_string() });
        }
        Ok(())
    }

    /// Render one message value (special types included).
    pub fn message(&mut self, msg: u32, buf: &'a [u8], depth: u32) -> Result<Value, DecodeError> {
        self.check_depth(depth)?;
        let special = self.schema.messages[msg as usize].special;
        if special != Special::None {
            return self.special(msg, special, buf, depth);
        }
        let (base, unknown) = self.scan_fields(msg, buf)?;
        // Sized for the fields present and a few absent ones still shown (`null`, `{}`):
        // sizing for every field of the schema (a PodSpec has over forty) allocated and
        // cleared tables several times too large for most messages.
        let present = count_positions(&self.scratch[base..]);
        let mut out = Map::with_capacity(present + ABSENT_SHOWN_SLACK);
        self.render_scanned(msg, base, unknown, depth, &mut out, None)?;
        Ok(Value::Object(out))
    }

    /// Render the fields of a message into `out` (used directly for inline
    /// embedding). `top` supplies kind/apiVersion for the top-level object.
    pub fn message_into(
        &mut self,
        msg: u32,
        buf: &'a [u8],
        depth: u32,
        out: &mut Map<String, Value>,
        top: Option<TopTypeMeta<'_>>,
    ) -> Result<(), DecodeError> {
        self.check_depth(depth)?;
        let (base, unknown) = self.scan_fields(msg, buf)?;
        self.render_scanned(msg, base, unknown, depth, out, top)
    }

    /// Read the fields of a message onto `self.scratch` (from the returned base on, sorted by
    /// their place in JSON key order); fields the schema does not know, or with the wrong
    /// wire type, come back apart.
    #[inline]
    fn scan_fields(&mut self, msg: u32, buf: &'a [u8]) -> Result<(usize, Vec<WireField<'a>>), DecodeError> {
        let schema = self.schema;
        let view = &self.views[msg as usize];
        let base = self.scratch.len();
        let mut unknown: Vec<WireField<'a>> = Vec::new();
        for f in Fields::new(buf) {
            let f = match f {
                Ok(f) => f,
                Err(e) => {
                    self.scratch.truncate(base);
                    return Err(self.wire_err(buf, e));
                }
            };
            match view.position(f.number) {
                Some(pos) => {
                    let field = &schema.fields[view.order[pos] as usize];
                    if wire_ok(field, f.value.wire_type()) {
                        self.scratch.push((pos, f));
                    } else {
                        self.warn(
                            Some(msg),
                            Some(f.number),
                            WarningKind::WireTypeMismatch,
                            format!(
                                "field {:?} has wire type {}, expected another; kept under {UNKNOWN_FIELDS_KEY}",
                                field.json,
                                f.value.wire_type().name()
                            ),
                        );
                        unknown.push(f);
                    }
                }
                None => {
                    self.warn(
                        Some(msg),
                        Some(f.number),
                        WarningKind::UnknownField,
                        format!(
                            "unknown field number {} ({}) kept under {UNKNOWN_FIELDS_KEY}",
                            f.number,
                            f.value.wire_type().name()
                        ),
                    );
                    unknown.push(f)
                }
            }
        }
        self.scratch[base..].sort_by_key(|e| e.0);
        Ok((base, unknown))
    }

    /// Render the fields [`scan_fields`](Self::scan_fields) read into `out`, and take them
    /// off the scratch stack.
    fn render_scanned(
        &mut self,
        msg: u32,
        base: usize,
        unknown: Vec<WireField<'a>>,
        depth: u32,
        out: &mut Map<String, Value>,
        top: Option<TopTypeMeta<'_>>,
    ) -> Result<(), DecodeError> {
        let view = &self.views[msg as usize];
        let end = self.scratch.len();
        let r = self.render_fields(msg, view, base, end, depth, out, top);
        self.scratch.truncate(base);
        r?;
        if !unknown.is_empty() {
            let tree = self.generic_fields(&unknown, depth + 1)?;
            out.insert(UNKNOWN_FIELDS_KEY.to_string(), tree);
        }
        Ok(())
    }

    /// Write the fields of one message in JSON key order; its field
    /// occurrences are `self.scratch[base..end]`, sorted by position.
    #[allow(clippy::too_many_arguments)]
    fn render_fields(
        &mut self,
        msg: u32,
        view: &MsgView,
        base: usize,
        end: usize,
        depth: u32,
        out: &mut Map<String, Value>,
        top: Option<TopTypeMeta<'_>>,
    ) -> Result<(), DecodeError> {
        let schema = self.schema;
        let mut k = base;
        for (pos, &fi) in view.order.iter().enumerate() {
            let start = k;
            while k < end && self.scratch[k].0 == pos {
                k += 1;
            }
            if start == k && view.quiet_when_absent[pos] {
                continue;
            }
            let field = &schema.fields[fi as usize];
            if let (Some(t), 0, true) = (top, field.num, field.inline) {
                if field.elem == Elem::Message(schema.well_known.type_meta) {
                    if !t.kind.is_empty() {
                        out.insert("kind".into(), Value::String(t.kind.into()));
                    }
                    if !t.api_version.is_empty() {
                        out.insert("apiVersion".into(), Value::String(t.api_version.into()));
                    }
                    continue;
                }
            }
            if self.path.is_empty() && field.json == "metadata" {
                if let Some(metadata) = self.metadata.take() {
                    if let Some(m) = metadata {
                        out.insert("metadata".into(), m);
                    }
                    continue;
                }
            }
            if self.left_out(field.json) {
                continue;
            }
            if start == k {
                if field.mask & self.release_bit != 0 {
                    self.absent(field, depth, out)?;
                }
            } else {
                self.path.push(Seg::Key(field.json));
                let r = self.present(msg, field, start..k, depth, out);
                self.path.pop();
                r?;
            }
        }
        Ok(())
    }

    /// Whether the field about to be rendered under the current path is one the caller
    /// asked to leave out. Only the first two levels can match, so deeper fields pay a
    /// length check.
    fn left_out(&self, json: &str) -> bool {
        match self.path.as_slice() {
            [] => self.leave_out.status && json == "status" || self.leave_out.all_but_metadata && json != "metadata",
            [Seg::Key("metadata")] => {
                self.leave_out.managed_fields && json == "managedFields"
                    || self.leave_out.assigned_metadata && ASSIGNED_METADATA.contains(&json)
            }
            _ => false,
        }
    }

    /// The key of the entry to leave out of the map field about to be rendered under the
    /// current path, if any: the last-applied annotation of the object's own metadata.
    fn left_out_entry(&self) -> Option<&'static [u8]> {
        let annotations = matches!(self.path.as_slice(), [Seg::Key("metadata"), Seg::Key("annotations")]);
        (self.leave_out.last_applied && annotations).then_some(LAST_APPLIED.as_bytes())
    }

    /// A field absent on the wire, valid in the chosen release. The omission rules that
    /// render nothing here are those `MsgView::quiet_when_absent` passes over: the two
    /// change together.
    fn absent(&mut self, field: &Field, depth: u32, out: &mut Map<String, Value>) -> Result<(), DecodeError> {
        match field.omit {
            Omit::Never => {
                let v = match field.zero {
                    Zero::Null => Value::Null,
                    Zero::EmptyString => Value::String(String::new()),
                    Zero::Number => Value::from(0),
                    Zero::False => Value::Bool(false),
                    Zero::Struct => match field.elem {
                        Elem::Message(t) => {
                            self.path.push(Seg::Key(field.json));
                            let r = self.message(t, &[], depth + 1);
                            self.path.pop();
                            r?
                        }
                        _ => Value::Null,
                    },
                };
                out.insert(field.json.to_string(), v);
            }
            Omit::Inline => {
                if let Elem::Message(t) = field.elem {
                    self.message_into(t, &[], depth + 1, out, None)?;
                }
            }
            Omit::Nil | Omit::Empty | Omit::Zero | Omit::IsZero | Omit::Skip => {}
        }
        Ok(())
    }

    fn present(
        &mut self,
        msg: u32,
        field: &Field,
        vals: std::ops::Range<usize>,
        depth: u32,
        out: &mut Map<String, Value>,
    ) -> Result<(), DecodeError> {
        let last = self.scratch[vals.end - 1].1;
        match field.omit {
            Omit::Skip => {
                self.warn(
                    Some(msg),
                    Some(field.num),
                    WarningKind::InvalidValue,
                    "field that encoding/json never writes is present on the wire; not shown".into(),
                );
                return Ok(());
            }
            Omit::Inline => {
                if let (Elem::Message(t), WireValue::Bytes(b)) = (field.elem, last.value) {
                    self.message_into(t, b, depth + 1, out, None)?;
                }
                return Ok(());
            }
            _ => {}
        }
        let value = match field.shape {
            Shape::Map => {
                let left_out = self.left_out_entry();
                let mut entries: Vec<(String, Value)> = Vec::with_capacity(vals.len());
                for i in vals {
                    let WireValue::Bytes(entry) = self.scratch[i].1.value else { continue };
                    entries.extend(self.map_entry(field, entry, depth, left_out)?);
                }
                if entries.is_empty() && field.omit == Omit::Empty {
                    return Ok(());
                }
                Value::Object(sorted_map(entries).into_iter().collect())
            }
            Shape::Repeated => {
                let mut arr = Vec::with_capacity(vals.len());
                for i in vals {
                    let f = self.scratch[i].1;
                    match (field.elem, f.value) {
                        (Elem::Int32 | Elem::Int64 | Elem::Bool | Elem::Double, WireValue::Bytes(b)) => {
                            self.packed(field.elem, b, &mut arr)?
                        }
                        _ => {
                            self.path.push(Seg::Index(arr.len()));
                            let r = self.elem(field.elem, f.value, depth);
                            self.path.pop();
                            arr.push(r?);
                        }
                    }
                }
                if arr.is_empty() && field.omit == Omit::Empty {
                    return Ok(());
                }
                Value::Array(arr)
            }
            Shape::Single => {
                let v = self.elem(field.elem, last.value, depth)?;
                let omit = match field.omit {
                    Omit::Zero => is_zero_scalar(&v),
                    Omit::Empty => matches!(last.value, WireValue::Bytes(b) if b.is_empty()),
                    Omit::IsZero => v.is_null(),
                    _ => false,
                };
                if omit {
                    return Ok(());
                }
                v
            }
        };
        out.insert(field.json.to_string(), value);
        Ok(())
    }

    /// One entry of a map field; `None` if its key is `left_out`, whose value is then not read.
    fn map_entry(
        &mut self,
        field: &Field,
        entry: &'a [u8],
        depth: u32,
        left_out: Option<&[u8]>,
    ) -> Result<Option<(String, Value)>, DecodeError> {
        let mut key: &[u8] = &[];
        let mut val: Option<WireValue<'a>> = None;
        for f in Fields::new(entry) {
            let f = f.map_err(|e| self.wire_err(entry, e))?;
            match (f.number, f.value) {
                (1, WireValue::Bytes(b)) => key = b,
                (2, v) if elem_wire_ok(field.elem, v.wire_type()) => val = Some(v),
                // Not what any protobuf library writes: said, and read as absent (the key
                // empty, the value its element's zero), never rendered as null.
                (1 | 2, v) => self.warn(
                    None,
                    None,
                    WarningKind::WireTypeMismatch,
                    format!(
                        "map {:?}: entry field {} has wire type {}, expected another; read as absent",
                        field.json,
                        f.number,
                        v.wire_type().name()
                    ),
                ),
                _ => {}
            }
        }
        if left_out == Some(key) {
            return Ok(None);
        }
        let k = utf8_lossy(key);
        self.path.push(Seg::MapKey(key));
        let v = match val {
            Some(v) => self.elem(field.elem, v, depth),
            // Entry without a value: Go decodes the zero value of the element
            // (`map<string,bytes>` → empty slice → `""`).
            None => match field.elem {
                Elem::String | Elem::Bytes => Ok(Value::String(String::new())),
                Elem::Int32 | Elem::Int64 | Elem::Double => Ok(Value::from(0)),
                Elem::Bool => Ok(Value::Bool(false)),
                Elem::Message(t) => self.message(t, &[], depth + 1),
            },
        };
        self.path.pop();
        Ok(Some((k, v?)))
    }

    fn packed(&mut self, elem: Elem, b: &'a [u8], arr: &mut Vec<Value>) -> Result<(), DecodeError> {
        let mut pos = 0;
        while pos < b.len() {
            let v = match elem {
                Elem::Double => {
                    let Some(chunk) = b.get(pos..pos + 8) else {
                        return Err(self.wire_err(b, WireError { offset: pos, reason: "truncated packed double" }));
                    };
                    pos += 8;
                    self.double(u64::from_le_bytes(chunk.try_into().expect("8 bytes")))
                }
                _ => {
                    let v = crate::wire::read_varint(b, &mut pos).map_err(|e| self.wire_err(b, e))?;
                    varint_value(elem, v)
                }
            };
            arr.push(v);
        }
        Ok(())
    }

    /// Render one element value.
    pub fn elem(&mut self, elem: Elem, v: WireValue<'a>, depth: u32) -> Result<Value, DecodeError> {
        Ok(match (elem, v) {
            (Elem::String, WireValue::Bytes(b)) => Value::String(utf8_lossy(b)),
            (Elem::Bytes, WireValue::Bytes(b)) => Value::String(crate::base64::encode(b)),
            (Elem::Message(t), WireValue::Bytes(b)) => self.message(t, b, depth + 1)?,
            (Elem::Double, WireValue::Fixed64(x)) => self.double(x),
            (Elem::Int32 | Elem::Int64 | Elem::Bool, WireValue::Varint(x)) => varint_value(elem, x),
            // wire_ok() filters everything else out before we get here.
            _ => Value::Null,
        })
    }

    fn double(&mut self, bits: u64) -> Value {
        let f = f64::from_bits(bits);
        match float_value(f) {
            Some(v) => v,
            None => {
                self.warn(None, None, WarningKind::InvalidValue, format!("non-finite float {f}"));
                Value::Null
            }
        }
    }

    /// Generic wire tree for fields the schema does not describe.
    pub fn generic_fields(&mut self, fields: &[WireField<'a>], depth: u32) -> Result<Value, DecodeError> {
        self.check_depth(depth)?;
        let mut m: BTreeMap<u32, Vec<Value>> = BTreeMap::new();
        for f in fields {
            let v = self.generic_value(f.value, depth)?;
            m.entry(f.number).or_default().push(v);
        }
        Ok(Value::Object(
            m.into_iter()
                .map(|(n, mut vs)| {
                    let v = if vs.len() == 1 { vs.pop().expect("one") } else { Value::Array(vs) };
                    (n.to_string(), v)
                })
                .collect(),
        ))
    }

    /// Generic rendering of one wire value: varint/fixed → number; bytes →
    /// nested field tree if they parse as a message and are not plain text,
    /// else a string if UTF-8, else `{"base64": "…"}`.
    pub fn generic_value(&mut self, v: WireValue<'a>, depth: u32) -> Result<Value, DecodeError> {
        Ok(match v {
            WireValue::Varint(x) | WireValue::Fixed64(x) => Value::from(x),
            WireValue::Fixed32(x) => Value::from(x),
            WireValue::Bytes(b) => {
                let text = std::str::from_utf8(b)
                    .ok()
                    .filter(|s| !s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')));
                if let Some(s) = text {
                    Value::String(s.to_string())
                } else if depth < MAX_DEPTH && crate::wire::looks_like_message(b) {
                    let fs: Vec<WireField<'a>> = Fields::new(b).filter_map(Result::ok).collect();
                    self.generic_fields(&fs, depth + 1)?
                } else {
                    let mut m = Map::new();
                    m.insert("base64".into(), Value::String(crate::base64::encode(b)));
                    Value::Object(m)
                }
            }
        })
    }
}

/// Is the wire type acceptable for the field?
fn wire_ok(field: &Field, wt: WireType) -> bool {
    match field.shape {
        Shape::Map => wt == WireType::Bytes,
        Shape::Single => elem_wire_ok(field.elem, wt),
        // Scalars may also come packed.
        Shape::Repeated => elem_wire_ok(field.elem, wt) || wt == WireType::Bytes,
    }
}

/// Is the wire type the one an element of this type is written with (unpacked)?
pub(crate) fn elem_wire_ok(elem: Elem, wt: WireType) -> bool {
    match elem {
        Elem::String | Elem::Bytes | Elem::Message(_) => wt == WireType::Bytes,
        Elem::Double => wt == WireType::Fixed64,
        Elem::Int32 | Elem::Int64 | Elem::Bool => wt == WireType::Varint,
    }
}

fn varint_value(elem: Elem, v: u64) -> Value {
    match elem {
        // gogo: int32(v), i.e. truncation of the (sign-extended) varint.
        Elem::Int32 => Value::from(i64::from(v as u32 as i32)),
        Elem::Bool => Value::Bool(v != 0),
        _ => Value::from(v as i64),
    }
}

/// JSON number for a float64 the way Go prints it: integral values without a
/// fraction. `None` for NaN/±Inf, which encoding/json refuses.
pub(crate) fn float_value(f: f64) -> Option<Value> {
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return Some(Value::from(f as i64));
    }
    serde_json::Number::from_f64(f).map(Value::Number)
}

pub(crate) fn is_zero_scalar(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Null => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entries(pairs: &[(&str, i32)]) -> Vec<(String, Value)> {
        pairs.iter().map(|&(k, v)| (k.to_string(), json!(v))).collect()
    }

    #[test]
    fn map_entries_sorted_and_distinct_stay_as_they_are() {
        let sorted = entries(&[("a", 1), ("b", 2), ("c", 3)]);
        assert_eq!(sorted_map(sorted.clone()), sorted);
        assert_eq!(sorted_map(Vec::new()), Vec::new());
    }

    /// Out of order entries are sorted by bytes, and of a repeated key the last one stays,
    /// as Go's decoding into a map and encoding/json's sorted map keys give.
    #[test]
    fn map_entries_sort_and_the_last_of_a_key_wins() {
        let got = sorted_map(entries(&[("b", 1), ("a", 2), ("b", 3), ("B", 4), ("a", 5), ("b", 6)]));
        assert_eq!(got, entries(&[("B", 4), ("a", 5), ("b", 6)]));
        // Sorted but repeated.
        assert_eq!(sorted_map(entries(&[("a", 1), ("a", 2)])), entries(&[("a", 2)]));
    }

    /// A map field of the wire format, end to end: ConfigMap `data` with keys out of order
    /// and one repeated.
    #[test]
    fn a_map_field_renders_sorted_with_the_last_value() {
        fn entry(key: &str, value: &str) -> Vec<u8> {
            let mut e = vec![0x0a, key.len() as u8];
            e.extend_from_slice(key.as_bytes());
            e.extend_from_slice(&[0x12, value.len() as u8]);
            e.extend_from_slice(value.as_bytes());
            e
        }
        let mut body = Vec::new();
        for (k, v) in [("z", "1"), ("a", "2"), ("z", "3")] {
            let e = entry(k, v);
            body.push(0x12); // ConfigMap.data = 2
            body.push(e.len() as u8);
            body.extend_from_slice(&e);
        }
        let decoder = crate::Decoder::new(crate::KubeVersion::HEAD);
        let got = decoder.decode_as("k8s.io.api.core.v1.ConfigMap", &body).unwrap();
        assert_eq!(got.object["data"], json!({"a": "2", "z": "3"}));
        let keys: Vec<&String> = got.object["data"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["a", "z"]);
    }
}
