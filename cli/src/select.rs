//! Which objects `extract` takes: resources, namespaces, names, labels, raw key prefixes.

use std::collections::BTreeSet;

use anyhow::{bail, Result};
use k8s_decode::keys::{storage_location, ObjectKeyRef};
use k8s_decode::resources::ResourceTable;
use regex::Regex;
use serde_json::Value;

/// One requirement of a label selector (kubectl / `labels.Parse` syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// A parsed label selector: every requirement must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    /// Parse `a=b,c!=d,e in (f,g),h notin (i),j,!k` (also `==`).
    pub fn parse(text: &str) -> Result<LabelSelector> {
        let mut requirements = Vec::new();
        for part in split_top_level(text)? {
            let part = part.trim();
            if part.is_empty() {
                bail!("label selector {text:?}: empty requirement");
            }
            let requirement = if let Some(key) = part.strip_prefix('!') {
                Requirement::NotExists(label_key(key.trim(), text)?)
            } else if let Some((key, value)) = part.split_once("!=") {
                Requirement::NotIn(label_key(key.trim(), text)?, vec![value.trim().to_string()])
            } else if let Some((key, value)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Requirement::In(label_key(key.trim(), text)?, vec![value.trim().to_string()])
            } else if let Some((key, set)) = split_set_op(part, " notin ") {
                Requirement::NotIn(label_key(key, text)?, parse_set(set, text)?)
            } else if let Some((key, set)) = split_set_op(part, " in ") {
                Requirement::In(label_key(key, text)?, parse_set(set, text)?)
            } else {
                Requirement::Exists(label_key(part, text)?)
            };
            requirements.push(requirement);
        }
        Ok(LabelSelector(requirements))
    }

    /// Whether an object's `metadata.labels` satisfy the selector.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.get("metadata").and_then(|m| m.get("labels")).and_then(Value::as_object);
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
            Requirement::In(k, vs) => get(k).is_some_and(|v| vs.iter().any(|x| x == v)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|v| !vs.iter().any(|x| x == v)),
        })
    }
}

/// Split on commas outside parentheses.
fn split_top_level(text: &str) -> Result<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            bail!("label selector {text:?}: unbalanced parentheses");
        }
    }
    if depth != 0 {
        bail!("label selector {text:?}: unbalanced parentheses");
    }
    parts.push(&text[start..]);
    Ok(parts)
}

fn split_set_op<'t>(part: &'t str, op: &str) -> Option<(&'t str, &'t str)> {
    let (key, rest) = part.split_once(op)?;
    Some((key.trim(), rest.trim()))
}

fn parse_set(set: &str, text: &str) -> Result<Vec<String>> {
    let Some(inner) = set.strip_prefix('(').and_then(|s| s.strip_suffix(')')) else {
        bail!("label selector {text:?}: expected a parenthesised set of values");
    };
    Ok(inner.split(',').map(|v| v.trim().to_string()).collect())
}

fn label_key(key: &str, text: &str) -> Result<String> {
    let valid = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && key.matches('/').count() <= 1;
    if !valid {
        bail!("label selector {text:?}: invalid label key {key:?}");
    }
    Ok(key.to_string())
}

/// Resources selected by name: their storage locations, and whether any named one is
/// cluster-scoped.
#[derive(Debug, Clone, Default)]
pub struct ResourceFilter {
    storages: BTreeSet<String>,
}

impl ResourceFilter {
    /// Resolve comma lists of resource names (`deploy,svc`, `deployments.apps`, `Widget`).
    pub fn resolve(names: &[String], table: &ResourceTable) -> Result<Option<ResourceFilter>> {
        let mut storages = BTreeSet::new();
        for name in names.iter().flat_map(|n| n.split(',')).map(str::trim).filter(|n| !n.is_empty()) {
            for info in table.resolve(name)? {
                storages.insert(storage_location(&info.group, &info.plural));
            }
        }
        Ok((!storages.is_empty()).then_some(ResourceFilter { storages }))
    }

    pub fn contains(&self, key: &ObjectKeyRef<'_>) -> bool {
        self.storages.contains(key.storage)
    }
}

/// Every key-level criterion.
#[derive(Debug, Default)]
pub struct Selection {
    pub namespaces: Vec<String>,
    pub cluster_scoped: bool,
    pub resources: Option<ResourceFilter>,
    pub name: Option<Regex>,
    pub key_prefixes: Vec<String>,
    pub labels: Option<LabelSelector>,
    /// Raw keys taken whatever the rest says (but the exclusions): the Namespace objects
    /// and CRDs a namespace's extract brings along.
    pub also_keys: BTreeSet<String>,
    /// Namespaces left out whatever else selects them; a Namespace object of one too.
    pub excluded_namespaces: BTreeSet<String>,
    /// Resources left out whatever else selects them.
    pub excluded_resources: Option<ResourceFilter>,
}

impl Selection {
    /// Whether a key is selected (labels are checked later, on the decoded object).
    /// Cluster-scoped objects are taken when `--cluster-scoped` is given or their resource
    /// is named; namespaced ones when no namespace is asked for or theirs is.
    pub fn takes_key(&self, raw_key: &str, key: &ObjectKeyRef<'_>) -> bool {
        if self.excludes(key) {
            return false;
        }
        if self.also_keys.contains(raw_key) {
            return true;
        }
        if !self.key_prefixes.is_empty() && !self.key_prefixes.iter().any(|p| raw_key.starts_with(p.as_str())) {
            return false;
        }
        let named = self.resources.as_ref().map(|r| r.contains(key));
        if named == Some(false) {
            return false;
        }
        let scope_ok = match key.namespace {
            Some(ns) => self.namespaces.is_empty() || self.namespaces.iter().any(|n| n == ns),
            // A raw prefix names what it wants too.
            None => self.cluster_scoped || named == Some(true) || !self.key_prefixes.is_empty(),
        };
        scope_ok && self.name.as_ref().is_none_or(|re| re.is_match(key.name))
    }

    fn excludes(&self, key: &ObjectKeyRef<'_>) -> bool {
        key.namespace_of().is_some_and(|ns| self.excluded_namespaces.contains(ns))
            || self.excluded_resources.as_ref().is_some_and(|r| r.contains(key))
    }
}

/// The entries of repeatable options that also take comma lists.
pub fn comma_list(entries: &[String]) -> BTreeSet<String> {
    entries.iter().flat_map(|e| e.split(',')).map(str::trim).filter(|e| !e.is_empty()).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> Value {
        let map: serde_json::Map<String, Value> = pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        json!({"metadata": {"labels": map}})
    }

    #[test]
    fn label_selector_syntax() {
        let obj = labels(&[("app", "web"), ("tier", "front"), ("example.com/team", "a")]);
        for (selector, expected) in [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("app in (db, web)", true),
            ("app in (db)", false),
            ("app notin (db)", true),
            ("missing notin (db)", true),
            ("app notin (web,db)", false),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("example.com/team=a,app=web", true),
            ("app=web,tier in (back,x)", false),
            ("", true),
        ] {
            let parsed =
                if selector.is_empty() { LabelSelector::default() } else { LabelSelector::parse(selector).unwrap() };
            assert_eq!(parsed.matches(&obj), expected, "{selector}");
        }
        for bad in ["app in web", "a=(", "a,,b", "bad key=1", "app in (a"] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_selection() {
        let table = ResourceTable::builtin();
        let key = |k: &'static str| k8s_decode::keys::parse_key_ref(k.as_bytes(), "/registry", &table).unwrap();
        let pod = key("/registry/pods/team-a/web-1");
        let ns = key("/registry/namespaces/team-a");
        let all = Selection::default();
        assert!(all.takes_key("/registry/pods/team-a/web-1", &pod));
        assert!(!all.takes_key("/registry/namespaces/team-a", &ns), "cluster-scoped only when asked");
        let cluster = Selection { cluster_scoped: true, ..Default::default() };
        assert!(cluster.takes_key("/registry/namespaces/team-a", &ns));
        let named =
            Selection { resources: ResourceFilter::resolve(&["ns,po".into()], &table).unwrap(), ..Default::default() };
        assert!(named.takes_key("", &ns) && named.takes_key("", &pod));
        let only_b = Selection { namespaces: vec!["team-b".into()], ..Default::default() };
        assert!(!only_b.takes_key("", &pod));
        let by_name = Selection { name: Some(Regex::new("^web-").unwrap()), ..Default::default() };
        assert!(by_name.takes_key("", &pod));
        let by_prefix = Selection { key_prefixes: vec!["/registry/namespaces/".into()], ..Default::default() };
        assert!(by_prefix.takes_key("/registry/namespaces/team-a", &ns));
        assert!(!by_prefix.takes_key("/registry/pods/team-a/web-1", &pod));
        let also = Selection {
            namespaces: vec!["team-b".into()],
            also_keys: ["/registry/namespaces/team-a".to_string()].into(),
            ..Default::default()
        };
        assert!(also.takes_key("/registry/namespaces/team-a", &ns) && !also.takes_key("", &pod));
        // Exclusions win over everything else, brought-along keys too.
        let excluded = Selection {
            cluster_scoped: true,
            also_keys: ["/registry/namespaces/team-a".to_string()].into(),
            excluded_namespaces: comma_list(&["team-b, team-a".into()]),
            ..Default::default()
        };
        assert!(!excluded.takes_key("/registry/namespaces/team-a", &ns) && !excluded.takes_key("", &pod));
        assert!(excluded.takes_key("", &key("/registry/pods/team-c/web-1")));
        let no_pods = Selection {
            excluded_resources: ResourceFilter::resolve(&["po".into()], &table).unwrap(),
            ..Default::default()
        };
        assert!(!no_pods.takes_key("", &pod) && no_pods.takes_key("", &key("/registry/secrets/team-a/db")));
        assert!(ResourceFilter::resolve(&["nosuch".into()], &table).is_err());
    }
}
