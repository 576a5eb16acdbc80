//! The resource table: which resources exist, how kubectl names them (plural, singular,
//! short names, kind, `resource.group`), their group and kind, and whether they are
//! namespaced.
//!
//! An API server learns this from discovery; a snapshot holds no discovery data, so the
//! built-in resources are listed by hand below (from `kubectl api-resources` of recent
//! releases, plus resources removed since 1.16 so that older snapshots still resolve).
//! Custom resources are added from the CustomResourceDefinitions stored in the snapshot
//! ([`ResourceTable::add_crd`]).

use std::collections::HashMap;

use foldhash::fast::RandomState;
use serde_json::Value;

mod crd;

/// One resource as kubectl knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group; `""` for the core group.
    pub group: String,
    /// The version objects are rendered in (the storage version for CRDs).
    pub version: String,
    pub kind: String,
    /// Plural resource name, as in URLs and RBAC rules.
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub namespaced: bool,
    /// Objects of this resource are API-server bookkeeping (`/registry/ranges`,
    /// `/registry/masterleases`), not served by any API endpoint.
    pub internal: bool,
}

impl ResourceInfo {
    /// `plural` for the core group, `plural.group` otherwise (kubectl's fully qualified name).
    pub fn qualified_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

/// Errors from building or querying the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    #[error("the server doesn't have a resource type {0:?}")]
    Unknown(String),
    #[error("CustomResourceDefinition lacks {0}")]
    BadCrd(&'static str),
}

/// Built-ins: (group, version, kind, plural, short names, namespaced).
/// The singular is the lower-cased kind for every built-in.
type BuiltinRow = (&'static str, &'static str, &'static str, &'static str, &'static [&'static str], bool);

#[rustfmt::skip]
const BUILTIN: &[BuiltinRow] = &[
    ("", "v1", "Binding", "bindings", &[], true),
    ("", "v1", "ComponentStatus", "componentstatuses", &["cs"], false),
    ("", "v1", "ConfigMap", "configmaps", &["cm"], true),
    ("", "v1", "Endpoints", "endpoints", &["ep"], true),
    ("", "v1", "Event", "events", &["ev"], true),
    ("", "v1", "LimitRange", "limitranges", &["limits"], true),
    ("", "v1", "Namespace", "namespaces", &["ns"], false),
    ("", "v1", "Node", "nodes", &["no"], false),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", &["pvc"], true),
    ("", "v1", "PersistentVolume", "persistentvolumes", &["pv"], false),
    ("", "v1", "Pod", "pods", &["po"], true),
    ("", "v1", "PodTemplate", "podtemplates", &[], true),
    ("", "v1", "ReplicationController", "replicationcontrollers", &["rc"], true),
    ("", "v1", "ResourceQuota", "resourcequotas", &["quota"], true),
    ("", "v1", "Secret", "secrets", &[], true),
    ("", "v1", "ServiceAccount", "serviceaccounts", &["sa"], true),
    ("", "v1", "Service", "services", &["svc"], true),
    ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", &[], false),
    ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", &[], false),
    ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", &[], false),
    ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", &[], false),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", &["crd", "crds"], false),
    ("apiregistration.k8s.io", "v1", "APIService", "apiservices", &[], false),
    ("apps", "v1", "ControllerRevision", "controllerrevisions", &[], true),
    ("apps", "v1", "DaemonSet", "daemonsets", &["ds"], true),
    ("apps", "v1", "Deployment", "deployments", &["deploy"], true),
    ("apps", "v1", "ReplicaSet", "replicasets", &["rs"], true),
    ("apps", "v1", "StatefulSet", "statefulsets", &["sts"], true),
    ("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", &["hpa"], true),
    ("batch", "v1", "CronJob", "cronjobs", &["cj"], true),
    ("batch", "v1", "Job", "jobs", &[], true),
    ("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", &["csr"], false),
    ("coordination.k8s.io", "v1", "Lease", "leases", &[], true),
    ("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", &[], true),
    ("events.k8s.io", "v1", "Event", "events", &["ev"], true),
    ("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", "flowschemas", &[], false),
    ("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration", "prioritylevelconfigurations", &[], false),
    ("networking.k8s.io", "v1", "IngressClass", "ingressclasses", &[], false),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", &["ing"], true),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", &["netpol"], true),
    ("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", &[], false),
    ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", &["pdb"], true),
    ("policy", "v1beta1", "PodSecurityPolicy", "podsecuritypolicies", &["psp"], false),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", &[], false),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", &[], false),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", &[], true),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", &[], true),
    ("resource.k8s.io", "v1", "DeviceClass", "deviceclasses", &[], false),
    ("resource.k8s.io", "v1", "ResourceClaim", "resourceclaims", &[], true),
    ("resource.k8s.io", "v1", "ResourceClaimTemplate", "resourceclaimtemplates", &[], true),
    ("resource.k8s.io", "v1", "ResourceSlice", "resourceslices", &[], false),
    ("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", &["pc"], false),
    ("storage.k8s.io", "v1", "CSIDriver", "csidrivers", &[], false),
    ("storage.k8s.io", "v1", "CSINode", "csinodes", &[], false),
    ("storage.k8s.io", "v1", "CSIStorageCapacity", "csistoragecapacities", &[], true),
    ("storage.k8s.io", "v1", "StorageClass", "storageclasses", &["sc"], false),
    ("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", &[], false),
    ("storage.k8s.io", "v1", "VolumeAttributesClass", "volumeattributesclasses", &["vac"], false),
    ("storagemigration.k8s.io", "v1alpha1", "StorageVersionMigration", "storageversionmigrations", &[], false),
    ("internal.apiserver.k8s.io", "v1alpha1", "StorageVersion", "storageversions", &[], false),
];

/// API-server bookkeeping stored under the prefix but served by no endpoint; listed so that
/// every key under the prefix maps to something (FORMATS.md §4.2, non-object keys).
#[rustfmt::skip]
const INTERNAL: &[(&str, &str, &str, &str, bool)] = &[
    // `/registry/ranges/serviceips`, `/registry/ranges/servicenodeports`: allocation bitmaps.
    ("", "v1", "RangeAllocation", "rangeallocations", false),
    // `/registry/masterleases/<ip>`: one v1 Endpoints per API server, written with a TTL.
    ("", "v1", "Endpoints", "masterleases", false),
];

/// Whether `group` is one of the API server's own groups (as opposed to a CRD's).
pub fn is_builtin_group(group: &str) -> bool {
    group.is_empty() || group == "extensions" || BUILTIN.iter().any(|&(g, ..)| g == group)
}

/// Resources known for one snapshot: built-ins plus the snapshot's CRDs.
#[derive(Debug, Clone)]
pub struct ResourceTable {
    entries: Vec<ResourceInfo>,
    /// Indexes of the entries with each plural, in table order: every key parsed looks its
    /// resource up, and scanning the table for each was 6% of `extract -A`.
    by_plural: HashMap<String, Vec<usize>, RandomState>,
    /// Index of the first served entry stored at each location (see
    /// [`crate::keys::storage_location`]).
    by_location: HashMap<String, usize, RandomState>,
}

impl Default for ResourceTable {
    fn default() -> Self {
        Self::builtin()
    }
}

impl ResourceTable {
    /// The built-in resources only.
    pub fn builtin() -> ResourceTable {
        let mut entries: Vec<ResourceInfo> = BUILTIN
            .iter()
            .map(|&(group, version, kind, plural, short, namespaced)| ResourceInfo {
                group: group.into(),
                version: version.into(),
                kind: kind.into(),
                plural: plural.into(),
                singular: kind.to_ascii_lowercase(),
                short_names: short.iter().map(|s| s.to_string()).collect(),
                namespaced,
                internal: false,
            })
            .collect();
        entries.extend(INTERNAL.iter().map(|&(group, version, kind, plural, namespaced)| ResourceInfo {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: plural.trim_end_matches('s').into(),
            short_names: Vec::new(),
            namespaced,
            internal: true,
        }));
        let mut table =
            ResourceTable { entries: Vec::new(), by_plural: HashMap::default(), by_location: HashMap::default() };
        for entry in entries {
            table.push(entry);
        }
        table
    }

    fn push(&mut self, entry: ResourceInfo) {
        let index = self.entries.len();
        self.by_plural.entry(entry.plural.clone()).or_default().push(index);
        if !entry.internal {
            let location = crate::keys::storage_location(&entry.group, &entry.plural);
            self.by_location.entry(location).or_insert(index);
        }
        self.entries.push(entry);
    }

    /// Every resource, built-ins first, then CRDs in the order added.
    pub fn entries(&self) -> &[ResourceInfo] {
        &self.entries
    }

    /// Add the resource a CustomResourceDefinition (decoded JSON) defines. A CRD whose
    /// group/plural is already known replaces nothing: built-ins win, as in the API server.
    pub fn add_crd(&mut self, crd: &Value) -> Result<(), ResourceError> {
        self.add(ResourceInfo::from_crd(crd)?);
        Ok(())
    }

    /// Add a custom resource (see [`ResourceInfo::from_crd`] and
    /// [`ResourceInfo::from_crd_json`]) unless its group/plural is already known: built-ins
    /// and the CRDs added before win, as in the API server.
    pub fn add(&mut self, resource: ResourceInfo) {
        if self.lookup(&resource.group, &resource.plural).is_none() {
            self.push(resource);
        }
    }

    /// The resource with this group and plural name.
    pub fn lookup(&self, group: &str, plural: &str) -> Option<&ResourceInfo> {
        let indexes = self.by_plural.get(plural)?;
        indexes.iter().map(|&i| &self.entries[i]).find(|e| e.group == group)
    }

    /// The first served resource stored at `location` under the prefix (`deployments`,
    /// `services/specs`, `example.com/widgets`).
    pub fn stored_at(&self, location: &str) -> Option<&ResourceInfo> {
        self.by_location.get(location).map(|&i| &self.entries[i])
    }

    /// The resource whose objects have this apiVersion group and kind.
    pub fn by_kind(&self, group: &str, kind: &str) -> Option<&ResourceInfo> {
        self.entries.iter().find(|e| e.group == group && e.kind == kind && !e.internal)
    }

    /// Resolve a resource name as kubectl accepts it: plural, singular, short name or kind
    /// (kind case-insensitively), each optionally qualified as `name.group` or
    /// `name.version.group`. Every match is returned (e.g. `events` is both core and
    /// `events.k8s.io`, which share storage), in table order.
    pub fn resolve(&self, name: &str) -> Result<Vec<&ResourceInfo>, ResourceError> {
        let lower = name.to_ascii_lowercase();
        // API-server bookkeeping (`masterleases` hold Endpoints) answers to its own plural
        // only, so that `endpoints` means the served resource alone.
        let matches_name = |e: &ResourceInfo, n: &str| {
            e.plural == n
                || !e.internal
                    && (e.singular == n || e.short_names.iter().any(|s| s == n) || e.kind.eq_ignore_ascii_case(n))
        };
        // Unqualified first: kubectl treats `deployments` as a name before splitting on dots.
        let mut found: Vec<&ResourceInfo> = self.entries.iter().filter(|e| matches_name(e, &lower)).collect();
        if found.is_empty() {
            if let Some((head, group)) = lower.split_once('.') {
                found = self.entries.iter().filter(|e| e.group == group && matches_name(e, head)).collect();
                if found.is_empty() {
                    // `deployments.v1.apps`
                    if let Some((version, group)) = group.split_once('.') {
                        found = self
                            .entries
                            .iter()
                            .filter(|e| e.group == group && e.version == version && matches_name(e, head))
                            .collect();
                    }
                }
            }
        }
        if found.is_empty() {
            return Err(ResourceError::Unknown(name.to_string()));
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(found: Vec<&ResourceInfo>) -> Vec<String> {
        found.iter().map(|e| e.qualified_name()).collect()
    }

    #[test]
    fn resolves_like_kubectl() {
        let t = ResourceTable::builtin();
        for name in ["deploy", "deployment", "deployments", "Deployment", "deployments.apps", "deployments.v1.apps"] {
            assert_eq!(names(t.resolve(name).unwrap()), ["deployments.apps"], "{name}");
        }
        assert_eq!(names(t.resolve("svc").unwrap()), ["services"]);
        assert_eq!(names(t.resolve("po").unwrap()), ["pods"]);
        // masterleases store Endpoints, but `endpoints`/`ep`/`Endpoints` mean the served resource.
        for name in ["endpoints", "ep", "Endpoints"] {
            assert_eq!(names(t.resolve(name).unwrap()), ["endpoints"], "{name}");
        }
        assert_eq!(names(t.resolve("masterleases").unwrap()), ["masterleases"]);
        assert_eq!(names(t.resolve("events").unwrap()), ["events", "events.events.k8s.io"]);
        assert_eq!(names(t.resolve("events.events.k8s.io").unwrap()), ["events.events.k8s.io"]);
        assert_eq!(names(t.resolve("crd").unwrap()), ["customresourcedefinitions.apiextensions.k8s.io"]);
        assert!(matches!(t.resolve("nosuch"), Err(ResourceError::Unknown(_))));
    }

    #[test]
    fn crds_from_the_snapshot_are_resolvable() {
        let mut t = ResourceTable::builtin();
        let crd = json!({"spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{"name": "v1alpha1", "storage": false}, {"name": "v1", "storage": true}]}});
        t.add_crd(&crd).unwrap();
        for name in ["widgets", "widget", "wd", "Widget", "widgets.example.com", "widgets.v1.example.com"] {
            assert_eq!(names(t.resolve(name).unwrap()), ["widgets.example.com"], "{name}");
        }
        let info = t.lookup("example.com", "widgets").unwrap();
        assert!(info.namespaced);
        assert_eq!(info.version, "v1");
        assert_eq!(t.add_crd(&json!({"spec": {}})), Err(ResourceError::BadCrd("spec.group")));
    }
}
