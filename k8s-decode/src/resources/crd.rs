//! The resource a CustomResourceDefinition defines: from its decoded value, or straight
//! from its stored JSON.
//!
//! Every command that resolves resource names reads every CRD of the snapshot first, and a
//! CRD is mostly its OpenAPI schema (the 2 GiB benchmark's five hold 1.4 MB, a cluster
//! with an operator framework installed can hold tens of MB). Only a handful of fields of
//! `spec` are needed: parsed into the struct below, the schema is skipped over rather than
//! built into a value tree.

use serde::Deserialize;
use serde_json::Value;

use super::{ResourceError, ResourceInfo};

impl ResourceInfo {
    /// The resource a CustomResourceDefinition (decoded) defines.
    pub fn from_crd(crd: &Value) -> Result<ResourceInfo, ResourceError> {
        let spec = crd.get("spec").ok_or(ResourceError::BadCrd("spec"))?;
        let group = spec.get("group").and_then(Value::as_str).ok_or(ResourceError::BadCrd("spec.group"))?;
        let names = spec.get("names").ok_or(ResourceError::BadCrd("spec.names"))?;
        let plural = names.get("plural").and_then(Value::as_str).ok_or(ResourceError::BadCrd("spec.names.plural"))?;
        let kind = names.get("kind").and_then(Value::as_str).ok_or(ResourceError::BadCrd("spec.names.kind"))?;
        let singular = names.get("singular").and_then(Value::as_str).unwrap_or("");
        let short_names = names
            .get("shortNames")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
            .unwrap_or_default();
        let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
        // apiextensions v1 lists versions with a `storage: true` one; v1beta1 had `version`.
        let version = spec
            .get("versions")
            .and_then(Value::as_array)
            .and_then(|vs| vs.iter().find(|v| v.get("storage").and_then(Value::as_bool) == Some(true)))
            .and_then(|v| v.get("name"))
            .or_else(|| spec.get("version"))
            .and_then(Value::as_str)
            .unwrap_or("");
        Ok(crd_resource(group, version, kind, plural, singular, short_names, namespaced))
    }

    /// [`from_crd`](Self::from_crd) of a CRD stored as JSON, read without building its
    /// value. `None` when the JSON is not of the usual shape (a field of another type, a
    /// key given twice, not JSON at all): [`from_crd`](Self::from_crd) of the decoded value
    /// then gives the answer, whatever it is. When this gives one, it is that one.
    pub fn from_crd_json(json: &[u8]) -> Option<ResourceInfo> {
        let CrdJson { spec } = serde_json::from_slice(json).ok()?;
        let names = spec.names;
        let storage = spec.versions.as_ref().and_then(|vs| vs.iter().find(|v| v.storage == Some(true)));
        let version = match storage {
            Some(v) => v.name.as_deref(),
            None => spec.version.as_deref(),
        };
        Some(crd_resource(
            &spec.group,
            version.unwrap_or(""),
            &names.kind,
            &names.plural,
            names.singular.as_deref().unwrap_or(""),
            names.short_names.unwrap_or_default(),
            spec.scope.as_deref() != Some("Cluster"),
        ))
    }
}

fn crd_resource(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    singular: &str,
    short_names: Vec<String>,
    namespaced: bool,
) -> ResourceInfo {
    ResourceInfo {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        plural: plural.into(),
        singular: if singular.is_empty() { kind.to_ascii_lowercase() } else { singular.into() },
        short_names,
        namespaced,
        internal: false,
    }
}

/// What [`ResourceInfo::from_crd_json`] reads of a CRD; every other field is skipped. A
/// field that may be absent or null is an `Option`, as the value path reads either as
/// missing; a field of another type fails the parse, so that the value path decides.
#[derive(Deserialize)]
struct CrdJson {
    spec: CrdSpec,
}

#[derive(Deserialize)]
struct CrdSpec {
    group: String,
    names: CrdNames,
    scope: Option<String>,
    versions: Option<Vec<CrdVersion>>,
    /// apiextensions v1beta1's single version.
    version: Option<String>,
}

#[derive(Deserialize)]
struct CrdNames {
    plural: String,
    kind: String,
    singular: Option<String>,
    #[serde(rename = "shortNames")]
    short_names: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct CrdVersion {
    name: Option<String>,
    storage: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever the JSON, the quick path gives the value path's answer, or declines.
    #[test]
    fn the_json_path_agrees_with_the_value_path() {
        // (CRD, whether the quick path answers)
        let crds = [
            // v1, namespaced, with short names and two versions.
            (
                r#"{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com","names":{"plural":"widgets","singular":"widget","kind":"Widget","shortNames":["wd","wdg"]},"scope":"Namespaced","versions":[{"name":"v1beta1","served":true,"storage":false,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}},{"name":"v1","served":true,"storage":true}]}}"#,
                true,
            ),
            // v1beta1: `version`, cluster-scoped, no singular.
            (
                r#"{"spec":{"group":"example.com","version":"v1alpha1","names":{"plural":"gadgets","kind":"Gadget"},"scope":"Cluster"}}"#,
                true,
            ),
            // Nulls read as missing; an empty singular is the lower-cased kind.
            (
                r#"{"spec":{"group":"g.io","names":{"plural":"ps","kind":"P","singular":"","shortNames":null},"scope":null,"versions":null,"version":"v2"}}"#,
                true,
            ),
            // No storage version: `version`, else none.
            (
                r#"{"spec":{"group":"g.io","names":{"plural":"qs","kind":"Q"},"versions":[{"name":"v1","storage":false}]}}"#,
                true,
            ),
            (
                r#"{"spec":{"group":"g.io","names":{"plural":"rs","kind":"R"},"versions":[{"name":"v1"}],"version":"v0"}}"#,
                true,
            ),
            // A field of another type: the value path reads around it.
            (r#"{"spec":{"group":"g.io","names":{"plural":"ss","kind":"S","shortNames":["s",1]}}}"#, false),
            (
                r#"{"spec":{"group":"g.io","names":{"plural":"ts","kind":"T"},"versions":[{"name":"v1","storage":"yes"},{"name":"v2","storage":true}]}}"#,
                false,
            ),
            (
                r#"{"spec":{"group":"g.io","names":{"plural":"us","kind":"U"},"versions":[{"name":7,"storage":true}],"version":"v1"}}"#,
                false,
            ),
            // A key given twice: the value keeps the last.
            (r#"{"spec":{"group":"a.io","group":"b.io","names":{"plural":"vs","kind":"V"}}}"#, false),
            // Not a CRD: neither path answers.
            (r#"{"spec":{"names":{"plural":"ws","kind":"W"}}}"#, false),
            (r#"{"spec":{"group":"g.io","names":{"kind":"X"}}}"#, false),
            (r#"{"kind":"ConfigMap"}"#, false),
        ];
        for (json, answers) in crds {
            let value: Value = serde_json::from_str(json).unwrap();
            let quick = ResourceInfo::from_crd_json(json.as_bytes());
            assert_eq!(quick.is_some(), answers, "{json}");
            if quick.is_some() {
                assert_eq!(quick, ResourceInfo::from_crd(&value).ok(), "{json}");
            }
        }
        let [widget, gadget] = [crds[0].0, crds[1].0].map(|json| ResourceInfo::from_crd_json(json.as_bytes()).unwrap());
        assert_eq!((widget.version.as_str(), widget.short_names.len(), widget.namespaced), ("v1", 2, true));
        assert_eq!(
            (gadget.version.as_str(), gadget.singular.as_str(), gadget.namespaced),
            ("v1alpha1", "gadget", false)
        );
        assert_eq!(ResourceInfo::from_crd_json(b"k8s\x00\x0a"), None);
    }
}
