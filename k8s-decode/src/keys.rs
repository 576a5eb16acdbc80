//! etcd keys ↔ (group, resource, namespace, name), as the API server lays them out
//! (FORMATS.md §4.1–4.3):
//!
//! - `<prefix>/<resource>/[<namespace>/]<name>` for built-ins, `<resource>` being the plural
//!   without its group, except the special names below;
//! - `<prefix>/<group>/<resource>/[<namespace>/]<name>` for CRD-backed resources, CRDs and
//!   APIServices (the group always contains a dot, built-in resource names never do).
//!
//! The prefix is the API server's `--etcd-prefix` (`/registry` by default, `/kubernetes.io`
//! on OpenShift 4).

use std::borrow::Cow;

use crate::resources::{ResourceInfo, ResourceTable};

/// Storage locations that are not the plain resource name (kube-apiserver's
/// `SpecialDefaultResourcePrefixes`, cohabiting resources, historical names, and the API
/// server's own bookkeeping). Longest first: `services/specs` must win over `services`.
#[rustfmt::skip]
const SPECIAL: &[(&str, &str, &str)] = &[
    // (storage location, group, plural)
    ("services/endpoints", "", "endpoints"),
    ("services/specs", "", "services"),
    ("podsecuritypolicy", "policy", "podsecuritypolicies"),
    ("masterleases", "", "masterleases"),
    ("controllers", "", "replicationcontrollers"),
    ("minions", "", "nodes"),
    ("ingress", "networking.k8s.io", "ingresses"),
    ("ranges", "", "rangeallocations"),
];

/// Groups whose resources are stored where another group's are (`AddCohabitatingResources`).
const COHABITING: &[(&str, &str, &str)] = &[
    // (group, plural, storage location)
    ("extensions", "ingresses", "ingress"),
    ("events.k8s.io", "events", "events"),
    ("extensions", "deployments", "deployments"),
    ("extensions", "daemonsets", "daemonsets"),
    ("extensions", "replicasets", "replicasets"),
    ("extensions", "networkpolicies", "networkpolicies"),
];

/// A key that could not be read as an object key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key is not under the prefix {0:?}")]
    OutsidePrefix(String),
    #[error("key is not UTF-8")]
    NotUtf8,
    #[error("key has no resource and name segments")]
    NoName,
}

/// The parts of an object key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    /// Where the resource lives under the prefix: `deployments`, `services/specs`,
    /// `example.com/widgets`.
    pub storage: String,
    /// API group (`""` for core); for built-ins it comes from the resource table, since
    /// the key does not say.
    pub group: String,
    /// Plural resource name (`nodes` for `minions`).
    pub resource: String,
    pub namespace: Option<String>,
    pub name: String,
}

/// The API server's path prefix: `--etcd-prefix` with one leading and one trailing `/`.
pub fn normalize_prefix(etcd_prefix: &str) -> String {
    normalized_prefix(etcd_prefix).into_owned()
}

/// [`normalize_prefix`], borrowing a prefix that is normalised already (callers usually
/// pass one): parsing asks for it once per key.
fn normalized_prefix(etcd_prefix: &str) -> Cow<'_, str> {
    // The usual case (`/registry/`) told from its ends, before trimming: this runs for every
    // key parsed.
    let b = etcd_prefix.as_bytes();
    if let [b'/', second, .., before_last, b'/'] = b {
        if *second != b'/' && *before_last != b'/' {
            return Cow::Borrowed(etcd_prefix);
        }
    }
    let trimmed = etcd_prefix.trim_matches('/');
    if trimmed.is_empty() {
        return if etcd_prefix == "/" { Cow::Borrowed(etcd_prefix) } else { Cow::Borrowed("/") };
    }
    // One slash at each end, and only one: the trimmed text is two bytes shorter.
    if etcd_prefix.len() == trimmed.len() + 2 && etcd_prefix.starts_with('/') && etcd_prefix.ends_with('/') {
        return Cow::Borrowed(etcd_prefix);
    }
    Cow::Owned(format!("/{trimmed}/"))
}

/// Where a group/resource is stored under the prefix, without slashes at either end.
pub fn storage_location(group: &str, plural: &str) -> String {
    match fixed_location(group, plural) {
        Some(storage) => storage.to_string(),
        None => format!("{group}/{plural}"),
    }
}

/// [`storage_location`] when it is a fixed name (a built-in's plural or a special
/// location), `None` for `<group>/<plural>`.
fn fixed_location<'p>(group: &str, plural: &'p str) -> Option<&'p str> {
    if let Some(&(storage, _, _)) = SPECIAL.iter().find(|&&(_, g, p)| g == group && p == plural) {
        return Some(storage);
    }
    if let Some(&(_, _, storage)) = COHABITING.iter().find(|&&(g, p, _)| g == group && p == plural) {
        return Some(storage);
    }
    is_builtin_group(group).then_some(plural)
}

/// Built-in groups are stored without their group segment; CRDs, CRs and APIServices
/// (served through `SimpleStorageFactory`) with it. CRD groups may end in `.k8s.io` too
/// (`gateway.networking.k8s.io`), so the list of built-in groups decides, not the name.
fn is_builtin_group(group: &str) -> bool {
    group != "apiextensions.k8s.io" && group != "apiregistration.k8s.io" && crate::resources::is_builtin_group(group)
}

/// The key of an object: `<prefix><storage>/[<namespace>/]<name>`.
pub fn object_key(etcd_prefix: &str, info: &ResourceInfo, namespace: Option<&str>, name: &str) -> String {
    let prefix = normalized_prefix(etcd_prefix);
    let storage = storage_location(&info.group, &info.plural);
    match namespace {
        Some(ns) if info.namespaced => format!("{prefix}{storage}/{ns}/{name}"),
        _ => format!("{prefix}{storage}/{name}"),
    }
}

/// The parts of an object key, borrowed from the key and the resource table: what
/// [`parse_key_ref`] gives without allocating (every key of a snapshot is parsed, some
/// several times).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectKeyRef<'a> {
    /// See [`ObjectKey::storage`].
    pub storage: &'a str,
    /// See [`ObjectKey::group`].
    pub group: &'a str,
    /// See [`ObjectKey::resource`].
    pub resource: &'a str,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
    /// The table's entry for the group and resource, if it has one.
    pub info: Option<&'a ResourceInfo>,
}

impl<'a> ObjectKeyRef<'a> {
    /// The namespace the object belongs to: its own, or for a Namespace object the one it
    /// names. `None` for other cluster-scoped objects.
    pub fn namespace_of(&self) -> Option<&'a str> {
        let is_namespace = self.group.is_empty() && self.resource == "namespaces";
        self.namespace.or(is_namespace.then_some(self.name))
    }
}

impl From<ObjectKeyRef<'_>> for ObjectKey {
    fn from(key: ObjectKeyRef<'_>) -> Self {
        ObjectKey {
            storage: key.storage.to_string(),
            group: key.group.to_string(),
            resource: key.resource.to_string(),
            namespace: key.namespace.map(str::to_string),
            name: key.name.to_string(),
        }
    }
}

/// Parse a key into its parts. Whether the resource is namespaced comes from `table`; for
/// resources it does not know, two remaining segments mean namespace/name and one means a
/// cluster-scoped name (names cannot contain `/`).
pub fn parse_key(key: &[u8], etcd_prefix: &str, table: &ResourceTable) -> Result<ObjectKey, KeyError> {
    parse_key_ref(key, etcd_prefix, table).map(ObjectKey::from)
}

/// [`parse_key`], borrowing the parts from `key` and `table`.
pub fn parse_key_ref<'a>(
    key: &'a [u8],
    etcd_prefix: &str,
    table: &'a ResourceTable,
) -> Result<ObjectKeyRef<'a>, KeyError> {
    parse_key_str(std::str::from_utf8(key).map_err(|_| KeyError::NotUtf8)?, etcd_prefix, table)
}

/// [`parse_key_ref`] of a key known to be UTF-8 (validated once, not twice, by a caller
/// that needs the text too).
pub fn parse_key_str<'a>(
    key: &'a str,
    etcd_prefix: &str,
    table: &'a ResourceTable,
) -> Result<ObjectKeyRef<'a>, KeyError> {
    let prefix = normalized_prefix(etcd_prefix);
    let rest = key.strip_prefix(&*prefix).ok_or_else(|| KeyError::OutsidePrefix(prefix.to_string()))?;
    // `found` is the resource when the location alone names it (the common case), so that
    // it is not looked up a second time below.
    let (storage, group, resource, remaining, found) = if let Some(&(storage, group, plural)) =
        SPECIAL.iter().find(|&&(s, _, _)| rest.strip_prefix(s).is_some_and(|r| r.starts_with('/')))
    {
        (storage, group, plural, &rest[storage.len() + 1..], None)
    } else {
        let (first, after) = rest.split_once('/').ok_or(KeyError::NoName)?;
        if first.contains('.') {
            let (plural, after) = after.split_once('/').ok_or(KeyError::NoName)?;
            (&rest[..first.len() + 1 + plural.len()], first, plural, after, None)
        } else {
            let found = table.stored_at(first);
            let group = found.map_or("", |e| e.group.as_str());
            (first, group, first, after, found)
        }
    };
    if remaining.is_empty() {
        return Err(KeyError::NoName);
    }
    let info = found.or_else(|| table.lookup(group, resource));
    let (namespace, name) = match (info.map(|e| e.namespaced), remaining.split_once('/')) {
        (Some(true) | None, Some((ns, name))) => (Some(ns), name),
        (Some(true), None) => return Err(KeyError::NoName),
        (Some(false) | None, None) | (Some(false), Some(_)) => (None, remaining),
    };
    Ok(ObjectKeyRef { storage, group, resource, namespace, name, info })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(key: &str) -> ObjectKey {
        let mut table = ResourceTable::builtin();
        table
            .add_crd(&serde_json::json!({"spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget"}, "versions": [{"name": "v1", "storage": true}]}}))
            .unwrap();
        parse_key(key.as_bytes(), "/registry", &table).unwrap()
    }

    fn parts(k: &ObjectKey) -> (&str, &str, &str, Option<&str>, &str) {
        (&k.storage, &k.group, &k.resource, k.namespace.as_deref(), &k.name)
    }

    /// One slash at each end, whatever the prefix given; borrowed when it has them already.
    #[test]
    fn prefixes_are_normalised() {
        for p in
            ["", "/", "//", "a", "/a", "a/", "/a/", "//a//", "/registry", "/registry/", "registry/", "/r/s/", "//r/s"]
        {
            let trimmed = p.trim_matches('/');
            let expected = if trimmed.is_empty() { "/".to_string() } else { format!("/{trimmed}/") };
            let normalized = normalized_prefix(p);
            assert_eq!(normalized, expected, "{p:?}");
            if p == expected {
                assert!(matches!(normalized, Cow::Borrowed(_)), "{p:?}");
            }
        }
    }

    #[test]
    fn plain_namespaced_and_cluster_scoped() {
        assert_eq!(
            parts(&parse("/registry/deployments/team-a/web")),
            ("deployments", "apps", "deployments", Some("team-a"), "web")
        );
        assert_eq!(parts(&parse("/registry/namespaces/default")), ("namespaces", "", "namespaces", None, "default"));
        assert_eq!(
            parts(&parse("/registry/clusterroles/system:controller:x")),
            ("clusterroles", "rbac.authorization.k8s.io", "clusterroles", None, "system:controller:x")
        );
    }

    #[test]
    fn special_names() {
        assert_eq!(parts(&parse("/registry/minions/node-1")), ("minions", "", "nodes", None, "node-1"));
        assert_eq!(parts(&parse("/registry/services/specs/default/kubernetes")).2, "services");
        assert_eq!(parts(&parse("/registry/services/endpoints/default/kubernetes")).2, "endpoints");
        assert_eq!(parts(&parse("/registry/controllers/ns/rc")).2, "replicationcontrollers");
        assert_eq!(parts(&parse("/registry/ingress/ns/web")).1, "networking.k8s.io");
        assert_eq!(
            parts(&parse("/registry/ranges/serviceips")),
            ("ranges", "", "rangeallocations", None, "serviceips")
        );
        assert_eq!(parts(&parse("/registry/masterleases/10.0.0.1")).2, "masterleases");
    }

    #[test]
    fn grouped_keys() {
        assert_eq!(
            parts(&parse("/registry/example.com/widgets/team-a/small")),
            ("example.com/widgets", "example.com", "widgets", Some("team-a"), "small")
        );
        assert_eq!(
            parts(&parse("/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com")),
            (
                "apiextensions.k8s.io/customresourcedefinitions",
                "apiextensions.k8s.io",
                "customresourcedefinitions",
                None,
                "widgets.example.com"
            )
        );
        // Unknown grouped resource: segment count decides.
        assert_eq!(parts(&parse("/registry/x.io/things/a/b")).3, Some("a"));
        assert_eq!(parts(&parse("/registry/x.io/things/b")).3, None);
    }

    #[test]
    fn other_prefixes_and_bad_keys() {
        let table = ResourceTable::builtin();
        // Any spelling of the prefix, normalised or not (parsing borrows a normalised one).
        for prefix in ["kubernetes.io", "/kubernetes.io", "/kubernetes.io/", "//kubernetes.io//", "kubernetes.io/"] {
            let k = parse_key(b"/kubernetes.io/pods/ns/p", prefix, &table).unwrap();
            assert_eq!(parts(&k), ("pods", "", "pods", Some("ns"), "p"), "{prefix}");
        }
        for prefix in ["", "/", "//"] {
            let k = parse_key(b"/pods/ns/p", prefix, &table).unwrap();
            assert_eq!(parts(&k), ("pods", "", "pods", Some("ns"), "p"), "{prefix:?}");
        }
        assert_eq!(
            parse_key(b"/kubernetes.iox/pods/ns/p", "/kubernetes.io/", &table),
            Err(KeyError::OutsidePrefix("/kubernetes.io/".into()))
        );
        assert!(matches!(parse_key(b"compact_rev_key", "/registry", &table), Err(KeyError::OutsidePrefix(_))));
        assert_eq!(parse_key(b"/registry/pods", "/registry", &table), Err(KeyError::NoName));
        assert_eq!(parse_key(b"/registry/pods/ns", "/registry", &table), Err(KeyError::NoName));
        assert_eq!(parse_key(b"/registry/pods/\xff/x", "/registry", &table), Err(KeyError::NotUtf8));
    }

    #[test]
    fn storage_locations_round_trip() {
        let table = ResourceTable::builtin();
        assert_eq!(storage_location("", "nodes"), "minions");
        assert_eq!(storage_location("", "services"), "services/specs");
        assert_eq!(storage_location("extensions", "ingresses"), "ingress");
        assert_eq!(storage_location("events.k8s.io", "events"), "events");
        assert_eq!(storage_location("example.com", "widgets"), "example.com/widgets");
        for info in table.entries() {
            let ns = info.namespaced.then_some("ns");
            let key = object_key("/registry", info, ns, "n");
            let parsed = parse_key(key.as_bytes(), "/registry", &table).unwrap();
            assert_eq!(parsed.namespace.as_deref(), ns, "{key}");
            assert_eq!(parsed.name, "n", "{key}");
            assert_eq!(storage_location(&parsed.group, &parsed.resource), parsed.storage, "{key}");
            // The borrowed parse gives the same parts, and the entry the table has for them.
            let borrowed = parse_key_ref(key.as_bytes(), "/registry", &table).unwrap();
            assert_eq!(ObjectKey::from(borrowed), parsed, "{key}");
            let entry = table.lookup(&parsed.group, &parsed.resource).expect("a known resource");
            assert!(borrowed.info.is_some_and(|i| std::ptr::eq(i, entry)), "{key}");
            // Parsing finds the group through the location: every served resource's
            // location leads back to it or to one stored with it (`events.k8s.io`).
            if !info.internal {
                let stored = table.stored_at(&parsed.storage).expect("a served location");
                assert_eq!(storage_location(&stored.group, &stored.plural), parsed.storage, "{key}");
            }
        }
        let mut table = table;
        table
            .add_crd(&serde_json::json!({"spec": {"group": "example.com", "names": {"plural": "widgets", "kind": "Widget"}}}))
            .unwrap();
        assert_eq!(table.stored_at("example.com/widgets").map(|e| e.kind.as_str()), Some("Widget"));
        assert!(table.stored_at("widgets").is_none());
        assert!(table.stored_at("ranges").is_none(), "internal resources are not served");
    }
}
