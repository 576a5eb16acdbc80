//! Questions answered straight from a stored value's protobuf bytes, without decoding it.
//!
//! `extract` skips objects owned by a controller (most Pods, ReplicaSets and
//! EndpointSlices of a cluster). Deciding that from a metadata-only decode still builds
//! every label, annotation and reference of the object; reading the one flag from the
//! wire builds nothing. Likewise, before its first object it learns which Services have a
//! selector (their Endpoints are the endpoints controller's), from tens of thousands of
//! Services in a large cluster. The answers are the ones [`crate::clean::is_controlled`]
//! and [`crate::clean::selector_owner`] give on the decoded object: the walks below follow
//! the renderer's rules for which occurrence of a field counts and which wire types it
//! accepts.

use std::borrow::Cow;

use serde_json::Value;

use crate::clean::SkipFacts;
use crate::decode::{Decoder, PROTO_PREFIX};
use crate::render::utf8_lossy;
use crate::schema::{Elem, MsgView, Schema, Shape};
use crate::special::Special;
use crate::wire::{Fields, WireField, WireValue};

const PROTOBUF_CONTENT_TYPE: &[u8] = b"application/vnd.kubernetes.protobuf";

impl Decoder {
    /// Whether the object in a protobuf value has an owner reference with
    /// `controller: true`, read from the bytes alone. `None` when the bytes cannot
    /// answer: JSON, CBOR or encrypted values, an envelope the decoder would treat
    /// specially, or malformed wire data on the path read (decode the value to learn
    /// why).
    ///
    /// Only the envelope, the object's top-level fields, its metadata's fields and the
    /// owner references are read: an object whose metadata is damaged deeper than that
    /// (say in a label) gets an answer here and an error from [`Decoder::decode`].
    pub fn controlled(&self, value: &[u8]) -> Option<bool> {
        let (message, raw) = self.peek_object(value)?;
        let Some(metadata) = self.peek_metadata(message, raw)? else { return Some(false) };
        let schema = self.schema;
        let views = schema.views(self.release);
        let meta_view = &views[schema.well_known.object_meta as usize];
        let mut controlled = false;
        for f in Fields::new(metadata) {
            let f = f.ok()?;
            let Some(field) = field_of(schema, meta_view, f.number) else { continue };
            let (Elem::Message(owner_reference), WireValue::Bytes(reference)) = (field.elem, f.value) else { continue };
            if field.json != "ownerReferences" {
                continue;
            }
            // The last occurrence of `controller` counts, as for any singular field.
            controlled |= self.controller_flag(&views[owner_reference as usize], reference)?;
        }
        Some(controlled)
    }

    /// The `(namespace, name)` of an object whose `spec.selector` map has an entry (a
    /// Service with a selector, whose Endpoints the endpoints controller manages), read from
    /// the bytes alone: `Some(None)` when it has none, or no namespace or name. `None` when
    /// the bytes cannot answer, as for [`Decoder::controlled`], and for a kind the schema
    /// does not know or whose selector is not a map.
    ///
    /// Only the envelope, the object's top-level fields, its metadata's and its spec's
    /// fields and the selector's entries are read: an object damaged elsewhere gets an
    /// answer here and an error from [`Decoder::decode`].
    pub fn selector_owner(&self, value: &[u8]) -> Option<Option<(String, String)>> {
        let (message, raw) = self.peek_object(value)?;
        let message = message?;
        let schema = self.schema;
        let views = schema.views(self.release);
        // The renderer keeps the last occurrence of a singular field, of the wire type it
        // expects.
        let (mut namespace, mut name): (&[u8], &[u8]) = (&[], &[]);
        if let Some(metadata) = self.peek_metadata(Some(message), raw)? {
            let meta_view = &views[schema.well_known.object_meta as usize];
            for f in Fields::new(metadata) {
                let f = f.ok()?;
                if let (Some(field), WireValue::Bytes(b)) = (field_of(schema, meta_view, f.number), f.value) {
                    match (field.json, field.elem) {
                        ("namespace", Elem::String) => namespace = b,
                        ("name", Elem::String) => name = b,
                        _ => {}
                    }
                }
            }
        }
        let spec = self.last_message_field(message, raw, "spec")?;
        let mut has_selector = false;
        if let Some((spec_message, spec)) = spec {
            for f in Fields::new(spec) {
                let f = f.ok()?;
                let Some(field) = field_of(schema, &views[spec_message as usize], f.number) else { continue };
                if field.json != "selector" {
                    continue;
                }
                let (Shape::Map, WireValue::Bytes(entry)) = (field.shape, f.value) else { return None };
                // A malformed entry fails the decode.
                for g in Fields::new(entry) {
                    g.ok()?;
                }
                has_selector = true;
            }
        }
        // Empty strings are omitted, as if absent.
        let found = has_selector && !namespace.is_empty() && !name.is_empty();
        Some(found.then(|| (utf8_lossy(namespace), utf8_lossy(name))))
    }

    /// [`skip_needs_content`](crate::clean::skip_needs_content) for an object whose
    /// metadata-first decode is `object`, with its stored `value` at hand to answer what the
    /// bytes can: a Secret's skip needs more than its metadata only if it is a token Secret,
    /// and its `type` is read from the bytes; a ServiceAccount's only if it is named
    /// `default` (whether it has `imagePullSecrets` decides). `true` when the bytes cannot
    /// tell (JSON values, malformed wire data).
    pub fn skip_needs_content(&self, object: &(impl SkipFacts + ?Sized), value: &[u8]) -> bool {
        if !crate::clean::skip_needs_content(object) {
            return false;
        }
        match object.kind() {
            "ServiceAccount" => object.name().as_deref() == Some("default"),
            "Secret" => self.token_secret(value) != Some(false),
            _ => true,
        }
    }

    /// What [`skip_reason`](crate::clean::skip_reason) and
    /// [`skip_needs_content`](Self::skip_needs_content) read of a protobuf value's object,
    /// read from the bytes: `kind`, `apiVersion`, and of the metadata `name`, `namespace`,
    /// the labels and annotations the skips read, and whether an owner reference is a
    /// controller's. On it they answer what they answer for the decoded object, and no tree
    /// is built (a fifth of `extract`'s work once went into metadata trees). `None` when the
    /// bytes cannot answer, as for [`Decoder::controlled`], for a kind the schema does not
    /// know, and where the decoder would warn about the metadata fields read.
    ///
    /// Where it answers, its [`controlled`](SkipFacts::controlled) is what
    /// [`Decoder::controlled`] answers: one walk of the metadata serves both questions.
    pub fn peek_for_skips<'v>(&self, value: &'v [u8]) -> Option<SkipsPeek<'v>> {
        let (message, envelope) = self.peek_envelope(value)?;
        let schema = self.schema;
        let mut peeked = SkipsPeek {
            kind: utf8(envelope.kind)?,
            api_version: utf8(envelope.api_version)?,
            value,
            message,
            raw: envelope.raw,
            metadata: None,
            controlled: false,
        };
        let Some(metadata) = self.peek_metadata(Some(message?), envelope.raw)? else { return Some(peeked) };
        let views = schema.views(self.release);
        let meta_view = &views[schema.well_known.object_meta as usize];
        let mut meta = PeekedMetadata::default();
        for f in Fields::new(metadata) {
            let f = f.ok()?;
            let Some(field) = field_of(schema, meta_view, f.number) else { continue };
            let (kept, found): (&[&str], &mut [_]) = match field.json {
                "name" | "namespace" => {
                    // The last occurrence counts; an empty string is omitted.
                    let (Elem::String, WireValue::Bytes(b)) = (field.elem, f.value) else { return None };
                    let slot = if field.json == "name" { &mut meta.name } else { &mut meta.namespace };
                    *slot = Some(b).filter(|b| !b.is_empty());
                    continue;
                }
                "labels" => (crate::clean::SKIP_LABELS, &mut meta.labels),
                "annotations" => (crate::clean::SKIP_ANNOTATIONS, &mut meta.annotations),
                "ownerReferences" => {
                    let (Elem::Message(owner_reference), WireValue::Bytes(reference)) = (field.elem, f.value) else {
                        return None;
                    };
                    peeked.controlled |= self.controller_flag(&views[owner_reference as usize], reference)?;
                    continue;
                }
                _ => continue,
            };
            let (Shape::Map, WireValue::Bytes(entry)) = (field.shape, f.value) else { return None };
            let (key, text) = map_entry(entry)?;
            // Bytes compared: an invalid key reads with U+FFFD, never as one of these.
            if let Some(i) = kept.iter().position(|k| k.as_bytes() == key) {
                found[i] = Some(text);
            }
        }
        peeked.metadata = Some(meta);
        Some(peeked)
    }

    /// An owner reference's `controller` flag, as the renderer reads it (the last
    /// occurrence of the bool); `None` on malformed wire data.
    fn controller_flag(&self, view: &MsgView, reference: &[u8]) -> Option<bool> {
        let mut controller = false;
        for g in Fields::new(reference) {
            let g = g.ok()?;
            if let (Some(field), WireValue::Varint(v)) = (field_of(self.schema, view, g.number), g.value) {
                if field.json == "controller" && field.elem == Elem::Bool {
                    controller = v != 0;
                }
            }
        }
        Some(controller)
    }

    /// Whether a protobuf value's Secret has the token type, as the renderer reads its
    /// `type` (the last occurrence of the string field); `None` when the bytes cannot tell.
    fn token_secret(&self, value: &[u8]) -> Option<bool> {
        let (message, raw) = self.peek_object(value)?;
        token_secret(self.schema, &self.schema.views(self.release)[message? as usize], raw)
    }

    /// The message a protobuf value's object is rendered as (`None`: a kind the schema does
    /// not know) and the object's bytes. `None` when the decoder would not render the value
    /// from protobuf as usual.
    fn peek_object<'v>(&self, value: &'v [u8]) -> Option<(Option<u32>, &'v [u8])> {
        self.peek_envelope(value).map(|(message, envelope)| (message, envelope.raw))
    }

    /// [`peek_object`](Self::peek_object), with the whole envelope.
    fn peek_envelope<'v>(&self, value: &'v [u8]) -> Option<(Option<u32>, Envelope<'v>)> {
        let envelope = Envelope::of(value)?;
        let schema = self.schema;
        let message = schema
            .message_for_gvk(std::str::from_utf8(envelope.api_version).ok()?, std::str::from_utf8(envelope.kind).ok()?);
        if message.is_some_and(|id| schema.messages[id as usize].special != Special::None) {
            return None;
        }
        Some((message, envelope))
    }

    /// The bytes of an object's metadata, `Some(None)` when it has none; `None` on malformed
    /// wire data.
    fn peek_metadata<'v>(&self, message: Option<u32>, raw: &'v [u8]) -> Option<Option<&'v [u8]>> {
        let Some(id) = message else {
            // A kind the schema does not know: its first field 1 is read as ObjectMeta.
            let mut metadata = None;
            for f in Fields::new(raw) {
                let f = f.ok()?;
                if let (1, WireValue::Bytes(b), None) = (f.number, f.value, metadata) {
                    metadata = Some(b);
                }
            }
            return Some(metadata);
        };
        let object_meta = self.schema.well_known.object_meta;
        let metadata = self.last_message_field(id, raw, "metadata")?;
        Some(metadata.filter(|&(t, _)| t == object_meta).map(|(_, b)| b))
    }

    /// The message type and bytes of the last occurrence of `message`'s message field
    /// `json` (the one the renderer keeps, as of any singular field), `Some(None)` when it
    /// is absent; `None` on malformed wire data.
    fn last_message_field<'v>(&self, message: u32, buf: &'v [u8], json: &str) -> Option<Option<(u32, &'v [u8])>> {
        let schema = self.schema;
        let view = &schema.views(self.release)[message as usize];
        let mut last = None;
        for f in Fields::new(buf) {
            let f = f.ok()?;
            if let (Some(field), WireValue::Bytes(b)) = (field_of(schema, view, f.number), f.value) {
                if let (true, Elem::Message(t)) = (field.json == json, field.elem) {
                    last = Some((t, b));
                }
            }
        }
        Some(last)
    }
}

/// The `k8s\0` envelope of a protobuf value, as the decoder reads it.
pub(crate) struct Envelope<'v> {
    pub(crate) api_version: &'v [u8],
    pub(crate) kind: &'v [u8],
    /// The object's bytes.
    pub(crate) raw: &'v [u8],
}

impl<'v> Envelope<'v> {
    /// `None` for a value that is not protobuf, a malformed envelope, or one the decoder
    /// does not render from protobuf as usual (a content encoding or another content type).
    pub(crate) fn of(value: &'v [u8]) -> Option<Envelope<'v>> {
        let body = value.strip_prefix(PROTO_PREFIX)?;
        let (mut api_version, mut kind, mut raw): (&[u8], &[u8], Option<&[u8]>) = (&[], &[], None);
        for f in Fields::new(body) {
            match f.ok()? {
                f if f.number == 1 => {
                    let WireValue::Bytes(type_meta) = f.value else { return None };
                    for g in Fields::new(type_meta) {
                        match g.ok()? {
                            g if g.number == 1 => api_version = bytes(g.value)?,
                            g if g.number == 2 => kind = bytes(g.value)?,
                            _ => return None,
                        }
                    }
                }
                f if f.number == 2 => raw = Some(bytes(f.value)?),
                // Content encoding: the decoder refuses the value.
                f if f.number == 3 && !bytes(f.value)?.is_empty() => return None,
                // Content type: anything but protobuf is decoded otherwise.
                f if f.number == 4 && !matches!(bytes(f.value)?, b"" | PROTOBUF_CONTENT_TYPE) => return None,
                f if f.number == 3 || f.number == 4 => {}
                _ => return None,
            }
        }
        Some(Envelope { api_version, kind, raw: raw? })
    }
}

/// The kind a protobuf value's envelope names, which is the decoded object's `kind`; `None`
/// when [`Envelope::of`] cannot tell (decode the value to learn its kind).
pub(crate) fn envelope_kind(value: &[u8]) -> Option<&[u8]> {
    Envelope::of(value).map(|e| e.kind)
}

fn bytes(v: WireValue<'_>) -> Option<&[u8]> {
    match v {
        WireValue::Bytes(b) => Some(b),
        _ => None,
    }
}

fn field_of<'s>(schema: &'s Schema, view: &MsgView, number: u32) -> Option<&'s crate::schema::Field> {
    view.position(number).map(|pos| &schema.fields[view.order[pos] as usize])
}

/// Whether the object `raw` of a message with `view` has the token Secret type, as the
/// renderer reads its `type` (the last occurrence of the string field); `None` on malformed
/// wire data.
pub(crate) fn token_secret(schema: &Schema, view: &MsgView, raw: &[u8]) -> Option<bool> {
    let mut token = false;
    for f in Fields::new(raw) {
        let f = f.ok()?;
        if let (Some(field), WireValue::Bytes(b)) = (field_of(schema, view, f.number), f.value) {
            if (field.json, field.elem, field.shape) == ("type", Elem::String, Shape::Single) {
                token = b == crate::clean::TOKEN_SECRET_TYPE.as_bytes();
            }
        }
    }
    Some(token)
}

/// What the skips read of a protobuf value's object, borrowed from its bytes
/// ([`Decoder::peek_for_skips`]).
pub struct SkipsPeek<'v> {
    /// Valid UTF-8: the schema named a message for them.
    kind: &'v str,
    api_version: &'v str,
    /// The value peeked at, the message its object is rendered as (`None`: a kind the
    /// schema does not know) and the object's bytes: what the direct path reads next
    /// ([`Decoder::clean_yaml_direct_peeked`]).
    value: &'v [u8],
    message: Option<u32>,
    raw: &'v [u8],
    /// `None` when the object has no metadata.
    metadata: Option<PeekedMetadata<'v>>,
    controlled: bool,
}

/// The metadata fields the skips read.
#[derive(Default)]
struct PeekedMetadata<'v> {
    name: Option<&'v [u8]>,
    namespace: Option<&'v [u8]>,
    /// The value of each of [`SKIP_LABELS`](crate::clean::SKIP_LABELS) present.
    labels: [Option<&'v [u8]>; crate::clean::SKIP_LABELS.len()],
    /// The value of each of [`SKIP_ANNOTATIONS`](crate::clean::SKIP_ANNOTATIONS) present.
    annotations: [Option<&'v [u8]>; crate::clean::SKIP_ANNOTATIONS.len()],
}

impl<'v> SkipsPeek<'v> {
    /// The value, its (apiVersion, kind), the message its object is rendered as and the
    /// object's bytes.
    pub(crate) fn for_direct_yaml(&self) -> (&'v [u8], (&'v str, &'v str), Option<u32>, &'v [u8]) {
        (self.value, (self.api_version, self.kind), self.message, self.raw)
    }
}

impl SkipFacts for SkipsPeek<'_> {
    fn api_version(&self) -> &str {
        self.api_version
    }

    fn kind(&self) -> &str {
        self.kind
    }

    fn name(&self) -> Option<Cow<'_, str>> {
        self.metadata.as_ref()?.name.map(String::from_utf8_lossy)
    }

    fn namespace(&self) -> Option<Cow<'_, str>> {
        self.metadata.as_ref()?.namespace.map(String::from_utf8_lossy)
    }

    fn label(&self, key: &str) -> Option<Cow<'_, str>> {
        let at = crate::clean::SKIP_LABELS.iter().position(|&k| k == key)?;
        self.metadata.as_ref()?.labels[at].map(String::from_utf8_lossy)
    }

    fn annotation(&self, key: &str) -> Option<Cow<'_, str>> {
        let at = crate::clean::SKIP_ANNOTATIONS.iter().position(|&k| k == key)?;
        self.metadata.as_ref()?.annotations[at].map(String::from_utf8_lossy)
    }

    fn controlled(&self) -> bool {
        self.controlled
    }

    /// The bytes tell none of it.
    fn content(&self, _key: &str) -> Option<&Value> {
        None
    }
}

fn utf8(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok()
}

/// A `map<string, string>` entry's key and value, as the renderer reads them (the last
/// occurrence of each; an absent value is empty); `None` on malformed wire data or a field
/// of another wire type, which the renderer warns about.
fn map_entry(entry: &[u8]) -> Option<(&[u8], &[u8])> {
    let (mut key, mut value): (&[u8], &[u8]) = (&[], &[]);
    for f in Fields::new(entry) {
        match f.ok()? {
            WireField { number: 1, value: WireValue::Bytes(b) } => key = b,
            WireField { number: 2, value: WireValue::Bytes(b) } => value = b,
            WireField { number: 1 | 2, .. } => return None,
            _ => {}
        }
    }
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::clean::{is_controlled, selector_owner};
    use crate::encode::Encoder;
    use crate::{DecodeOptions, Decoder, KubeVersion, LeaveOut};

    fn version() -> KubeVersion {
        KubeVersion::minor_release(30)
    }

    /// What `controlled` must agree with: the metadata-only decode `extract` makes.
    fn decoded_answer(value: &[u8]) -> Option<bool> {
        let options = DecodeOptions {
            leave_out: LeaveOut { all_but_metadata: true, managed_fields: true, status: true, ..Default::default() },
            ..Default::default()
        };
        Decoder::new(version()).decode(value, &options).ok().map(|d| is_controlled(&d.object))
    }

    fn pod(owner_references: Value) -> Vec<u8> {
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "x"},
                "ownerReferences": owner_references},
            "spec": {"containers": [{"name": "c", "image": "i"}]}});
        Encoder::new(version()).encode(&pod).unwrap()
    }

    fn owner(controller: Option<bool>) -> Value {
        let mut r = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u"});
        if let Some(c) = controller {
            r["controller"] = json!(c);
        }
        r
    }

    #[test]
    fn answers_as_the_decoded_metadata_does() {
        let cases = [
            (json!([]), false),
            (json!([owner(None)]), false),
            (json!([owner(Some(false))]), false),
            (json!([owner(Some(true))]), true),
            (json!([owner(Some(false)), owner(Some(true))]), true),
            (json!([owner(None), owner(Some(false))]), false),
        ];
        let decoder = Decoder::new(version());
        for (refs, want) in cases {
            let value = pod(refs.clone());
            assert_eq!(decoder.controlled(&value), Some(want), "{refs}");
            assert_eq!(decoded_answer(&value), Some(want), "{refs}");
        }
    }

    /// Every cut of `value`, and every copy with one of a few bits flipped in one byte.
    fn damaged(value: &[u8]) -> Vec<Vec<u8>> {
        let mut variants: Vec<Vec<u8>> = (0..value.len()).map(|n| value[..n].to_vec()).collect();
        for i in 0..value.len() {
            for bit in [0x01, 0x02, 0x08, 0x80] {
                let mut v = value.to_vec();
                v[i] ^= bit;
                variants.push(v);
            }
        }
        variants
    }

    /// Cut and flipped values: whenever both answer, they answer alike.
    #[test]
    fn damaged_values_never_disagree() {
        let decoder = Decoder::new(version());
        let mut answered = 0;
        for refs in [json!([owner(Some(true))]), json!([owner(Some(false)), owner(Some(true))]), json!([owner(None)])] {
            let value = pod(refs);
            for v in &damaged(&value) {
                if let (Some(peeked), Some(decoded)) = (decoder.controlled(v), decoded_answer(v)) {
                    assert_eq!(peeked, decoded, "{v:?}");
                    answered += 1;
                }
            }
        }
        assert!(answered > 100, "{answered}");
    }

    /// What `selector_owner` must agree with: the decode `extract` falls back to.
    fn decoded_selector_owner(value: &[u8]) -> Option<Option<(String, String)>> {
        let options = DecodeOptions {
            leave_out: LeaveOut { managed_fields: true, status: true, assigned_metadata: true, ..Default::default() },
            ..Default::default()
        };
        Decoder::new(version()).decode(value, &options).ok().map(|d| selector_owner(&d.object))
    }

    fn service(metadata: Value, selector: Option<Value>) -> Vec<u8> {
        let mut service = json!({"apiVersion": "v1", "kind": "Service", "metadata": metadata,
            "spec": {"ports": [{"port": 80}], "type": "ClusterIP"}});
        if let Some(selector) = selector {
            service["spec"]["selector"] = selector;
        }
        Encoder::new(version()).encode(&service).unwrap()
    }

    #[test]
    fn selector_owner_answers_as_the_decoded_object_does() {
        let named = json!({"name": "web", "namespace": "shop", "labels": {"app": "web"}});
        let owner = Some(("shop".to_string(), "web".to_string()));
        let cases = [
            (named.clone(), Some(json!({"app": "web"})), owner.clone()),
            (named.clone(), Some(json!({"app": "web", "tier": "front"})), owner),
            (named.clone(), Some(json!({})), None),
            (named, None, None),
            (json!({"name": "web"}), Some(json!({"app": "web"})), None),
            (json!({"namespace": "shop"}), Some(json!({"app": "web"})), None),
        ];
        let decoder = Decoder::new(version());
        for (metadata, selector, want) in cases {
            let value = service(metadata.clone(), selector.clone());
            assert_eq!(decoder.selector_owner(&value), Some(want.clone()), "{metadata} {selector:?}");
            assert_eq!(decoded_selector_owner(&value), Some(want), "{metadata} {selector:?}");
        }
    }

    /// Cut and flipped Services: whenever both answer, they answer alike.
    #[test]
    fn selector_owner_of_damaged_values_never_disagrees() {
        let decoder = Decoder::new(version());
        let (mut answered, mut found) = (0, 0);
        let metadata = json!({"name": "web", "namespace": "shop"});
        for selector in [Some(json!({"app": "web"})), None] {
            let value = service(metadata.clone(), selector);
            for v in &damaged(&value) {
                if let (Some(peeked), Some(decoded)) = (decoder.selector_owner(v), decoded_selector_owner(v)) {
                    assert_eq!(peeked, decoded, "{v:?}");
                    answered += 1;
                    found += usize::from(peeked.is_some());
                }
            }
        }
        assert!(answered > 100 && found > 20, "{answered} {found}");
    }

    /// Kinds whose selector is not a map (a Deployment's is a LabelSelector) are left to
    /// the decode.
    #[test]
    fn selectors_that_are_not_maps_are_not_answered() {
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "n"},
            "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": {"spec": {"containers": []}}}});
        let value = Encoder::new(version()).encode(&deployment).unwrap();
        assert_eq!(Decoder::new(version()).selector_owner(&value), None);
    }

    #[test]
    fn other_encodings_are_not_answered() {
        let decoder = Decoder::new(version());
        let json = br#"{"apiVersion":"v1","kind":"Pod","metadata":{"ownerReferences":[{"controller":true}]}}"#;
        assert_eq!(decoder.controlled(json), None);
        assert_eq!(decoder.controlled(b"k8s:enc:aescbc:v1:key:xxxx"), None);
        assert_eq!(decoder.controlled(b""), None);
        let json = br#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"a","namespace":"b"},"spec":{"selector":{"a":"b"}}}"#;
        assert_eq!(decoder.selector_owner(json), None);
    }
}
