//! The cleaned YAML of an object stored as JSON (custom resources, mostly), without
//! serde_json's `Value` tree.
//!
//! A `Value` copies every key and string into its own allocation and hashes every key
//! into an insertion-ordered map (SipHash): for the 16k custom resources of the 2 GiB
//! benchmark snapshot, that tree was a tenth of `extract -A`'s instructions. The YAML sorts
//! keys anyway, so a map here is the list of its members, and a string without escapes is
//! borrowed from the stored bytes. The tree path ([`crate::Decoder::decode`] with
//! [`LeaveOut::dropped_by_cleaning`], then [`crate::clean::clean`]) stays the reference.
//! The rules every object gets (metadata, last-applied, owner references, templates,
//! `status`) clean this tree with the same code as a `Value` ([`CleanTree`]); where the
//! tree path would do anything beyond them (kinds with rules of their own, a key given
//! twice, bytes that do not parse), this gives up and the caller takes that path.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

use crate::clean::{
    clean_every_object, group_of_api_version, skip_needs_content, CleanOptions, CleanTree, RuleKind, SkipFacts,
};
use crate::decode::LeaveOut;
use crate::json_read::Level;
use crate::yaml::{tree_to_yaml_string, View, YamlTree};

/// A JSON value: strings borrowed from the stored bytes where they have no escapes, an
/// object's members kept in a list, in their order.
#[derive(Debug, Clone, PartialEq)]
enum Node<'v> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'v, str>),
    Array(Vec<Node<'v>>),
    Object(Vec<(Cow<'v, str>, Node<'v>)>),
}

impl<'v> Node<'v> {
    /// The member `key` of an object (keys are unique: the parse gives up on repeats).
    fn get(&self, key: &str) -> Option<&Node<'v>> {
        match self {
            Node::Object(members) => members.iter().find_map(|(k, v)| (k == key).then_some(v)),
            _ => None,
        }
    }

    fn at(&self, path: &[&str]) -> Option<&Node<'v>> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    fn str_at(&self, path: &[&str]) -> Option<&str> {
        match self.at(path)? {
            Node::String(s) => Some(s),
            _ => None,
        }
    }
}

impl CleanTree for Node<'_> {
    fn member(&self, key: &str) -> Option<&Self> {
        self.get(key)
    }

    fn member_mut(&mut self, key: &str) -> Option<&mut Self> {
        match self {
            Node::Object(members) => members.iter_mut().find_map(|(k, v)| (k == key).then_some(v)),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    fn is_empty_object(&self) -> bool {
        matches!(self, Node::Object(members) if members.is_empty())
    }

    fn items_mut(&mut self) -> &mut [Self] {
        match self {
            Node::Array(items) => items,
            _ => &mut [],
        }
    }

    fn remove_members(&mut self, keys: &[&str]) -> bool {
        match self {
            Node::Object(members) => {
                let before = members.len();
                members.retain(|(k, _)| !keys.contains(&k.as_ref()));
                members.len() != before
            }
            _ => false,
        }
    }
}

impl<'v> YamlTree for Node<'v> {
    type Entries<'t>
        = std::iter::Map<std::slice::Iter<'t, (Cow<'v, str>, Node<'v>)>, MemberOf<'t, 'v>>
    where
        Self: 't;

    fn view<'s>(&'s self) -> View<'s, Self> {
        match self {
            Node::Null => View::Null,
            Node::Bool(b) => View::Bool(*b),
            Node::Number(n) => View::Number(n),
            Node::String(s) => View::String(s),
            Node::Array(items) => View::Array(items),
            Node::Object(members) => View::Object(members.iter().map(member_of as MemberOf<'s, 'v>)),
        }
    }
}

type MemberOf<'t, 'v> = fn(&'t (Cow<'v, str>, Node<'v>)) -> (&'t str, &'t Node<'v>);

fn member_of<'t, 'v>((key, value): &'t (Cow<'v, str>, Node<'v>)) -> (&'t str, &'t Node<'v>) {
    (key, value)
}

/// An object stored as JSON, parsed for its cleaned YAML. The skips read it as they read a
/// decoded object ([`SkipFacts`]).
#[derive(Debug, Clone)]
pub struct JsonObject<'v> {
    root: Node<'v>,
}

impl<'v> JsonObject<'v> {
    /// A value stored as JSON, parsed as the tree path parses it for the cleaned YAML
    /// ([`LeaveOut::dropped_by_cleaning`]): `None` when it is not JSON, not an object, does
    /// not parse, or has a key given twice (the tree path then decides, and reports).
    #[doc(hidden)]
    pub fn parse(value: &'v [u8]) -> Option<JsonObject<'v>> {
        if value.trim_ascii_start().first() != Some(&b'{') {
            return None;
        }
        let root = parse(value, LeaveOut::dropped_by_cleaning()).ok()?;
        matches!(root, Node::Object(_)).then_some(JsonObject { root })
    }

    /// The YAML the tree path writes for this object with the default cleaning (owner
    /// references kept if asked), or why it must write it: kinds whose cleaning has rules
    /// beyond the metadata, `status` and templates, and those whose skips need more than
    /// [`SkipFacts`] tells here (see [`skip_needs_content`]).
    #[doc(hidden)]
    pub fn clean_yaml(mut self, keep_owner_references: bool) -> Result<String, &'static str> {
        let kind = RuleKind::of_kind(group_of_api_version(self.api_version()), self.kind());
        if kind != RuleKind::Other || skip_needs_content(&self) {
            return Err("a kind with rules of its own");
        }
        clean_every_object(&mut self.root, &CleanOptions { keep_owner_references, ..CleanOptions::default() });
        tree_to_yaml_string(&self.root, 4096).map_err(|_| "too deep")
    }
}

impl SkipFacts for JsonObject<'_> {
    fn api_version(&self) -> &str {
        self.root.str_at(&["apiVersion"]).unwrap_or("")
    }

    fn kind(&self) -> &str {
        self.root.str_at(&["kind"]).unwrap_or("")
    }

    fn name(&self) -> Option<Cow<'_, str>> {
        self.root.str_at(&["metadata", "name"]).map(Cow::Borrowed)
    }

    fn namespace(&self) -> Option<Cow<'_, str>> {
        self.root.str_at(&["metadata", "namespace"]).map(Cow::Borrowed)
    }

    fn label(&self, key: &str) -> Option<Cow<'_, str>> {
        self.root.str_at(&["metadata", "labels", key]).map(Cow::Borrowed)
    }

    fn annotation(&self, key: &str) -> Option<Cow<'_, str>> {
        self.root.str_at(&["metadata", "annotations", key]).map(Cow::Borrowed)
    }

    fn controlled(&self) -> bool {
        match self.root.at(&["metadata", "ownerReferences"]) {
            Some(Node::Array(references)) => references.iter().any(|r| r.get("controller") == Some(&Node::Bool(true))),
            _ => false,
        }
    }

    /// Not kept: [`JsonObject::clean_yaml`] gives up on the kinds whose skips read it.
    fn content(&self, _key: &str) -> Option<&Value> {
        None
    }
}

/// Parse `value`, leaving out what `leave_out` names as [`crate::json_read`] does.
fn parse(value: &[u8], leave_out: LeaveOut) -> serde_json::Result<Node<'_>> {
    let mut de = serde_json::Deserializer::from_slice(value);
    let node = NodeSeed(Some(Level::Top(leave_out))).deserialize(&mut de)?;
    de.end()?;
    Ok(node)
}

/// Parses one node; maps at `Some(level)` leave out what that level leaves out.
#[derive(Clone, Copy)]
struct NodeSeed(Option<Level>);

impl<'de> DeserializeSeed<'de> for NodeSeed {
    type Value = Node<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Makes what `Value`'s own visitor makes, borrowed where it can be.
impl<'de> Visitor<'de> for NodeSeed {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node<'de>, E> {
        Ok(Number::from_f64(v).map_or(Node::Null, Node::Number))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node<'de>, D::Error> {
        NodeSeed(None).deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(NodeSeed(None))? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let mut members: Vec<(Cow<'de, str>, Node<'de>)> = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let below = match self.0 {
                Some(level) => level.below(&key),
                None => Ok(None),
            };
            match below {
                // Left out: a key given twice keeps its last value, so a left-out one
                // removes what came before.
                Err(()) => {
                    map.next_value::<IgnoredAny>()?;
                    members.retain(|(k, _)| *k != key);
                }
                Ok(level) => {
                    let value = map.next_value_seed(NodeSeed(level))?;
                    members.push((key, value));
                }
            }
        }
        if has_repeats(&members) {
            // `Value` keeps the last; the tree path handles such rare input.
            return Err(A::Error::custom("a key given twice"));
        }
        Ok(Node::Object(members))
    }
}

/// Whether a key is given twice.
fn has_repeats(members: &[(Cow<'_, str>, Node<'_>)]) -> bool {
    if members.len() <= 16 {
        return members.iter().enumerate().any(|(i, (k, _))| members[..i].iter().any(|(j, _)| j == k));
    }
    let mut keys: Vec<&str> = members.iter().map(|(k, _)| k.as_ref()).collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}

/// A map key, borrowed where it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clean::CleanOptions;

    /// What the tree path writes: the decode the cleaning assumes, the cleaning, the YAML.
    fn tree_yaml(value: &[u8], keep_owner_references: bool) -> String {
        let mut object = crate::json_read::parse(value, LeaveOut::dropped_by_cleaning()).unwrap();
        crate::clean::clean(&mut object, &CleanOptions { keep_owner_references, ..Default::default() });
        crate::yaml::to_yaml_string(&object).unwrap()
    }

    fn direct_yaml(value: &[u8], keep_owner_references: bool) -> Result<String, &'static str> {
        JsonObject::parse(value).ok_or("no parse")?.clean_yaml(keep_owner_references)
    }

    #[test]
    fn writes_what_the_tree_path_writes() {
        let text = br#"{"apiVersion":"argoproj.io/v1alpha1","kind":"Application","metadata":{"name":"web",
            "namespace":"argocd","uid":"u","resourceVersion":"7","generation":3,"creationTimestamp":"2024-01-01T00:00:00Z",
            "managedFields":[{"manager":"m"}],"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"},
            "labels":{"app":"web","z":"y","on":"true","a-1":"x\u0085y"},"ownerReferences":[{"kind":"K","name":"n","controller":false}]},
            "spec":{"replicas":3,"ratio":1.50,"big":1e21,"neg":-4,"text":"a\nb\n","empty":{},"none":[],"nul":null,
            "template":{"metadata":{"creationTimestamp":null,"labels":{"x":"y"}}},
            "jobTemplate":{"metadata":{"creationTimestamp":null},"spec":{"template":{"metadata":{"creationTimestamp":null}}}},
            "volumeClaimTemplates":[{"metadata":{"creationTimestamp":null,"name":"d"},"status":{"phase":"Bound"}},7],
            "escaped":"tab\there \"q\" \u00e9","list":[{"b":1,"a":[1,2,[]]},"yes","1.0","",true]},"status":{"ok":true}}"#;
        for keep in [false, true] {
            assert_eq!(direct_yaml(text, keep).unwrap(), tree_yaml(text, keep), "keep owner references: {keep}");
        }
        // An annotations map left empty goes, with or without the last-applied annotation.
        for annotations in [r#"{}"#, r#"{"kubectl.kubernetes.io/last-applied-configuration":"x"}"#] {
            let text = format!(r#"{{"apiVersion":"x/v1","kind":"K","metadata":{{"annotations":{annotations}}}}}"#);
            assert_eq!(direct_yaml(text.as_bytes(), false).unwrap(), tree_yaml(text.as_bytes(), false));
        }
    }

    #[test]
    fn gives_up_where_the_tree_path_does_more() {
        // Kinds with rules of their own, and those whose skips read more than the metadata.
        for (api_version, kind) in [("v1", "Service"), ("v1", "Pod"), ("batch/v1", "Job"), ("v1", "ServiceAccount")] {
            let text = format!(r#"{{"apiVersion":"{api_version}","kind":"{kind}","metadata":{{"name":"n"}}}}"#);
            assert!(direct_yaml(text.as_bytes(), false).is_err(), "{kind}");
        }
        // A key given twice, anywhere; a value that is not an object, not JSON, or damaged.
        for text in [
            r#"{"apiVersion":"x/v1","kind":"K","kind":"L"}"#,
            r#"{"apiVersion":"x/v1","kind":"K","spec":{"a":1,"b":2,"a":3}}"#,
            r#"[1,2]"#,
            r#"{"apiVersion":"x/v1","kind":"K""#,
            r#"{"a":1} x"#,
            "k8s\0\n",
        ] {
            assert!(direct_yaml(text.as_bytes(), false).is_err(), "{text}");
        }
        // A key given twice and left out is no repeat: `Value` leaves it out too.
        let text = br#"{"apiVersion":"x/v1","kind":"K","status":1,"status":2,"metadata":{"managedFields":[],"managedFields":[]}}"#;
        assert_eq!(direct_yaml(text, false).unwrap(), tree_yaml(text, false));
    }

    #[test]
    fn the_skips_read_what_the_tree_tells() {
        let text = br#"{"apiVersion":"monitoring.coreos.com/v1","kind":"ServiceMonitor","metadata":{"name":"m",
            "namespace":"ns","labels":{"kube-aggregator.kubernetes.io/automanaged":"onstart"},
            "annotations":{"apf.kubernetes.io/autoupdate-spec":"true"},
            "ownerReferences":[{"controller":false},{"controller":true}]}}"#;
        let tree = crate::json_read::parse(text, LeaveOut::dropped_by_cleaning()).unwrap();
        let peek = JsonObject::parse(text).unwrap();
        assert_eq!(peek.api_version(), tree.api_version());
        assert_eq!(peek.kind(), tree.kind());
        assert_eq!(peek.name(), tree.name());
        assert_eq!(peek.namespace(), tree.namespace());
        for key in crate::clean::SKIP_LABELS {
            assert_eq!(peek.label(key), tree.label(key), "{key}");
        }
        for key in crate::clean::SKIP_ANNOTATIONS {
            assert_eq!(peek.annotation(key), tree.annotation(key), "{key}");
        }
        assert!(peek.controlled() && tree.controlled());
    }
}
