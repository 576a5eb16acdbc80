//! The story the generator tells etcd, in order:
//!
//! 1. **bootstrap**: system namespaces, CRDs, cluster RBAC, Nodes and their Leases, the
//!    kubeadm control plane (static Pods, kube-proxy, CoreDNS), a few ~1 MB objects;
//! 2. **namespaces**: every application namespace with its ServiceAccounts, RBAC,
//!    ConfigMaps, Secrets (Helm releases included), Deployments → ReplicaSets → Pods,
//!    Services → Endpoints/EndpointSlices, custom resources, Leases and Events;
//! 3. **churn**, in ticks: node and leader-election Lease renewals, Node heartbeats,
//!    rollouts (new ReplicaSet, pods created → bound → starting → running, old pods
//!    terminated and deleted), scaling, restarts, ConfigMap edits, Helm upgrades, deletions,
//!    expired Events (etcd lease revocation), whole namespaces deleted;
//! 4. **compaction**, as kube-apiserver does it (`compact_rev_key` transaction, then
//!    compact at the revision before it);
//! 5. **after the compaction**: a shorter churn whose history the snapshot keeps.
//!
//! Every decision is drawn from generators derived from the seed and the thing decided
//! about, so the same seed writes the same keys and values in the same order.

use anyhow::Result;
use serde_json::{json, Value};

use crate::emit::{Emitter, Stored};
use crate::k8s::{managed, time, Meta, EPOCH};
use crate::model::{self, App, NodeInfo, NsPlan, SecretKind, Style, KUBE_VERSION};
use crate::names::EVENT_WARNINGS;
use crate::objects::{self as o, Backend, DeployState, EventAt, PodAt, PodPhase, CRDS};
use crate::rng::{hash64, Rng};

/// A snapshot size: how many namespaces and nodes, how much churn.
#[derive(Debug, Clone)]
pub struct Preset {
    pub name: &'static str,
    pub namespaces: usize,
    pub nodes: usize,
    /// Churn ticks before the compaction (each renews every node Lease once).
    pub ticks: usize,
    /// Churn ticks after the compaction.
    pub post_ticks: usize,
    /// ~1 MB ConfigMaps (besides a ~0.9 MB CRD and a ~0.8 MB Secret).
    pub big_configmaps: usize,
    /// Application namespaces deleted before the compaction.
    pub deleted_namespaces: usize,
}

pub const PRESETS: &[Preset] = &[
    Preset { name: "tiny", namespaces: 3, nodes: 4, ticks: 3, post_ticks: 2, big_configmaps: 0, deleted_namespaces: 1 },
    Preset {
        name: "small",
        namespaces: 24,
        nodes: 12,
        ticks: 16,
        post_ticks: 6,
        big_configmaps: 1,
        deleted_namespaces: 1,
    },
    Preset {
        name: "2g",
        namespaces: 1200,
        nodes: 250,
        ticks: 40,
        post_ticks: 10,
        big_configmaps: 4,
        deleted_namespaces: 6,
    },
    Preset {
        name: "8g",
        namespaces: 4800,
        nodes: 1000,
        ticks: 40,
        post_ticks: 10,
        big_configmaps: 10,
        deleted_namespaces: 20,
    },
];

pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// What the run did, for the manifest.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub app_namespaces: usize,
    pub system_namespaces: usize,
    pub deleted_namespaces: Vec<String>,
    pub nodes: usize,
    pub compaction_revision: i64,
    pub events_expired: u64,
    pub leases_revoked: u64,
    pub rollouts: u64,
    pub scalings: u64,
    pub restarts: u64,
}

const SYSTEM_NAMESPACES: &[&str] = &[
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "argocd",
    "monitoring",
    "cert-manager",
    "external-secrets",
];

#[derive(Debug, Clone)]
struct PodSlot {
    index: u32,
    incarnation: u32,
    restarts: u32,
    created: i64,
}

#[derive(Debug, Clone)]
struct AppState {
    revision: u32,
    replicas: u32,
    generation: i64,
    eps_generation: i64,
    pods: Vec<PodSlot>,
    next_incarnation: u32,
}

#[derive(Debug, Clone)]
struct NsState {
    apps: Vec<AppState>,
    cm_versions: Vec<Option<u32>>,
    secrets_live: Vec<bool>,
    helm_versions: Vec<u32>,
    deleted: bool,
}

pub struct Scenario<'a, 'e> {
    em: &'a mut Emitter<'e>,
    seed: u64,
    preset: &'a Preset,
    nodes: Vec<NodeInfo>,
    plans: Vec<NsPlan>,
    states: Vec<NsState>,
    ca: String,
    report: Report,
    /// Leader-election leases: (namespace, name, created, holder).
    leaders: Vec<(String, String, i64, String)>,
    log: &'a mut dyn FnMut(&str),
    event_seq: u64,
}

fn key(res: &str, ns: &str, name: &str) -> String {
    format!("/registry/{res}/{ns}/{name}")
}

impl<'a, 'e> Scenario<'a, 'e> {
    pub fn new(em: &'a mut Emitter<'e>, seed: u64, preset: &'a Preset, log: &'a mut dyn FnMut(&str)) -> Self {
        let nodes = model::nodes(seed, preset.nodes);
        let plans: Vec<NsPlan> = (0..preset.namespaces).map(|i| model::ns_plan(seed, i)).collect();
        let states = plans
            .iter()
            .map(|p| NsState {
                apps: p
                    .apps
                    .iter()
                    .map(|a| AppState {
                        revision: a.revision,
                        replicas: a.replicas,
                        generation: i64::from(a.revision) + 1,
                        eps_generation: 1 + i64::from(a.revision),
                        pods: (0..a.replicas)
                            .map(|i| PodSlot {
                                index: i,
                                incarnation: 0,
                                restarts: initial_restarts(a.seed, i),
                                created: a.created + i64::from(a.revision) * 3_600 + i64::from(i) * 3,
                            })
                            .collect(),
                        next_incarnation: 1,
                    })
                    .collect(),
                cm_versions: vec![Some(1); p.configmaps.len()],
                secrets_live: vec![true; p.secrets.len()],
                helm_versions: p.helm_releases.iter().map(|(_, v)| *v).collect(),
                deleted: false,
            })
            .collect();
        let mut r = Rng::derive(seed, "ca");
        let ca = o::pem(&mut r, "CERTIFICATE", 1_050);
        Scenario {
            em,
            seed,
            preset,
            nodes,
            plans,
            states,
            ca,
            report: Report::default(),
            leaders: Vec::new(),
            log,
            event_seq: 0,
        }
    }

    pub fn run(mut self) -> Result<Report> {
        (self.log)("bootstrap: system namespaces, CRDs, RBAC, nodes, control plane");
        self.bootstrap()?;
        for i in 0..self.plans.len() {
            self.namespace(i)?;
            if (i + 1) % 100 == 0 {
                (self.log)(&format!("namespaces: {}/{}", i + 1, self.plans.len()));
            }
        }
        self.em.barrier()?;
        (self.log)("churn before the compaction");
        // The oldest quarter of the events expire (etcd deletes them when it revokes their lease).
        let first = self.em.event_lease_count() / 4;
        for n in 0..first {
            self.report.events_expired += self.em.revoke_event_lease(n)?;
            self.report.leases_revoked += 1;
        }
        self.churn(self.preset.ticks, 1.0, 0)?;
        self.delete_namespaces()?;
        self.em.barrier()?;
        let c = self.em.compact()?;
        self.report.compaction_revision = c;
        (self.log)(&format!("compacted at revision {c}"));
        // The older half of the events created during the churn expire now: tombstones
        // after the compaction.
        let upto = first + (self.em.event_lease_count() - first) / 2;
        self.em.barrier()?;
        for n in first..upto.max(first) {
            self.report.events_expired += self.em.revoke_event_lease(n)?;
            self.report.leases_revoked += 1;
        }
        self.churn(self.preset.post_ticks, 0.3, self.preset.ticks)?;
        self.em.barrier()?;
        self.report.app_namespaces = self.plans.len();
        self.report.system_namespaces = SYSTEM_NAMESPACES.len();
        self.report.nodes = self.nodes.len();
        Ok(self.report)
    }

    fn next_event_seed(&mut self) -> u64 {
        self.event_seq += 1;
        Rng::derive(self.seed, &format!("event/{}", self.event_seq)).next_u64()
    }

    fn node_for(&self, pod: &str) -> &NodeInfo {
        let n = self.nodes.len();
        if n <= 1 {
            return &self.nodes[0];
        }
        &self.nodes[1 + (hash64(pod.as_bytes()) % (n as u64 - 1)) as usize]
    }

    // ------------------------------------------------------------- bootstrap ---

    fn bootstrap(&mut self) -> Result<()> {
        let seed = self.seed;
        let t0 = EPOCH - 40 * 86_400;
        for (i, ns) in SYSTEM_NAMESPACES.iter().enumerate() {
            let created = t0 + i as i64 * 5;
            self.em.put(
                "namespaces",
                None,
                &format!("/registry/namespaces/{ns}"),
                &o::namespace(ns, seed, created, &[]),
                Stored::Proto,
            )?;
            let sa = o::service_account(ns, "default", seed, created + 1);
            self.em.put("serviceaccounts", Some(ns), &key("serviceaccounts", ns, "default"), &sa, Stored::Proto)?;
            let ca = o::root_ca(ns, seed, created + 1, &self.ca);
            self.em.put("configmaps", Some(ns), &key("configmaps", ns, "kube-root-ca.crt"), &ca, Stored::Proto)?;
        }
        for def in CRDS {
            let crd = o::crd(def, seed, t0 + 600);
            let name = format!("{}.{}", def.plural, def.group);
            self.em.put(
                "customresourcedefinitions",
                None,
                &format!("/registry/apiextensions.k8s.io/customresourcedefinitions/{name}"),
                &crd,
                Stored::Json,
            )?;
        }
        let mut r = Rng::derive(seed, "rbac");
        for i in 0..70 {
            let name = if i < 40 {
                format!("system:controller:{}", CONTROLLERS[i % CONTROLLERS.len()])
            } else {
                format!("{}-{}", ["view", "edit", "admin", "aggregate"][i % 4], i)
            };
            let name = if i >= CONTROLLERS.len() && i < 40 { format!("{name}-{i}") } else { name };
            let rules = r.usize(1, 14);
            self.em.put(
                "clusterroles",
                None,
                &format!("/registry/clusterroles/{name}"),
                &o::cluster_role(&name, seed, t0 + 2, rules),
                Stored::Proto,
            )?;
            if i < 55 {
                self.em.put(
                    "clusterrolebindings",
                    None,
                    &format!("/registry/clusterrolebindings/{name}"),
                    &o::cluster_role_binding(&name, seed, t0 + 2),
                    Stored::Proto,
                )?;
            }
        }
        // Nodes and their heartbeat Leases.
        let nodes = self.nodes.clone();
        for n in &nodes {
            let images = 20 + (hash64(n.name.as_bytes()) % 40) as usize;
            self.em.put(
                "nodes",
                None,
                &format!("/registry/minions/{}", n.name),
                &o::node(n, seed, EPOCH - 300, images),
                Stored::Proto,
            )?;
            let lease = o::node_lease(n, seed, EPOCH - 10);
            self.em.put(
                "leases",
                Some("kube-node-lease"),
                &key("leases", "kube-node-lease", &n.name),
                &lease,
                Stored::Proto,
            )?;
        }
        // The kubeadm control plane on cp-1.
        let cp = nodes[0].clone();
        let flags = o::apiserver_flags(&cp.ip);
        for (component, image, f) in [
            ("kube-apiserver", format!("registry.k8s.io/kube-apiserver:{KUBE_VERSION}"), flags),
            (
                "etcd",
                "registry.k8s.io/etcd:3.5.12-0".to_string(),
                vec![
                    "--data-dir=/var/lib/etcd".to_string(),
                    format!("--listen-client-urls=https://127.0.0.1:2379,https://{}:2379", cp.ip),
                ],
            ),
            (
                "kube-controller-manager",
                format!("registry.k8s.io/kube-controller-manager:{KUBE_VERSION}"),
                vec!["--leader-elect=true".to_string(), "--use-service-account-credentials=true".to_string()],
            ),
            (
                "kube-scheduler",
                format!("registry.k8s.io/kube-scheduler:{KUBE_VERSION}"),
                vec!["--leader-elect=true".to_string()],
            ),
        ] {
            let pod = o::static_pod(component, &image, &cp, seed, &f);
            self.em.put(
                "pods",
                Some("kube-system"),
                &key("pods", "kube-system", &format!("{component}-{}", cp.name)),
                &pod,
                Stored::Proto,
            )?;
        }
        let proxy_image = format!("registry.k8s.io/kube-proxy:{KUBE_VERSION}");
        let ds = o::daemonset("kube-proxy", &proxy_image, seed, t0 + 20, nodes.len() as u32);
        self.em.put(
            "daemonsets",
            Some("kube-system"),
            &key("daemonsets", "kube-system", "kube-proxy"),
            &ds,
            Stored::Proto,
        )?;
        for n in &nodes {
            let (name, pod) = o::daemon_pod("kube-proxy", &proxy_image, n, seed);
            self.em.put("pods", Some("kube-system"), &key("pods", "kube-system", &name), &pod, Stored::Proto)?;
        }
        for sa in [
            "kube-proxy",
            "coredns",
            "replicaset-controller",
            "deployment-controller",
            "endpointslice-controller",
            "namespace-controller",
        ] {
            self.em.put(
                "serviceaccounts",
                Some("kube-system"),
                &key("serviceaccounts", "kube-system", sa),
                &o::service_account("kube-system", sa, seed, t0 + 3),
                Stored::Proto,
            )?;
        }
        for (name, size) in
            [("coredns", 600), ("kube-proxy", 1_800), ("kubeadm-config", 1_200), ("kubelet-config", 1_500)]
        {
            let cm = o::configmap("kube-system", name, seed, size, t0 + 4, 1, "kubeadm");
            self.em.put(
                "configmaps",
                Some("kube-system"),
                &key("configmaps", "kube-system", name),
                &cm,
                Stored::Proto,
            )?;
        }
        let auth =
            o::configmap("kube-system", "extension-apiserver-authentication", seed, 6_000, t0 + 4, 1, "kube-apiserver");
        self.em.put(
            "configmaps",
            Some("kube-system"),
            &key("configmaps", "kube-system", "extension-apiserver-authentication"),
            &auth,
            Stored::Proto,
        )?;
        let info = o::configmap("kube-public", "cluster-info", seed, 2_200, t0 + 4, 1, "kubeadm");
        self.em.put(
            "configmaps",
            Some("kube-public"),
            &key("configmaps", "kube-public", "cluster-info"),
            &info,
            Stored::Proto,
        )?;
        // CoreDNS as an ordinary app of kube-system.
        let coredns = App {
            ns: "kube-system".into(),
            name: "coredns".into(),
            seed: Rng::derive(seed, "coredns").next_u64(),
            created: t0 + 30,
            style: Style::Kubectl,
            replicas: 2,
            revision: 1,
            history: 0,
            service: true,
            port: 8080,
            release: "kube-dns".into(),
            leader_election: false,
            service_monitor: true,
        };
        self.app_objects(
            &coredns,
            &AppState {
                revision: 1,
                replicas: 2,
                generation: 1,
                eps_generation: 1,
                pods: (0..2).map(|i| PodSlot { index: i, incarnation: 0, restarts: 0, created: t0 + 40 }).collect(),
                next_incarnation: 1,
            },
            false,
        )?;
        // Leader election and API server identity Leases.
        for (name, holder) in [
            ("kube-controller-manager", format!("cp-1_{}", Rng::derive(seed, "kcm").uuid())),
            ("kube-scheduler", format!("cp-1_{}", Rng::derive(seed, "ks").uuid())),
            (
                &*format!(
                    "apiserver-{}",
                    Rng::derive(seed, "apiserver").string(b"abcdefghijklmnopqrstuvwxyz234567", 26)
                ),
                format!("apiserver-{}", Rng::derive(seed, "apiserverid").uuid()),
            ),
        ] {
            let lease = o::leader_lease("kube-system", name, seed, t0 + 10, &holder, EPOCH - 5, 3);
            self.em.put("leases", Some("kube-system"), &key("leases", "kube-system", name), &lease, Stored::Proto)?;
            self.leaders.push(("kube-system".to_string(), name.to_string(), t0 + 10, holder));
        }
        // default/kubernetes.
        let k = kubernetes_service(seed, t0);
        self.em.put("services", Some("default"), "/registry/services/specs/default/kubernetes", &k, Stored::Proto)?;
        // Monitoring: the Prometheus CR and the big objects.
        let prom = o::custom_resource(
            &CRDS[1],
            "monitoring",
            "k8s",
            seed,
            t0 + 700,
            json!({"replicas": 2, "retention": "15d", "serviceMonitorSelector": {}, "version": "v2.51.2"}),
            None,
        );
        self.em.put(
            "prometheuses.monitoring.coreos.com",
            Some("monitoring"),
            "/registry/monitoring.coreos.com/prometheuses/monitoring/k8s",
            &prom,
            Stored::Json,
        )?;
        for i in 0..self.preset.big_configmaps {
            let name = format!("grafana-dashboards-{i}");
            let size = 900_000 + (i * 17_000) % 90_000;
            let cm = o::configmap("monitoring", &name, seed, size, t0 + 800, 1, "helm");
            self.em.put(
                "configmaps",
                Some("monitoring"),
                &key("configmaps", "monitoring", &name),
                &cm,
                Stored::Proto,
            )?;
        }
        let bundle = o::secret("monitoring", "alertmanager-bundle", seed, SecretKind::Opaque, 800_000, t0 + 800);
        self.em.put(
            "secrets",
            Some("monitoring"),
            &key("secrets", "monitoring", "alertmanager-bundle"),
            &bundle,
            Stored::Proto,
        )?;
        Ok(())
    }

    // ------------------------------------------------------------ namespaces ---

    fn namespace(&mut self, i: usize) -> Result<()> {
        let plan = self.plans[i].clone();
        let seed = self.seed;
        let ns = plan.name.as_str();
        let labels = vec![("team".to_string(), ns.split('-').next().unwrap_or(ns).to_string())];
        self.em.put(
            "namespaces",
            None,
            &format!("/registry/namespaces/{ns}"),
            &o::namespace(ns, seed, plan.created, &labels),
            Stored::Proto,
        )?;
        self.em.put(
            "configmaps",
            Some(ns),
            &key("configmaps", ns, "kube-root-ca.crt"),
            &o::root_ca(ns, seed, plan.created + 1, &self.ca),
            Stored::Proto,
        )?;
        for sa in &plan.service_accounts {
            self.em.put(
                "serviceaccounts",
                Some(ns),
                &key("serviceaccounts", ns, sa),
                &o::service_account(ns, sa, seed, plan.created + 2),
                Stored::Proto,
            )?;
        }
        for role in &plan.roles {
            self.em.put(
                "roles",
                Some(ns),
                &key("roles", ns, role),
                &o::role(ns, role, seed, plan.created + 3),
                Stored::Proto,
            )?;
            let rb = o::role_binding(ns, role, seed, plan.created + 3, &format!("{ns}-{role}s"));
            self.em.put("rolebindings", Some(ns), &key("rolebindings", ns, role), &rb, Stored::Proto)?;
        }
        for cm in &plan.configmaps {
            let v = o::configmap(ns, &cm.name, seed, cm.size, plan.created + 100, 1, "helm");
            self.em.put("configmaps", Some(ns), &key("configmaps", ns, &cm.name), &v, Stored::Proto)?;
        }
        for s in &plan.secrets {
            let v = o::secret(ns, &s.name, seed, s.kind, s.size, plan.created + 90);
            self.em.put("secrets", Some(ns), &key("secrets", ns, &s.name), &v, Stored::Proto)?;
        }
        for name in &plan.certificates {
            let (spec, status) = o::certificate_spec(ns, name);
            let cr = o::custom_resource(&CRDS[2], ns, name, seed, plan.created + 80, spec, Some(status));
            self.em.put(
                "certificates.cert-manager.io",
                Some(ns),
                &key("cert-manager.io/certificates", ns, name),
                &cr,
                Stored::Json,
            )?;
        }
        for name in &plan.external_secrets {
            let n = 1 + (hash64(name.as_bytes()) % 8) as usize;
            let cr =
                o::custom_resource(&CRDS[3], ns, name, seed, plan.created + 80, o::external_secret_spec(name, n), None);
            self.em.put(
                "externalsecrets.external-secrets.io",
                Some(ns),
                &key("external-secrets.io/externalsecrets", ns, name),
                &cr,
                Stored::Json,
            )?;
        }
        let states = self.states[i].apps.clone();
        for (app, st) in plan.apps.iter().zip(&states) {
            self.app_objects(app, st, true)?;
        }
        // One Argo CD Application per Argo-managed release, in namespace argocd.
        let mut releases: Vec<&str> =
            plan.apps.iter().filter(|a| a.style == Style::Argo).map(|a| a.release.as_str()).collect();
        releases.dedup();
        releases.sort();
        releases.dedup();
        for rel in releases {
            let resources: Vec<(String, String)> = plan
                .apps
                .iter()
                .filter(|a| a.release == rel)
                .flat_map(|a| {
                    let mut v = vec![("Deployment".to_string(), a.name.clone())];
                    if a.service {
                        v.push(("Service".to_string(), a.name.clone()));
                    }
                    v
                })
                .collect();
            let history = 1 + (hash64(rel.as_bytes()) % 10) as usize;
            let (spec, status) = o::argo_application_spec(ns, rel, seed, history, &resources);
            let name = format!("{ns}-{rel}");
            let cr = o::custom_resource(&CRDS[4], "argocd", &name, seed, plan.created + 50, spec, Some(status));
            self.em.put(
                "applications.argoproj.io",
                Some("argocd"),
                &key("argoproj.io/applications", "argocd", &name),
                &cr,
                Stored::Json,
            )?;
        }
        Ok(())
    }

    /// Everything of one app at its state: Service, Deployment, ReplicaSets, Pods,
    /// Endpoints, EndpointSlice, ServiceMonitor, Lease, and (some) Events.
    fn app_objects(&mut self, app: &App, st: &AppState, events: bool) -> Result<()> {
        let seed = self.seed;
        let ns = app.ns.as_str();
        if app.service {
            self.em.put(
                "services",
                Some(ns),
                &key("services/specs", ns, &app.name),
                &o::service(app),
                Stored::Proto,
            )?;
        }
        let ready = st.pods.len() as u32;
        let t = app.created + i64::from(st.revision) * 3_600 + 60;
        let d = o::deployment(
            app,
            DeployState { revision: st.revision, replicas: st.replicas, generation: st.generation, ready, time: t },
        );
        self.em.put("deployments", Some(ns), &key("deployments", ns, &app.name), &d, Stored::Proto)?;
        for rev in (st.revision - app.history.min(st.revision - 1))..st.revision {
            let rs = o::replicaset(app, rev, 0, 0, t);
            self.em.put("replicasets", Some(ns), &key("replicasets", ns, &app.rs_name(rev)), &rs, Stored::Proto)?;
        }
        let rs = o::replicaset(app, st.revision, st.replicas, ready, t);
        self.em.put("replicasets", Some(ns), &key("replicasets", ns, &app.rs_name(st.revision)), &rs, Stored::Proto)?;
        let mut r = Rng::derive(app.seed, "events");
        for slot in &st.pods {
            let phase = PodPhase::Running { restarts: slot.restarts };
            let (name, pod) = self.pod_value(app, st.revision, slot, phase, None);
            self.em.put("pods", Some(ns), &key("pods", ns, &name), &pod, Stored::Proto)?;
            if events && r.chance(0.5) {
                self.pod_events(app, st.revision, slot, true)?;
            }
            if events && slot.restarts > 0 {
                self.warning_event(app, st.revision, slot)?;
            }
        }
        if app.service {
            self.service_endpoints(app, st, t)?;
            if app.service_monitor {
                let sm =
                    o::custom_resource(&CRDS[0], ns, &app.name, seed, app.created, o::service_monitor_spec(app), None);
                self.em.put(
                    "servicemonitors.monitoring.coreos.com",
                    Some(ns),
                    &key("monitoring.coreos.com/servicemonitors", ns, &app.name),
                    &sm,
                    Stored::Json,
                )?;
            }
        }
        if app.leader_election {
            let name = format!("{}-leader", app.name);
            let holder = format!("{}_{}", app.pod_name(st.revision, 0, 0), Rng::derive(app.seed, "holder").uuid());
            let lease = o::leader_lease(ns, &name, seed, app.created + 30, &holder, EPOCH - 3, 0);
            self.em.put("leases", Some(ns), &key("leases", ns, &name), &lease, Stored::Proto)?;
            self.leaders.push((ns.to_string(), name, app.created + 30, holder));
        }
        if events && r.chance(0.3) {
            self.deployment_event(app, st.revision, st.replicas, t)?;
        }
        Ok(())
    }

    fn pod_value(
        &self,
        app: &App,
        revision: u32,
        slot: &PodSlot,
        phase: PodPhase,
        terminating: Option<i64>,
    ) -> (String, Value) {
        let name = app.pod_name(revision, slot.index, slot.incarnation);
        let node = self.node_for(&name);
        let p = PodAt {
            app,
            revision,
            index: slot.index,
            incarnation: slot.incarnation,
            node,
            phase,
            created: slot.created,
            terminating,
        };
        (name, o::pod(&p))
    }

    fn backends(&self, app: &App, st: &AppState) -> Vec<Backend> {
        st.pods
            .iter()
            .map(|slot| {
                let name = app.pod_name(st.revision, slot.index, slot.incarnation);
                let node = self.node_for(&name);
                let p = PodAt {
                    app,
                    revision: st.revision,
                    index: slot.index,
                    incarnation: slot.incarnation,
                    node,
                    phase: PodPhase::Pending,
                    created: 0,
                    terminating: None,
                };
                Backend { uid: p.uid(), ip: p.ip(), node: node.name.clone(), zone: node.zone.clone(), name }
            })
            .collect()
    }

    fn service_endpoints(&mut self, app: &App, st: &AppState, t: i64) -> Result<()> {
        let ns = app.ns.as_str();
        let backends = self.backends(app, st);
        self.em.put(
            "endpoints",
            Some(ns),
            &key("services/endpoints", ns, &app.name),
            &o::endpoints(app, &backends, t),
            Stored::Proto,
        )?;
        let (name, eps) = o::endpoint_slice(app, &backends, st.eps_generation, t);
        self.em.put("endpointslices", Some(ns), &key("endpointslices", ns, &name), &eps, Stored::Proto)
    }

    // ---------------------------------------------------------------- events ---

    fn pod_events(&mut self, app: &App, revision: u32, slot: &PodSlot, with_create: bool) -> Result<()> {
        let ns = app.ns.clone();
        let name = app.pod_name(revision, slot.index, slot.incarnation);
        let node = self.node_for(&name).name.clone();
        let uid = crate::model::uid_for(app.seed, "Pod", &ns, &name);
        let t = slot.created;
        let seed = self.next_event_seed();
        let (ename, ev) = o::scheduled_event(&ns, &name, &uid, &node, t, seed);
        self.em.event(&ns, &key("events", &ns, &ename), &ev)?;
        let image = format!("{}:{}", app.name, revision);
        let container = app.name.clone();
        for (k, (reason, msg)) in [
            ("Pulling", format!("Pulling image \"{image}\"")),
            (
                "Pulled",
                format!(
                    "Successfully pulled image \"{image}\" in 1.{}s (1.{}s including waiting)",
                    seed % 900,
                    seed % 950
                ),
            ),
            ("Created", format!("Created container {container}")),
            ("Started", format!("Started container {container}")),
        ]
        .into_iter()
        .enumerate()
        {
            let seed = self.next_event_seed();
            let fp = format!("spec.containers{{{container}}}");
            let e = EventAt {
                ns: &ns,
                involved_kind: "Pod",
                involved_api: "v1",
                involved_name: &name,
                involved_uid: &uid,
                field_path: Some(&fp),
                reason,
                message: msg,
                warning: false,
                component: "kubelet",
                host: Some(&node),
                time: t + 1 + k as i64,
                count: 1,
                seed,
            };
            let (ename, ev) = o::event(&e);
            self.em.event(&ns, &key("events", &ns, &ename), &ev)?;
        }
        if with_create {
            let rs = app.rs_name(revision);
            let rs_uid = crate::model::uid_for(app.seed, "ReplicaSet", &ns, &rs);
            let seed = self.next_event_seed();
            let e = EventAt {
                ns: &ns,
                involved_kind: "ReplicaSet",
                involved_api: "apps/v1",
                involved_name: &rs,
                involved_uid: &rs_uid,
                field_path: None,
                reason: "SuccessfulCreate",
                message: format!("Created pod: {name}"),
                warning: false,
                component: "replicaset-controller",
                host: None,
                time: t,
                count: 1,
                seed,
            };
            let (ename, ev) = o::event(&e);
            self.em.event(&ns, &key("events", &ns, &ename), &ev)?;
        }
        Ok(())
    }

    fn warning_event(&mut self, app: &App, revision: u32, slot: &PodSlot) -> Result<()> {
        let ns = app.ns.clone();
        let name = app.pod_name(revision, slot.index, slot.incarnation);
        let node = self.node_for(&name).clone();
        let uid = crate::model::uid_for(app.seed, "Pod", &ns, &name);
        let seed = self.next_event_seed();
        let (reason, msg) = EVENT_WARNINGS[(seed % 3) as usize];
        let msg = msg
            .replace("{c}", &app.name)
            .replace("{p}", &name)
            .replace("{ip}", "10.1.2.3")
            .replace("{n}", &self.nodes.len().to_string());
        let fp = format!("spec.containers{{{}}}", app.name);
        let e = EventAt {
            ns: &ns,
            involved_kind: "Pod",
            involved_api: "v1",
            involved_name: &name,
            involved_uid: &uid,
            field_path: Some(&fp),
            reason,
            message: msg,
            warning: true,
            component: "kubelet",
            host: Some(&node.name),
            time: EPOCH - 120,
            count: slot.restarts.max(1) * 7,
            seed,
        };
        let (ename, ev) = o::event(&e);
        self.em.event(&ns, &key("events", &ns, &ename), &ev)
    }

    fn deployment_event(&mut self, app: &App, revision: u32, replicas: u32, t: i64) -> Result<()> {
        let ns = app.ns.clone();
        let uid = crate::model::uid_for(app.seed, "Deployment", &ns, &app.name);
        let seed = self.next_event_seed();
        let e = EventAt {
            ns: &ns,
            involved_kind: "Deployment",
            involved_api: "apps/v1",
            involved_name: &app.name,
            involved_uid: &uid,
            field_path: None,
            reason: "ScalingReplicaSet",
            message: format!("Scaled up replica set {} to {replicas}", app.rs_name(revision)),
            warning: false,
            component: "deployment-controller",
            host: None,
            time: t,
            count: 1,
            seed,
        };
        let (ename, ev) = o::event(&e);
        self.em.event(&ns, &key("events", &ns, &ename), &ev)
    }

    // ----------------------------------------------------------------- churn ---

    /// `ticks` rounds; each renews every node Lease and leader Lease, sends some Node
    /// heartbeats, and churns a slice of the namespaces with probabilities × `intensity`.
    fn churn(&mut self, ticks: usize, intensity: f64, tick0: usize) -> Result<()> {
        let n = self.plans.len();
        for tick in 0..ticks {
            let now = EPOCH + ((tick0 + tick) as i64 + 1) * 120;
            self.renew_leases(now)?;
            for i in (tick * n / ticks)..((tick + 1) * n / ticks) {
                if !self.states[i].deleted {
                    self.churn_namespace(i, intensity, now, tick0 + tick)?;
                }
            }
            if tick % 8 == 0 {
                (self.log)(&format!("churn tick {}/{ticks}", tick + 1));
            }
        }
        Ok(())
    }

    fn renew_leases(&mut self, now: i64) -> Result<()> {
        let seed = self.seed;
        let nodes = self.nodes.clone();
        for (k, node) in nodes.iter().enumerate() {
            let lease = o::node_lease(node, seed, now + k as i64 % 10);
            self.em.put(
                "leases",
                Some("kube-node-lease"),
                &key("leases", "kube-node-lease", &node.name),
                &lease,
                Stored::Proto,
            )?;
            // A Node status update every few ticks (kubelet's nodeStatusReportFrequency).
            if hash64(format!("{}{now}", node.name).as_bytes()).is_multiple_of(5) {
                let images = 20 + (hash64(node.name.as_bytes()) % 40) as usize;
                self.em.put(
                    "nodes",
                    None,
                    &format!("/registry/minions/{}", node.name),
                    &o::node(node, seed, now, images),
                    Stored::Proto,
                )?;
            }
        }
        let leaders = self.leaders.clone();
        for (ns, name, created, holder) in &leaders {
            let k = key("leases", ns, name);
            if !self.em.is_live(&k) {
                continue;
            }
            // The same holder keeps renewing.
            let lease = o::leader_lease(ns, name, seed, *created, holder, now, 3);
            self.em.put("leases", Some(ns), &k, &lease, Stored::Proto)?;
        }
        Ok(())
    }

    fn churn_namespace(&mut self, i: usize, intensity: f64, now: i64, tick: usize) -> Result<()> {
        let plan = self.plans[i].clone();
        let ns = plan.name.clone();
        let seed = self.seed;
        let mut r = Rng::derive(plan.seed, &format!("churn/{tick}"));
        for (a, app) in plan.apps.iter().enumerate() {
            let x = r.unit();
            if x < 0.30 * intensity && self.states[i].apps[a].replicas > 0 {
                self.rollout(i, a, app, now)?;
                self.report.rollouts += 1;
            } else if x < 0.38 * intensity {
                let cur = self.states[i].apps[a].replicas;
                let target = if cur <= 1 || r.chance(0.5) { cur + r.range(1, 2) as u32 } else { cur - 1 };
                self.scale(i, a, app, target, now)?;
                self.report.scalings += 1;
            }
            // Restarts: a status update of a running pod (and a warning).
            let slots = self.states[i].apps[a].pods.len();
            for s in 0..slots {
                if r.chance(0.12 * intensity) {
                    let st = &mut self.states[i].apps[a];
                    st.pods[s].restarts += 1;
                    let (rev, slot) = (st.revision, st.pods[s].clone());
                    let (name, pod) =
                        self.pod_value(app, rev, &slot, PodPhase::Running { restarts: slot.restarts }, None);
                    self.em.put("pods", Some(&ns), &key("pods", &ns, &name), &pod, Stored::Proto)?;
                    self.warning_event(app, rev, &slot)?;
                    self.report.restarts += 1;
                }
            }
        }
        for (c, cm) in plan.configmaps.iter().enumerate() {
            let Some(version) = self.states[i].cm_versions[c] else { continue };
            let x = r.unit();
            if x < 0.04 * intensity {
                self.em.delete(&key("configmaps", &ns, &cm.name))?;
                self.states[i].cm_versions[c] = None;
            } else if x < 0.20 * intensity {
                let v = o::configmap(&ns, &cm.name, seed, cm.size, plan.created + 100, version + 1, "helm");
                self.em.put("configmaps", Some(&ns), &key("configmaps", &ns, &cm.name), &v, Stored::Proto)?;
                self.states[i].cm_versions[c] = Some(version + 1);
            }
        }
        for (s, sec) in plan.secrets.iter().enumerate() {
            if self.states[i].secrets_live[s] && sec.kind == SecretKind::Opaque && r.chance(0.03 * intensity) {
                self.em.delete(&key("secrets", &ns, &sec.name))?;
                self.states[i].secrets_live[s] = false;
            }
        }
        // Helm upgrades: a new release record; Helm keeps the last 10.
        for (h, (rel, _)) in plan.helm_releases.iter().enumerate() {
            if r.chance(0.25 * intensity) {
                let v = self.states[i].helm_versions[h] + 1;
                self.states[i].helm_versions[h] = v;
                let size = plan
                    .secrets
                    .iter()
                    .find(|s| s.name.starts_with(&format!("sh.helm.release.v1.{rel}.v")))
                    .map_or(20_000, |s| s.size);
                let name = format!("sh.helm.release.v1.{rel}.v{v}");
                let sec = o::secret(&ns, &name, seed, SecretKind::Helm, size + v as usize * 97, now);
                self.em.put("secrets", Some(&ns), &key("secrets", &ns, &name), &sec, Stored::Proto)?;
                if v > 10 {
                    let old = key("secrets", &ns, &format!("sh.helm.release.v1.{rel}.v{}", v - 10));
                    if self.em.is_live(&old) {
                        self.em.delete(&old)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A new template revision: new ReplicaSet, new pods through their lifecycle, old pods
    /// terminated and deleted, old ReplicaSet scaled to zero, the Deployment updated.
    fn rollout(&mut self, i: usize, a: usize, app: &App, now: i64) -> Result<()> {
        let ns = app.ns.clone();
        let old = self.states[i].apps[a].clone();
        let rev = old.revision + 1;
        let generation = old.generation + 1;
        let replicas = old.replicas;
        // The Deployment's spec changes (generation), then the new ReplicaSet appears.
        let d = o::deployment(app, DeployState { revision: rev, replicas, generation, ready: replicas, time: now });
        self.em.put("deployments", Some(&ns), &key("deployments", &ns, &app.name), &d, Stored::Proto)?;
        self.em.put(
            "replicasets",
            Some(&ns),
            &key("replicasets", &ns, &app.rs_name(rev)),
            &o::replicaset(app, rev, replicas, 0, now),
            Stored::Proto,
        )?;
        let mut new = AppState {
            revision: rev,
            replicas,
            generation,
            eps_generation: old.eps_generation + 2,
            pods: Vec::new(),
            next_incarnation: old.next_incarnation,
        };
        for idx in 0..replicas {
            let slot = PodSlot { index: idx, incarnation: 0, restarts: 0, created: now + i64::from(idx) };
            for phase in [PodPhase::Pending, PodPhase::Scheduled, PodPhase::Starting, PodPhase::Running { restarts: 0 }]
            {
                let (name, pod) = self.pod_value(app, rev, &slot, phase, None);
                self.em.put("pods", Some(&ns), &key("pods", &ns, &name), &pod, Stored::Proto)?;
            }
            self.pod_events(app, rev, &slot, true)?;
            new.pods.push(slot);
        }
        self.em.put(
            "replicasets",
            Some(&ns),
            &key("replicasets", &ns, &app.rs_name(rev)),
            &o::replicaset(app, rev, replicas, replicas, now + 20),
            Stored::Proto,
        )?;
        for slot in &old.pods {
            let (name, pod) =
                self.pod_value(app, old.revision, slot, PodPhase::Running { restarts: slot.restarts }, Some(now + 20));
            let k = key("pods", &ns, &name);
            self.em.put("pods", Some(&ns), &k, &pod, Stored::Proto)?;
            self.em.delete(&k)?;
        }
        self.em.put(
            "replicasets",
            Some(&ns),
            &key("replicasets", &ns, &app.rs_name(old.revision)),
            &o::replicaset(app, old.revision, 0, 0, now + 30),
            Stored::Proto,
        )?;
        // revisionHistoryLimit: drop ReplicaSets older than the app keeps.
        let oldest_kept = rev.saturating_sub(app.history.max(1));
        for r in old.revision.saturating_sub(10).max(1)..oldest_kept {
            let k = key("replicasets", &ns, &app.rs_name(r));
            if self.em.is_live(&k) {
                self.em.delete(&k)?;
            }
        }
        let d =
            o::deployment(app, DeployState { revision: rev, replicas, generation, ready: replicas, time: now + 35 });
        self.em.put("deployments", Some(&ns), &key("deployments", &ns, &app.name), &d, Stored::Proto)?;
        if app.service {
            self.service_endpoints(app, &new, now + 25)?;
        }
        self.deployment_event(app, rev, replicas, now)?;
        self.states[i].apps[a] = new;
        Ok(())
    }

    fn scale(&mut self, i: usize, a: usize, app: &App, target: u32, now: i64) -> Result<()> {
        let ns = app.ns.clone();
        let mut st = self.states[i].apps[a].clone();
        st.generation += 1;
        let d = o::deployment(
            app,
            DeployState {
                revision: st.revision,
                replicas: target,
                generation: st.generation,
                ready: st.replicas.min(target),
                time: now,
            },
        );
        self.em.put("deployments", Some(&ns), &key("deployments", &ns, &app.name), &d, Stored::Proto)?;
        while (st.pods.len() as u32) < target {
            let index = st.pods.iter().map(|p| p.index + 1).max().unwrap_or(0);
            let slot = PodSlot { index, incarnation: st.next_incarnation, restarts: 0, created: now };
            st.next_incarnation += 1;
            for phase in [PodPhase::Pending, PodPhase::Scheduled, PodPhase::Running { restarts: 0 }] {
                let (name, pod) = self.pod_value(app, st.revision, &slot, phase, None);
                self.em.put("pods", Some(&ns), &key("pods", &ns, &name), &pod, Stored::Proto)?;
            }
            self.pod_events(app, st.revision, &slot, true)?;
            st.pods.push(slot);
        }
        while (st.pods.len() as u32) > target {
            let Some(slot) = st.pods.pop() else { break };
            let (name, _) = self.pod_value(app, st.revision, &slot, PodPhase::Pending, None);
            self.em.delete(&key("pods", &ns, &name))?;
        }
        st.replicas = target;
        st.eps_generation += 1;
        self.em.put(
            "replicasets",
            Some(&ns),
            &key("replicasets", &ns, &app.rs_name(st.revision)),
            &o::replicaset(app, st.revision, target, target, now + 10),
            Stored::Proto,
        )?;
        let d = o::deployment(
            app,
            DeployState {
                revision: st.revision,
                replicas: target,
                generation: st.generation,
                ready: target,
                time: now + 15,
            },
        );
        self.em.put("deployments", Some(&ns), &key("deployments", &ns, &app.name), &d, Stored::Proto)?;
        if app.service {
            self.service_endpoints(app, &st, now + 12)?;
        }
        self.states[i].apps[a] = st;
        Ok(())
    }

    /// The last `deleted_namespaces` application namespaces are deleted as the namespace
    /// controller does: the Namespace goes Terminating, every object in it is deleted,
    /// then the Namespace.
    fn delete_namespaces(&mut self) -> Result<()> {
        let n = self.plans.len();
        let k = self.preset.deleted_namespaces.min(n.saturating_sub(1));
        for i in (n - k)..n {
            let plan = self.plans[i].clone();
            let ns = plan.name.as_str();
            let mut v = o::namespace(
                ns,
                self.seed,
                plan.created,
                &[("team".to_string(), ns.split('-').next().unwrap_or(ns).to_string())],
            );
            v["metadata"]["deletionTimestamp"] = json!(time(EPOCH + 4_000));
            v["status"] = json!({"phase": "Terminating", "conditions": [
                {"type": "NamespaceDeletionDiscoveryFailure", "status": "False", "lastTransitionTime": time(EPOCH + 4_005), "reason": "ResourcesDiscovered", "message": "All resources successfully discovered"},
                {"type": "NamespaceContentRemaining", "status": "True", "lastTransitionTime": time(EPOCH + 4_005), "reason": "SomeResourcesRemain", "message": "Some resources are remaining"}]});
            reorder_meta(&mut v);
            self.em.put("namespaces", None, &format!("/registry/namespaces/{ns}"), &v, Stored::Proto)?;
            for key in self.em.live_keys_in(ns) {
                self.em.delete(&key)?;
            }
            self.em.delete(&format!("/registry/namespaces/{ns}"))?;
            self.states[i].deleted = true;
            self.report.deleted_namespaces.push(ns.to_string());
        }
        Ok(())
    }
}

/// Move `deletionTimestamp` right after `creationTimestamp` (cosmetic: ObjectMeta order).
fn reorder_meta(v: &mut Value) {
    if let Some(Value::Object(m)) = v.get_mut("metadata") {
        let old = std::mem::take(m);
        let del = old.get("deletionTimestamp").cloned();
        for (k, val) in old {
            if k == "deletionTimestamp" {
                continue;
            }
            let is_created = k == "creationTimestamp";
            m.insert(k, val);
            if is_created {
                if let Some(d) = &del {
                    m.insert("deletionTimestamp".into(), d.clone());
                }
            }
        }
    }
}

fn initial_restarts(seed: u64, index: u32) -> u32 {
    let mut r = Rng::derive(seed, &format!("restarts/{index}"));
    if r.chance(0.85) {
        0
    } else {
        r.range(1, 20) as u32
    }
}

const CONTROLLERS: &[&str] = &[
    "attachdetach-controller",
    "certificate-controller",
    "clusterrole-aggregation-controller",
    "cronjob-controller",
    "daemon-set-controller",
    "deployment-controller",
    "disruption-controller",
    "endpoint-controller",
    "endpointslice-controller",
    "endpointslicemirroring-controller",
    "ephemeral-volume-controller",
    "expand-controller",
    "generic-garbage-collector",
    "horizontal-pod-autoscaler",
    "job-controller",
    "namespace-controller",
    "node-controller",
    "persistent-volume-binder",
    "pod-garbage-collector",
    "pv-protection-controller",
    "pvc-protection-controller",
    "replicaset-controller",
    "replication-controller",
    "resourcequota-controller",
    "root-ca-cert-publisher",
    "route-controller",
    "service-account-controller",
    "service-controller",
    "statefulset-controller",
    "ttl-after-finished-controller",
    "ttl-controller",
    "legacy-service-account-token-cleaner",
    "validatingadmissionpolicy-status-controller",
];

fn kubernetes_service(seed: u64, t0: i64) -> Value {
    let mut meta =
        Meta::new("kubernetes", Some("default"), crate::model::uid_for(seed, "Service", "default", "kubernetes"), t0);
    meta = meta.label("component", "apiserver").label("provider", "kubernetes");
    let spec = json!({"ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}], "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                      "type": "ClusterIP", "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"});
    meta.managed = vec![managed(
        "kube-apiserver",
        "Update",
        "v1",
        t0,
        &json!({"metadata": {"labels": {"component": "", "provider": ""}}, "spec": spec}),
        None,
    )];
    json!({"kind": "Service", "apiVersion": "v1", "metadata": meta.to_json(), "spec": spec, "status": {"loadBalancer": {}}})
}
