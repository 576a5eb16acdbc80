//! Restoring objects into other namespaces than the ones they were stored in (Velero's
//! `--namespace-mappings`): an object of a deleted namespace can then be created next to
//! the live one to compare them, or a namespace copied under a new name.
//!
//! What names a namespace, and so moves with it: an object's `metadata.namespace`; a
//! Namespace's own name and its `kubernetes.io/metadata.name` label (which the API server
//! sets to the name); the namespaces of RoleBinding and ClusterRoleBinding subjects; a
//! PersistentVolume's `spec.claimRef.namespace`. Namespaces written inside other values (a
//! Service's DNS name in an environment variable, a custom resource's own references) are
//! not known to be namespaces, and stay.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::clean::{group_and_kind, group_of, kind_of, SkipFacts};

/// Source namespace → target namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespaceMap {
    targets: BTreeMap<String, String>,
}

/// A mapping that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("namespace mapping {mapping:?}: {reason}")]
pub struct NamespaceMapError {
    pub mapping: String,
    pub reason: String,
}

/// The label the API server keeps equal to a Namespace's name.
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

impl NamespaceMap {
    /// Read mappings written `OLD:NEW`, each entry possibly a comma-separated list. A target
    /// must be a namespace name the API server accepts (an RFC 1123 label); a source given
    /// twice must map to the same target.
    pub fn parse<'s>(entries: impl IntoIterator<Item = &'s str>) -> Result<NamespaceMap, NamespaceMapError> {
        let mut targets = BTreeMap::new();
        for mapping in entries.into_iter().flat_map(|e| e.split(',')).map(str::trim).filter(|m| !m.is_empty()) {
            let error = |reason: &str| NamespaceMapError { mapping: mapping.to_string(), reason: reason.to_string() };
            let (from, to) = mapping.split_once(':').ok_or_else(|| error("expected OLD:NEW"))?;
            if from.is_empty() {
                return Err(error("no namespace before ':'"));
            }
            if let Some(reason) = invalid_namespace(to) {
                return Err(error(&format!("{to:?} is not a valid namespace name: {reason}")));
            }
            if let Some(earlier) = targets.insert(from.to_string(), to.to_string()) {
                if earlier != to {
                    return Err(error(&format!("{from:?} is already mapped to {earlier:?}")));
                }
            }
        }
        Ok(NamespaceMap { targets })
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Every mapping, (source, target), by source.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.targets.iter().map(|(from, to)| (from.as_str(), to.as_str()))
    }

    /// Where objects of namespace `from` go (`from` itself when it is not mapped).
    pub fn target<'a>(&'a self, from: &'a str) -> &'a str {
        self.targets.get(from).map_or(from, String::as_str)
    }

    /// Whether `object` is a Namespace that [`apply`](Self::apply) renames.
    pub fn renames_namespace_object(&self, object: &(impl SkipFacts + ?Sized)) -> bool {
        group_and_kind(object) == ("", "Namespace") && object.name().is_some_and(|n| self.targets.contains_key(&*n))
    }

    /// Move `object` to the target namespaces (see the module's documentation for what
    /// changes).
    pub fn apply(&self, object: &mut Value) {
        if self.is_empty() {
            return;
        }
        let (group, kind) = (group_of(object).to_string(), kind_of(object).to_string());
        if let Some(metadata) = object.get_mut("metadata") {
            self.map_field(metadata, "namespace");
            if (group.as_str(), kind.as_str()) == ("", "Namespace") {
                self.map_field(metadata, "name");
                if let Some(labels) = metadata.get_mut("labels") {
                    self.map_field(labels, NAME_LABEL);
                }
            }
        }
        match (group.as_str(), kind.as_str()) {
            ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
                for subject in object.get_mut("subjects").and_then(Value::as_array_mut).into_iter().flatten() {
                    self.map_field(subject, "namespace");
                }
            }
            ("", "PersistentVolume") => {
                if let Some(claim) = object.get_mut("spec").and_then(|s| s.get_mut("claimRef")) {
                    self.map_field(claim, "namespace");
                }
            }
            _ => {}
        }
    }

    /// Map the string at `map[field]`, if there is one and it is a mapped namespace.
    fn map_field(&self, map: &mut Value, field: &str) {
        if let Some(Value::String(namespace)) = map.get_mut(field) {
            if let Some(target) = self.targets.get(namespace.as_str()) {
                namespace.clone_from(target);
            }
        }
    }
}

impl fmt::Display for NamespaceMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (from, to)) in self.targets.iter().enumerate() {
            write!(f, "{}{from} → {to}", if i > 0 { ", " } else { "" })?;
        }
        Ok(())
    }
}

/// Why `name` is not a namespace name (an RFC 1123 label: at most 63 lowercase
/// alphanumerics or `-`, starting and ending with an alphanumeric), if it is not one.
fn invalid_namespace(name: &str) -> Option<&'static str> {
    let alphanumeric = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        Some("empty")
    } else if bytes.len() > 63 {
        Some("longer than 63 characters")
    } else if !bytes.iter().all(|&b| alphanumeric(b) || b == b'-') {
        Some("only lowercase letters, digits and '-' are allowed")
    } else if !alphanumeric(bytes[0]) || !alphanumeric(bytes[bytes.len() - 1]) {
        Some("must start and end with a letter or digit")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(entries: &[&str]) -> NamespaceMap {
        NamespaceMap::parse(entries.iter().copied()).unwrap()
    }

    #[test]
    fn parses_pairs_and_lists_and_refuses_bad_ones() {
        let m = map(&["team-a:team-a-copy", "b:c, d:e", "b:c"]);
        assert_eq!(m.to_string(), "b → c, d → e, team-a → team-a-copy");
        assert_eq!(m.target("team-a"), "team-a-copy");
        assert_eq!(m.target("other"), "other");
        assert!(map(&[]).is_empty());
        for (bad, reason) in [
            ("team-a", "expected OLD:NEW"),
            (":x", "no namespace before"),
            ("a:", "empty"),
            ("a:Team", "only lowercase"),
            ("a:-x", "must start and end"),
            ("a:b:c", "only lowercase"),
            ("a:b,a:c", "already mapped to \"b\""),
        ] {
            let e = NamespaceMap::parse([bad]).unwrap_err();
            assert!(e.to_string().contains(reason), "{bad}: {e}");
        }
        assert!(NamespaceMap::parse([format!("a:{}", "x".repeat(64)).as_str()]).is_err());
        assert!(NamespaceMap::parse([format!("a:{}", "x".repeat(63)).as_str()]).is_ok());
    }

    #[test]
    fn moves_what_names_a_namespace_and_nothing_else() {
        let m = map(&["shop:shop-restored"]);
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "shop", "namespace": "shop", "labels": {"app": "shop"}},
            "data": {"url": "http://api.shop.svc", "namespace": "shop"}});
        m.apply(&mut cm);
        assert_eq!(cm["metadata"]["namespace"], "shop-restored");
        assert_eq!(cm["metadata"]["name"], "shop");
        assert_eq!(cm["metadata"]["labels"]["app"], "shop");
        assert_eq!(cm["data"], json!({"url": "http://api.shop.svc", "namespace": "shop"}));

        let mut ns = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "labels": {"kubernetes.io/metadata.name": "shop", "team": "shop"}}});
        m.apply(&mut ns);
        assert_eq!(ns["metadata"]["name"], "shop-restored");
        assert_eq!(ns["metadata"]["labels"], json!({"kubernetes.io/metadata.name": "shop-restored", "team": "shop"}));
        assert!(!m.renames_namespace_object(&ns) && !m.renames_namespace_object(&cm));
        assert!(
            m.renames_namespace_object(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}))
        );
        let mut other_ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}});
        m.apply(&mut other_ns);
        assert_eq!(other_ns["metadata"]["name"], "web");

        for kind in ["RoleBinding", "ClusterRoleBinding"] {
            let mut binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
                "metadata": {"name": "b"},
                "subjects": [{"kind": "ServiceAccount", "name": "x", "namespace": "shop"},
                             {"kind": "ServiceAccount", "name": "y", "namespace": "web"},
                             {"kind": "Group", "name": "shop"}]});
            m.apply(&mut binding);
            let namespaces: Vec<&Value> =
                binding["subjects"].as_array().unwrap().iter().map(|s| &s["namespace"]).collect();
            assert_eq!(namespaces, [&json!("shop-restored"), &json!("web"), &Value::Null], "{kind}");
            assert_eq!(binding["subjects"][2]["name"], "shop");
        }

        let mut pv = json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv"},
            "spec": {"claimRef": {"name": "data", "namespace": "shop"}}});
        m.apply(&mut pv);
        assert_eq!(pv["spec"]["claimRef"]["namespace"], "shop-restored");

        // A Namespace-like object of another group is not a Namespace.
        let mut lookalike = json!({"apiVersion": "example.com/v1", "kind": "Namespace", "metadata": {"name": "shop"}});
        m.apply(&mut lookalike);
        assert_eq!(lookalike["metadata"]["name"], "shop");
    }
}
