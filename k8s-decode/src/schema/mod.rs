//! The Kubernetes API schema: messages, fields (by protobuf number) with their
//! JSON names, omission rules, Go declaration order and release validity, and
//! the (apiVersion, kind) → message index.
//!
//! The data is generated (see [`gen`]) from the shared API field table and
//! embedded from `schema/k8s-api.schema`; it is parsed once, lazily, into
//! integer-indexed tables. Per Kubernetes release a `MsgView` table is built
//! (also once, lazily) so that decoding does a single array index per field
//! number and no string lookups.

pub mod gen;

use std::collections::HashMap;
use std::sync::OnceLock;

use foldhash::fast::RandomState;

use crate::special::{self, Special};
use crate::version::KubeVersion;
use crate::yaml::scalar::KeyKind;

/// The committed, generated schema text.
pub const SCHEMA_TEXT: &str = include_str!("../../schema/k8s-api.schema");

/// Element type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Elem {
    String,
    Int32,
    Int64,
    Bool,
    Bytes,
    Double,
    Message(u32),
}

/// Cardinality of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Single,
    Repeated,
    /// `map<string, elem>`: repeated entry messages {key = 1, value = 2}.
    Map,
}

/// When encoding/json leaves the key out (the table's `json_omit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Omit {
    Never,
    Nil,
    Empty,
    Zero,
    IsZero,
    Inline,
    Skip,
}

/// What Go renders for an absent, non-omitted field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zero {
    Null,
    EmptyString,
    Number,
    False,
    Struct,
}

#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub num: u32,
    pub json: &'static str,
    pub omit: Omit,
    pub inline: bool,
    pub order: u32,
    pub mask: u64,
    pub elem: Elem,
    pub shape: Shape,
    pub zero: Zero,
    /// What the YAML writer needs to know of `json` as a key.
    pub key_kind: KeyKind,
}

#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub name: &'static str,
    pub special: Special,
    pub fields: std::ops::Range<u32>,
}

/// Per-release view of one message.
#[derive(Debug, Default)]
pub(crate) struct MsgView {
    /// Field indices (into `Schema::fields`) in JSON key order: the rows valid
    /// in the release, plus (for fields with no row in this release) the row
    /// of the nearest release, rendered only when present on the wire.
    pub order: Box<[u32]>,
    /// Proto field number → position in `order`; `u16::MAX` = unknown number.
    pub by_num: Box<[u16]>,
    /// By position in `order`: the field shows nothing when absent from the wire (omitted
    /// when empty, or not in the release), and is none of the fields the renderer places
    /// itself (the inline TypeMeta, `metadata`). Rendering passes such fields over without
    /// reading their rows: most fields of most messages are absent.
    pub quiet_when_absent: Box<[bool]>,
}

impl MsgView {
    #[inline]
    pub fn position(&self, num: u32) -> Option<usize> {
        match self.by_num.get(num as usize) {
            Some(&p) if p != u16::MAX => Some(p as usize),
            _ => None,
        }
    }
}

/// The parsed schema. Obtain it with [`Schema::get`].
pub struct Schema {
    /// Release labels (`"16"` … `"36"`, `"HEAD"`), bit i of a mask = entry i.
    pub(crate) releases: Vec<&'static str>,
    pub(crate) messages: Vec<Message>,
    pub(crate) fields: Vec<Field>,
    by_name: HashMap<&'static str, u32, RandomState>,
    gvk: HashMap<&'static str, HashMap<&'static str, u32, RandomState>, RandomState>,
    views: Vec<OnceLock<Box<[MsgView]>>>,
    pub(crate) well_known: WellKnown,
}

/// Message ids the decoder needs directly.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WellKnown {
    pub object_meta: u32,
    pub type_meta: u32,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema")
            .field("releases", &self.releases)
            .field("messages", &self.messages.len())
            .field("fields", &self.fields.len())
            .finish()
    }
}

static SCHEMA: OnceLock<Schema> = OnceLock::new();

impl Schema {
    /// The embedded schema, parsed on first use.
    pub fn get() -> &'static Schema {
        SCHEMA.get_or_init(|| Schema::parse(SCHEMA_TEXT).expect("embedded schema is valid"))
    }

    /// Parse a schema text (the format written by [`gen::generate`]).
    pub fn parse(text: &'static str) -> Result<Schema, String> {
        let mut releases = Vec::new();
        let mut messages: Vec<Message> = Vec::new();
        let mut fields: Vec<Field> = Vec::new();
        let mut flags: Vec<&str> = Vec::new();
        let mut gvk_rows = Vec::new();
        for (ln, line) in text.lines().enumerate() {
            let err = |m: &str| format!("schema line {}: {m}", ln + 1);
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let cols: Vec<&'static str> = line.split('\t').collect();
            match cols[0] {
                "R" if cols.len() == 2 => releases = cols[1].split(',').collect(),
                "M" if cols.len() == 3 => {
                    let n = fields.len() as u32;
                    messages.push(Message { name: cols[1], special: Special::None, fields: n..n });
                    flags.push(cols[2]);
                }
                "F" if cols.len() == 9 => {
                    let msg = messages.last_mut().ok_or_else(|| err("field before message"))?;
                    let num = cols[1].parse().map_err(|_| err("bad number"))?;
                    if num > 4000 {
                        return Err(err("field number too large"));
                    }
                    let omit = match cols[3] {
                        "never" => Omit::Never,
                        "nil" => Omit::Nil,
                        "empty" => Omit::Empty,
                        "zero" => Omit::Zero,
                        "iszero" => Omit::IsZero,
                        "inline" => Omit::Inline,
                        "skip" => Omit::Skip,
                        _ => return Err(err("bad omit")),
                    };
                    let (shape, ty) = match cols[7].as_bytes().first() {
                        Some(b'r') => (Shape::Repeated, &cols[7][1..]),
                        Some(b'k') => (Shape::Map, &cols[7][1..]),
                        _ => (Shape::Single, cols[7]),
                    };
                    let elem = match ty {
                        "s" => Elem::String,
                        "i" => Elem::Int32,
                        "l" => Elem::Int64,
                        "b" => Elem::Bool,
                        "y" => Elem::Bytes,
                        "d" => Elem::Double,
                        m if m.starts_with('m') => Elem::Message(m[1..].parse().map_err(|_| err("bad message id"))?),
                        _ => return Err(err("bad type")),
                    };
                    let zero = match cols[8] {
                        "n" => Zero::Null,
                        "s" => Zero::EmptyString,
                        "0" => Zero::Number,
                        "f" => Zero::False,
                        "m" => Zero::Struct,
                        _ => return Err(err("bad zero")),
                    };
                    fields.push(Field {
                        num,
                        json: cols[2],
                        omit,
                        inline: cols[4] == "1",
                        order: cols[5].parse().map_err(|_| err("bad order"))?,
                        mask: u64::from_str_radix(cols[6], 16).map_err(|_| err("bad mask"))?,
                        elem,
                        shape,
                        zero,
                        key_kind: KeyKind::of(cols[2]),
                    });
                    msg.fields.end = fields.len() as u32;
                }
                "G" if cols.len() == 4 => {
                    let id: u32 = cols[3].parse().map_err(|_| err("bad id"))?;
                    gvk_rows.push((cols[1], cols[2], id));
                }
                _ => return Err(err("unrecognised line")),
            }
        }
        let n = messages.len() as u32;
        for f in &fields {
            if let Elem::Message(id) = f.elem {
                if id >= n {
                    return Err(format!("message id {id} out of range"));
                }
            }
        }
        let by_name: HashMap<&'static str, u32, RandomState> =
            messages.iter().enumerate().map(|(i, m)| (m.name, i as u32)).collect();
        let mut gvk: HashMap<&'static str, HashMap<&'static str, u32, RandomState>, RandomState> = HashMap::default();
        for (av, kind, id) in gvk_rows {
            if id >= n {
                return Err(format!("GVK message id {id} out of range"));
            }
            gvk.entry(av).or_default().insert(kind, id);
        }
        let lookup = |name: &str| by_name.get(name).copied().ok_or_else(|| format!("schema lacks {name}"));
        let well_known = WellKnown {
            object_meta: lookup("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta")?,
            type_meta: lookup("k8s.io.apimachinery.pkg.apis.meta.v1.TypeMeta")?,
        };
        for i in 0..messages.len() {
            let m = &messages[i];
            let own = &fields[m.fields.start as usize..m.fields.end as usize];
            let sp = special::classify(m.name, flags[i] == "nullable", own, &lookup)?;
            messages[i].special = sp;
        }
        let views = (0..releases.len()).map(|_| OnceLock::new()).collect();
        Ok(Schema { releases, messages, fields, by_name, gvk, views, well_known })
    }

    /// Message id by full proto name (`k8s.io.api.core.v1.Pod`).
    pub fn message_id(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// Message id for an (apiVersion, kind) pair as stored in the envelope.
    pub fn message_for_gvk(&self, api_version: &str, kind: &str) -> Option<u32> {
        if let Some(id) = self.gvk.get(api_version).and_then(|m| m.get(kind)) {
            return Some(*id);
        }
        // meta/v1 kinds (Status, WatchEvent, DeleteOptions, …) are registered
        // into every group version.
        self.gvk.get("meta.k8s.io/v1").and_then(|m| m.get(kind)).copied()
    }

    /// Proto name of a message id.
    pub fn message_name(&self, id: u32) -> &'static str {
        self.messages[id as usize].name
    }

    /// Number of messages.
    pub fn message_count(&self) -> usize {
        self.messages.len()
    }

    /// Release labels in mask-bit order.
    pub fn release_labels(&self) -> &[&'static str] {
        &self.releases
    }

    /// Index of the release the table uses for `v`: the exact minor if the
    /// table has it, the oldest for older versions, `HEAD` (or the newest)
    /// for newer ones.
    pub fn release_index(&self, v: KubeVersion) -> usize {
        let last = self.releases.len() - 1;
        let Some(minor) = v.minor() else { return last };
        let mut newest_numeric = None;
        for (i, r) in self.releases.iter().enumerate() {
            if let Ok(n) = r.parse::<u32>() {
                if n == minor {
                    return i;
                }
                newest_numeric = Some((i, n));
            }
        }
        match newest_numeric {
            Some((_, n)) if minor > n => last,
            _ => {
                // Older than the oldest (or a gap): nearest numeric at or below.
                let mut best = 0;
                for (i, r) in self.releases.iter().enumerate() {
                    if let Ok(n) = r.parse::<u32>() {
                        if n <= minor {
                            best = i;
                        }
                    }
                }
                best
            }
        }
    }

    pub(crate) fn fields_of(&self, msg: u32) -> &[Field] {
        let m = &self.messages[msg as usize];
        &self.fields[m.fields.start as usize..m.fields.end as usize]
    }

    /// The per-message views for one release, built on first use.
    pub(crate) fn views(&self, release: usize) -> &[MsgView] {
        self.views[release]
            .get_or_init(|| (0..self.messages.len() as u32).map(|m| self.build_view(m, release)).collect())
    }

    fn build_view(&self, msg: u32, release: usize) -> MsgView {
        let m = &self.messages[msg as usize];
        let base = m.fields.start;
        let own = self.fields_of(msg);
        let bit = 1u64 << release;
        // How far the nearest release a row is valid in lies from this one.
        let dist = |mask: u64| {
            (0..64).filter(|b| mask & (1 << b) != 0).map(|b: usize| b.abs_diff(release)).min().unwrap_or(usize::MAX)
        };
        // The rows of one field across releases: those with its number or, for rows without
        // one (the inline TypeMeta that renders `kind` and `apiVersion`), its JSON name and
        // element.
        let same_field = |f: &Field, g: &Field| {
            if f.num != 0 {
                g.num == f.num
            } else {
                g.num == 0 && g.json == f.json && g.elem == f.elem
            }
        };
        // The rows valid in the release; for a field with none (removed before it, or newer
        // than it, as in a message newer than the release: networking.k8s.io/v1 Ingress
        // read with 1.16's rules), the nearest release's row.
        let mut chosen: Vec<u32> = Vec::new();
        for (i, f) in own.iter().enumerate() {
            let rows = || own.iter().enumerate().filter(|(_, g)| same_field(f, g));
            let keep = f.mask & bit != 0
                || (!rows().any(|(_, g)| g.mask & bit != 0)
                    && rows().min_by_key(|(_, g)| dist(g.mask)).map(|(j, _)| j) == Some(i));
            if keep {
                chosen.push(base + i as u32);
            }
        }
        chosen.sort_by_key(|&i| (self.fields[i as usize].order, self.fields[i as usize].num));
        let max = chosen.iter().map(|&i| self.fields[i as usize].num).max().unwrap_or(0);
        let mut by_num = vec![u16::MAX; max as usize + 1];
        for (pos, &i) in chosen.iter().enumerate() {
            let n = self.fields[i as usize].num;
            if n != 0 {
                by_num[n as usize] = pos as u16;
            }
        }
        let quiet_when_absent = chosen
            .iter()
            .map(|&i| {
                let f = &self.fields[i as usize];
                let omitted = f.mask & bit == 0 || !matches!(f.omit, Omit::Never | Omit::Inline);
                omitted && !(f.num == 0 && f.inline) && f.json != "metadata"
            })
            .collect();
        MsgView { order: chosen.into_boxed_slice(), by_num: by_num.into_boxed_slice(), quiet_when_absent }
    }
}
