//! JSON text as Go writes it, in the two key orders users meet.
//!
//! Decoded objects keep the API server's key order (Go struct declaration order): that is
//! what the API server stores and serves, and what `auger decode` prints. `kubectl get -o
//! json` prints something else: kubectl decodes every object it gets into `Unstructured`, a
//! Go map, and `encoding/json` writes a map's keys sorted by their bytes, at every level.
//! Both share Go's indentation and escaping.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// Serialise a value as `kubectl get -o json` prints it: keys sorted by bytes at every
/// level, indented by four spaces (Go's `json.MarshalIndent`), Go's HTML-safe escaping, and
/// a final newline.
pub fn to_kubectl_json_pretty(v: &Value) -> String {
    pretty(&SortedKeys(v))
}

/// [`to_kubectl_json_pretty`] on one line: keys sorted by bytes, compact, no final newline.
pub fn to_kubectl_json(v: &Value) -> String {
    go_escape(serde_json::to_string(&SortedKeys(v)).expect("a serde_json::Value always serialises"))
}

/// Serialise a value in its own key order (the API server's, for decoded objects) as Go's
/// `json.MarshalIndent` with four spaces writes it, with Go's HTML-safe escaping and a final
/// newline.
pub fn to_go_json_pretty(v: &Value) -> String {
    pretty(v)
}

/// Serialise a value exactly as the API server's JSON encoder writes it
/// (compact, Go's HTML-safe escaping of `<`, `>`, `&`, U+2028, U+2029), without
/// the trailing newline `json.Encoder.Encode` adds.
pub fn to_go_json(v: &Value) -> String {
    go_escape(serde_json::to_string(v).expect("a serde_json::Value always serialises"))
}

fn pretty(v: &impl Serialize) -> String {
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    v.serialize(&mut ser).expect("a serde_json::Value always serialises");
    let mut out = go_escape(String::from_utf8(buf).expect("serde_json writes UTF-8"));
    out.push('\n');
    out
}

/// A value whose objects serialise with their keys sorted by bytes, as Go's
/// `encoding/json` writes a `map[string]interface{}`.
struct SortedKeys<'a>(&'a Value);

impl Serialize for SortedKeys<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                // Keys of a map are distinct, so an unstable sort gives the one order.
                entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                let mut out = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    out.serialize_entry(key, &SortedKeys(value))?;
                }
                out.end()
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(SortedKeys)),
            scalar => scalar.serialize(serializer),
        }
    }
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// What `kubectl get -o json` prints for a ConfigMap whose stored form starts with
    /// `kind`, `apiVersion`, `metadata.name`: every object's keys sorted, arrays in order,
    /// and Go's escaping.
    #[test]
    fn kubectl_sorts_keys_at_every_level() {
        let stored = json!({
            "kind": "ConfigMap",
            "apiVersion": "v1",
            "metadata": {"name": "a", "namespace": "b", "labels": {"z": "1", "a": "2"}},
            "data": {"key": "<html> & more"},
            "list": [{"name": "x", "image": "y"}, {"b": [], "a": {}}]
        });
        let expected = r#"{
    "apiVersion": "v1",
    "data": {
        "key": "\u003chtml\u003e \u0026 more"
    },
    "kind": "ConfigMap",
    "list": [
        {
            "image": "y",
            "name": "x"
        },
        {
            "a": {},
            "b": []
        }
    ],
    "metadata": {
        "labels": {
            "a": "2",
            "z": "1"
        },
        "name": "a",
        "namespace": "b"
    }
}
"#;
        assert_eq!(to_kubectl_json_pretty(&stored), expected);
        assert_eq!(
            to_kubectl_json(&stored),
            r#"{"apiVersion":"v1","data":{"key":"\u003chtml\u003e \u0026 more"},"kind":"ConfigMap","list":[{"image":"y","name":"x"},{"a":{},"b":[]}],"metadata":{"labels":{"a":"2","z":"1"},"name":"a","namespace":"b"}}"#
        );
        // The API server's order is kept by the other pair.
        assert!(to_go_json_pretty(&stored).starts_with("{\n    \"kind\": \"ConfigMap\",\n    \"apiVersion\""));
        assert!(to_go_json(&stored).starts_with(r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a""#));
    }

    /// Go compares keys as bytes: upper case before lower case, and by UTF-8 bytes beyond
    /// ASCII.
    #[test]
    fn keys_compare_as_bytes() {
        let v = json!({"b": 1, "B": 2, "é": 3, "a-b": 4, "a": 5, "a.b": 6});
        assert_eq!(to_kubectl_json(&v), r#"{"B":2,"a":5,"a-b":4,"a.b":6,"b":1,"é":3}"#);
    }
}
