//! Building blocks of Kubernetes objects as the API server renders them: timestamps,
//! object metadata, owner references, and `managedFields` derived from the fields a
//! manager wrote.

use serde_json::{Map, Value};

/// The cluster's clock starts here: 2024-05-06T08:00:00Z.
pub const EPOCH: i64 = 1_714_982_400;

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, u32, u32) {
    // Shift to a calendar starting on March 1st of year 0, in 400-year eras.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of (March-based) year
    let mp = (5 * doy + 2) / 153; // March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn clock(t: i64) -> (i64, u32, u32, i64, i64, i64) {
    let (y, m, d) = civil(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    (y, m, d, s / 3600, s / 60 % 60, s % 60)
}

/// RFC 3339 in UTC with seconds, as `metav1.Time` renders: `2024-05-06T08:00:00Z`.
pub fn time(t: i64) -> String {
    let (y, mo, d, h, mi, s) = clock(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `metav1.MicroTime`: six fractional digits.
pub fn micro_time(t: i64, micros: u32) -> String {
    let (y, mo, d, h, mi, s) = clock(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{micros:06}Z")
}

/// An object from `(key, value)` pairs, in that order.
pub fn obj<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

/// A string map (labels, annotations, data) with keys sorted as Go renders maps.
pub fn string_map<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> Value {
    let mut v: Vec<(String, Value)> =
        pairs.into_iter().map(|(k, v)| (k.as_ref().to_string(), Value::String(v.as_ref().to_string()))).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.dedup_by(|a, b| a.0 == b.0);
    Value::Object(v.into_iter().collect())
}

/// A copy with every object's keys sorted (Go's encoding of `map[string]interface{}`, i.e.
/// how the API server writes custom resources).
pub fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sort_keys(&m[k]))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// An owner reference to a controller (`controller` and `blockOwnerDeletion` true).
pub fn controller_ref(api_version: &str, kind: &str, name: &str, uid: &str) -> Value {
    obj([
        ("apiVersion", Value::from(api_version)),
        ("kind", Value::from(kind)),
        ("name", Value::from(name)),
        ("uid", Value::from(uid)),
        ("controller", Value::Bool(true)),
        ("blockOwnerDeletion", Value::Bool(true)),
    ])
}

/// A plain owner reference (no controller), as a node Lease has to its Node.
pub fn owner_ref(api_version: &str, kind: &str, name: &str, uid: &str) -> Value {
    obj([
        ("apiVersion", Value::from(api_version)),
        ("kind", Value::from(kind)),
        ("name", Value::from(name)),
        ("uid", Value::from(uid)),
    ])
}

/// Object metadata. Fields left `None`/empty are omitted, as the API server omits them.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub name: String,
    pub generate_name: Option<String>,
    pub namespace: Option<String>,
    pub uid: String,
    pub generation: Option<i64>,
    pub created: i64,
    /// Graceful deletion in progress: (deletionTimestamp, deletionGracePeriodSeconds).
    pub deleting: Option<(i64, i64)>,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    pub owners: Vec<Value>,
    pub finalizers: Vec<String>,
    pub managed: Vec<Value>,
}

impl Meta {
    pub fn new(name: &str, namespace: Option<&str>, uid: String, created: i64) -> Meta {
        Meta { name: name.to_string(), namespace: namespace.map(str::to_string), uid, created, ..Meta::default() }
    }

    pub fn label(mut self, k: &str, v: &str) -> Meta {
        self.labels.push((k.to_string(), v.to_string()));
        self
    }

    pub fn labels(mut self, labels: &[(String, String)]) -> Meta {
        self.labels.extend_from_slice(labels);
        self
    }

    pub fn annotation(mut self, k: &str, v: &str) -> Meta {
        self.annotations.push((k.to_string(), v.to_string()));
        self
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), Value::from(self.name.as_str()));
        if let Some(g) = &self.generate_name {
            m.insert("generateName".into(), Value::from(g.as_str()));
        }
        if let Some(ns) = &self.namespace {
            m.insert("namespace".into(), Value::from(ns.as_str()));
        }
        m.insert("uid".into(), Value::from(self.uid.as_str()));
        if let Some(g) = self.generation {
            m.insert("generation".into(), Value::from(g));
        }
        m.insert("creationTimestamp".into(), Value::from(time(self.created)));
        if let Some((t, grace)) = self.deleting {
            m.insert("deletionTimestamp".into(), Value::from(time(t)));
            m.insert("deletionGracePeriodSeconds".into(), Value::from(grace));
        }
        if !self.labels.is_empty() {
            m.insert("labels".into(), string_map(self.labels.iter().map(|(k, v)| (k, v))));
        }
        if !self.annotations.is_empty() {
            m.insert("annotations".into(), string_map(self.annotations.iter().map(|(k, v)| (k, v))));
        }
        if !self.owners.is_empty() {
            m.insert("ownerReferences".into(), Value::Array(self.owners.clone()));
        }
        if !self.finalizers.is_empty() {
            m.insert("finalizers".into(), self.finalizers.iter().map(|f| Value::from(f.as_str())).collect());
        }
        if !self.managed.is_empty() {
            m.insert("managedFields".into(), Value::Array(self.managed.clone()));
        }
        Value::Object(m)
    }
}

/// One `managedFields` entry; `fields` is the part of the object the manager wrote (its
/// field set is derived with [`fields_v1`]).
pub fn managed(manager: &str, operation: &str, api_version: &str, t: i64, fields: &Value, sub: Option<&str>) -> Value {
    managed_fv(manager, operation, api_version, t, fields_v1(fields), sub)
}

/// [`managed`] with the field set already computed.
pub fn managed_fv(
    manager: &str,
    operation: &str,
    api_version: &str,
    t: i64,
    fields_v1: Value,
    sub: Option<&str>,
) -> Value {
    let mut m = Map::new();
    m.insert("manager".into(), Value::from(manager));
    m.insert("operation".into(), Value::from(operation));
    m.insert("apiVersion".into(), Value::from(api_version));
    m.insert("time".into(), Value::from(time(t)));
    m.insert("fieldsType".into(), Value::from("FieldsV1"));
    m.insert("fieldsV1".into(), fields_v1);
    if let Some(s) = sub {
        m.insert("subresource".into(), Value::from(s));
    }
    Value::Object(m)
}

/// The field set (structured-merge-diff's `FieldsV1` JSON) of an object fragment: `f:<field>`
/// for fields, `k:{…}` for items of lists keyed by name/type/port…, `.` for a map or list
/// item that is itself owned. Keys are sorted, as the API server writes them. This is an
/// approximation of the real rules that gives the same shape and size.
pub fn fields_v1(v: &Value) -> Value {
    let mut out: Vec<(String, Value)> = match v {
        Value::Object(m) => m.iter().map(|(k, child)| (format!("f:{k}"), field_set(child, true))).collect(),
        _ => Vec::new(),
    };
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Value::Object(out.into_iter().collect())
}

/// The field set of one field's value; `top` for the children of the object root (which
/// carry no `.`).
pub fn field_set(v: &Value, top: bool) -> Value {
    let mut out: Vec<(String, Value)> = Vec::new();
    match v {
        Value::Object(m) if !m.is_empty() => {
            if !top {
                out.push((".".to_string(), Value::Object(Map::new())));
            }
            out.extend(m.iter().map(|(k, child)| (format!("f:{k}"), field_set(child, false))));
        }
        Value::Array(items) => {
            for item in items {
                if let Some(key) = list_key(item) {
                    if out.is_empty() {
                        out.push((".".to_string(), Value::Object(Map::new())));
                    }
                    // An item's own set starts with "." (it is a non-empty object).
                    out.push((format!("k:{key}"), field_set(item, false)));
                }
            }
        }
        _ => {}
    }
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    Value::Object(out.into_iter().collect())
}

/// The merge key of a list item, as `k:` renders it (compact JSON of the key fields).
fn list_key(item: &Value) -> Option<String> {
    let m = item.as_object()?;
    let pick = |names: &[&str]| -> Option<String> {
        let mut out = String::from("{");
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Field names need no escaping; values are rendered as JSON.
            out.push('"');
            out.push_str(n);
            out.push_str("\":");
            out.push_str(&m.get(*n)?.to_string());
        }
        out.push('}');
        Some(out)
    };
    pick(&["containerPort", "protocol"])
        .or_else(|| pick(&["port", "protocol"]))
        .or_else(|| pick(&["mountPath"]))
        .or_else(|| pick(&["uid"]))
        .or_else(|| pick(&["name"]))
        .or_else(|| pick(&["type"]))
        .or_else(|| pick(&["ip"]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times() {
        assert_eq!(time(EPOCH), "2024-05-06T08:00:00Z");
        assert_eq!(time(0), "1970-01-01T00:00:00Z");
        assert_eq!(time(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(time(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(micro_time(EPOCH + 61, 42), "2024-05-06T08:01:01.000042Z");
    }

    #[test]
    fn field_sets() {
        let f = fields_v1(&json!({
            "metadata": {"labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "protocol": "TCP"}]}], "replicas": 2}
        }));
        assert_eq!(
            f,
            json!({
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {
                    "f:containers": {".": {}, "k:{\"name\":\"c\"}": {".": {}, "f:name": {}, "f:ports": {
                        ".": {}, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:protocol": {}}
                    }}},
                    "f:replicas": {}
                }
            })
        );
    }
}
