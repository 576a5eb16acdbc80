//! The objects themselves, as the API server renders them (and so as our encoder takes
//! them): built-in kinds become protobuf with `k8s_decode`'s encoder, custom resources and
//! CRDs are stored as JSON.
//!
//! Shapes follow a real kubeadm cluster's objects: uids, timestamps, labels, annotations,
//! owner references, managedFields, defaulted spec fields and status.

use serde_json::{json, Map, Value};

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::k8s::{
    controller_ref, field_set, fields_v1, managed, managed_fv, micro_time, obj, owner_ref, sort_keys, string_map, time,
    Meta,
};
use crate::model::{uid_for, App, NodeInfo, SecretKind, Style, KUBE_VERSION};
use crate::names::{CM_FILES, ENV_NAMES, LOREM, NODE_IMAGES, REGISTRIES, SIDECARS};
use crate::rng::{Rng, K8S_ALPHABET};

fn v(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

fn with_type(api_version: &str, kind: &str, mut rest: Vec<(&str, Value)>) -> Value {
    let mut pairs = vec![("kind", v(kind)), ("apiVersion", v(api_version))];
    pairs.append(&mut rest);
    obj(pairs)
}

/// Text of about `n` bytes (words, lines), deterministic for the generator.
pub fn text(r: &mut Rng, n: usize) -> String {
    static WORDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let words = WORDS.get_or_init(|| LOREM.split_whitespace().collect());
    let mut out = String::with_capacity(n + 16);
    let mut col = 0;
    while out.len() < n {
        let w = r.pick(words);
        out.push_str(w);
        col += w.len() + 1;
        if col > 72 {
            out.push('\n');
            col = 0;
        } else {
            out.push(' ');
        }
    }
    out.truncate(n);
    out
}

/// A PEM block of about `n` base64 characters (random, so incompressible).
pub fn pem(r: &mut Rng, label: &str, n: usize) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(r.bytes(n * 3 / 4));
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn b64(bytes: &[u8]) -> Value {
    use base64::Engine;
    v(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn image_digest(r: &mut Rng) -> String {
    format!("sha256:{}", r.hex(64))
}

// ------------------------------------------------------------------ pod specs ---

/// How a pod's containers are sized, for status.qosClass.
fn qos_class(spec: &Value) -> &'static str {
    let containers = spec["containers"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let req = &c["resources"]["requests"];
        let lim = &c["resources"]["limits"];
        any |= req.is_object() || lim.is_object();
        guaranteed &= lim.is_object() && (req.is_null() || req == lim) && lim.get("cpu").is_some();
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn probe(path: &str, port: u16, delay: u64, period: u64, failure: u64) -> Value {
    let mut p = Map::new();
    p.insert("httpGet".into(), json!({"path": path, "port": port, "scheme": "HTTP"}));
    if delay > 0 {
        p.insert("initialDelaySeconds".into(), json!(delay));
    }
    p.insert("timeoutSeconds".into(), json!(1));
    p.insert("periodSeconds".into(), json!(period));
    p.insert("successThreshold".into(), json!(1));
    p.insert("failureThreshold".into(), json!(failure));
    Value::Object(p)
}

fn env_var(r: &mut Rng, app: &App, name: &str) -> Value {
    match r.below(10) {
        0 => {
            json!({"name": name, "valueFrom": {"secretKeyRef": {"name": format!("{}-secrets", app.name), "key": name.to_lowercase().replace('_', "-")}}})
        }
        1 => {
            json!({"name": name, "valueFrom": {"configMapKeyRef": {"name": format!("{}-config", app.name), "key": name.to_lowercase()}}})
        }
        2 => {
            json!({"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": *r.pick(&["metadata.name", "metadata.namespace", "status.podIP", "spec.nodeName"])}}})
        }
        _ => {
            let n = r.log_uniform(2, 120) as usize;
            json!({"name": name, "value": r.string(b"abcdefghijklmnopqrstuvwxyz0123456789-._:/", n)})
        }
    }
}

fn main_container(r: &mut Rng, app: &App, revision: u32) -> Value {
    let registry = r.pick(REGISTRIES);
    let tag = format!("{}.{}.{}", 1 + app.seed % 4, (app.seed >> 8) % 20, revision + (app.seed >> 16) as u32 % 7);
    let image = format!("{registry}/{}/{}:{tag}", app.release, app.name);
    let mut c = Map::new();
    c.insert("name".into(), v(app.name.as_str()));
    c.insert("image".into(), v(image));
    if r.chance(0.4) {
        let args: Vec<Value> = (0..r.usize(1, 8))
            .map(|i| {
                v(format!(
                    "--{}={}",
                    ["config", "port", "log-level", "workers", "listen", "metrics-addr", "profile", "region"][i],
                    r.string(b"abcdefghij0123456789/.", 6)
                ))
            })
            .collect();
        c.insert("args".into(), Value::Array(args));
    }
    let mut ports = vec![json!({"name": "http", "containerPort": app.port, "protocol": "TCP"})];
    if r.chance(0.5) {
        ports.push(json!({"name": "metrics", "containerPort": 9102, "protocol": "TCP"}));
    }
    if r.chance(0.2) {
        ports.push(json!({"name": "grpc", "containerPort": 9000, "protocol": "TCP"}));
    }
    c.insert("ports".into(), Value::Array(ports));
    if r.chance(0.3) {
        let mut from = vec![json!({"configMapRef": {"name": format!("{}-config", app.name)}})];
        if r.chance(0.5) {
            from.push(json!({"secretRef": {"name": format!("{}-secrets", app.name)}}));
        }
        c.insert("envFrom".into(), Value::Array(from));
    }
    // Mostly a handful of variables; some apps carry dozens (the big pods).
    let n_env = if r.chance(0.08) { r.usize(30, 90) } else { r.usize(0, 12) };
    if n_env > 0 {
        let mut env = Vec::with_capacity(n_env);
        for i in 0..n_env {
            let base = ENV_NAMES[i % ENV_NAMES.len()];
            let name = if i < ENV_NAMES.len() { base.to_string() } else { format!("{base}_{}", i / ENV_NAMES.len()) };
            env.push(env_var(r, app, &name));
        }
        c.insert("env".into(), Value::Array(env));
    }
    let cpu = *r.pick(&["50m", "100m", "200m", "250m", "500m", "1"]);
    let mem = *r.pick(&["64Mi", "128Mi", "256Mi", "512Mi", "1Gi", "2Gi"]);
    let resources = match r.below(6) {
        0 => json!({}),
        1 => json!({"limits": {"cpu": cpu, "memory": mem}, "requests": {"cpu": cpu, "memory": mem}}),
        2 | 3 => json!({"limits": {"memory": mem}, "requests": {"cpu": cpu, "memory": mem}}),
        _ => json!({"requests": {"cpu": cpu, "memory": mem}}),
    };
    c.insert("resources".into(), resources);
    let mut mounts = vec![json!({"name": "config", "readOnly": true, "mountPath": "/etc/app"})];
    if r.chance(0.5) {
        mounts.push(json!({"name": "tmp", "mountPath": "/tmp"}));
    }
    c.insert("volumeMounts".into(), Value::Array(mounts));
    if r.chance(0.8) {
        c.insert("livenessProbe".into(), probe("/healthz", app.port, r.range(0, 30), 10, 3));
        c.insert("readinessProbe".into(), probe("/ready", app.port, r.range(0, 10), r.range(5, 15), 3));
    }
    c.insert("terminationMessagePath".into(), v("/dev/termination-log"));
    c.insert("terminationMessagePolicy".into(), v("File"));
    c.insert("imagePullPolicy".into(), v(*r.pick(&["IfNotPresent", "IfNotPresent", "Always"])));
    if r.chance(0.6) {
        c.insert(
            "securityContext".into(),
            json!({"capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false}),
        );
    }
    Value::Object(c)
}

fn sidecar(r: &mut Rng) -> Value {
    let (name, image, ports) = *r.pick(SIDECARS);
    let ports: Vec<Value> = ports.iter().map(|p| json!({"containerPort": p, "protocol": "TCP"})).collect();
    json!({
        "name": name,
        "image": image,
        "args": ["--log-level=info", format!("--config=/etc/{name}/config.yaml")],
        "ports": ports,
        "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "10m", "memory": "40Mi"}},
        "volumeMounts": [{"name": "config", "readOnly": true, "mountPath": format!("/etc/{name}")}],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent"
    })
}

/// The pod spec in an app's Deployment/ReplicaSet template (defaults applied).
pub fn template_spec(app: &App, revision: u32) -> Value {
    let mut r = Rng::derive(app.seed, "spec");
    let mut containers = vec![main_container(&mut r, app, revision)];
    let sidecar_chance = r.unit();
    if sidecar_chance < 0.25 {
        containers.push(sidecar(&mut r));
    }
    let mut spec = Map::new();
    let mut volumes =
        vec![json!({"name": "config", "configMap": {"name": format!("{}-config", app.name), "defaultMode": 420}})];
    if containers[0]["volumeMounts"].as_array().is_some_and(|m| m.len() > 1) {
        volumes.push(json!({"name": "tmp", "emptyDir": {}}));
    }
    spec.insert("volumes".into(), Value::Array(volumes));
    if r.chance(0.15) {
        spec.insert(
            "initContainers".into(),
            json!([{
                "name": "wait-for-deps",
                "image": "docker.io/library/busybox:1.36",
                "command": ["sh", "-c", format!("until nc -z {}-db 5432; do echo waiting; sleep 2; done", app.release)],
                "resources": {},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent"
            }]),
        );
    }
    spec.insert("containers".into(), Value::Array(containers));
    spec.insert("restartPolicy".into(), v("Always"));
    spec.insert("terminationGracePeriodSeconds".into(), json!(*r.pick(&[30, 30, 60, 10])));
    spec.insert("dnsPolicy".into(), v("ClusterFirst"));
    if r.chance(0.2) {
        spec.insert("nodeSelector".into(), json!({"kubernetes.io/os": "linux"}));
    }
    let sa = app.service_account();
    spec.insert("serviceAccountName".into(), v(sa.as_str()));
    spec.insert("serviceAccount".into(), v(sa));
    spec.insert(
        "securityContext".into(),
        if r.chance(0.4) { json!({"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000}) } else { json!({}) },
    );
    if r.chance(0.5) {
        spec.insert("imagePullSecrets".into(), json!([{"name": "registry-credentials"}]));
    }
    if r.chance(0.3) {
        spec.insert(
            "affinity".into(),
            json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                "weight": 100,
                "podAffinityTerm": {
                    "labelSelector": {"matchLabels": string_map(app.selector())},
                    "topologyKey": "kubernetes.io/hostname"
                }
            }]}}),
        );
    }
    spec.insert("schedulerName".into(), v("default-scheduler"));
    if r.chance(0.15) {
        spec.insert(
            "topologySpreadConstraints".into(),
            json!([{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": string_map(app.selector())}}]),
        );
    }
    Value::Object(spec)
}

fn template_annotations(app: &App, revision: u32) -> Vec<(String, String)> {
    let mut r = Rng::derive(app.seed, &format!("tmplann/{revision}"));
    let mut a = Vec::new();
    if app.service_monitor {
        a.push(("prometheus.io/scrape".to_string(), "true".to_string()));
        a.push(("prometheus.io/port".to_string(), "9102".to_string()));
    }
    if app.style == Style::Helm {
        a.push(("checksum/config".to_string(), r.hex(64)));
    }
    if revision > 1 && app.seed.is_multiple_of(2) {
        a.push(("kubectl.kubernetes.io/restartedAt".to_string(), time(app.created + revision as i64 * 3_600)));
    }
    a
}

/// A pod template and its field sets, built once per (app, revision) and shared by the
/// Deployment, the ReplicaSet and every Pod of that revision.
pub struct Template {
    pub value: Value,
    /// Field set of the pod spec as a top-level field (`f:spec` of a Pod).
    pub spec_fields: Value,
    /// Field set of the whole template (`f:template` of a Deployment/ReplicaSet).
    pub fields: Value,
}

thread_local! {
    static TEMPLATES: RefCell<HashMap<(u64, u32, bool), Rc<Template>>> = RefCell::new(HashMap::new());
}

fn template_cached(app: &App, revision: u32, with_hash: bool) -> Rc<Template> {
    TEMPLATES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(t) = cache.get(&(app.seed, revision, with_hash)) {
            return t.clone();
        }
        if cache.len() > 4_096 {
            cache.clear();
        }
        let value = template(app, revision, with_hash);
        let t =
            Rc::new(Template { spec_fields: field_set(&value["spec"], true), fields: field_set(&value, false), value });
        cache.insert((app.seed, revision, with_hash), t.clone());
        t
    })
}

/// `fields_v1(owned)` with `f:spec.f:template` set to a template's cached field set
/// (`owned.spec` has no `template`; `f:template` sorts last among its siblings).
fn with_template_fields(owned: &Value, tmpl: &Template) -> Value {
    let mut fv = fields_v1(owned);
    if let Some(Value::Object(spec)) = fv.get_mut("f:spec") {
        spec.insert("f:template".into(), tmpl.fields.clone());
    }
    fv
}

fn template(app: &App, revision: u32, with_hash: bool) -> Value {
    let mut labels = app.selector();
    labels.extend(app.labels().into_iter().filter(|(k, _)| !k.starts_with("helm.sh") && !k.starts_with("argocd")));
    if with_hash {
        labels.push(("pod-template-hash".to_string(), app.template_hash(revision)));
    }
    let mut meta = Map::new();
    meta.insert("creationTimestamp".into(), Value::Null);
    meta.insert("labels".into(), string_map(labels));
    let ann = template_annotations(app, revision);
    if !ann.is_empty() {
        meta.insert("annotations".into(), string_map(ann));
    }
    json!({"metadata": Value::Object(meta), "spec": template_spec(app, revision)})
}

/// Labels and annotations an app's top-level objects carry, by who deploys them.
fn app_meta(app: &App, mut meta: Meta, manifest: Option<&Value>) -> Meta {
    meta = meta.labels(&app.labels());
    match app.style {
        Style::Helm => {
            meta = meta
                .annotation("meta.helm.sh/release-name", &app.release)
                .annotation("meta.helm.sh/release-namespace", &app.ns)
        }
        Style::Kubectl => {
            if let Some(m) = manifest {
                let mut text = serde_json::to_string(&sort_keys(m)).unwrap_or_default();
                text.push('\n');
                meta = meta.annotation("kubectl.kubernetes.io/last-applied-configuration", &text);
            }
        }
        Style::Argo => {
            meta = meta.annotation(
                "argocd.argoproj.io/tracking-id",
                &format!("{}-{}:apps/Deployment:{}/{}", app.ns, app.release, app.ns, app.name),
            )
        }
    }
    meta
}

fn manager(app: &App) -> (&'static str, &'static str) {
    match app.style {
        Style::Helm => ("helm", "Update"),
        Style::Kubectl => ("kubectl-client-side-apply", "Update"),
        Style::Argo => ("argocd-controller", "Apply"),
    }
}

/// State of a Deployment at some point: which revision, how many replicas, ready or rolling.
#[derive(Debug, Clone, Copy)]
pub struct DeployState {
    pub revision: u32,
    pub replicas: u32,
    pub generation: i64,
    pub ready: u32,
    pub time: i64,
}

pub fn deployment(app: &App, st: DeployState) -> Value {
    let tmpl = template_cached(app, st.revision, false);
    let spec = json!({
        "replicas": st.replicas,
        "selector": {"matchLabels": string_map(app.selector())},
        "template": tmpl.value,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600
    });
    let manifest = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"labels": string_map(app.labels()), "name": app.name, "namespace": app.ns},
        "spec": {"replicas": st.replicas, "selector": spec["selector"], "template": {"metadata": {"labels": spec["template"]["metadata"]["labels"]}, "spec": {"containers": spec["template"]["spec"]["containers"]}}}
    });
    let mut meta =
        Meta::new(&app.name, Some(&app.ns), uid_for(app.seed, "Deployment", &app.ns, &app.name), app.created);
    meta.generation = Some(st.generation);
    meta = app_meta(app, meta, Some(&manifest));
    meta = meta.annotation("deployment.kubernetes.io/revision", &st.revision.to_string());
    let (mgr, op) = manager(app);
    let mut owned_spec = spec.clone();
    if let Value::Object(m) = &mut owned_spec {
        m.remove("template");
    }
    let owned = json!({"metadata": {"labels": string_map(app.labels())}, "spec": owned_spec});
    let mut status = Map::new();
    status.insert("observedGeneration".into(), json!(st.generation));
    if st.replicas > 0 {
        status.insert("replicas".into(), json!(st.replicas));
        status.insert("updatedReplicas".into(), json!(st.replicas));
    }
    if st.ready > 0 {
        status.insert("readyReplicas".into(), json!(st.ready));
        status.insert("availableReplicas".into(), json!(st.ready));
    }
    if st.ready < st.replicas {
        status.insert("unavailableReplicas".into(), json!(st.replicas - st.ready));
    }
    let available = st.ready >= st.replicas.saturating_sub(st.replicas / 4);
    status.insert(
        "conditions".into(),
        json!([
            {"type": "Available", "status": if available { "True" } else { "False" }, "lastUpdateTime": time(st.time), "lastTransitionTime": time(app.created + 20),
             "reason": if available { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
             "message": if available { "Deployment has minimum availability." } else { "Deployment does not have minimum availability." }},
            {"type": "Progressing", "status": "True", "lastUpdateTime": time(st.time), "lastTransitionTime": time(app.created),
             "reason": "NewReplicaSetAvailable", "message": format!("ReplicaSet \"{}\" has successfully progressed.", app.rs_name(st.revision))}
        ]),
    );
    let status = Value::Object(status);
    meta.managed = vec![
        managed_fv(mgr, op, "apps/v1", st.time - 60, with_template_fields(&owned, &tmpl), None),
        managed(
            "kube-controller-manager",
            "Update",
            "apps/v1",
            st.time,
            &json!({"metadata": {"annotations": {"deployment.kubernetes.io/revision": ""}}, "status": status}),
            Some("status"),
        ),
    ];
    with_type("apps/v1", "Deployment", vec![("metadata", meta.to_json()), ("spec", spec), ("status", status)])
}

pub fn replicaset(app: &App, revision: u32, replicas: u32, ready: u32, t: i64) -> Value {
    let name = app.rs_name(revision);
    let hash = app.template_hash(revision);
    let mut selector = app.selector();
    selector.push(("pod-template-hash".into(), hash.clone()));
    let created = app.created + i64::from(revision) * 3_600;
    let mut meta = Meta::new(&name, Some(&app.ns), uid_for(app.seed, "ReplicaSet", &app.ns, &name), created);
    meta.generation = Some(i64::from(revision) + 1);
    let mut labels = app.selector();
    labels.extend(app.labels().into_iter().filter(|(k, _)| !k.starts_with("helm.sh") && !k.starts_with("argocd")));
    labels.push(("pod-template-hash".into(), hash));
    meta = meta.labels(&labels);
    meta = meta
        .annotation("deployment.kubernetes.io/desired-replicas", &replicas.max(1).to_string())
        .annotation("deployment.kubernetes.io/max-replicas", &(replicas + replicas.div_ceil(4)).max(1).to_string())
        .annotation("deployment.kubernetes.io/revision", &revision.to_string());
    let duid = uid_for(app.seed, "Deployment", &app.ns, &app.name);
    meta.owners = vec![controller_ref("apps/v1", "Deployment", &app.name, &duid)];
    let tmpl = template_cached(app, revision, true);
    let spec = json!({
        "replicas": replicas,
        "selector": {"matchLabels": string_map(selector)},
        "template": tmpl.value
    });
    let mut status = Map::new();
    status.insert("replicas".into(), json!(replicas));
    if replicas > 0 {
        status.insert("fullyLabeledReplicas".into(), json!(replicas));
    }
    if ready > 0 {
        status.insert("readyReplicas".into(), json!(ready));
        status.insert("availableReplicas".into(), json!(ready));
    }
    status.insert("observedGeneration".into(), json!(i64::from(revision) + 1));
    let status = Value::Object(status);
    let meta_json = meta.to_json();
    let owned = json!({"metadata": {"annotations": meta_json["annotations"], "labels": meta_json["labels"], "ownerReferences": meta.owners},
                       "spec": {"replicas": replicas, "selector": spec["selector"]}});
    meta.managed = vec![
        managed_fv("kube-controller-manager", "Update", "apps/v1", created, with_template_fields(&owned, &tmpl), None),
        managed("kube-controller-manager", "Update", "apps/v1", t, &json!({"status": status}), Some("status")),
    ];
    with_type("apps/v1", "ReplicaSet", vec![("metadata", meta.to_json()), ("spec", spec), ("status", status)])
}

/// A pod's life: created, bound to a node, starting, running (with restarts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodPhase {
    Pending,
    Scheduled,
    Starting,
    Running { restarts: u32 },
}

pub struct PodAt<'a> {
    pub app: &'a App,
    pub revision: u32,
    pub index: u32,
    pub incarnation: u32,
    pub node: &'a NodeInfo,
    pub phase: PodPhase,
    pub created: i64,
    /// Being deleted (graceful termination started at this time).
    pub terminating: Option<i64>,
}

impl PodAt<'_> {
    pub fn name(&self) -> String {
        self.app.pod_name(self.revision, self.index, self.incarnation)
    }

    pub fn uid(&self) -> String {
        uid_for(self.app.seed, "Pod", &self.app.ns, &self.name())
    }

    pub fn ip(&self) -> String {
        let h = crate::rng::hash64(self.name().as_bytes());
        format!("10.{}.{}.{}", self.node.pod_net.0, self.node.pod_net.1, 2 + h % 250)
    }
}

fn kube_api_access(r: &mut Rng) -> String {
    format!("kube-api-access-{}", r.string(K8S_ALPHABET, 5))
}

fn api_access_volume(name: &str) -> Value {
    json!({"name": name, "projected": {"sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
    ], "defaultMode": 420}})
}

fn condition(kind: &str, status: bool, t: i64) -> Value {
    json!({"type": kind, "status": if status { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": time(t)})
}

fn container_statuses(spec: &Value, phase: PodPhase, started: i64, r: &mut Rng, init: bool) -> Value {
    let list = if init { &spec["initContainers"] } else { &spec["containers"] };
    let mut out = Vec::new();
    for c in list.as_array().map(Vec::as_slice).unwrap_or_default() {
        let image = c["image"].as_str().unwrap_or_default();
        let repo = image.rsplit_once(':').map_or(image, |(a, _)| a);
        let mut s = Map::new();
        s.insert("name".into(), c["name"].clone());
        let (state, ready, restarts) = match phase {
            PodPhase::Running { restarts } if init => (
                json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": time(started), "finishedAt": time(started + 3),
                       "containerID": format!("containerd://{}", r.hex(64))}}),
                true,
                restarts.min(1),
            ),
            PodPhase::Running { restarts } => (json!({"running": {"startedAt": time(started + 5)}}), true, restarts),
            _ => (json!({"waiting": {"reason": if init { "PodInitializing" } else { "ContainerCreating" }}}), false, 0),
        };
        s.insert("state".into(), state);
        if restarts > 0 && !init {
            s.insert(
                "lastState".into(),
                json!({"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": time(started - 600), "finishedAt": time(started),
                       "containerID": format!("containerd://{}", r.hex(64))}}),
            );
        } else {
            s.insert("lastState".into(), json!({}));
        }
        s.insert("ready".into(), json!(ready));
        s.insert("restartCount".into(), json!(restarts));
        s.insert("image".into(), v(image));
        if matches!(phase, PodPhase::Running { .. }) {
            s.insert("imageID".into(), v(format!("{repo}@{}", image_digest(r))));
            s.insert("containerID".into(), v(format!("containerd://{}", r.hex(64))));
        } else {
            s.insert("imageID".into(), v(""));
        }
        s.insert("started".into(), json!(ready && !init));
        out.push(Value::Object(s));
    }
    Value::Array(out)
}

pub fn pod(p: &PodAt<'_>) -> Value {
    let app = p.app;
    let name = p.name();
    let rs = app.rs_name(p.revision);
    let mut r = Rng::derive(app.seed, &format!("podr/{name}"));
    let mut meta = Meta::new(&name, Some(&app.ns), p.uid(), p.created);
    meta.generate_name = Some(format!("{rs}-"));
    meta.deleting = p.terminating.map(|t| (t + 30, 30));
    let cached = template_cached(app, p.revision, true);
    let tmpl = &cached.value;
    let labels: Vec<(String, String)> = tmpl["metadata"]["labels"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default();
    meta = meta.labels(&labels);
    if let Some(ann) = tmpl["metadata"]["annotations"].as_object() {
        for (k, val) in ann {
            meta = meta.annotation(k, val.as_str().unwrap_or_default());
        }
    }
    let rs_uid = uid_for(app.seed, "ReplicaSet", &app.ns, &rs);
    meta.owners = vec![controller_ref("apps/v1", "ReplicaSet", &rs, &rs_uid)];

    let mut spec = tmpl["spec"].as_object().cloned().unwrap_or_default();
    let access = kube_api_access(&mut r);
    if let Some(Value::Array(vols)) = spec.get_mut("volumes") {
        vols.push(api_access_volume(&access));
    }
    let mount = json!({"name": access, "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"});
    for list in ["initContainers", "containers"] {
        if let Some(Value::Array(cs)) = spec.get_mut(list) {
            for c in cs {
                if let Some(Value::Array(m)) = c.get_mut("volumeMounts") {
                    m.push(mount.clone());
                } else if let Value::Object(c) = c {
                    // volumeMounts sits after resources in field order; order is cosmetic here.
                    c.insert("volumeMounts".into(), json!([mount.clone()]));
                }
            }
        }
    }
    let scheduled = p.phase != PodPhase::Pending;
    // The spec's own field order: nodeName after serviceAccount.
    let mut ordered = Map::new();
    for (k, val) in spec {
        let is_sa = k == "serviceAccount";
        ordered.insert(k, val);
        if is_sa && scheduled {
            ordered.insert("nodeName".into(), v(p.node.name.as_str()));
        }
    }
    ordered.insert(
        "tolerations".into(),
        json!([
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ]),
    );
    ordered.insert("priority".into(), json!(0));
    ordered.insert("enableServiceLinks".into(), json!(true));
    ordered.insert("preemptionPolicy".into(), v("PreemptLowerPriority"));
    let spec = Value::Object(ordered);

    let t0 = p.created;
    let mut status = Map::new();
    status.insert("phase".into(), v(if matches!(p.phase, PodPhase::Running { .. }) { "Running" } else { "Pending" }));
    let mut conds = Vec::new();
    let running = matches!(p.phase, PodPhase::Running { .. });
    if matches!(p.phase, PodPhase::Starting | PodPhase::Running { .. }) {
        conds.push(condition("PodReadyToStartContainers", running, t0 + 3));
        conds.push(condition("Initialized", true, t0 + 1));
        conds.push(condition("Ready", running, t0 + 8));
        conds.push(condition("ContainersReady", running, t0 + 8));
    }
    if scheduled {
        conds.push(condition("PodScheduled", true, t0));
    }
    if !conds.is_empty() {
        status.insert("conditions".into(), Value::Array(conds));
    }
    if matches!(p.phase, PodPhase::Starting | PodPhase::Running { .. }) {
        status.insert("hostIP".into(), v(p.node.ip.as_str()));
        status.insert("hostIPs".into(), json!([{"ip": p.node.ip}]));
        if running {
            status.insert("podIP".into(), v(p.ip()));
            status.insert("podIPs".into(), json!([{"ip": p.ip()}]));
        }
        status.insert("startTime".into(), v(time(t0 + 1)));
        if spec.get("initContainers").is_some() {
            status.insert("initContainerStatuses".into(), container_statuses(&spec, p.phase, t0 + 1, &mut r, true));
        }
        status.insert("containerStatuses".into(), container_statuses(&spec, p.phase, t0 + 1, &mut r, false));
    }
    status.insert("qosClass".into(), v(qos_class(&spec)));
    let status = Value::Object(status);

    let mut owned = fields_v1(
        &json!({"metadata": {"generateName": "", "labels": string_map(labels), "ownerReferences": meta.owners}}),
    );
    if let Value::Object(m) = &mut owned {
        m.insert("f:spec".into(), cached.spec_fields.clone());
    }
    meta.managed = vec![managed_fv("kube-controller-manager", "Update", "v1", t0, owned, None)];
    if matches!(p.phase, PodPhase::Starting | PodPhase::Running { .. }) {
        let mut st = status.clone();
        if let Value::Object(m) = &mut st {
            m.remove("qosClass");
            m.remove("initContainerStatuses");
            // kubelet owns container statuses as one atomic list
            if m.contains_key("containerStatuses") {
                m.insert("containerStatuses".into(), json!({}));
            }
        }
        meta.managed.push(managed("kubelet", "Update", "v1", t0 + 8, &json!({"status": st}), Some("status")));
    }
    with_type("v1", "Pod", vec![("metadata", meta.to_json()), ("spec", spec), ("status", status)])
}

// ------------------------------------------------------------ services ---

pub fn cluster_ip(ns: &str, name: &str) -> String {
    let h = crate::rng::hash64(format!("{ns}/{name}").as_bytes());
    format!("10.{}.{}.{}", 96 + (h % 16), (h >> 8) % 256, 1 + (h >> 16) % 254)
}

pub fn service(app: &App) -> Value {
    let mut r = Rng::derive(app.seed, "service");
    let mut ports = vec![
        json!({"name": "http", "protocol": "TCP", "port": 80, "targetPort": if r.chance(0.5) { json!(app.port) } else { json!("http") }}),
    ];
    if app.service_monitor {
        ports.push(json!({"name": "metrics", "protocol": "TCP", "port": 9102, "targetPort": 9102}));
    }
    let ip = cluster_ip(&app.ns, &app.name);
    let spec = json!({
        "ports": ports,
        "selector": string_map(app.selector()),
        "clusterIP": ip,
        "clusterIPs": [ip],
        "type": "ClusterIP",
        "sessionAffinity": "None",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "internalTrafficPolicy": "Cluster"
    });
    let manifest = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": app.name, "namespace": app.ns}, "spec": {"ports": spec["ports"], "selector": spec["selector"]}});
    let created = app.created - 5;
    let mut meta = app_meta(
        app,
        Meta::new(&app.name, Some(&app.ns), uid_for(app.seed, "Service", &app.ns, &app.name), created),
        Some(&manifest),
    );
    let (mgr, op) = manager(app);
    meta.managed = vec![managed(
        mgr,
        op,
        "v1",
        created,
        &json!({"metadata": {"labels": string_map(app.labels())}, "spec": spec}),
        None,
    )];
    with_type(
        "v1",
        "Service",
        vec![("metadata", meta.to_json()), ("spec", spec), ("status", json!({"loadBalancer": {}}))],
    )
}

/// A ready pod behind a Service: (name, uid, ip, node).
pub struct Backend {
    pub name: String,
    pub uid: String,
    pub ip: String,
    pub node: String,
    pub zone: String,
}

pub fn endpoints(app: &App, backends: &[Backend], t: i64) -> Value {
    let mut meta =
        Meta::new(&app.name, Some(&app.ns), uid_for(app.seed, "Endpoints", &app.ns, &app.name), app.created - 5);
    meta = meta.labels(&app.labels());
    if !backends.is_empty() {
        meta = meta.annotation("endpoints.kubernetes.io/last-change-trigger-time", &time(t));
    }
    let mut ports = vec![json!({"name": "http", "port": app.port, "protocol": "TCP"})];
    if app.service_monitor {
        ports.push(json!({"name": "metrics", "port": 9102, "protocol": "TCP"}));
    }
    let mut rest = vec![];
    if !backends.is_empty() {
        let addresses: Vec<Value> = backends
            .iter()
            .map(|b| json!({"ip": b.ip, "nodeName": b.node, "targetRef": {"kind": "Pod", "namespace": app.ns, "name": b.name, "uid": b.uid}}))
            .collect();
        rest.push(("subsets", json!([{"addresses": addresses, "ports": ports}])));
    }
    let owned = json!({"metadata": {"annotations": {"endpoints.kubernetes.io/last-change-trigger-time": ""}, "labels": string_map(app.labels())}, "subsets": {}});
    meta.managed = vec![managed("kube-controller-manager", "Update", "v1", t, &owned, None)];
    let mut pairs = vec![("metadata", meta.to_json())];
    pairs.append(&mut rest);
    with_type("v1", "Endpoints", pairs)
}

pub fn endpoint_slice(app: &App, backends: &[Backend], generation: i64, t: i64) -> (String, Value) {
    let mut r = Rng::derive(app.seed, "eps");
    let name = format!("{}-{}", app.name, r.string(K8S_ALPHABET, 5));
    let mut meta = Meta::new(&name, Some(&app.ns), uid_for(app.seed, "EndpointSlice", &app.ns, &name), app.created - 5);
    meta.generate_name = Some(format!("{}-", app.name));
    meta.generation = Some(generation);
    meta = meta.labels(&app.labels());
    meta = meta
        .label("endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io")
        .label("kubernetes.io/service-name", &app.name);
    if !backends.is_empty() {
        meta = meta.annotation("endpoints.kubernetes.io/last-change-trigger-time", &time(t));
    }
    let suid = uid_for(app.seed, "Service", &app.ns, &app.name);
    meta.owners = vec![controller_ref("v1", "Service", &app.name, &suid)];
    let endpoints: Vec<Value> = backends
        .iter()
        .map(|b| {
            json!({"addresses": [b.ip], "conditions": {"ready": true, "serving": true, "terminating": false},
                   "targetRef": {"kind": "Pod", "namespace": app.ns, "name": b.name, "uid": b.uid}, "nodeName": b.node, "zone": b.zone})
        })
        .collect();
    let mut ports = vec![json!({"name": "http", "protocol": "TCP", "port": app.port})];
    if app.service_monitor {
        ports.push(json!({"name": "metrics", "protocol": "TCP", "port": 9102}));
    }
    let owned = json!({"addressType": "", "endpoints": {}, "metadata": {"annotations": {}, "generateName": "", "labels": meta.to_json()["labels"], "ownerReferences": meta.owners}, "ports": {}});
    meta.managed = vec![managed("kube-controller-manager", "Update", "discovery.k8s.io/v1", t, &owned, None)];
    let mut pairs = vec![("metadata", meta.to_json()), ("addressType", v("IPv4"))];
    // `endpoints` has no omitempty: an empty slice renders as null.
    pairs.push(("endpoints", if endpoints.is_empty() { Value::Null } else { Value::Array(endpoints) }));
    pairs.push(("ports", Value::Array(ports)));
    (name, with_type("discovery.k8s.io/v1", "EndpointSlice", pairs))
}

// --------------------------------------------------- config and secrets ---

fn config_payload(r: &mut Rng, name: &str, size: usize) -> Vec<(String, String)> {
    // One to four files; most of the size in the first.
    let files = if size > 2_000 { r.usize(1, 4) } else { 1 };
    let mut out = Vec::new();
    let mut left = size;
    for i in 0..files {
        let part = if i + 1 == files { left } else { left * 2 / 3 };
        left -= part;
        let file = format!("{}{}", if i == 0 { "" } else { "extra-" }, r.pick(CM_FILES));
        let body = if file.ends_with(".json") {
            // JSON-ish content: keys and values.
            let mut s = String::from("{\n");
            while s.len() < part {
                s.push_str(&format!("  \"{}\": \"{}\",\n", r.string(b"abcdefghijklmnop_", 10), text(r, 40)));
            }
            s.push_str(&format!("  \"name\": \"{name}\"\n}}\n"));
            s
        } else {
            text(r, part.max(8))
        };
        out.push((file, body));
    }
    out
}

pub fn configmap(
    ns: &str,
    name: &str,
    seed: u64,
    size: usize,
    created: i64,
    version: u32,
    manager_name: &str,
) -> Value {
    let mut r = Rng::derive(seed, &format!("cm/{ns}/{name}/{version}"));
    let data = config_payload(&mut r, name, size);
    let mut meta = Meta::new(name, Some(ns), uid_for(seed, "ConfigMap", ns, name), created);
    if manager_name == "helm" {
        meta = meta.label("app.kubernetes.io/managed-by", "Helm");
    }
    let data = string_map(data);
    let fields =
        json!({"data": data, "metadata": {"labels": meta.to_json().get("labels").cloned().unwrap_or(json!({}))}});
    meta.managed = vec![managed(manager_name, "Update", "v1", created + i64::from(version) * 600, &fields, None)];
    with_type("v1", "ConfigMap", vec![("metadata", meta.to_json()), ("data", data)])
}

/// `kube-root-ca.crt`, published by the root-ca-cert-publisher into every namespace.
pub fn root_ca(ns: &str, seed: u64, created: i64, ca: &str) -> Value {
    let mut meta = Meta::new("kube-root-ca.crt", Some(ns), uid_for(seed, "ConfigMap", ns, "kube-root-ca.crt"), created);
    meta = meta.annotation("kubernetes.io/description", "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.");
    meta.managed =
        vec![managed("kube-controller-manager", "Update", "v1", created, &json!({"data": {"ca.crt": ""}}), None)];
    with_type("v1", "ConfigMap", vec![("metadata", meta.to_json()), ("data", json!({"ca.crt": ca}))])
}

pub fn secret(ns: &str, name: &str, seed: u64, kind: SecretKind, size: usize, created: i64) -> Value {
    let mut r = Rng::derive(seed, &format!("secret/{ns}/{name}"));
    let mut meta = Meta::new(name, Some(ns), uid_for(seed, "Secret", ns, name), created);
    let (typ, data): (&str, Vec<(&str, Value)>) = match kind {
        SecretKind::Opaque => {
            let n = r.usize(1, 6);
            let keys = ["password", "api-key", "token", "client-secret", "database-url", "private-key"];
            let data = (0..n)
                .map(|i| {
                    (
                        keys[i],
                        b64(r
                            .string(
                                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                                (size / n).max(8),
                            )
                            .as_bytes()),
                    )
                })
                .collect();
            ("Opaque", data)
        }
        SecretKind::Tls => {
            meta = meta
                .annotation("cert-manager.io/certificate-name", name)
                .annotation("cert-manager.io/issuer-name", "letsencrypt-prod");
            let cert = format!("{}{}", pem(&mut r, "CERTIFICATE", 1_700), pem(&mut r, "CERTIFICATE", 1_500));
            let key = pem(&mut r, "RSA PRIVATE KEY", 1_650);
            ("kubernetes.io/tls", vec![("tls.crt", b64(cert.as_bytes())), ("tls.key", b64(key.as_bytes()))])
        }
        SecretKind::DockerConfig => {
            let auth = r.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 80);
            let cfg = format!("{{\"auths\":{{\"registry.example.com\":{{\"username\":\"robot${ns}\",\"password\":\"{}\",\"auth\":\"{auth}\"}}}}}}", r.hex(40));
            ("kubernetes.io/dockerconfigjson", vec![(".dockerconfigjson", b64(cfg.as_bytes()))])
        }
        SecretKind::Helm => {
            let release = name.trim_start_matches("sh.helm.release.v1.");
            let (rel, ver) = release.rsplit_once(".v").unwrap_or((release, "1"));
            meta = meta
                .label("name", rel)
                .label("owner", "helm")
                .label("status", "superseded")
                .label("version", ver)
                .label("modifiedAt", &(created + 100).to_string());
            // Helm stores base64(gzip(json)) in the `release` key: random-looking bytes.
            let inner = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, r.bytes(size * 3 / 4));
            ("helm.sh/release.v1", vec![("release", b64(inner.as_bytes()))])
        }
    };
    let data_obj = obj(data);
    let fields = json!({"data": data_obj, "type": ""});
    let mgr = match kind {
        SecretKind::Helm => "helm",
        SecretKind::Tls => "cert-manager-certificates-issuing",
        _ => "kubectl-create",
    };
    meta.managed = vec![managed(mgr, "Update", "v1", created, &fields, None)];
    with_type("v1", "Secret", vec![("metadata", meta.to_json()), ("data", data_obj), ("type", v(typ))])
}

// ------------------------------------------------------------- small ones ---

pub fn namespace(name: &str, seed: u64, created: i64, extra_labels: &[(String, String)]) -> Value {
    let mut meta = Meta::new(name, None, uid_for(seed, "Namespace", "", name), created);
    meta = meta.label("kubernetes.io/metadata.name", name).labels(extra_labels);
    let labels = meta.to_json()["labels"].clone();
    meta.managed =
        vec![managed("kubectl-create", "Update", "v1", created, &json!({"metadata": {"labels": labels}}), None)];
    with_type(
        "v1",
        "Namespace",
        vec![
            ("metadata", meta.to_json()),
            ("spec", json!({"finalizers": ["kubernetes"]})),
            ("status", json!({"phase": "Active"})),
        ],
    )
}

pub fn service_account(ns: &str, name: &str, seed: u64, created: i64) -> Value {
    let mut meta = Meta::new(name, Some(ns), uid_for(seed, "ServiceAccount", ns, name), created);
    if name != "default" {
        meta = meta.label("app.kubernetes.io/name", name);
        let labels = meta.to_json()["labels"].clone();
        meta.managed = vec![managed("helm", "Update", "v1", created, &json!({"metadata": {"labels": labels}}), None)];
    }
    with_type("v1", "ServiceAccount", vec![("metadata", meta.to_json())])
}

pub fn role(ns: &str, name: &str, seed: u64, created: i64) -> Value {
    let mut r = Rng::derive(seed, &format!("role/{ns}/{name}"));
    let resources = ["pods", "configmaps", "secrets", "services", "deployments", "jobs", "leases", "events"];
    let rules: Vec<Value> = (0..r.usize(1, 5))
        .map(|i| {
            let group = if i % 2 == 0 { "" } else { "apps" };
            json!({"verbs": ["get", "list", "watch"], "apiGroups": [group], "resources": [resources[(i + r.usize(0, 3)) % resources.len()]]})
        })
        .collect();
    let mut meta = Meta::new(name, Some(ns), uid_for(seed, "Role", ns, name), created);
    meta.managed = vec![managed(
        "kubectl-client-side-apply",
        "Update",
        "rbac.authorization.k8s.io/v1",
        created,
        &json!({"rules": {}}),
        None,
    )];
    with_type(
        "rbac.authorization.k8s.io/v1",
        "Role",
        vec![("metadata", meta.to_json()), ("rules", Value::Array(rules))],
    )
}

pub fn role_binding(ns: &str, name: &str, seed: u64, created: i64, subject: &str) -> Value {
    let mut meta = Meta::new(name, Some(ns), uid_for(seed, "RoleBinding", ns, name), created);
    meta.managed = vec![managed(
        "kubectl-client-side-apply",
        "Update",
        "rbac.authorization.k8s.io/v1",
        created,
        &json!({"roleRef": {}, "subjects": {}}),
        None,
    )];
    with_type(
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        vec![
            ("metadata", meta.to_json()),
            ("subjects", json!([{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": subject}])),
            ("roleRef", json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name})),
        ],
    )
}

pub fn cluster_role(name: &str, seed: u64, created: i64, rules: usize) -> Value {
    let mut r = Rng::derive(seed, &format!("crole/{name}"));
    let resources = [
        "pods",
        "nodes",
        "namespaces",
        "configmaps",
        "secrets",
        "services",
        "endpoints",
        "events",
        "leases",
        "deployments",
        "replicasets",
        "daemonsets",
        "statefulsets",
        "jobs",
        "cronjobs",
        "ingresses",
        "networkpolicies",
        "persistentvolumeclaims",
    ];
    let rules: Vec<Value> = (0..rules)
        .map(|i| {
            let n = r.usize(1, 5);
            let res: Vec<&str> = (0..n).map(|k| resources[(i * 3 + k) % resources.len()]).collect();
            let group = ["", "apps", "batch", "networking.k8s.io"][i % 4];
            json!({"verbs": ["get", "list", "watch"], "apiGroups": [group], "resources": res})
        })
        .collect();
    let mut meta = Meta::new(name, None, uid_for(seed, "ClusterRole", "", name), created);
    meta = meta
        .label("kubernetes.io/bootstrapping", "rbac-defaults")
        .annotation("rbac.authorization.kubernetes.io/autoupdate", "true");
    meta.managed = vec![managed(
        "kube-apiserver",
        "Update",
        "rbac.authorization.k8s.io/v1",
        created,
        &json!({"metadata": {"annotations": {}, "labels": {}}, "rules": {}}),
        None,
    )];
    with_type(
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        vec![("metadata", meta.to_json()), ("rules", Value::Array(rules))],
    )
}

pub fn cluster_role_binding(name: &str, seed: u64, created: i64) -> Value {
    let mut meta = Meta::new(name, None, uid_for(seed, "ClusterRoleBinding", "", name), created);
    meta = meta
        .label("kubernetes.io/bootstrapping", "rbac-defaults")
        .annotation("rbac.authorization.kubernetes.io/autoupdate", "true");
    meta.managed = vec![managed(
        "kube-apiserver",
        "Update",
        "rbac.authorization.k8s.io/v1",
        created,
        &json!({"roleRef": {}, "subjects": {}}),
        None,
    )];
    with_type(
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        vec![
            ("metadata", meta.to_json()),
            (
                "subjects",
                json!([{"kind": "ServiceAccount", "name": name.trim_start_matches("system:controller:"), "namespace": "kube-system"}]),
            ),
            ("roleRef", json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name})),
        ],
    )
}

/// A node's heartbeat Lease in kube-node-lease (owned by its Node), renewed at `renew`.
pub fn node_lease(node: &NodeInfo, seed: u64, renew: i64) -> Value {
    lease_object("kube-node-lease", &node.name, seed, node.created, &node.name, renew, 0, Some(node))
}

/// A leader-election Lease held by `holder`.
pub fn leader_lease(
    ns: &str,
    name: &str,
    seed: u64,
    created: i64,
    holder: &str,
    renew: i64,
    transitions: u32,
) -> Value {
    lease_object(ns, name, seed, created, holder, renew, transitions, None)
}

#[allow(clippy::too_many_arguments)] // private; the two public wrappers above are the API
fn lease_object(
    ns: &str,
    name: &str,
    seed: u64,
    created: i64,
    holder: &str,
    renew: i64,
    transitions: u32,
    node: Option<&NodeInfo>,
) -> Value {
    let mut meta = Meta::new(name, Some(ns), uid_for(seed, "Lease", ns, name), created);
    let micros = (crate::rng::hash64(format!("{name}{renew}").as_bytes()) % 1_000_000) as u32;
    let mut spec = Map::new();
    spec.insert("holderIdentity".into(), v(holder));
    spec.insert("leaseDurationSeconds".into(), json!(if node.is_some() { 40 } else { 15 }));
    if node.is_none() {
        spec.insert("acquireTime".into(), v(micro_time(created, 0)));
    }
    spec.insert("renewTime".into(), v(micro_time(renew, micros)));
    if transitions > 0 {
        spec.insert("leaseTransitions".into(), json!(transitions));
    }
    let spec = Value::Object(spec);
    let (mgr, owned) = if let Some(n) = node {
        meta.owners = vec![owner_ref("v1", "Node", &n.name, &n.uid)];
        ("kubelet", json!({"metadata": {"ownerReferences": meta.owners}, "spec": spec}))
    } else {
        ("kube-controller-manager", json!({"spec": spec}))
    };
    meta.managed = vec![managed(mgr, "Update", "coordination.k8s.io/v1", created, &owned, None)];
    with_type("coordination.k8s.io/v1", "Lease", vec![("metadata", meta.to_json()), ("spec", spec)])
}

/// An Event about `involved` (kind, name, uid, fieldPath), reported by kubelet on `host`
/// (or, for kubelet-less events, by a controller).
pub struct EventAt<'a> {
    pub ns: &'a str,
    pub involved_kind: &'a str,
    pub involved_api: &'a str,
    pub involved_name: &'a str,
    pub involved_uid: &'a str,
    pub field_path: Option<&'a str>,
    pub reason: &'a str,
    pub message: String,
    pub warning: bool,
    pub component: &'a str,
    pub host: Option<&'a str>,
    pub time: i64,
    pub count: u32,
    pub seed: u64,
}

pub fn event_name(involved: &str, t: i64, seed: u64) -> String {
    // Kubernetes names events <object>.<hex of the creation time in ns>.
    let nanos = (t as u64) * 1_000_000_000 + seed % 1_000_000_000;
    format!("{involved}.{nanos:x}")
}

pub fn event(e: &EventAt<'_>) -> (String, Value) {
    let name = event_name(e.involved_name, e.time, e.seed);
    let mut meta = Meta::new(&name, Some(e.ns), uid_for(e.seed, "Event", e.ns, &name), e.time);
    let mut involved = Map::new();
    involved.insert("kind".into(), v(e.involved_kind));
    involved.insert("namespace".into(), v(e.ns));
    involved.insert("name".into(), v(e.involved_name));
    involved.insert("uid".into(), v(e.involved_uid));
    involved.insert("apiVersion".into(), v(e.involved_api));
    involved.insert("resourceVersion".into(), v(((e.seed >> 8) % 90_000_000 + 1_000).to_string()));
    if let Some(fp) = e.field_path {
        involved.insert("fieldPath".into(), v(fp));
    }
    let mut source = Map::new();
    source.insert("component".into(), v(e.component));
    if let Some(h) = e.host {
        source.insert("host".into(), v(h));
    }
    let fields = json!({"count": 0, "firstTimestamp": 0, "involvedObject": {}, "lastTimestamp": 0, "message": "", "reason": "", "reportingComponent": "", "reportingInstance": "", "source": {"component": 0, "host": 0}, "type": ""});
    meta.managed = vec![managed(e.component, "Update", "v1", e.time, &fields, None)];
    let first = e.time - if e.count > 1 { 600 } else { 0 };
    let value = with_type(
        "v1",
        "Event",
        vec![
            ("metadata", meta.to_json()),
            ("involvedObject", Value::Object(involved)),
            ("reason", v(e.reason)),
            ("message", v(e.message.as_str())),
            ("source", Value::Object(source)),
            ("firstTimestamp", v(time(first))),
            ("lastTimestamp", v(time(e.time))),
            ("count", json!(e.count)),
            ("type", v(if e.warning { "Warning" } else { "Normal" })),
            ("eventTime", Value::Null),
            ("reportingComponent", v(e.component)),
            ("reportingInstance", v(e.host.unwrap_or(""))),
        ],
    );
    (name, value)
}

/// The scheduler's events.k8s.io event (stored as a core Event with eventTime and action).
pub fn scheduled_event(ns: &str, pod: &str, pod_uid: &str, node: &str, t: i64, seed: u64) -> (String, Value) {
    let name = event_name(pod, t, seed);
    let mut meta = Meta::new(&name, Some(ns), uid_for(seed, "Event", ns, &name), t);
    let fields = json!({"action": "", "eventTime": "", "involvedObject": {}, "message": "", "reason": "", "reportingComponent": "", "reportingInstance": "", "source": {}, "type": ""});
    meta.managed = vec![managed("kube-scheduler", "Update", "events.k8s.io/v1", t, &fields, None)];
    let value = with_type(
        "v1",
        "Event",
        vec![
            ("metadata", meta.to_json()),
            (
                "involvedObject",
                json!({"kind": "Pod", "namespace": ns, "name": pod, "uid": pod_uid, "apiVersion": "v1", "resourceVersion": ((seed >> 9) % 90_000_000 + 1_000).to_string()}),
            ),
            ("reason", v("Scheduled")),
            ("message", v(format!("Successfully assigned {ns}/{pod} to {node}"))),
            ("source", json!({})),
            ("firstTimestamp", Value::Null),
            ("lastTimestamp", Value::Null),
            ("type", v("Normal")),
            ("eventTime", v(micro_time(t, (seed % 1_000_000) as u32))),
            ("action", v("Binding")),
            ("reportingComponent", v("default-scheduler")),
            ("reportingInstance", v("default-scheduler-cp-1")),
        ],
    );
    (name, value)
}

// ------------------------------------------------------------------- nodes ---

pub fn node(n: &NodeInfo, seed: u64, heartbeat: i64, images: usize) -> Value {
    let mut r = Rng::derive(seed, &format!("nodeobj/{}", n.name));
    let mut meta = Meta::new(&n.name, None, n.uid.clone(), n.created);
    let itype = *r.pick(&["m6i.2xlarge", "m6i.4xlarge", "r6i.2xlarge", "c6i.4xlarge"]);
    meta = meta
        .label("beta.kubernetes.io/arch", "amd64")
        .label("beta.kubernetes.io/os", "linux")
        .label("kubernetes.io/arch", "amd64")
        .label("kubernetes.io/hostname", &n.name)
        .label("kubernetes.io/os", "linux")
        .label("node.kubernetes.io/instance-type", itype)
        .label("topology.kubernetes.io/region", "eu-west-1")
        .label("topology.kubernetes.io/zone", &n.zone);
    if n.control_plane {
        meta = meta
            .label("node-role.kubernetes.io/control-plane", "")
            .label("node.kubernetes.io/exclude-from-external-load-balancers", "");
    }
    meta = meta
        .annotation("kubeadm.alpha.kubernetes.io/cri-socket", "unix:///var/run/containerd/containerd.sock")
        .annotation("node.alpha.kubernetes.io/ttl", "0")
        .annotation("volumes.kubernetes.io/controller-managed-attach-detach", "true");
    let mut spec = Map::new();
    spec.insert("podCIDR".into(), v(format!("10.{}.{}.0/24", n.pod_net.0, n.pod_net.1)));
    spec.insert("podCIDRs".into(), json!([format!("10.{}.{}.0/24", n.pod_net.0, n.pod_net.1)]));
    spec.insert("providerID".into(), v(format!("aws:///{}/i-0{}", n.zone, r.hex(16))));
    if n.control_plane {
        spec.insert("taints".into(), json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]));
    }
    let cpu = match itype {
        "m6i.4xlarge" | "c6i.4xlarge" => "16",
        _ => "8",
    };
    let conds: Vec<Value> = [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]
    .iter()
    .map(|(t, s, reason, msg)| {
        json!({"type": t, "status": s, "lastHeartbeatTime": time(heartbeat), "lastTransitionTime": time(n.created + 30), "reason": reason, "message": msg})
    })
    .collect();
    let mut imgs = Vec::new();
    for i in 0..images {
        let repo = NODE_IMAGES[(i + r.usize(0, 3)) % NODE_IMAGES.len()];
        let tag = format!("{}.{}.{}", r.range(1, 9), r.range(0, 30), r.range(0, 9));
        imgs.push(json!({"names": [format!("{repo}@{}", image_digest(&mut r)), format!("{repo}:{tag}")], "sizeBytes": r.range(300_000, 900_000_000)}));
    }
    let mut status = Map::new();
    let capacity = json!({"cpu": cpu, "ephemeral-storage": "104845292Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "32386188Ki", "pods": "110"});
    status.insert("capacity".into(), capacity);
    status.insert(
        "allocatable".into(),
        json!({"cpu": cpu, "ephemeral-storage": "96625420948", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "32283788Ki", "pods": "110"}),
    );
    status.insert("conditions".into(), Value::Array(conds));
    status.insert(
        "addresses".into(),
        json!([{"type": "InternalIP", "address": n.ip}, {"type": "InternalDNS", "address": format!("ip-{}.eu-west-1.compute.internal", n.ip.replace('.', "-"))}, {"type": "Hostname", "address": n.name}]),
    );
    status.insert("daemonEndpoints".into(), json!({"kubeletEndpoint": {"Port": 10250}}));
    status.insert(
        "nodeInfo".into(),
        json!({"machineID": r.hex(32), "systemUUID": r.uuid(), "bootID": r.uuid(), "kernelVersion": "6.1.84-99.169.amzn2023.x86_64",
               "osImage": "Amazon Linux 2023.4.20240416", "containerRuntimeVersion": "containerd://1.7.11",
               "kubeletVersion": KUBE_VERSION, "kubeProxyVersion": KUBE_VERSION, "operatingSystem": "linux", "architecture": "amd64"}),
    );
    status.insert("images".into(), Value::Array(imgs));
    let status = Value::Object(status);
    let labels = meta.to_json()["labels"].clone();
    meta.managed = vec![
        managed(
            "kubeadm",
            "Update",
            "v1",
            n.created,
            &json!({"metadata": {"annotations": {"kubeadm.alpha.kubernetes.io/cri-socket": ""}}}),
            None,
        ),
        managed(
            "kubelet",
            "Update",
            "v1",
            n.created,
            &json!({"metadata": {"annotations": {}, "labels": labels}}),
            None,
        ),
        managed(
            "kube-controller-manager",
            "Update",
            "v1",
            n.created + 20,
            &json!({"metadata": {"annotations": {"node.alpha.kubernetes.io/ttl": ""}}, "spec": {"podCIDR": "", "podCIDRs": {}}}),
            None,
        ),
        managed(
            "kubelet",
            "Update",
            "v1",
            heartbeat,
            &json!({"status": {"conditions": {}, "images": {}, "nodeInfo": {}}}),
            Some("status"),
        ),
    ];
    with_type("v1", "Node", vec![("metadata", meta.to_json()), ("spec", Value::Object(spec)), ("status", status)])
}

/// A kubeadm static Pod's mirror (kube-apiserver, etcd, controller manager, scheduler):
/// etcdsnap detects the cluster's release from the kube-apiserver image.
pub fn static_pod(component: &str, image: &str, node: &NodeInfo, seed: u64, flags: &[String]) -> Value {
    let mut r = Rng::derive(seed, &format!("static/{component}"));
    let name = format!("{component}-{}", node.name);
    let hash = r.hex(32);
    let mut meta = Meta::new(&name, Some("kube-system"), uid_for(seed, "Pod", "kube-system", &name), node.created + 10);
    meta = meta
        .label("component", component)
        .label("tier", "control-plane")
        .annotation("kubernetes.io/config.hash", &hash)
        .annotation("kubernetes.io/config.mirror", &hash)
        .annotation(
            "kubernetes.io/config.seen",
            &format!("{}.{}Z", time(node.created).trim_end_matches('Z'), r.range(100_000_000, 999_999_999)),
        )
        .annotation("kubernetes.io/config.source", "file");
    if component == "kube-apiserver" {
        meta = meta.annotation(
            "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint",
            &format!("{}:6443", node.ip),
        );
    }
    meta.owners =
        vec![json!({"apiVersion": "v1", "kind": "Node", "name": node.name, "uid": node.uid, "controller": true})];
    let mut command = vec![v(component)];
    command.extend(flags.iter().map(|f| v(f.as_str())));
    let spec = json!({
        "volumes": [
            {"name": "ca-certs", "hostPath": {"path": "/etc/ssl/certs", "type": "DirectoryOrCreate"}},
            {"name": "k8s-certs", "hostPath": {"path": "/etc/kubernetes/pki", "type": "DirectoryOrCreate"}}
        ],
        "containers": [{
            "name": component,
            "image": image,
            "command": command,
            "resources": {"requests": {"cpu": "250m"}},
            "volumeMounts": [
                {"name": "ca-certs", "readOnly": true, "mountPath": "/etc/ssl/certs"},
                {"name": "k8s-certs", "readOnly": true, "mountPath": "/etc/kubernetes/pki"}
            ],
            "livenessProbe": {"httpGet": {"path": "/livez", "port": 6443, "host": node.ip, "scheme": "HTTPS"}, "initialDelaySeconds": 10, "timeoutSeconds": 15, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 8},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent"
        }],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "nodeName": node.name,
        "hostNetwork": true,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "schedulerName": "default-scheduler",
        "tolerations": [{"operator": "Exists", "effect": "NoExecute"}],
        "priorityClassName": "system-node-critical",
        "priority": 2_000_001_000,
        "enableServiceLinks": true,
        "preemptionPolicy": "PreemptLowerPriority"
    });
    let t = node.created + 12;
    let status = json!({
        "phase": "Running",
        "conditions": [condition("PodReadyToStartContainers", true, t), condition("Initialized", true, t), condition("Ready", true, t + 9),
                       condition("ContainersReady", true, t + 9), condition("PodScheduled", true, t)],
        "hostIP": node.ip, "hostIPs": [{"ip": node.ip}], "podIP": node.ip, "podIPs": [{"ip": node.ip}],
        "startTime": time(t),
        "containerStatuses": [{"name": component, "state": {"running": {"startedAt": time(t - 8)}}, "lastState": {}, "ready": true, "restartCount": 0,
                               "image": image, "imageID": format!("{}@{}", image.rsplit_once(':').map_or(image, |(a, _)| a), image_digest(&mut r)),
                               "containerID": format!("containerd://{}", r.hex(64)), "started": true}],
        "qosClass": "Burstable"
    });
    meta.managed = vec![
        managed(
            "kubelet",
            "Update",
            "v1",
            t,
            &json!({"metadata": {"annotations": {}, "labels": {}, "ownerReferences": {}}, "spec": spec}),
            None,
        ),
        managed(
            "kubelet",
            "Update",
            "v1",
            t + 9,
            &json!({"status": {"conditions": {}, "containerStatuses": {}, "hostIP": "", "phase": ""}}),
            Some("status"),
        ),
    ];
    with_type("v1", "Pod", vec![("metadata", meta.to_json()), ("spec", spec), ("status", status)])
}

/// The kube-apiserver command line of a kubeadm cluster.
pub fn apiserver_flags(ip: &str) -> Vec<String> {
    [
        format!("--advertise-address={ip}"),
        "--allow-privileged=true".into(),
        "--authorization-mode=Node,RBAC".into(),
        "--client-ca-file=/etc/kubernetes/pki/ca.crt".into(),
        "--enable-admission-plugins=NodeRestriction".into(),
        "--enable-bootstrap-token-auth=true".into(),
        "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt".into(),
        "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt".into(),
        "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key".into(),
        "--etcd-servers=https://127.0.0.1:2379".into(),
        "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt".into(),
        "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key".into(),
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname".into(),
        "--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt".into(),
        "--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key".into(),
        "--requestheader-allowed-names=front-proxy-client".into(),
        "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt".into(),
        "--requestheader-extra-headers-prefix=X-Remote-Extra-".into(),
        "--requestheader-group-headers=X-Remote-Group".into(),
        "--requestheader-username-headers=X-Remote-User".into(),
        "--secure-port=6443".into(),
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
        "--service-account-key-file=/etc/kubernetes/pki/sa.pub".into(),
        "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key".into(),
        "--service-cluster-ip-range=10.96.0.0/12".into(),
        "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt".into(),
        "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key".into(),
    ]
    .to_vec()
}

/// A DaemonSet (kube-proxy style), one pod per node.
pub fn daemonset(name: &str, image: &str, seed: u64, created: i64, nodes: u32) -> Value {
    let mut meta = Meta::new(name, Some("kube-system"), uid_for(seed, "DaemonSet", "kube-system", name), created);
    meta.generation = Some(1);
    meta = meta.label("k8s-app", name).annotation("deprecated.daemonset.template.generation", "1");
    let spec = json!({
        "selector": {"matchLabels": {"k8s-app": name}},
        "template": {
            "metadata": {"creationTimestamp": null, "labels": {"k8s-app": name}},
            "spec": {
                "volumes": [{"name": name, "configMap": {"name": name, "defaultMode": 420}},
                            {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                            {"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}}],
                "containers": [{
                    "name": name, "image": image,
                    "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"],
                    "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}],
                    "resources": {},
                    "volumeMounts": [{"name": name, "mountPath": "/var/lib/kube-proxy"}, {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
                                     {"name": "lib-modules", "readOnly": true, "mountPath": "/lib/modules"}],
                    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent",
                    "securityContext": {"privileged": true}
                }],
                "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                "nodeSelector": {"kubernetes.io/os": "linux"}, "serviceAccountName": name, "serviceAccount": name,
                "hostNetwork": true, "securityContext": {}, "schedulerName": "default-scheduler",
                "tolerations": [{"operator": "Exists"}], "priorityClassName": "system-node-critical"
            }
        },
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
        "revisionHistoryLimit": 10
    });
    let status = json!({"currentNumberScheduled": nodes, "numberMisscheduled": 0, "desiredNumberScheduled": nodes, "numberReady": nodes,
                        "observedGeneration": 1, "updatedNumberScheduled": nodes, "numberAvailable": nodes});
    meta.managed = vec![
        managed("kubeadm", "Update", "apps/v1", created, &json!({"metadata": {"labels": {}}, "spec": spec}), None),
        managed(
            "kube-controller-manager",
            "Update",
            "apps/v1",
            created + 30,
            &json!({"status": status}),
            Some("status"),
        ),
    ];
    with_type("apps/v1", "DaemonSet", vec![("metadata", meta.to_json()), ("spec", spec), ("status", status)])
}

/// A kube-proxy pod on `node` (owned by the DaemonSet).
pub fn daemon_pod(ds: &str, image: &str, node: &NodeInfo, seed: u64) -> (String, Value) {
    let mut r = Rng::derive(seed, &format!("dspod/{ds}/{}", node.name));
    let name = format!("{ds}-{}", r.string(K8S_ALPHABET, 5));
    let uid = uid_for(seed, "Pod", "kube-system", &name);
    let ds_uid = uid_for(seed, "DaemonSet", "kube-system", ds);
    let t = node.created + 40;
    let mut meta = Meta::new(&name, Some("kube-system"), uid, t);
    meta.generate_name = Some(format!("{ds}-"));
    meta = meta
        .label("controller-revision-hash", &r.string(K8S_ALPHABET, 10))
        .label("k8s-app", ds)
        .label("pod-template-generation", "1");
    meta.owners = vec![controller_ref("apps/v1", "DaemonSet", ds, &ds_uid)];
    let access = kube_api_access(&mut r);
    let spec = json!({
        "volumes": [{"name": ds, "configMap": {"name": ds, "defaultMode": 420}},
                    {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                    {"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}},
                    api_access_volume(&access)],
        "containers": [{
            "name": ds, "image": image,
            "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"],
            "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}],
            "resources": {},
            "volumeMounts": [{"name": ds, "mountPath": "/var/lib/kube-proxy"}, {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
                             {"name": "lib-modules", "readOnly": true, "mountPath": "/lib/modules"},
                             {"name": access, "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent",
            "securityContext": {"privileged": true}
        }],
        "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
        "nodeSelector": {"kubernetes.io/os": "linux"}, "serviceAccountName": ds, "serviceAccount": ds, "nodeName": node.name,
        "hostNetwork": true, "securityContext": {},
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node.name]}]}]}}},
        "schedulerName": "default-scheduler",
        "tolerations": [{"operator": "Exists"}, {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
                        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
                        {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"}],
        "priorityClassName": "system-node-critical", "priority": 2_000_001_000, "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority"
    });
    let status = json!({
        "phase": "Running",
        "conditions": [condition("PodReadyToStartContainers", true, t + 2), condition("Initialized", true, t), condition("Ready", true, t + 3),
                       condition("ContainersReady", true, t + 3), condition("PodScheduled", true, t)],
        "hostIP": node.ip, "hostIPs": [{"ip": node.ip}], "podIP": node.ip, "podIPs": [{"ip": node.ip}], "startTime": time(t),
        "containerStatuses": [{"name": ds, "state": {"running": {"startedAt": time(t + 2)}}, "lastState": {}, "ready": true, "restartCount": 0,
                               "image": image, "imageID": format!("registry.k8s.io/kube-proxy@{}", image_digest(&mut r)),
                               "containerID": format!("containerd://{}", r.hex(64)), "started": true}],
        "qosClass": "BestEffort"
    });
    meta.managed = vec![
        managed(
            "kube-controller-manager",
            "Update",
            "v1",
            t,
            &json!({"metadata": {"generateName": "", "labels": {}, "ownerReferences": {}}, "spec": spec}),
            None,
        ),
        managed(
            "kubelet",
            "Update",
            "v1",
            t + 3,
            &json!({"status": {"conditions": {}, "containerStatuses": {}, "hostIP": "", "phase": "", "podIP": ""}}),
            Some("status"),
        ),
    ];
    (name, with_type("v1", "Pod", vec![("metadata", meta.to_json()), ("spec", spec), ("status", status)]))
}

// --------------------------------------------------- CRDs and custom resources ---

/// A CRD as stored (JSON, apiextensions.k8s.io/v1). `schema_bytes` sizes its OpenAPI schema:
/// real operator CRDs range from tens of KB to about 1 MB.
pub struct CrdDef {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub short: &'static str,
    pub schema_bytes: usize,
}

pub const CRDS: &[CrdDef] = &[
    CrdDef {
        group: "monitoring.coreos.com",
        version: "v1",
        kind: "ServiceMonitor",
        plural: "servicemonitors",
        singular: "servicemonitor",
        short: "smon",
        schema_bytes: 60_000,
    },
    CrdDef {
        group: "monitoring.coreos.com",
        version: "v1",
        kind: "Prometheus",
        plural: "prometheuses",
        singular: "prometheus",
        short: "prom",
        schema_bytes: 900_000,
    },
    CrdDef {
        group: "cert-manager.io",
        version: "v1",
        kind: "Certificate",
        plural: "certificates",
        singular: "certificate",
        short: "cert",
        schema_bytes: 30_000,
    },
    CrdDef {
        group: "external-secrets.io",
        version: "v1beta1",
        kind: "ExternalSecret",
        plural: "externalsecrets",
        singular: "externalsecret",
        short: "es",
        schema_bytes: 40_000,
    },
    CrdDef {
        group: "argoproj.io",
        version: "v1alpha1",
        kind: "Application",
        plural: "applications",
        singular: "application",
        short: "app",
        schema_bytes: 250_000,
    },
];

fn schema_props(r: &mut Rng, budget: usize, depth: u32) -> Value {
    let mut props = Map::new();
    let mut used = 0;
    let mut i = 0;
    while used < budget && i < 400 {
        i += 1;
        let name = format!(
            "{}{}",
            r.pick(&[
                "spec",
                "config",
                "target",
                "endpoint",
                "relabel",
                "selector",
                "tls",
                "auth",
                "storage",
                "retention"
            ]),
            i
        );
        let n = r.usize(40, 400);
        let desc = text(r, n);
        let node = if depth < 4 && budget - used > 2_000 && r.chance(0.3) {
            let sub = r.usize(500, (budget - used).min(60_000));
            used += sub;
            json!({"description": desc, "type": "object", "properties": schema_props(r, sub, depth + 1)})
        } else {
            json!({"description": desc, "type": *r.pick(&["string", "integer", "boolean", "string"])})
        };
        used += desc.len() + name.len() + 40;
        props.insert(name, node);
    }
    Value::Object(props)
}

pub fn crd(def: &CrdDef, seed: u64, created: i64) -> Value {
    let mut r = Rng::derive(seed, &format!("crd/{}", def.plural));
    let name = format!("{}.{}", def.plural, def.group);
    let schema = json!({"openAPIV3Schema": {"description": format!("{} is the Schema for the {} API", def.kind, def.plural), "type": "object",
        "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
                       "spec": {"type": "object", "properties": schema_props(&mut r, def.schema_bytes, 0)},
                       "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
        "required": ["spec"]}});
    let names = json!({"plural": def.plural, "singular": def.singular, "shortNames": [def.short], "kind": def.kind, "listKind": format!("{}List", def.kind)});
    let mut meta = Meta::new(&name, None, uid_for(seed, "CustomResourceDefinition", "", &name), created);
    meta.generation = Some(1);
    meta = meta.annotation("controller-gen.kubebuilder.io/version", "v0.14.0");
    meta.managed = vec![
        managed(
            "helm",
            "Update",
            "apiextensions.k8s.io/v1",
            created,
            &json!({"metadata": {"annotations": {}}, "spec": {"conversion": {}, "group": "", "names": {}, "scope": "", "versions": {}}}),
            None,
        ),
        managed(
            "kube-apiserver",
            "Update",
            "apiextensions.k8s.io/v1",
            created,
            &json!({"status": {"acceptedNames": {}, "conditions": {}}}),
            Some("status"),
        ),
    ];
    let t = time(created);
    with_type(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        vec![
            ("metadata", meta.to_json()),
            (
                "spec",
                json!({"group": def.group, "names": names, "scope": "Namespaced",
                       "versions": [{"name": def.version, "served": true, "storage": true, "schema": schema, "subresources": {"status": {}}}],
                       "conversion": {"strategy": "None"}}),
            ),
            (
                "status",
                json!({"conditions": [
                    {"type": "NamesAccepted", "status": "True", "lastTransitionTime": t, "reason": "NoConflicts", "message": "no conflicts found"},
                    {"type": "Established", "status": "True", "lastTransitionTime": t, "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}],
                    "acceptedNames": names, "storedVersions": [def.version]}),
            ),
        ],
    )
}

/// A custom resource of `def`, as the API server stores it: JSON with sorted keys.
pub fn custom_resource(
    def: &CrdDef,
    ns: &str,
    name: &str,
    seed: u64,
    created: i64,
    spec: Value,
    status: Option<Value>,
) -> Value {
    let mut meta = Meta::new(name, Some(ns), uid_for(seed, def.kind, ns, name), created);
    meta.generation = Some(1);
    meta.managed = vec![managed(
        "argocd-controller",
        "Apply",
        &format!("{}/{}", def.group, def.version),
        created,
        &json!({"spec": spec}),
        None,
    )];
    let mut pairs = vec![
        ("apiVersion", v(format!("{}/{}", def.group, def.version))),
        ("kind", v(def.kind)),
        ("metadata", meta.to_json()),
        ("spec", spec),
    ];
    if let Some(s) = status {
        pairs.push(("status", s));
    }
    sort_keys(&obj(pairs))
}

pub fn service_monitor_spec(app: &App) -> Value {
    json!({"endpoints": [{"interval": "30s", "path": "/metrics", "port": "metrics", "scheme": "http",
                          "metricRelabelings": [{"action": "drop", "regex": "go_gc_.*", "sourceLabels": ["__name__"]}]}],
           "namespaceSelector": {"matchNames": [app.ns]},
           "selector": {"matchLabels": string_map(app.selector())}})
}

pub fn certificate_spec(ns: &str, name: &str) -> (Value, Value) {
    let host = format!("{}.{ns}.apps.example.com", name.trim_end_matches("-tls"));
    (
        json!({"dnsNames": [host], "issuerRef": {"kind": "ClusterIssuer", "name": "letsencrypt-prod"}, "secretName": name,
               "privateKey": {"algorithm": "RSA", "size": 2048, "rotationPolicy": "Always"}, "duration": "2160h0m0s", "renewBefore": "360h0m0s"}),
        json!({"conditions": [{"lastTransitionTime": time(crate::k8s::EPOCH - 86_400), "message": "Certificate is up to date and has not expired",
                               "observedGeneration": 1, "reason": "Ready", "status": "True", "type": "Ready"}],
               "notAfter": time(crate::k8s::EPOCH + 60 * 86_400), "notBefore": time(crate::k8s::EPOCH - 30 * 86_400),
               "renewalTime": time(crate::k8s::EPOCH + 45 * 86_400), "revision": 3}),
    )
}

pub fn external_secret_spec(name: &str, keys: usize) -> Value {
    let data: Vec<Value> = (0..keys)
        .map(|i| json!({"secretKey": format!("key-{i}"), "remoteRef": {"key": format!("prod/{name}"), "property": format!("field{i}")}}))
        .collect();
    json!({"data": data, "refreshInterval": "1h", "secretStoreRef": {"kind": "ClusterSecretStore", "name": "aws-secrets-manager"},
           "target": {"creationPolicy": "Owner", "deletionPolicy": "Retain", "name": name}})
}

/// An Argo CD Application for a namespace's release, with a sync history in its status
/// (these grow to tens of KB in real clusters).
pub fn argo_application_spec(
    ns: &str,
    release: &str,
    seed: u64,
    history: usize,
    resources: &[(String, String)],
) -> (Value, Value) {
    let mut r = Rng::derive(seed, &format!("argo/{ns}/{release}"));
    let repo = format!("https://git.example.com/platform/{}.git", release);
    let spec = json!({"destination": {"namespace": ns, "server": "https://kubernetes.default.svc"}, "project": "default",
                      "source": {"path": format!("charts/{release}"), "repoURL": repo, "targetRevision": "main",
                                 "helm": {"valueFiles": ["values.yaml", format!("values-{ns}.yaml")]}},
                      "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "syncOptions": ["CreateNamespace=false", "ServerSideApply=true"]}});
    let hist: Vec<Value> = (0..history)
        .map(|i| json!({"deployStartedAt": time(crate::k8s::EPOCH - (history - i) as i64 * 86_400), "deployedAt": time(crate::k8s::EPOCH - (history - i) as i64 * 86_400 + 30),
                        "id": i, "revision": r.hex(40), "source": {"path": format!("charts/{release}"), "repoURL": repo, "targetRevision": "main"}}))
        .collect();
    let res: Vec<Value> = resources
        .iter()
        .map(|(kind, name)| json!({"group": if kind == "Deployment" { "apps" } else { "" }, "kind": kind, "name": name, "namespace": ns, "status": "Synced", "version": "v1", "health": {"status": "Healthy"}}))
        .collect();
    let status = json!({"health": {"status": "Healthy"}, "history": hist, "operationState": {"phase": "Succeeded", "message": "successfully synced (all tasks run)",
                        "startedAt": time(crate::k8s::EPOCH - 3_600), "finishedAt": time(crate::k8s::EPOCH - 3_570)},
                        "reconciledAt": time(crate::k8s::EPOCH), "resources": res, "sourceType": "Helm",
                        "summary": {"images": resources.iter().filter(|(k, _)| k == "Deployment").map(|(_, n)| format!("registry.example.com/{release}/{n}:latest")).collect::<Vec<_>>()},
                        "sync": {"comparedTo": {"destination": {"namespace": ns, "server": "https://kubernetes.default.svc"}, "source": {"repoURL": repo}},
                                 "revision": r.hex(40), "status": "Synced"}});
    (spec, status)
}

/// Stored bytes of a JSON-stored object: compact JSON and a newline, as the API server's
/// JSON serializer writes it.
pub fn json_bytes(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec(v).unwrap_or_default();
    out.push(b'\n');
    out
}
