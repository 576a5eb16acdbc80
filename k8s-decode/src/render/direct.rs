//! Protobuf → cleaned kubectl YAML straight from the wire bytes, without the value tree.
//!
//! The tree path decodes into a `serde_json::Value`, cleans it and writes it as YAML; the
//! tree (hashing, inserting and allocating every key and string) was a third of `extract`'s
//! work, and writing it walked it again (benches/README.md, round 26). Here the same bytes
//! are written as the fields are read: each message's keys are gathered (what Go would
//! write, less what the cleaning removes), sorted in YAML key order and written, and
//! nested messages the same way, below them.
//!
//! Whatever this path does not do makes it give up, and the caller takes the tree path:
//! the kinds with cleaning rules of their own (Services, Pods …), token Secrets, unknown
//! fields, warnings, malformed input (which the tree path reports), the rare YAML keys that
//! need the explicit form. Giving up is never an error. Where it does not give up, it writes
//! the tree path's bytes: `tests/direct_yaml.rs` compares the two on every value of every
//! snapshot we have, and the damage harness (`tests/support/every_step.rs`) on damaged ones.

use std::ops::Range;

use serde_json::Value;

use super::{float_value, Renderer, Seg};
use crate::clean::{group_of_api_version, RuleKind, LAST_APPLIED};
use crate::decode::LeaveOut;
use crate::schema::{Elem, Field, Omit, Shape, Zero};
use crate::special::Special;
use crate::wire::{Fields, WireValue};
use crate::yaml::implicit::reads_as_other_type;
use crate::yaml::number::write_number;
use crate::yaml::scalar::{
    key_style, letters_key_style, letters_only, printable_ascii_style, string_style, KeyKind, Out, Style,
};
use crate::yaml::sort::{key_less, merge_sort};
use crate::yaml::{as_kubectl_reads, emit_value, Place};

/// This path does not apply; take the tree path.
#[derive(Debug)]
pub(crate) struct GiveUp(pub(crate) &'static str);

type Result<T> = std::result::Result<T, GiveUp>;

/// Malformed input: the tree path reports it.
impl From<crate::error::DecodeError> for GiveUp {
    fn from(_: crate::error::DecodeError) -> GiveUp {
        GiveUp("a decoding error")
    }
}

impl From<std::str::Utf8Error> for GiveUp {
    fn from(_: std::str::Utf8Error) -> GiveUp {
        GiveUp("a string that is not UTF-8")
    }
}

impl From<crate::yaml::YamlError> for GiveUp {
    fn from(_: crate::yaml::YamlError) -> GiveUp {
        GiveUp("a value too deep to write")
    }
}

/// One key of a mapping being written.
#[derive(Clone, Copy)]
struct Pending<'a> {
    key: &'static str,
    key_kind: KeyKind,
    item: Item<'a>,
}

impl<'a> Pending<'a> {
    /// A schema field's key.
    fn field(field: &'static Field, item: Item<'a>) -> Self {
        Pending { key: field.json, key_kind: field.key_kind, item }
    }

    /// A key the renderer places itself (`kind`, `apiVersion`).
    fn placed(key: &'static str, item: Item<'a>) -> Self {
        Pending { key, key_kind: KeyKind::of(key), item }
    }
}

#[derive(Clone, Copy)]
enum Item<'a> {
    /// `kind` / `apiVersion` from the envelope.
    Text(&'a str),
    /// A field present on the wire: its occurrences are `scratch[range]`.
    Present(&'static Field, usize, usize),
    /// A field absent from the wire that Go still writes.
    Absent(&'static Field),
    /// A custom-JSON value, made beforehand (its emptiness decides the key): `values[i]`.
    Made(usize),
    /// A map field: its entries are `entries[range]`, sorted in key order.
    Map(&'static Field, usize, usize),
}

/// A map entry: key and value (absent: the element's zero).
#[derive(Clone, Copy)]
struct MapEntry<'a> {
    key: &'a str,
    value: Option<WireValue<'a>>,
}

/// The writer: the renderer (schema, path, field stack) and the output.
pub(crate) struct DirectYaml<'a> {
    r: Renderer<'a>,
    out: Out,
    pending: Vec<Pending<'a>>,
    values: Vec<Value>,
    entries: Vec<MapEntry<'a>>,
    /// Working space of the merge sorts.
    sort_scratch: Vec<Pending<'a>>,
    entry_scratch: Vec<MapEntry<'a>>,
    keep_owner_references: bool,
    /// The object is a Service: its rules `service-cluster-ip` and `service-node-ports`.
    service: bool,
}

/// Whether the tree path cleans objects of this kind: those whose cleaning has rules beyond
/// the metadata, `status` and templates (see `clean`). Services are written here unless
/// they have node ports (see [`DirectYaml::gather`]), Secrets unless they are token Secrets.
fn has_own_rules(api_version: &str, kind: &str) -> bool {
    !matches!(
        RuleKind::of_kind(group_of_api_version(api_version), kind),
        RuleKind::Other | RuleKind::Service | RuleKind::Secret
    )
}

impl<'a> DirectYaml<'a> {
    /// The cleaned YAML of a protobuf `value` (with [`LeaveOut::dropped_by_cleaning`] and
    /// the default rules), or why the tree path must do it.
    pub(crate) fn render(
        schema: &'static crate::schema::Schema,
        release: usize,
        value: &'a [u8],
        keep_owner_references: bool,
    ) -> std::result::Result<String, &'static str> {
        let envelope = crate::peek::Envelope::of(value).ok_or("not a plain protobuf envelope")?;
        let api_version = std::str::from_utf8(envelope.api_version).map_err(|_| "apiVersion")?;
        let kind = std::str::from_utf8(envelope.kind).map_err(|_| "kind")?;
        let message = schema.message_for_gvk(api_version, kind);
        Self::render_object(schema, release, value, (api_version, kind), message, envelope.raw, keep_owner_references)
    }

    /// [`render`](Self::render) past the envelope: `raw` is the object's bytes and `message`
    /// what the schema names for (apiVersion, kind).
    pub(crate) fn render_object(
        schema: &'static crate::schema::Schema,
        release: usize,
        value: &'a [u8],
        (api_version, kind): (&'a str, &'a str),
        message: Option<u32>,
        raw: &'a [u8],
        keep_owner_references: bool,
    ) -> std::result::Result<String, &'static str> {
        if has_own_rules(api_version, kind) {
            return Err("a kind with cleaning rules of its own");
        }
        if api_version.is_empty() || kind.is_empty() {
            return Err("no kind or apiVersion");
        }
        let msg = message.ok_or("kind not in the schema")?;
        let mut r = Renderer::new(schema, release, value);
        if (api_version, kind) == ("v1", "Secret")
            && crate::peek::token_secret(schema, &r.views[msg as usize], raw) != Some(false)
        {
            return Err("a token Secret");
        }
        r.leave_out = LeaveOut::dropped_by_cleaning();
        let mut w = DirectYaml {
            r,
            out: Out::with_capacity(2 * value.len() + 1024),
            pending: Vec::with_capacity(64),
            values: Vec::new(),
            entries: Vec::new(),
            sort_scratch: Vec::new(),
            entry_scratch: Vec::new(),
            keep_owner_references,
            service: (api_version, kind) == ("v1", "Service"),
        };
        w.mapping(msg, raw, Place::Root, 0, 0, Some((api_version, kind))).map_err(|e| e.0)?;
        if !w.r.warnings.is_empty() {
            return Err("a warning");
        }
        if w.out.column > 0 {
            w.out.newline();
        }
        Ok(w.out.text)
    }

    fn lead(&mut self, place: Place) {
        if place != Place::Root {
            self.out.put_ascii(" ");
        }
    }

    /// A message's fields as a YAML mapping.
    fn mapping(
        &mut self,
        msg: u32,
        buf: &'a [u8],
        place: Place,
        indent: usize,
        depth: u32,
        top: Option<(&'a str, &'a str)>,
    ) -> Result<()> {
        self.r.check_depth(depth)?;
        let schema = self.r.schema;
        let special = schema.messages[msg as usize].special;
        if special != Special::None {
            let v = self.r.special(msg, special, buf, depth)?;
            // A sequence under a key keeps the key's column.
            let indent = if v.is_array() && place == Place::KeyValue { indent - 2 } else { indent };
            return self.made(&v, place, indent, depth);
        }
        let (base, unknown) = self.r.scan_fields(msg, buf)?;
        if !unknown.is_empty() {
            return Err(GiveUp("unknown fields"));
        }
        let end = self.r.scratch.len();
        let pbase = self.pending.len();
        let (vbase, ebase) = (self.values.len(), self.entries.len());
        let r = self.gather(msg, base, end, depth, top).and_then(|()| {
            self.sort_pending(pbase)?;
            self.write_pending(pbase, place, indent, depth)
        });
        self.pending.truncate(pbase);
        self.values.truncate(vbase);
        self.entries.truncate(ebase);
        self.r.scratch.truncate(base);
        r
    }

    /// The keys a message writes, as `render_fields` decides them, onto `self.pending`.
    fn gather(&mut self, msg: u32, base: usize, end: usize, depth: u32, top: Option<(&'a str, &'a str)>) -> Result<()> {
        let schema = self.r.schema;
        let view = &self.r.views[msg as usize];
        let template_metadata = self.in_template_metadata();
        let claim_template = self.in_claim_template();
        let object_metadata = matches!(self.r.path.as_slice(), [Seg::Key("metadata")]);
        let service_spec = self.service && matches!(self.r.path.as_slice(), [Seg::Key("spec")]);
        let service_port =
            self.service && matches!(self.r.path.as_slice(), [Seg::Key("spec"), Seg::Key("ports"), Seg::Index(_)]);
        // Rule `service-cluster-ip`: the cluster IPs go, unless the Service is headless.
        let drop_cluster_ips =
            service_spec && self.last_string(msg, base, end, "clusterIP") != Some(b"None".as_slice());
        let mut k = base;
        for (pos, &fi) in view.order.iter().enumerate() {
            let start = k;
            while k < end && self.r.scratch[k].0 == pos {
                k += 1;
            }
            if start == k && view.quiet_when_absent[pos] {
                continue;
            }
            let field = &schema.fields[fi as usize];
            if let (Some((api_version, kind)), 0, true) = (top, field.num, field.inline) {
                if field.elem == Elem::Message(schema.well_known.type_meta) {
                    self.pending.push(Pending::placed("kind", Item::Text(kind)));
                    self.pending.push(Pending::placed("apiVersion", Item::Text(api_version)));
                    continue;
                }
            }
            if field.omit == Omit::Inline {
                // An embedded struct: its fields are this mapping's keys.
                let Elem::Message(t) = field.elem else { continue };
                let buf = match self.r.scratch[start..k].last() {
                    Some(&(_, f)) => match f.value {
                        WireValue::Bytes(b) => b,
                        _ => continue,
                    },
                    None => &[],
                };
                self.r.check_depth(depth + 1)?;
                if self.r.schema.messages[t as usize].special != Special::None {
                    return Err(GiveUp("an inline custom-JSON type"));
                }
                let (inner, unknown) = self.r.scan_fields(t, buf)?;
                if !unknown.is_empty() {
                    return Err(GiveUp("unknown fields"));
                }
                let inner_end = self.r.scratch.len();
                self.r.path.push(Seg::Key(field.json));
                let r = self.gather(t, inner, inner_end, depth + 1, None);
                self.r.path.pop();
                r?;
                continue;
            }
            if field.inline || field.omit == Omit::Skip && start < k {
                return Err(GiveUp("an inline field"));
            }
            if self.r.left_out(field.json) || drop_cluster_ips && matches!(field.json, "clusterIP" | "clusterIPs") {
                continue;
            }
            // Rule `service-node-ports` keeps the node ports a user chose, which only the
            // managed fields and the last-applied annotation tell: the tree path reads them.
            if start < k
                && (service_spec && field.json == "healthCheckNodePort" || service_port && field.json == "nodePort")
            {
                let zero = matches!(self.r.scratch[k - 1].1.value, WireValue::Varint(0)) && field.omit != Omit::Never;
                if !zero {
                    return Err(GiveUp("a Service with node ports"));
                }
            }
            if object_metadata && !self.keep_owner_references && field.json == "ownerReferences"
                || claim_template && field.json == "status"
            {
                // Removed by the cleaning, but decoded by the tree path, which fails where
                // they are damaged: so does this one.
                if start < k {
                    self.r.path.push(Seg::Key(field.json));
                    let r = self.r.present(msg, field, start..k, depth, &mut serde_json::Map::new());
                    self.r.path.pop();
                    r?;
                }
                continue;
            }
            if start == k {
                if field.mask & self.r.release_bit == 0 || field.omit != Omit::Never {
                    continue;
                }
                // A custom-JSON type's zero (a Time's is null) is made now, as for a present
                // one: the cleaning removes a null `creationTimestamp` from templates.
                if let (Zero::Struct, Elem::Message(t)) = (field.zero, field.elem) {
                    let special = schema.messages[t as usize].special;
                    if special != Special::None {
                        self.r.check_depth(depth + 1)?;
                        self.r.path.push(Seg::Key(field.json));
                        let v = self.r.special(t, special, &[], depth + 1);
                        self.r.path.pop();
                        let v = v?;
                        if !(template_metadata && field.json == "creationTimestamp" && v.is_null()) {
                            self.values.push(v);
                            self.pending.push(Pending::field(field, Item::Made(self.values.len() - 1)));
                        }
                        continue;
                    }
                }
                if template_metadata && field.json == "creationTimestamp" && field.zero == Zero::Null {
                    continue;
                }
                self.pending.push(Pending::field(field, Item::Absent(field)));
                continue;
            }
            self.gather_present(field, start, k, depth, template_metadata)?;
        }
        Ok(())
    }

    /// A field present on the wire, unless its value is one Go omits.
    fn gather_present(
        &mut self,
        field: &'static Field,
        start: usize,
        end: usize,
        depth: u32,
        template_metadata: bool,
    ) -> Result<()> {
        let last = self.r.scratch[end - 1].1.value;
        match field.shape {
            Shape::Map => {
                let range = self.map_entries(field, start..end)?;
                if range.is_empty() && field.omit == Omit::Empty {
                    return Ok(());
                }
                self.pending.push(Pending::field(field, Item::Map(field, range.start, range.end)));
            }
            Shape::Repeated => {
                let empty_packed = (start..end).any(|i| {
                    matches!(self.r.scratch[i].1.value, WireValue::Bytes(b) if b.is_empty())
                        && !matches!(field.elem, Elem::String | Elem::Bytes | Elem::Message(_))
                });
                if empty_packed {
                    return Err(GiveUp("an empty packed field"));
                }
                self.pending.push(Pending::field(field, Item::Present(field, start, end)));
            }
            Shape::Single => {
                // Custom-JSON values are made now: whether they are null or empty decides
                // the key.
                if let (Elem::Message(t), WireValue::Bytes(b)) = (field.elem, last) {
                    let special = self.r.schema.messages[t as usize].special;
                    if special != Special::None {
                        self.r.path.push(Seg::Key(field.json));
                        let v = self.r.special(t, special, b, depth + 1);
                        self.r.path.pop();
                        let v = v?;
                        let omit = match field.omit {
                            Omit::Zero => super::is_zero_scalar(&v),
                            Omit::Empty => b.is_empty(),
                            Omit::IsZero => v.is_null(),
                            _ => false,
                        };
                        if omit || template_metadata && field.json == "creationTimestamp" && v.is_null() {
                            return Ok(());
                        }
                        self.values.push(v);
                        self.pending.push(Pending::field(field, Item::Made(self.values.len() - 1)));
                        return Ok(());
                    }
                }
                let omit = match (field.omit, last) {
                    (Omit::Zero, WireValue::Bytes(b)) => b.is_empty() && !matches!(field.elem, Elem::Message(_)),
                    (Omit::Zero, WireValue::Varint(v)) => v == 0 || field.elem == Elem::Int32 && v as u32 == 0,
                    (Omit::Zero, WireValue::Fixed64(v)) => f64::from_bits(v) == 0.0,
                    (Omit::Empty, WireValue::Bytes(b)) => b.is_empty(),
                    _ => false,
                };
                if omit {
                    return Ok(());
                }
                self.pending.push(Pending::field(field, Item::Present(field, start, end)));
            }
        }
        Ok(())
    }

    /// A map field's entries onto `self.entries`, in YAML key order, the last of a repeated
    /// key kept (as Go decodes them).
    fn map_entries(&mut self, field: &'static Field, occurrences: Range<usize>) -> Result<Range<usize>> {
        let left_out = self.annotations_left_out(field);
        let start = self.entries.len();
        for i in occurrences {
            let WireValue::Bytes(entry) = self.r.scratch[i].1.value else { continue };
            let mut key: &[u8] = &[];
            let mut value = None;
            for f in Fields::new(entry) {
                let f = f.map_err(|_| GiveUp("a malformed map entry"))?;
                match (f.number, f.value) {
                    (1, WireValue::Bytes(b)) => key = b,
                    (2, v) if super::elem_wire_ok(field.elem, v.wire_type()) => value = Some(v),
                    (1 | 2, _) => return Err(GiveUp("a map entry field of another wire type")),
                    _ => {}
                }
            }
            if left_out == Some(key) {
                continue;
            }
            let key = std::str::from_utf8(key)?;
            if key.contains('\u{85}') {
                return Err(GiveUp("a map key with a NEL"));
            }
            self.entries.push(MapEntry { key, value });
        }
        let entries = &mut self.entries[start..];
        // Byte order first, the last of equal keys kept (stable sort), as `sorted_map` does.
        if !entries.windows(2).all(|w| w[0].key < w[1].key) {
            entries.sort_by(|a, b| a.key.cmp(b.key));
            let mut kept = start;
            for i in start..self.entries.len() {
                if i + 1 < self.entries.len() && self.entries[i + 1].key == self.entries[i].key {
                    continue;
                }
                self.entries[kept] = self.entries[i];
                kept += 1;
            }
            self.entries.truncate(kept);
        }
        let entries = &mut self.entries[start..];
        if !entries.iter().all(|e| letters_only(e.key)) {
            merge_sort(entries, &mut self.entry_scratch, &|a: &MapEntry<'_>, b: &MapEntry<'_>| key_less(a.key, b.key));
        }
        Ok(start..self.entries.len())
    }

    /// The bytes of the last occurrence of message `msg`'s string field `json` among
    /// `scratch[base..end]`, as the renderer keeps it.
    fn last_string(&self, msg: u32, base: usize, end: usize, json: &str) -> Option<&'a [u8]> {
        let view = &self.r.views[msg as usize];
        let fields = &self.r.schema.fields;
        self.r.scratch[base..end].iter().rev().find_map(|&(pos, f)| match f.value {
            WireValue::Bytes(b) if fields[view.order[pos] as usize].json == json => Some(b),
            _ => None,
        })
    }

    fn annotations_left_out(&self, field: &Field) -> Option<&'static [u8]> {
        let annotations = field.json == "annotations" && matches!(self.r.path.as_slice(), [Seg::Key("metadata")]);
        (self.r.leave_out.last_applied && annotations).then_some(LAST_APPLIED.as_bytes())
    }

    /// Under `spec.template.metadata` and the other places `clean_templates` looks.
    fn in_template_metadata(&self) -> bool {
        use Seg::{Index, Key};
        matches!(
            self.r.path.as_slice(),
            [Key("spec"), Key("template"), Key("metadata")]
                | [Key("spec"), Key("jobTemplate"), Key("metadata")]
                | [Key("spec"), Key("jobTemplate"), Key("spec"), Key("template"), Key("metadata")]
                | [Key("spec"), Key("volumeClaimTemplates"), Index(_), Key("metadata")]
        )
    }

    fn in_claim_template(&self) -> bool {
        matches!(self.r.path.as_slice(), [Seg::Key("spec"), Seg::Key("volumeClaimTemplates"), Seg::Index(_)])
    }

    fn sort_pending(&mut self, pbase: usize) -> Result<()> {
        let items = &mut self.pending[pbase..];
        if items.iter().all(|p| p.key_kind.letters()) {
            items.sort_unstable_by(|a, b| a.key.cmp(b.key));
        } else {
            merge_sort(items, &mut self.sort_scratch, &|a: &Pending<'_>, b: &Pending<'_>| key_less(a.key, b.key));
        }
        // An embedded struct's field shadowed by the outer struct's: the tree keeps one.
        if items.windows(2).any(|w| w[0].key == w[1].key) {
            return Err(GiveUp("a key written twice"));
        }
        Ok(())
    }

    fn write_pending(&mut self, pbase: usize, place: Place, indent: usize, depth: u32) -> Result<()> {
        if self.pending.len() == pbase {
            self.lead(place);
            self.out.put_ascii("{}");
            return Ok(());
        }
        for i in pbase..self.pending.len() {
            let p = self.pending[i];
            if i == pbase && place == Place::Inline {
                self.out.put_ascii(" ");
            } else {
                self.out.line(indent);
            }
            self.key(p.key, p.key_kind, indent)?;
            self.r.path.push(Seg::Key(p.key));
            let r = self.item(p.item, indent, depth);
            self.r.path.pop();
            r?;
        }
        Ok(())
    }

    /// A key at column `indent`.
    fn key(&mut self, key: &str, kind: KeyKind, indent: usize) -> Result<()> {
        if kind == KeyKind::PlainLetters {
            self.out.put_ascii(key);
            self.out.put_ascii(":");
            return Ok(());
        }
        let (style, simple) = if kind.letters() { letters_key_style(key) } else { key_style(key) };
        if !simple {
            return Err(GiveUp("a key too long for its line"));
        }
        self.out.scalar(key, style, indent + 2, false);
        self.out.put_ascii(":");
        Ok(())
    }

    /// The value of a key at column `indent`.
    fn item(&mut self, item: Item<'a>, indent: usize, depth: u32) -> Result<()> {
        let child = indent + 2;
        match item {
            Item::Text(s) => self.string(s, Place::KeyValue, child),
            Item::Made(i) => {
                let v = std::mem::take(&mut self.values[i]);
                let r = self.made(&v, Place::KeyValue, if v.is_array() { indent } else { child }, depth);
                self.values[i] = v;
                r
            }
            Item::Absent(field) => match field.zero {
                Zero::Null => self.word("null", Place::KeyValue),
                Zero::EmptyString => self.string("", Place::KeyValue, child),
                Zero::Number => self.word("0", Place::KeyValue),
                Zero::False => self.word("false", Place::KeyValue),
                Zero::Struct => match field.elem {
                    Elem::Message(t) => self.mapping(t, &[], Place::KeyValue, child, depth + 1, None),
                    _ => self.word("null", Place::KeyValue),
                },
            },
            Item::Present(field, start, end) => match field.shape {
                Shape::Single => {
                    let v = self.r.scratch[end - 1].1.value;
                    self.elem(field.elem, v, Place::KeyValue, child, depth)
                }
                _ => self.sequence(field, start, end, indent, depth),
            },
            Item::Map(field, start, end) => {
                if start == end {
                    self.lead(Place::KeyValue);
                    self.out.put_ascii("{}");
                    return Ok(());
                }
                for i in start..end {
                    let e = self.entries[i];
                    self.out.line(child);
                    self.key(e.key, KeyKind::of(e.key), child)?;
                    self.r.path.push(Seg::MapKey(e.key.as_bytes()));
                    let r = match e.value {
                        Some(v) => self.elem(field.elem, v, Place::KeyValue, child + 2, depth),
                        None => match field.elem {
                            Elem::String | Elem::Bytes => self.string("", Place::KeyValue, child + 2),
                            Elem::Int32 | Elem::Int64 | Elem::Double => self.word("0", Place::KeyValue),
                            Elem::Bool => self.word("false", Place::KeyValue),
                            Elem::Message(t) => self.mapping(t, &[], Place::KeyValue, child + 2, depth + 1, None),
                        },
                    };
                    self.r.path.pop();
                    r?;
                }
                Ok(())
            }
        }
    }

    /// A repeated field under a key at column `indent`: its dashes at that column.
    fn sequence(&mut self, field: &'static Field, start: usize, end: usize, indent: usize, depth: u32) -> Result<()> {
        let mut n = 0;
        for i in start..end {
            let v = self.r.scratch[i].1.value;
            match (field.elem, v) {
                (Elem::Int32 | Elem::Int64 | Elem::Bool | Elem::Double, WireValue::Bytes(b)) => {
                    let mut pos = 0;
                    while pos < b.len() {
                        let v = match field.elem {
                            Elem::Double => {
                                let chunk = b.get(pos..pos + 8).ok_or(GiveUp("a truncated packed double"))?;
                                pos += 8;
                                WireValue::Fixed64(u64::from_le_bytes(
                                    chunk.try_into().map_err(|_| GiveUp("a truncated packed double"))?,
                                ))
                            }
                            _ => WireValue::Varint(
                                crate::wire::read_varint(b, &mut pos)
                                    .map_err(|_| GiveUp("a malformed packed varint"))?,
                            ),
                        };
                        self.dash(indent);
                        self.elem(field.elem, v, Place::Inline, indent + 2, depth)?;
                        n += 1;
                    }
                }
                _ => {
                    self.dash(indent);
                    self.r.path.push(Seg::Index(n));
                    let r = self.elem(field.elem, v, Place::Inline, indent + 2, depth);
                    self.r.path.pop();
                    r?;
                    n += 1;
                }
            }
        }
        Ok(())
    }

    fn dash(&mut self, indent: usize) {
        self.out.line(indent);
        self.out.put_ascii("-");
    }

    /// One element value at `place`; `indent` as [`Emitter::node`](crate::yaml) takes it.
    #[inline]
    fn elem(&mut self, elem: Elem, v: WireValue<'a>, place: Place, indent: usize, depth: u32) -> Result<()> {
        match (elem, v) {
            (Elem::String, WireValue::Bytes(b)) => {
                let s = std::str::from_utf8(b)?;
                self.string(s, place, indent)
            }
            (Elem::Bytes, WireValue::Bytes(b)) if !b.is_empty() => {
                // Secrets' data, most of a cluster's YAML. Base64 is printable ASCII without
                // spaces and none of YAML's indicators: plain and unfolded, unless it reads as
                // another type (`1234`, `true`), which is told from the text once written.
                self.lead(place);
                let start = self.out.text.len();
                crate::base64::encode_into(b, &mut self.out.text);
                if reads_as_other_type(&self.out.text[start..]) {
                    let text = self.out.text.split_off(start);
                    self.out.scalar(&text, Style::Double, indent, true);
                } else {
                    self.out.column += self.out.text.len() - start;
                }
                Ok(())
            }
            (Elem::Bytes, WireValue::Bytes(_)) => self.string("", place, indent),
            (Elem::Message(t), WireValue::Bytes(b)) => self.mapping(t, b, place, indent, depth + 1, None),
            (Elem::Double, WireValue::Fixed64(x)) => {
                let v = float_value(f64::from_bits(x)).ok_or(GiveUp("a non-finite float"))?;
                self.made(&v, place, indent, depth)
            }
            (Elem::Int32, WireValue::Varint(x)) => self.number(i64::from(x as u32 as i32), place),
            (Elem::Int64, WireValue::Varint(x)) => self.number(x as i64, place),
            (Elem::Bool, WireValue::Varint(x)) => self.word(if x != 0 { "true" } else { "false" }, place),
            _ => Err(GiveUp("a wire type the schema does not expect")),
        }
    }

    fn string(&mut self, s: &str, place: Place, indent: usize) -> Result<()> {
        self.lead(place);
        if let Some(style) = printable_ascii_style(s) {
            self.out.scalar(s, style, indent, true);
        } else {
            let s = as_kubectl_reads(s);
            self.out.scalar(&s, string_style(&s), indent, true);
        }
        Ok(())
    }

    fn word(&mut self, w: &str, place: Place) -> Result<()> {
        self.lead(place);
        self.out.put_ascii(w);
        Ok(())
    }

    fn number(&mut self, n: i64, place: Place) -> Result<()> {
        self.lead(place);
        write_number(&mut self.out, &serde_json::Number::from(n));
        Ok(())
    }

    /// A value made by the tree code (custom-JSON types), written by the tree's emitter.
    fn made(&mut self, v: &Value, place: Place, indent: usize, depth: u32) -> Result<()> {
        emit_value(&mut self.out, v, place, indent, depth as usize)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::clean::{clean, CleanOptions};
    use crate::encode::Encoder;
    use crate::{DecodeOptions, Decoder, KubeVersion, LeaveOut};

    /// The tree path's YAML of a stored value, cleaned.
    fn tree_yaml(decoder: &Decoder, value: &[u8]) -> String {
        let options = DecodeOptions { leave_out: LeaveOut::dropped_by_cleaning(), ..Default::default() };
        let mut object = decoder.decode(value, &options).unwrap().object;
        clean(&mut object, &CleanOptions::default());
        crate::yaml::to_yaml_string(&object).unwrap()
    }

    /// Bytes whose base64 reads as another type are quoted, as the tree path quotes them;
    /// the rest are plain, long ones unfolded; empty ones are `""`.
    #[test]
    fn base64_that_reads_as_another_type_is_quoted() {
        let decoder = Decoder::new(KubeVersion::HEAD);
        let long = "QUJD".repeat(100);
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a"},
            "data": {"number": "1234", "word": "null", "bool": "TRUE", "time": "2001", "plain": "QUJD",
                "long": long, "empty": "", "sign": "+123"}});
        let value = Encoder::new(KubeVersion::HEAD).encode(&secret).unwrap();
        let direct = decoder.clean_yaml_direct(&value, false).unwrap();
        assert_eq!(direct, tree_yaml(&decoder, &value));
        for line in [
            "number: \"1234\"",
            "word: \"null\"",
            "bool: \"TRUE\"",
            "time: \"2001\"",
            "plain: QUJD",
            "empty: \"\"",
            "sign: \"+123\"",
        ] {
            assert!(direct.contains(&format!("  {line}\n")), "{line} in {direct}");
        }
        assert!(direct.contains(&format!("  long: {long}\n")));
    }

    /// A protobuf field: tag and length (under 128 bytes) and the bytes.
    fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
        let mut f = vec![number << 3 | 2, bytes.len() as u8];
        f.extend_from_slice(bytes);
        f
    }

    /// A template whose metadata has no `creationTimestamp` on the wire (Go's encoders write
    /// an empty one; hand-made or damaged values may not): it is a zero Time in 1.16's
    /// schema and null in later ones, and the cleaning removes it either way. Found by the
    /// `decode` fuzz target.
    #[test]
    fn templates_lose_their_null_creation_timestamp_in_every_release() {
        let labels = field(11, &[field(1, b"app"), field(2, b"d")].concat());
        let container = field(2, &field(1, b"c"));
        let template = field(3, &[field(1, &labels), field(2, &container)].concat());
        let raw = [field(1, &[field(1, b"d"), field(3, b"a")].concat()), field(2, &template)].concat();
        let type_meta = [field(1, b"apps/v1"), field(2, b"Deployment")].concat();
        let value = [b"k8s\0".to_vec(), field(1, &type_meta), field(2, &raw)].concat();
        for release in [KubeVersion::minor_release(16), KubeVersion::minor_release(24), KubeVersion::HEAD] {
            let decoder = Decoder::new(release);
            let direct = decoder.clean_yaml_direct(&value, false).unwrap();
            assert_eq!(direct, tree_yaml(&decoder, &value), "{release:?}");
            assert!(!direct.contains("creationTimestamp") && direct.contains("app: d"), "{release:?}: {direct}");
        }
    }

    /// What makes the direct path give up: the kinds the tree path cleans by rules of their
    /// own, token Secrets, Services with node ports. Other Services lose their cluster IPs
    /// unless headless, as the tree path's cleaning has it.
    #[test]
    fn gives_up_where_the_cleaning_has_rules_of_its_own() {
        let decoder = Decoder::new(KubeVersion::HEAD);
        let encoder = Encoder::new(KubeVersion::HEAD);
        let metadata = json!({"name": "x", "namespace": "a"});
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": {"nodeName": "n"}});
        let token = json!({"apiVersion": "v1", "kind": "Secret", "metadata": metadata,
            "type": "kubernetes.io/service-account-token"});
        let opaque = json!({"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque"});
        let service = |spec: serde_json::Value| json!({"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec});
        let port = json!({"port": 80, "protocol": "TCP"});
        let node_port = json!({"port": 80, "protocol": "TCP", "nodePort": 30080});
        for given_up in [
            pod,
            token,
            service(json!({"type": "NodePort", "clusterIP": "10.0.0.1", "ports": [port, node_port]})),
            service(json!({"type": "LoadBalancer", "healthCheckNodePort": 31000, "ports": [port]})),
        ] {
            assert!(decoder.clean_yaml_direct(&encoder.encode(&given_up).unwrap(), false).is_err(), "{given_up}");
        }
        for (written, cluster_ip) in [
            (opaque, false),
            (service(json!({"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1"], "ports": [port]})), false),
            (service(json!({"clusterIPs": ["10.0.0.1"], "ports": [port]})), false),
            (service(json!({"clusterIP": "None", "clusterIPs": ["None"], "ports": [port]})), true),
        ] {
            let value = encoder.encode(&written).unwrap();
            let direct = decoder.clean_yaml_direct(&value, false).unwrap();
            assert_eq!(direct, tree_yaml(&decoder, &value), "{written}");
            assert_eq!(direct.contains("clusterIP: None") && direct.contains("clusterIPs:"), cluster_ip, "{direct}");
            assert!(!direct.contains("10.0.0.1"), "{direct}");
        }
        assert!(decoder.clean_yaml_direct(br#"{"kind":"Secret"}"#, false).is_err());
    }
}
