//! Cleaning objects so that `kubectl create -f` accepts them on another cluster and they do
//! not fight the controllers there. The rules are data ([`RULES`], [`SKIPS`]) applied by
//! [`clean`] and [`skip_reason`]; each is tested on its own below.
//!
//! The rule set covers every restore-relevant rule of kubectl-neat and of Velero's restore
//! item actions, plus the cases kubectl-neat leaves open (nested templates'
//! `creationTimestamp: null`, `clusterIPs`, initContainers/ephemeralContainers and
//! `kube-api-access-*` volumes). Deliberately not copied from kubectl-neat: removing
//! fields equal to their defaults (needs Kubernetes' defaulting code; harmless to keep),
//! removing empty maps and lists (can change meaning), dropping `finalizers` and
//! `generateName` (user intent that a restore should keep).
//!
//! ## Field rules
//!
//! | rule | applies to | removes | why |
//! |---|---|---|---|
//! | `metadata` | every object | `metadata.{uid, resourceVersion, generation, creationTimestamp, selfLink, managedFields, deletionTimestamp, deletionGracePeriodSeconds}` | assigned by the API server; `resourceVersion`/`uid` make `create` fail |
//! | `last-applied` | every object | annotation `kubectl.kubernetes.io/last-applied-configuration` | would make `kubectl apply` diff against the old cluster's state |
//! | `owner-references` | every object (unless `--keep-owner-references`) | `metadata.ownerReferences` | the owners' uids do not exist on the new cluster; the garbage collector would delete the object |
//! | `template-metadata` | objects with pod/job/claim templates | `creationTimestamp: null` in `spec.template.metadata`, `spec.jobTemplate.metadata`, `spec.jobTemplate.spec.template.metadata`, `spec.volumeClaimTemplates[].metadata`, and `spec.volumeClaimTemplates[].status` | serialisation noise of Go's zero time (kubectl-neat #64) |
//! | `status` | every object | `status` | written by controllers, ignored or rejected on create |
//! | `service-cluster-ip` | Service | `spec.clusterIP`, `spec.clusterIPs` unless `None` (headless) | the old service CIDR may not exist on the new cluster (kubectl-neat #44, #86; Velero) |
//! | `service-node-ports` | Service (unless `--keep-node-ports`) | `spec.ports[].nodePort` and `spec.healthCheckNodePort` that were auto-assigned (not in the last-applied annotation nor owned by a field manager) | auto-assigned ports may be taken on the new cluster (Velero) |
//! | `pod-scheduling` | Pod | `spec.nodeName`, `spec.priority` | nodes differ; `priority` is computed from `priorityClassName` and rejected when it disagrees (Velero, kubectl-neat) |
//! | `pod-token-volumes` | Pod | volumes `<serviceAccount>-token-*` / `default-token-*` (secret) and `kube-api-access-*` (projected), and their mounts in containers, initContainers and ephemeralContainers | injected by the ServiceAccount admission plugin, which adds its own again (Velero, kubectl-neat) |
//! | `pod-ephemeral-containers` | Pod | `spec.ephemeralContainers` | added later through the `ephemeralcontainers` subresource (`kubectl debug`); the API server refuses a Pod that has them on create (`spec.ephemeralContainers: Forbidden: cannot be set on create`) |
//! | `pod-service-account-alias` | Pod | `spec.serviceAccount` when equal to `spec.serviceAccountName` | deprecated alias filled in by the API server (kubectl-neat) |
//! | `pvc-binding` | PersistentVolumeClaim | annotations `pv.kubernetes.io/bind-completed`, `pv.kubernetes.io/bound-by-controller`; for a dynamically provisioned claim (a `storage-provisioner` annotation) also `spec.volumeName` and annotation `volume.kubernetes.io/selected-node` | the PV controller treats a claim marked bind-completed as already bound and, finding its volume missing or (after `pv-claim-ref`) not bound to the new claim's uid, marks it `Lost`; without the marks a claim that names its volume binds to it again (Velero resets the same annotations); a dynamic claim gets a new volume, provisioned on a node of the new cluster, not the old one's |
//! | `pv-claim-ref` | PersistentVolume | `spec.claimRef.uid`, `spec.claimRef.resourceVersion` | the claim's uid changes on restore; a stale uid leaves the volume `Released` |
//! | `crd-v1` | CustomResourceDefinition stored as `apiextensions.k8s.io/v1beta1` | converts it to `apiextensions.k8s.io/v1`: drops `spec.version`; moves the top-level `validation` (as `schema`), `subresources` and `additionalPrinterColumns` (`JSONPath` renamed `jsonPath`) into every version that lacks its own; gives a version with no schema at all `{type: object, x-kubernetes-preserve-unknown-fields: true}`; `preserveUnknownFields: true` becomes that flag on every schema; moves `conversion.webhookClientConfig` and `conversion.conversionReviewVersions` under `conversion.webhook` | the API server stores CRDs in their v1beta1 form (FORMATS.md §4.4) and serves them as v1; v1beta1 is no longer served (Kubernetes 1.22+), so `create` of the stored form fails |
//! | `job-controller-uid` | Job without `manualSelector: true` | the `controller-uid` / `batch.kubernetes.io/controller-uid` entries of `spec.selector.matchLabels` (the selector if that empties it) and of `spec.template.metadata.labels` and `metadata.labels` (which the API server defaults from the template's) | generated from the old Job's uid; the API server rejects a selector it did not generate |
//! | `token-secret-data` | Secret of type `kubernetes.io/service-account-token` made by hand (not skipped as `token-secrets`) | `data` and the annotation `kubernetes.io/service-account.uid` | the token controller fills in a token of the new cluster; a stale ServiceAccount uid makes it delete the Secret |
//!
//! ## Objects skipped (kept with `--include-owned`)
//!
//! | skip | objects | why |
//! |---|---|---|
//! | `owned` | objects with a controller owner reference (ReplicaSets of Deployments, Pods of ReplicaSets/Jobs/DaemonSets/StatefulSets, Jobs of CronJobs…) | the owner recreates them |
//! | `events` | Events (core and `events.k8s.io`) | records of the past, not state |
//! | `leases` | Leases | held by running components (leader election, node heartbeats) |
//! | `controller-revisions` | ControllerRevisions | history kept by the DaemonSet/StatefulSet controllers |
//! | `endpoint-slices` | EndpointSlices with the `endpointslice.kubernetes.io/managed-by` label | managed by the EndpointSlice controllers |
//! | `service-endpoints` | Endpoints of a Service that has a selector | managed by the endpoints controller |
//! | `token-secrets` | Secrets of type `kubernetes.io/service-account-token` that the token controller generated (named `<serviceAccount>-token-xxxxx`, before 1.24) | the cluster generates its own for each ServiceAccount; token Secrets made by hand are kept (rule `token-secret-data`) |
//! | `nodes` | Nodes and CSINodes | registered by each node's kubelet; created by hand they would be nodes that do not exist (Velero skips them too) |
//! | `cluster-defaults` | what every cluster creates itself: namespaces `default`, `kube-system`, `kube-public`, `kube-node-lease`; ConfigMaps `kube-root-ca.crt`; ServiceAccounts `default` without imagePullSecrets; Service/Endpoints/EndpointSlice `default/kubernetes`; objects labelled `kubernetes.io/bootstrapping=rbac-defaults`; APIServices labelled `kube-aggregator.kubernetes.io/automanaged`; APF objects annotated `apf.kubernetes.io/autoupdate-spec: "true"`; PriorityClasses `system-cluster-critical`, `system-node-critical` | `create` would fail with AlreadyExists |
//! | `apiserver-internal` | `/registry/ranges/*` (RangeAllocation), `/registry/masterleases/*` | API-server bookkeeping no API endpoint serves |

mod every_object;
mod skip_facts;

use crate::member::member;
pub(crate) use every_object::{clean_every_object, CleanTree};
use every_object::{every_object_rule, remove_all, remove_annotations};
use serde_json::{Map, Value};
pub(crate) use skip_facts::group_and_kind;
pub use skip_facts::SkipFacts;

/// One field rule, documented as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub applies_to: &'static str,
    pub removes: &'static str,
    /// The flag that turns the rule off, if any.
    pub disabled_by: Option<&'static str>,
}

/// The field rules, in the order [`clean`] applies them.
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    Rule { id: "metadata", applies_to: "every object", removes: "uid, resourceVersion, generation, creationTimestamp, selfLink, managedFields, deletionTimestamp, deletionGracePeriodSeconds", disabled_by: None },
    Rule { id: "last-applied", applies_to: "every object", removes: "annotation kubectl.kubernetes.io/last-applied-configuration", disabled_by: None },
    Rule { id: "owner-references", applies_to: "every object", removes: "metadata.ownerReferences", disabled_by: Some("--keep-owner-references") },
    Rule { id: "template-metadata", applies_to: "pod, job and claim templates", removes: "creationTimestamp: null, template claim status", disabled_by: None },
    Rule { id: "status", applies_to: "every object", removes: "status", disabled_by: None },
    Rule { id: "service-cluster-ip", applies_to: "Service", removes: "spec.clusterIP, spec.clusterIPs unless None", disabled_by: None },
    Rule { id: "service-node-ports", applies_to: "Service", removes: "auto-assigned nodePort, healthCheckNodePort", disabled_by: Some("--keep-node-ports") },
    Rule { id: "pod-scheduling", applies_to: "Pod", removes: "spec.nodeName, spec.priority", disabled_by: None },
    Rule { id: "pod-token-volumes", applies_to: "Pod", removes: "service-account token volumes and their mounts", disabled_by: None },
    Rule { id: "pod-ephemeral-containers", applies_to: "Pod", removes: "spec.ephemeralContainers", disabled_by: None },
    Rule { id: "pod-service-account-alias", applies_to: "Pod", removes: "spec.serviceAccount equal to serviceAccountName", disabled_by: None },
    Rule { id: "pvc-binding", applies_to: "PersistentVolumeClaim", removes: "bind-completed and bound-by-controller annotations; if dynamically provisioned, spec.volumeName and the selected-node annotation", disabled_by: None },
    Rule { id: "pv-claim-ref", applies_to: "PersistentVolume", removes: "spec.claimRef.uid, spec.claimRef.resourceVersion", disabled_by: None },
    Rule { id: "crd-v1", applies_to: "CustomResourceDefinition stored as v1beta1", removes: "the v1beta1 form: converted to apiextensions.k8s.io/v1", disabled_by: None },
    Rule { id: "job-controller-uid", applies_to: "Job without manualSelector", removes: "generated controller-uid selector and template labels", disabled_by: None },
    Rule { id: "token-secret-data", applies_to: "service-account token Secret made by hand", removes: "data, annotation kubernetes.io/service-account.uid", disabled_by: None },
];

/// Why an object is skipped by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Skip {
    Owned,
    Events,
    Leases,
    ControllerRevisions,
    EndpointSlices,
    ServiceEndpoints,
    TokenSecrets,
    Nodes,
    ClusterDefaults,
    ApiserverInternal,
}

/// Each skip with its id and the reason the summary gives.
#[rustfmt::skip]
pub const SKIPS: &[(Skip, &str, &str)] = &[
    (Skip::Owned, "owned", "owned by a controller, which recreates them"),
    (Skip::Events, "events", "events: records of the past, not state"),
    (Skip::Leases, "leases", "leases: held by running components"),
    (Skip::ControllerRevisions, "controller-revisions", "controller revisions: history kept by their controllers"),
    (Skip::EndpointSlices, "endpoint-slices", "endpoint slices managed by the EndpointSlice controllers"),
    (Skip::ServiceEndpoints, "service-endpoints", "endpoints of Services with a selector: managed by the endpoints controller"),
    (Skip::TokenSecrets, "token-secrets", "generated service-account token secrets: the cluster makes its own"),
    (Skip::Nodes, "nodes", "nodes: registered by each node's kubelet"),
    (Skip::ClusterDefaults, "cluster-defaults", "created by every cluster itself (create would fail with AlreadyExists)"),
    (Skip::ApiserverInternal, "apiserver-internal", "API-server bookkeeping (ranges, masterleases) that no API serves"),
];

impl Skip {
    /// Whether the skip is about the kind itself (every Event, Lease, Node…) rather than the
    /// object: such skips give way when the user names the resource (`extract events`).
    pub fn is_by_kind(self) -> bool {
        matches!(self, Skip::Events | Skip::Leases | Skip::ControllerRevisions | Skip::Nodes)
    }

    pub fn id(self) -> &'static str {
        SKIPS.iter().find(|s| s.0 == self).map_or("", |s| s.1)
    }
    pub fn reason(self) -> &'static str {
        SKIPS.iter().find(|s| s.0 == self).map_or("", |s| s.2)
    }
}

/// Switches for the rules that have one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanOptions {
    pub keep_owner_references: bool,
    pub keep_node_ports: bool,
}

/// Answers whether a Service with a selector exists with this namespace and name.
pub type ServiceLookup<'a> = &'a dyn Fn(&str, &str) -> bool;

/// What [`skip_reason`] needs to know beyond the object itself.
#[derive(Clone, Copy, Default)]
pub struct SkipContext<'a> {
    /// The key's resource is API-server bookkeeping (`ResourceInfo::internal`).
    pub internal: bool,
    /// Whether a Service with a selector exists with this namespace and name.
    pub service_has_selector: Option<ServiceLookup<'a>>,
}

/// The metadata the API server assigns, removed by the `metadata` rule (with
/// `managedFields`), and which decoding can leave out ([`crate::LeaveOut`]).
pub const ASSIGNED_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

pub(crate) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
const CONTROLLER_UID_LABELS: &[&str] = &["controller-uid", "batch.kubernetes.io/controller-uid"];

pub(crate) fn group_of(obj: &Value) -> &str {
    group_of_api_version(member(obj, "apiVersion").and_then(Value::as_str).unwrap_or(""))
}

/// The group of an apiVersion (`""` for the core group's `v1`).
pub(crate) fn group_of_api_version(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

pub(crate) fn kind_of(obj: &Value) -> &str {
    member(obj, "kind").and_then(Value::as_str).unwrap_or("")
}

pub(crate) fn is(obj: &Value, group: &str, kind: &str) -> bool {
    kind_of(obj) == kind && group_of(obj) == group
}

/// The value at a path of keys. `Value::pointer` would do, but it allocates for every
/// segment (to unescape `~1`), and skipping asks for paths of every object.
fn value_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, k| member(v, k))
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    value_at(v, path).and_then(Value::as_str)
}

fn map_at<'v>(v: &'v mut Value, path: &[&str]) -> Option<&'v mut Map<String, Value>> {
    path.iter().try_fold(v, |v, k| v.get_mut(k)).and_then(Value::as_object_mut)
}

/// The kinds some rules apply to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleKind {
    Service,
    Pod,
    PersistentVolumeClaim,
    PersistentVolume,
    CustomResourceDefinition,
    Job,
    Secret,
    Other,
}

impl RuleKind {
    fn of(obj: &Value) -> RuleKind {
        RuleKind::of_kind(group_of(obj), kind_of(obj))
    }

    /// The rules' kind of a `(group, kind)`.
    pub(crate) fn of_kind(group: &str, kind: &str) -> RuleKind {
        match (group, kind) {
            ("", "Service") => RuleKind::Service,
            ("", "Pod") => RuleKind::Pod,
            ("", "PersistentVolumeClaim") => RuleKind::PersistentVolumeClaim,
            ("", "PersistentVolume") => RuleKind::PersistentVolume,
            ("apiextensions.k8s.io", "CustomResourceDefinition") => RuleKind::CustomResourceDefinition,
            ("batch", "Job") => RuleKind::Job,
            ("", "Secret") => RuleKind::Secret,
            _ => RuleKind::Other,
        }
    }
}

/// Apply every field rule to `obj`; returns the ids of the rules that changed it.
pub fn clean(obj: &mut Value, options: &CleanOptions) -> Vec<&'static str> {
    let mut applied = Vec::new();
    // Looked up once: the rules below change neither kind nor apiVersion.
    let kind = RuleKind::of(obj);
    // Node-port explicitness is read from fields the metadata rules remove: decide first.
    let explicit_ports = (kind == RuleKind::Service).then(|| explicit_node_ports(obj));
    for rule in RULES {
        if let Some(changed) = every_object_rule(obj, rule.id, options) {
            if changed {
                applied.push(rule.id);
            }
            continue;
        }
        let changed = match rule.id {
            "service-cluster-ip" => kind == RuleKind::Service && clean_cluster_ip(obj),
            "service-node-ports" => {
                !options.keep_node_ports
                    && explicit_ports.as_ref().is_some_and(|explicit| clean_node_ports(obj, explicit))
            }
            "pod-scheduling" => {
                kind == RuleKind::Pod
                    && map_at(obj, &["spec"]).is_some_and(|s| remove_all(s, &["nodeName", "priority"]))
            }
            "pod-token-volumes" => kind == RuleKind::Pod && clean_token_volumes(obj),
            "pod-ephemeral-containers" => {
                kind == RuleKind::Pod
                    && map_at(obj, &["spec"]).is_some_and(|s| s.shift_remove("ephemeralContainers").is_some())
            }
            "pod-service-account-alias" => kind == RuleKind::Pod && clean_service_account_alias(obj),
            "pvc-binding" => kind == RuleKind::PersistentVolumeClaim && clean_pvc_binding(obj),
            "pv-claim-ref" => {
                kind == RuleKind::PersistentVolume
                    && map_at(obj, &["spec", "claimRef"]).is_some_and(|c| remove_all(c, &["uid", "resourceVersion"]))
            }
            "crd-v1" => kind == RuleKind::CustomResourceDefinition && crd_to_v1(obj),
            "job-controller-uid" => kind == RuleKind::Job && clean_job_selector(obj),
            "token-secret-data" => kind == RuleKind::Secret && is_token_secret(obj) && clean_token_secret(obj),
            _ => false,
        };
        if changed {
            applied.push(rule.id);
        }
    }
    applied
}

fn clean_cluster_ip(obj: &mut Value) -> bool {
    let Some(spec) = map_at(obj, &["spec"]) else { return false };
    if spec.get("clusterIP").and_then(Value::as_str) == Some("None") {
        return false;
    }
    remove_all(spec, &["clusterIP", "clusterIPs"])
}

/// Node ports the user set: in the last-applied annotation, or owned by a field manager
/// (allocation by the API server happens after field tracking, so allocated ports appear
/// in no manager's set). Velero's rule.
#[derive(Debug, Default)]
struct ExplicitPorts {
    /// (port, protocol) of ports with an explicit nodePort.
    node_ports: Vec<(i64, String)>,
    health_check: bool,
}

/// Whether [`clean`] reads `obj`'s `metadata.managedFields` and last-applied annotation
/// (with `options`): a Service with a node port or a health check node port, to keep those
/// a user asked for. An object decoded without them
/// ([`LeaveOut::dropped_by_cleaning`](crate::LeaveOut::dropped_by_cleaning)) for which this
/// holds is to be decoded again with them
/// ([`LeaveOut::keeping_node_port_owners`](crate::LeaveOut::keeping_node_port_owners)) before
/// cleaning.
pub fn reads_managed_fields(obj: &Value, options: &CleanOptions) -> bool {
    if options.keep_node_ports || RuleKind::of(obj) != RuleKind::Service {
        return false;
    }
    let Some(spec) = obj.get("spec") else { return false };
    let node_port = |p: &Value| p.get("nodePort").is_some();
    spec.get("healthCheckNodePort").is_some()
        || spec.get("ports").and_then(Value::as_array).is_some_and(|ports| ports.iter().any(node_port))
}

fn explicit_node_ports(obj: &Value) -> ExplicitPorts {
    let mut explicit = ExplicitPorts::default();
    let port_id = |p: &Value| {
        let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
        let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP").to_string();
        (port, protocol)
    };
    if let Some(applied) =
        str_at(obj, &["metadata", "annotations", LAST_APPLIED]).and_then(|s| serde_json::from_str::<Value>(s).ok())
    {
        if let Some(ports) = value_at(&applied, &["spec", "ports"]).and_then(Value::as_array) {
            explicit.node_ports.extend(ports.iter().filter(|p| p.get("nodePort").is_some()).map(port_id));
        }
        explicit.health_check |= value_at(&applied, &["spec", "healthCheckNodePort"]).is_some();
    }
    let entries =
        value_at(obj, &["metadata", "managedFields"]).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    for entry in entries {
        let Some(spec) = value_at(entry, &["fieldsV1", "f:spec"]) else { continue };
        explicit.health_check |= spec.get("f:healthCheckNodePort").is_some();
        let Some(ports) = spec.get("f:ports").and_then(Value::as_object) else { continue };
        for (key, fields) in ports {
            // Keys look like `k:{"port":80,"protocol":"TCP"}`.
            let Some(id) = key.strip_prefix("k:").and_then(|k| serde_json::from_str::<Value>(k).ok()) else {
                continue;
            };
            if fields.get("f:nodePort").is_some() {
                explicit.node_ports.push(port_id(&id));
            }
        }
    }
    explicit
}

fn clean_node_ports(obj: &mut Value, explicit: &ExplicitPorts) -> bool {
    let mut changed = false;
    let Some(spec) = map_at(obj, &["spec"]) else { return false };
    if !explicit.health_check {
        changed |= spec.shift_remove("healthCheckNodePort").is_some();
    }
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports {
            let id = (
                port.get("port").and_then(Value::as_i64).unwrap_or(0),
                port.get("protocol").and_then(Value::as_str).unwrap_or("TCP").to_string(),
            );
            if !explicit.node_ports.contains(&id) {
                changed |= port.as_object_mut().is_some_and(|p| p.shift_remove("nodePort").is_some());
            }
        }
    }
    changed
}

fn clean_token_volumes(obj: &mut Value) -> bool {
    let Some(spec) = map_at(obj, &["spec"]) else { return false };
    let sa = spec
        .get("serviceAccountName")
        .or_else(|| spec.get("serviceAccount"))
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_string();
    let sa_prefix = format!("{sa}-token-");
    let is_token_volume = |v: &Value| {
        let name = v.get("name").and_then(Value::as_str).unwrap_or("");
        (v.get("secret").is_some() && (name.starts_with(&sa_prefix) || name.starts_with("default-token-")))
            || (v.get("projected").is_some() && name.starts_with("kube-api-access-"))
    };
    let mut removed: Vec<String> = Vec::new();
    if let Some(volumes) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
        volumes.retain(|v| {
            let token = is_token_volume(v);
            if token {
                removed.push(v.get("name").and_then(Value::as_str).unwrap_or("").to_string());
            }
            !token
        });
        if volumes.is_empty() {
            spec.shift_remove("volumes");
        }
    }
    if removed.is_empty() {
        return false;
    }
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else { continue };
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            let Some(mounts) = container.get_mut("volumeMounts").and_then(Value::as_array_mut) else { continue };
            mounts.retain(|m| !removed.iter().any(|r| m.get("name").and_then(Value::as_str) == Some(r)));
            if mounts.is_empty() {
                container.shift_remove("volumeMounts");
            }
        }
    }
    true
}

fn clean_service_account_alias(obj: &mut Value) -> bool {
    let Some(spec) = map_at(obj, &["spec"]) else { return false };
    if spec.get("serviceAccount").is_some() && spec.get("serviceAccount") == spec.get("serviceAccountName") {
        return spec.shift_remove("serviceAccount").is_some();
    }
    false
}

fn clean_pvc_binding(obj: &mut Value) -> bool {
    let dynamic = ["volume.kubernetes.io/storage-provisioner", "volume.beta.kubernetes.io/storage-provisioner"]
        .iter()
        .any(|a| str_at(obj, &["metadata", "annotations", a]).is_some());
    let mut changed =
        remove_annotations(obj, &["pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller"]);
    if dynamic {
        changed |= map_at(obj, &["spec"]).is_some_and(|s| s.shift_remove("volumeName").is_some());
        changed |= remove_annotations(obj, &["volume.kubernetes.io/selected-node"]);
    }
    changed
}

/// A CustomResourceDefinition in the v1beta1 form the API server stores → the v1 form it
/// serves (the inverse of the storage conversion, for what v1 can express).
fn crd_to_v1(obj: &mut Value) -> bool {
    const V1BETA1: &str = "apiextensions.k8s.io/v1beta1";
    if obj.get("apiVersion").and_then(Value::as_str) != Some(V1BETA1) {
        return false;
    }
    if let Some(o) = obj.as_object_mut() {
        o.insert("apiVersion".into(), Value::String("apiextensions.k8s.io/v1".into()));
    }
    let Some(spec) = map_at(obj, &["spec"]) else { return true };
    spec.shift_remove("version");
    let schema = spec.shift_remove("validation").and_then(|mut v| v.get_mut("openAPIV3Schema").map(Value::take));
    let subresources = spec.shift_remove("subresources");
    let columns = spec.shift_remove("additionalPrinterColumns");
    let preserve_unknown = spec.shift_remove("preserveUnknownFields").and_then(|v| v.as_bool()) == Some(true);
    fn rename_json_path(columns: &mut Value) {
        for column in columns.as_array_mut().into_iter().flatten().filter_map(Value::as_object_mut) {
            if let Some(path) = column.shift_remove("JSONPath") {
                column.insert("jsonPath".into(), path);
            }
        }
    }
    if let Some(versions) = spec.get_mut("versions").and_then(Value::as_array_mut) {
        for version in versions.iter_mut().filter_map(Value::as_object_mut) {
            if !version.contains_key("schema") {
                let root = schema.clone().unwrap_or_else(
                    || serde_json::json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
                );
                version.insert("schema".into(), serde_json::json!({ "openAPIV3Schema": root }));
            }
            if preserve_unknown {
                if let Some(root) = version.get_mut("schema").and_then(|s| s.get_mut("openAPIV3Schema")) {
                    if let Some(root) = root.as_object_mut() {
                        root.insert("x-kubernetes-preserve-unknown-fields".into(), Value::Bool(true));
                    }
                }
            }
            if let Some(sub) = &subresources {
                version.entry("subresources").or_insert_with(|| sub.clone());
            }
            if let Some(cols) = &columns {
                version.entry("additionalPrinterColumns").or_insert_with(|| cols.clone());
            }
            if let Some(cols) = version.get_mut("additionalPrinterColumns") {
                rename_json_path(cols);
            }
        }
    }
    if let Some(conversion) = spec.get_mut("conversion").and_then(Value::as_object_mut) {
        let client = conversion.shift_remove("webhookClientConfig");
        let review = conversion.shift_remove("conversionReviewVersions");
        if client.is_some() || review.is_some() {
            let mut webhook = Map::new();
            if let Some(c) = client {
                webhook.insert("clientConfig".into(), c);
            }
            if let Some(r) = review {
                webhook.insert("conversionReviewVersions".into(), r);
            }
            conversion.insert("webhook".into(), Value::Object(webhook));
        }
    }
    true
}

fn clean_job_selector(obj: &mut Value) -> bool {
    if value_at(obj, &["spec", "manualSelector"]).and_then(Value::as_bool) == Some(true) {
        return false;
    }
    let mut changed = false;
    if let Some(spec) = map_at(obj, &["spec"]) {
        if let Some(selector) = spec.get_mut("selector").and_then(Value::as_object_mut) {
            if let Some(labels) = selector.get_mut("matchLabels").and_then(Value::as_object_mut) {
                changed |= remove_all(labels, CONTROLLER_UID_LABELS);
                if labels.is_empty() {
                    selector.shift_remove("matchLabels");
                }
            }
            let empty = selector.is_empty()
                || selector.get("matchExpressions").and_then(Value::as_array).is_some_and(Vec::is_empty)
                    && selector.len() == 1;
            if empty {
                spec.shift_remove("selector");
            }
        }
    }
    for path in [&["spec", "template", "metadata", "labels"][..], &["metadata", "labels"]] {
        if let Some(labels) = map_at(obj, path) {
            changed |= remove_all(labels, CONTROLLER_UID_LABELS);
        }
    }
    changed
}

pub(crate) const TOKEN_SECRET_TYPE: &str = "kubernetes.io/service-account-token";
const SERVICE_ACCOUNT_NAME: &str = "kubernetes.io/service-account.name";
const SERVICE_ACCOUNT_UID: &str = "kubernetes.io/service-account.uid";

fn is_token_secret(obj: &Value) -> bool {
    is(obj, "", "Secret") && str_at(obj, &["type"]) == Some(TOKEN_SECRET_TYPE)
}

/// A token Secret the legacy token controller made for a ServiceAccount (before 1.24 it
/// made one for each, named `<serviceAccount>-token-<5 random characters>`). Token Secrets
/// made by hand (the only kind since 1.24, e.g. long-lived tokens for CI) have other names.
fn is_generated_token_secret(obj: &(impl SkipFacts + ?Sized)) -> bool {
    let (Some(account), Some(name)) = (obj.annotation(SERVICE_ACCOUNT_NAME), obj.name()) else {
        return false;
    };
    let token = obj.content("type").and_then(Value::as_str) == Some(TOKEN_SECRET_TYPE);
    group_and_kind(obj) == ("", "Secret")
        && token
        && name.strip_prefix(&*account).and_then(|rest| rest.strip_prefix("-token-")).is_some_and(|suffix| {
            suffix.len() == 5 && suffix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A token Secret made by hand is restored empty: the token controller fills in `token`,
/// `ca.crt` and `namespace` for the new cluster's ServiceAccount, and deletes the Secret if
/// it names the old ServiceAccount's uid.
fn clean_token_secret(obj: &mut Value) -> bool {
    let data = obj.as_object_mut().is_some_and(|o| o.shift_remove("data").is_some());
    remove_annotations(obj, &[SERVICE_ACCOUNT_UID]) | data
}

/// The skips that follow from the kind alone (see [`Skip::is_by_kind`]): callers that know
/// the kind from the key can skip such objects without decoding them.
pub fn skip_by_kind(group: &str, kind: &str) -> Option<Skip> {
    match (group, kind) {
        ("" | "events.k8s.io", "Event") => Some(Skip::Events),
        ("coordination.k8s.io", "Lease") => Some(Skip::Leases),
        ("apps", "ControllerRevision") => Some(Skip::ControllerRevisions),
        ("", "Node") | ("storage.k8s.io", "CSINode") => Some(Skip::Nodes),
        _ => None,
    }
}

/// Whether [`skip_reason`] needs more of an object of this kind than its `apiVersion`,
/// `kind` and `metadata`: a Secret's `type`, a ServiceAccount's `imagePullSecrets`. For
/// every other kind it answers the same from those alone, so a caller holding only them
/// (a metadata-only decode) can decide before decoding the rest.
pub fn skip_needs_content(obj: &(impl SkipFacts + ?Sized)) -> bool {
    matches!(group_and_kind(obj), ("", "Secret" | "ServiceAccount"))
}

/// Whether an object is owned by a controller (`ownerReferences[].controller: true`): this
/// needs only the metadata.
pub fn is_controlled(obj: &Value) -> bool {
    member(obj, "metadata").is_some_and(has_controller)
}

/// Whether `metadata` names a controller among its owner references.
fn has_controller(metadata: &Value) -> bool {
    member(metadata, "ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| member(r, "controller").and_then(Value::as_bool) == Some(true)))
}

/// The `(namespace, name)` of an object whose `spec.selector` has an entry: for a Service,
/// its Endpoints are the endpoints controller's ([`Skip::ServiceEndpoints`]).
/// [`Decoder::selector_owner`](crate::Decoder::selector_owner) reads the same from a
/// protobuf value's bytes.
pub fn selector_owner(obj: &Value) -> Option<(String, String)> {
    let selector = value_at(obj, &["spec", "selector"]).and_then(Value::as_object)?;
    if selector.is_empty() {
        return None;
    }
    let namespace = str_at(obj, &["metadata", "namespace"])?;
    Some((namespace.to_string(), str_at(obj, &["metadata", "name"])?.to_string()))
}

const BOOTSTRAPPING_LABEL: &str = "kubernetes.io/bootstrapping";
const AUTOMANAGED_LABEL: &str = "kube-aggregator.kubernetes.io/automanaged";
const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
const APF_AUTOUPDATE_ANNOTATION: &str = "apf.kubernetes.io/autoupdate-spec";

/// The labels and annotations [`skip_reason`] reads, and all it reads of the metadata besides
/// `name`, `namespace` and the owner references:
/// [`Decoder::peek_for_skips`](crate::Decoder::peek_for_skips) keeps only these.
pub(crate) const SKIP_LABELS: &[&str] = &[BOOTSTRAPPING_LABEL, AUTOMANAGED_LABEL, MANAGED_BY_LABEL];
pub(crate) const SKIP_ANNOTATIONS: &[&str] = &[APF_AUTOUPDATE_ANNOTATION, SERVICE_ACCOUNT_NAME];

/// Why `obj` should not be restored by default, if it should not.
pub fn skip_reason(obj: &(impl SkipFacts + ?Sized), context: &SkipContext<'_>) -> Option<Skip> {
    if context.internal {
        return Some(Skip::ApiserverInternal);
    }
    if obj.controlled() {
        return Some(Skip::Owned);
    }
    let (group, kind) = group_and_kind(obj);
    let namespace = || obj.namespace().unwrap_or_default();
    let name = || obj.name().unwrap_or_default();
    let label = |k: &str| obj.label(k);
    let annotation = |k: &str| obj.annotation(k);
    if let Some(skip) = skip_by_kind(group, kind) {
        return Some(skip);
    }
    if (group, kind) == ("", "Secret") && is_generated_token_secret(obj) {
        return Some(Skip::TokenSecrets);
    }
    let cluster_default = match (group, kind) {
        ("", "Namespace") => ["default", "kube-system", "kube-public", "kube-node-lease"].contains(&&*name()),
        ("", "ConfigMap") => name() == "kube-root-ca.crt",
        ("", "ServiceAccount") => name() == "default" && obj.content("imagePullSecrets").is_none(),
        ("", "Service" | "Endpoints") | ("discovery.k8s.io", "EndpointSlice") => {
            namespace() == "default" && name() == "kubernetes"
        }
        ("scheduling.k8s.io", "PriorityClass") => {
            matches!(&*name(), "system-cluster-critical" | "system-node-critical")
        }
        ("apiregistration.k8s.io", "APIService") => label(AUTOMANAGED_LABEL).is_some(),
        ("flowcontrol.apiserver.k8s.io", _) => annotation(APF_AUTOUPDATE_ANNOTATION).as_deref() == Some("true"),
        _ => false,
    } || label(BOOTSTRAPPING_LABEL).as_deref() == Some("rbac-defaults");
    if cluster_default {
        return Some(Skip::ClusterDefaults);
    }
    match (group, kind) {
        ("discovery.k8s.io", "EndpointSlice") if label(MANAGED_BY_LABEL).is_some() => Some(Skip::EndpointSlices),
        ("", "Endpoints") if context.service_has_selector.is_some_and(|f| f(&namespace(), &name())) => {
            Some(Skip::ServiceEndpoints)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cleaned(mut v: Value) -> (Value, Vec<&'static str>) {
        let applied = clean(&mut v, &CleanOptions::default());
        (v, applied)
    }

    #[test]
    fn rule_table_matches_the_implementation() {
        // Every documented rule id is handled (an unhandled id would silently do nothing).
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        let source = [include_str!("clean.rs"), include_str!("clean/every_object.rs")].concat();
        for r in RULES {
            assert!(source.contains(&format!("\"{}\" =>", r.id)), "{}", r.id);
            assert!(source.contains(&format!("//! | `{}` |", r.id)), "{} missing from the docs", r.id);
        }
        for (_, id, _) in SKIPS {
            assert!(source.contains(&format!("//! | `{id}` |")), "{id} missing from the docs");
        }
    }

    #[test]
    fn metadata() {
        let (v, applied) = cleaned(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": "c", "namespace": "n", "uid": "u", "resourceVersion": "5", "generation": 2,
            "creationTimestamp": "2024-01-01T00:00:00Z", "selfLink": "/api/x", "managedFields": [{}],
            "deletionTimestamp": "t", "deletionGracePeriodSeconds": 30, "labels": {"a": "b"},
            "finalizers": ["f"], "generateName": "c-"}}));
        assert_eq!(applied, ["metadata"]);
        assert_eq!(
            v["metadata"],
            json!({"name": "c", "namespace": "n", "labels": {"a": "b"}, "finalizers": ["f"], "generateName": "c-"})
        );
    }

    #[test]
    fn last_applied() {
        let (v, applied) = cleaned(json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": "{}", "keep": "x"}}}));
        assert_eq!(applied, ["last-applied"]);
        assert_eq!(v["metadata"], json!({"annotations": {"keep": "x"}}));
        let (v, _) =
            cleaned(json!({"metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}}));
        assert_eq!(v["metadata"], json!({}), "an emptied annotations map goes too");
    }

    #[test]
    fn owner_references() {
        let obj = json!({"metadata": {"ownerReferences": [{"kind": "ReplicaSet", "uid": "u"}]}});
        let (v, applied) = cleaned(obj.clone());
        assert_eq!(applied, ["owner-references"]);
        assert_eq!(v["metadata"], json!({}));
        let mut kept = obj.clone();
        clean(&mut kept, &CleanOptions { keep_owner_references: true, ..Default::default() });
        assert_eq!(kept, obj);
    }

    #[test]
    fn template_metadata() {
        let (v, applied) = cleaned(json!({"apiVersion": "batch/v1", "kind": "CronJob", "spec": {"jobTemplate": {
            "metadata": {"creationTimestamp": null}, "spec": {"template": {"metadata": {"creationTimestamp": null, "labels": {"a": "b"}}}}}}}));
        assert_eq!(applied, ["template-metadata"]);
        assert_eq!(
            v["spec"],
            json!({"jobTemplate": {"metadata": {}, "spec": {"template": {"metadata": {"labels": {"a": "b"}}}}}})
        );
        let (v, _) = cleaned(json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "spec": {
            "template": {"metadata": {"creationTimestamp": null}},
            "volumeClaimTemplates": [{"metadata": {"name": "d", "creationTimestamp": null}, "status": {"phase": "Pending"}}]}}));
        assert_eq!(
            v["spec"],
            json!({"template": {"metadata": {}}, "volumeClaimTemplates": [{"metadata": {"name": "d"}}]})
        );
        // A real timestamp in a template is the user's: kept.
        let (v, applied) =
            cleaned(json!({"spec": {"template": {"metadata": {"creationTimestamp": "2024-01-01T00:00:00Z"}}}}));
        assert!(applied.is_empty());
        assert_eq!(v["spec"]["template"]["metadata"]["creationTimestamp"], "2024-01-01T00:00:00Z");
    }

    #[test]
    fn status() {
        let (v, applied) = cleaned(json!({"kind": "X", "spec": {}, "status": {"phase": "Running"}}));
        assert_eq!(applied, ["status"]);
        assert_eq!(v, json!({"kind": "X", "spec": {}}));
    }

    #[test]
    fn service_cluster_ip() {
        let (v, applied) = cleaned(json!({"apiVersion": "v1", "kind": "Service", "spec": {
            "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "type": "ClusterIP"}}));
        assert_eq!(applied, ["service-cluster-ip"]);
        assert_eq!(v["spec"], json!({"type": "ClusterIP"}));
        let headless =
            json!({"apiVersion": "v1", "kind": "Service", "spec": {"clusterIP": "None", "clusterIPs": ["None"]}});
        assert_eq!(cleaned(headless.clone()), (headless, vec![]));
        // Not a core Service: untouched.
        let other = json!({"apiVersion": "example.com/v1", "kind": "Service", "spec": {"clusterIP": "1.2.3.4"}});
        assert_eq!(cleaned(other.clone()).0, other);
    }

    #[test]
    fn service_node_ports() {
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration":
                "{\"spec\":{\"ports\":[{\"port\":80,\"nodePort\":30080}]}}"},
            "managedFields": [{"manager": "m", "fieldsV1": {"f:spec": {"f:ports": {
                "k:{\"port\":443,\"protocol\":\"TCP\"}": {"f:nodePort": {}}}}}}]},
            "spec": {"type": "LoadBalancer", "healthCheckNodePort": 31000, "ports": [
                {"port": 80, "protocol": "TCP", "nodePort": 30080},
                {"port": 443, "protocol": "TCP", "nodePort": 30443},
                {"port": 53, "protocol": "UDP", "nodePort": 30053}]}});
        let (v, applied) = cleaned(svc.clone());
        assert_eq!(applied, ["metadata", "last-applied", "service-node-ports"]);
        assert_eq!(
            v["spec"],
            json!({"type": "LoadBalancer", "ports": [
                {"port": 80, "protocol": "TCP", "nodePort": 30080},
                {"port": 443, "protocol": "TCP", "nodePort": 30443},
                {"port": 53, "protocol": "UDP"}]})
        );
        let mut kept = svc.clone();
        clean(&mut kept, &CleanOptions { keep_node_ports: true, ..Default::default() });
        assert_eq!(kept["spec"], svc["spec"]);
    }

    #[test]
    fn pod_scheduling_and_alias() {
        let (v, applied) = cleaned(json!({"apiVersion": "v1", "kind": "Pod", "spec": {
            "nodeName": "n1", "priority": 0, "priorityClassName": "p", "serviceAccount": "sa", "serviceAccountName": "sa"}}));
        assert_eq!(applied, ["pod-scheduling", "pod-service-account-alias"]);
        assert_eq!(v["spec"], json!({"priorityClassName": "p", "serviceAccountName": "sa"}));
        // nodeName in a Deployment's template is the user's choice: kept.
        let d =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": {"nodeName": "n1"}}}});
        assert_eq!(cleaned(d.clone()).0, d);
    }

    #[test]
    fn pod_token_volumes() {
        let (v, applied) = cleaned(json!({"apiVersion": "v1", "kind": "Pod", "spec": {
            "serviceAccountName": "builder",
            "volumes": [
                {"name": "data", "emptyDir": {}},
                {"name": "builder-token-x7k2p", "secret": {"secretName": "builder-token-x7k2p"}},
                {"name": "default-token-abcde", "secret": {"secretName": "default-token-abcde"}},
                {"name": "kube-api-access-q8z4t", "projected": {"sources": []}}],
            "initContainers": [{"name": "i", "volumeMounts": [{"name": "kube-api-access-q8z4t", "mountPath": "/var/run"}]}],
            "containers": [{"name": "c", "volumeMounts": [{"name": "data", "mountPath": "/d"},
                {"name": "builder-token-x7k2p", "mountPath": "/t"}]}],
            "ephemeralContainers": [{"name": "e", "volumeMounts": [{"name": "default-token-abcde", "mountPath": "/t"}]}]}}));
        assert_eq!(applied, ["pod-token-volumes", "pod-ephemeral-containers"]);
        assert_eq!(
            v["spec"],
            json!({"serviceAccountName": "builder",
                "volumes": [{"name": "data", "emptyDir": {}}],
                "initContainers": [{"name": "i"}],
                "containers": [{"name": "c", "volumeMounts": [{"name": "data", "mountPath": "/d"}]}]})
        );
        // The mounts go from ephemeral containers too (seen when that rule alone runs).
        let mut spec = json!({"volumes": [{"name": "kube-api-access-q", "projected": {}}],
            "ephemeralContainers": [{"name": "e", "volumeMounts": [{"name": "kube-api-access-q", "mountPath": "/t"}]}]});
        let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "spec": spec.take()});
        assert!(clean_token_volumes(&mut pod));
        assert_eq!(pod["spec"], json!({"ephemeralContainers": [{"name": "e"}]}));
        // A user's secret volume that merely looks similar is kept.
        let p = json!({"apiVersion": "v1", "kind": "Pod", "spec": {"volumes": [{"name": "kube-api-access-x", "secret": {}}]}});
        assert_eq!(cleaned(p.clone()).0, p);
    }

    #[test]
    fn pvc_binding() {
        let (v, applied) =
            cleaned(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"annotations": {
            "pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
            "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"}},
            "spec": {"volumeName": "pvc-123", "storageClassName": "gp3"}}));
        assert_eq!(applied, ["pvc-binding"]);
        assert_eq!(v["spec"], json!({"storageClassName": "gp3"}));
        assert_eq!(
            v["metadata"],
            json!({"annotations": {"volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"}})
        );
        // Statically bound claims keep their volume, not the marks of a completed binding
        // (the PV controller would mark the restored claim Lost).
        let (v, applied) = cleaned(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {
            "annotations": {"pv.kubernetes.io/bind-completed": "yes", "keep": "x"}}, "spec": {"volumeName": "nfs-1"}}));
        assert_eq!(applied, ["pvc-binding"]);
        assert_eq!(v["metadata"], json!({"annotations": {"keep": "x"}}));
        assert_eq!(v["spec"], json!({"volumeName": "nfs-1"}));
        // The node the old cluster's scheduler picked goes with the dynamic binding.
        let (v, _) = cleaned(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"annotations": {
            "volume.kubernetes.io/selected-node": "n1", "volume.kubernetes.io/storage-provisioner": "p"}}}));
        assert_eq!(v["metadata"], json!({"annotations": {"volume.kubernetes.io/storage-provisioner": "p"}}));
        let unbound = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "spec": {"storageClassName": "x"}});
        assert_eq!(cleaned(unbound.clone()), (unbound, vec![]));
    }

    #[test]
    fn pod_ephemeral_containers() {
        let (v, applied) = cleaned(json!({"apiVersion": "v1", "kind": "Pod", "spec": {
            "containers": [{"name": "c"}], "ephemeralContainers": [{"name": "debugger", "targetContainerName": "c"}]}}));
        assert_eq!(applied, ["pod-ephemeral-containers"]);
        assert_eq!(v["spec"], json!({"containers": [{"name": "c"}]}));
    }

    #[test]
    fn crd_v1() {
        // The v1beta1 form the API server stores for a one-version CRD created as v1.
        let (v, applied) = cleaned(
            json!({"kind": "CustomResourceDefinition", "apiVersion": "apiextensions.k8s.io/v1beta1",
            "metadata": {"name": "shops.example.com"},
            "spec": {"group": "example.com", "version": "v1", "names": {"plural": "shops", "kind": "Shop"},
                "scope": "Namespaced", "validation": {"openAPIV3Schema": {"type": "object"}},
                "subresources": {"status": {}}, "versions": [{"name": "v1", "served": true, "storage": true}],
                "additionalPrinterColumns": [{"name": "Age", "type": "date", "JSONPath": ".metadata.creationTimestamp"}],
                "conversion": {"strategy": "None"}, "preserveUnknownFields": false}}),
        );
        assert_eq!(applied, ["crd-v1"]);
        assert_eq!(
            v,
            json!({"kind": "CustomResourceDefinition", "apiVersion": "apiextensions.k8s.io/v1",
                "metadata": {"name": "shops.example.com"},
                "spec": {"group": "example.com", "names": {"plural": "shops", "kind": "Shop"}, "scope": "Namespaced",
                    "versions": [{"name": "v1", "served": true, "storage": true,
                        "schema": {"openAPIV3Schema": {"type": "object"}}, "subresources": {"status": {}},
                        "additionalPrinterColumns": [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]}],
                    "conversion": {"strategy": "None"}}})
        );
        // Per-version fields stay the version's; no schema and preserveUnknownFields: the
        // permissive schema; webhook conversion settings move under `webhook`.
        let (v, _) = cleaned(json!({"kind": "CustomResourceDefinition", "apiVersion": "apiextensions.k8s.io/v1beta1",
            "spec": {"versions": [
                    {"name": "v2", "schema": {"openAPIV3Schema": {"type": "object"}},
                     "additionalPrinterColumns": [{"name": "N", "type": "string", "JSONPath": ".n"}]},
                    {"name": "v1"}],
                "preserveUnknownFields": true,
                "conversion": {"strategy": "Webhook", "webhookClientConfig": {"url": "https://c"},
                    "conversionReviewVersions": ["v1"]}}}));
        assert_eq!(
            v["spec"],
            json!({"versions": [
                    {"name": "v2", "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                     "additionalPrinterColumns": [{"name": "N", "type": "string", "jsonPath": ".n"}]},
                    {"name": "v1", "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}],
                "conversion": {"strategy": "Webhook", "webhook": {"clientConfig": {"url": "https://c"},
                    "conversionReviewVersions": ["v1"]}}})
        );
        let v1 = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "spec": {"versions": []}});
        assert_eq!(cleaned(v1.clone()), (v1, vec![]));
    }

    #[test]
    fn pv_claim_ref() {
        let (v, applied) = cleaned(json!({"apiVersion": "v1", "kind": "PersistentVolume", "spec": {"claimRef": {
            "kind": "PersistentVolumeClaim", "namespace": "n", "name": "c", "uid": "u", "resourceVersion": "1"}}}));
        assert_eq!(applied, ["pv-claim-ref"]);
        assert_eq!(v["spec"]["claimRef"], json!({"kind": "PersistentVolumeClaim", "namespace": "n", "name": "c"}));
    }

    #[test]
    fn job_controller_uid() {
        let (v, applied) = cleaned(json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"labels": {"controller-uid": "u", "job-name": "pi"}}, "spec": {
            "selector": {"matchLabels": {"controller-uid": "u", "batch.kubernetes.io/controller-uid": "u"}},
            "template": {"metadata": {"labels": {"controller-uid": "u", "batch.kubernetes.io/controller-uid": "u",
                "job-name": "pi"}}}}}));
        assert_eq!(applied, ["job-controller-uid"]);
        assert_eq!(v["spec"], json!({"template": {"metadata": {"labels": {"job-name": "pi"}}}}));
        assert_eq!(v["metadata"], json!({"labels": {"job-name": "pi"}}));
        let manual = json!({"apiVersion": "batch/v1", "kind": "Job", "spec": {"manualSelector": true,
            "selector": {"matchLabels": {"controller-uid": "mine"}}}});
        assert_eq!(cleaned(manual.clone()).0, manual);
    }

    fn skip(obj: Value) -> Option<Skip> {
        skip_reason(&obj, &SkipContext::default())
    }

    #[test]
    fn skips() {
        let owned = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"ownerReferences": [
            {"kind": "Deployment", "controller": true}]}});
        assert_eq!(skip(owned), Some(Skip::Owned));
        let not_controller =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"ownerReferences": [{"kind": "X"}]}});
        assert_eq!(skip(not_controller), None);
        assert_eq!(skip(json!({"apiVersion": "v1", "kind": "Event"})), Some(Skip::Events));
        assert_eq!(skip(json!({"apiVersion": "events.k8s.io/v1", "kind": "Event"})), Some(Skip::Events));
        assert_eq!(skip(json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease"})), Some(Skip::Leases));
        assert_eq!(
            skip(json!({"apiVersion": "apps/v1", "kind": "ControllerRevision"})),
            Some(Skip::ControllerRevisions)
        );
        let token = |name: &str| {
            json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token", "metadata": {
                "name": name, "annotations": {"kubernetes.io/service-account.name": "builder"}}})
        };
        assert_eq!(skip(token("builder-token-x7k2p")), Some(Skip::TokenSecrets));
        // Made by hand: kept (and emptied by `token-secret-data`).
        assert_eq!(skip(token("builder-ci-token")), None);
        assert_eq!(skip(token("builder-token-TOOLONG")), None);
        assert_eq!(skip(json!({"apiVersion": "v1", "kind": "Node"})), Some(Skip::Nodes));
        assert_eq!(skip(json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSINode"})), Some(Skip::Nodes));
        assert_eq!(skip(json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque"})), None);
        let slice = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {
            "name": "s", "labels": {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}}});
        assert_eq!(skip(slice), Some(Skip::EndpointSlices));
        let has_selector = |ns: &str, name: &str| ns == "web" && name == "front";
        let ctx = SkipContext { service_has_selector: Some(&has_selector), ..Default::default() };
        let ep = |name: &str| json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"namespace": "web", "name": name}});
        assert_eq!(skip_reason(&ep("front"), &ctx), Some(Skip::ServiceEndpoints));
        assert_eq!(skip_reason(&ep("manual"), &ctx), None);
        assert_eq!(
            skip_reason(&json!({}), &SkipContext { internal: true, ..Default::default() }),
            Some(Skip::ApiserverInternal)
        );
    }

    #[test]
    fn cluster_defaults() {
        for obj in [
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "a", "name": "kube-root-ca.crt"}}),
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"namespace": "a", "name": "default"}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": "default", "name": "kubernetes"}}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "admin",
                "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}}}),
            json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": "v1.apps",
                "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart"}}}),
            json!({"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta2", "kind": "FlowSchema", "metadata": {"name": "x",
                "annotations": {"apf.kubernetes.io/autoupdate-spec": "true"}}}),
            json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "system-node-critical"}}),
        ] {
            assert_eq!(skip(obj.clone()), Some(Skip::ClusterDefaults), "{obj}");
        }
        for obj in [
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}),
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}, "imagePullSecrets": [{"name": "r"}]}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": "team-a", "name": "kubernetes"}}),
        ] {
            assert_eq!(skip(obj.clone()), None, "{obj}");
        }
    }

    /// Every object of the skip tests, with the context it is judged in.
    fn skip_cases() -> Vec<Value> {
        let mut cases = vec![
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"ownerReferences": [
                {"kind": "Deployment", "controller": true}]}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"ownerReferences": [{"kind": "X"}]}}),
            json!({"apiVersion": "v1", "kind": "Event"}),
            json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease"}),
            json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {
                "name": "s", "labels": {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}}}),
            json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "by-hand"},
                "endpoints": []}),
            json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"namespace": "web", "name": "front"}}),
            json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"namespace": "web", "name": "manual"},
                "subsets": []}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}, "spec": {}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "a", "name": "kube-root-ca.crt"}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": "default", "name": "kubernetes"},
                "spec": {"clusterIP": "10.0.0.1"}}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "admin",
                "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}}, "rules": []}),
            json!({"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta2", "kind": "FlowSchema", "metadata": {"name": "x",
                "annotations": {"apf.kubernetes.io/autoupdate-spec": "true"}}}),
            json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": "system-node-critical"}, "value": 2000001000}),
        ];
        // The kinds whose skip needs more than the metadata.
        cases.push(json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": "builder-token-x7k2p", "annotations": {"kubernetes.io/service-account.name": "builder"}}}));
        cases.push(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"},
            "imagePullSecrets": [{"name": "r"}]}));
        cases
    }

    /// `apiVersion`, `kind` and `metadata` only, as a metadata-only decode gives them.
    fn metadata_only(obj: &Value) -> Value {
        let mut only = Map::new();
        for key in ["apiVersion", "kind", "metadata"] {
            if let Some(v) = obj.get(key) {
                only.insert(key.into(), v.clone());
            }
        }
        Value::Object(only)
    }

    #[test]
    fn skips_of_most_kinds_follow_from_the_metadata() {
        let has_selector = |ns: &str, name: &str| ns == "web" && name == "front";
        let ctx = SkipContext { service_has_selector: Some(&has_selector), ..Default::default() };
        let mut needing_content = 0;
        for obj in skip_cases() {
            let full = skip_reason(&obj, &ctx);
            let partial = skip_reason(&metadata_only(&obj), &ctx);
            if skip_needs_content(&obj) {
                // The exception is needed: on the metadata alone these would be judged wrongly.
                assert_ne!(full, partial, "{obj}");
                needing_content += 1;
            } else {
                assert_eq!(full, partial, "{obj}");
            }
        }
        assert_eq!(needing_content, 2);
    }

    #[test]
    fn token_secret_made_by_hand_is_kept_empty() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": "ci-token", "namespace": "build", "annotations": {
                "kubernetes.io/service-account.name": "builder",
                "kubernetes.io/service-account.uid": "0b5c1a7e-0000-4000-8000-000000000001"}},
            "data": {"token": "c2VjcmV0", "ca.crt": "Y2E=", "namespace": "YnVpbGQ="}});
        let (v, applied) = cleaned(secret);
        assert!(applied.contains(&"token-secret-data"), "{applied:?}");
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
                "metadata": {"name": "ci-token", "namespace": "build", "annotations": {
                    "kubernetes.io/service-account.name": "builder"}}})
        );
        let (opaque, applied) = cleaned(json!({"apiVersion": "v1", "kind": "Secret", "data": {"a": "Yg=="}}));
        assert!(!applied.contains(&"token-secret-data"));
        assert_eq!(opaque["data"]["a"], "Yg==");
    }
}
