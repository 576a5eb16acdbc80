//! The shape of the generated cluster: nodes, namespaces and the applications in them.
//!
//! Everything here is a pure function of the run seed and an index, so a namespace's plan
//! can be rebuilt whenever the scenario needs it instead of being kept in memory.

use crate::names::{APPS, ENVS, TEAMS};
use crate::rng::{Rng, K8S_ALPHABET};

/// The Kubernetes release the cluster runs (kube-apiserver image tag, kubelet versions).
pub const KUBE_VERSION: &str = "v1.29.4";
/// Its minor release, for the encoder's field set.
pub const KUBE_MINOR: u32 = 29;

/// A stable uid for an object identity.
pub fn uid_for(seed: u64, kind: &str, ns: &str, name: &str) -> String {
    Rng::derive(seed, &format!("uid/{kind}/{ns}/{name}")).uuid()
}

#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub index: usize,
    pub name: String,
    pub ip: String,
    pub zone: String,
    pub uid: String,
    pub control_plane: bool,
    pub created: i64,
    /// Pods scheduled here get IPs from `10.<a>.<b>.0/24`.
    pub pod_net: (u32, u32),
}

pub const ZONES: &[&str] = &["eu-west-1a", "eu-west-1b", "eu-west-1c"];

/// `n` nodes; the first is the control plane.
pub fn nodes(seed: u64, n: usize) -> Vec<NodeInfo> {
    let pools = ["general", "compute", "memory", "spot"];
    (0..n)
        .map(|index| {
            let mut r = Rng::derive(seed, &format!("node/{index}"));
            let control_plane = index == 0;
            let name = if control_plane {
                "cp-1".to_string()
            } else {
                format!("{}-{}", r.pick(&pools), r.string(K8S_ALPHABET, 5))
            };
            // Distinct addresses by construction (index), not by luck.
            let ip = format!("10.0.{}.{}", 16 + index / 250, 4 + index % 250);
            NodeInfo {
                index,
                uid: uid_for(seed, "Node", "", &name),
                name,
                ip,
                zone: ZONES[index % ZONES.len()].to_string(),
                control_plane,
                created: crate::k8s::EPOCH - 40 * 86_400 + index as i64 * 97,
                pod_net: (64 + (index / 256) as u32, (index % 256) as u32),
            }
        })
        .collect()
}

/// Who writes an application's objects: it shows in labels, annotations and managedFields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `helm upgrade --install`: Helm labels and annotations, manager `helm`.
    Helm,
    /// `kubectl apply`: the last-applied-configuration annotation, a full copy of the manifest.
    Kubectl,
    /// Argo CD server-side apply: manager `argocd-controller`, operation `Apply`.
    Argo,
}

/// One Deployment with its ReplicaSets and Pods, and usually a Service.
#[derive(Debug, Clone)]
pub struct App {
    pub ns: String,
    pub name: String,
    pub seed: u64,
    pub created: i64,
    pub style: Style,
    pub replicas: u32,
    /// The rollout revision at creation (old ReplicaSets `revision - history .. revision - 1`).
    pub revision: u32,
    /// Old ReplicaSets kept (scaled to 0).
    pub history: u32,
    pub service: bool,
    pub port: u16,
    /// A Helm/Argo release name grouping apps.
    pub release: String,
    /// Does leader election with a Lease.
    pub leader_election: bool,
    pub service_monitor: bool,
}

impl App {
    /// The pod-template-hash of a revision (what `kubectl` shows in ReplicaSet names).
    pub fn template_hash(&self, revision: u32) -> String {
        let mut r = Rng::derive(self.seed, &format!("hash/{revision}"));
        let n = r.usize(8, 10);
        r.string(K8S_ALPHABET, n)
    }

    pub fn rs_name(&self, revision: u32) -> String {
        format!("{}-{}", self.name, self.template_hash(revision))
    }

    /// Pod `index` of a revision; `incarnation` > 0 for replacements (a deleted pod's
    /// successor gets a new name).
    pub fn pod_name(&self, revision: u32, index: u32, incarnation: u32) -> String {
        let mut r = Rng::derive(self.seed, &format!("pod/{revision}/{index}/{incarnation}"));
        format!("{}-{}", self.rs_name(revision), r.string(K8S_ALPHABET, 5))
    }

    pub fn labels(&self) -> Vec<(String, String)> {
        let mut l = vec![
            ("app.kubernetes.io/name".to_string(), self.name.clone()),
            ("app.kubernetes.io/instance".to_string(), self.release.clone()),
        ];
        match self.style {
            Style::Helm => {
                l.push(("app.kubernetes.io/managed-by".into(), "Helm".into()));
                l.push((
                    "helm.sh/chart".into(),
                    format!("{}-{}.{}.0", self.release, 1 + self.seed % 4, self.seed % 17),
                ));
                l.push(("app.kubernetes.io/version".into(), format!("{}.{}.0", 1 + self.seed % 3, self.seed % 23)));
            }
            Style::Kubectl => l.push(("app".into(), self.name.clone())),
            Style::Argo => {
                l.push(("app.kubernetes.io/part-of".into(), self.release.clone()));
                l.push(("argocd.argoproj.io/instance".into(), format!("{}-{}", self.ns, self.release)));
            }
        }
        l
    }

    /// The Deployment's selector (and the Service's).
    pub fn selector(&self) -> Vec<(String, String)> {
        vec![
            ("app.kubernetes.io/name".to_string(), self.name.clone()),
            ("app.kubernetes.io/instance".to_string(), self.release.clone()),
        ]
    }

    pub fn service_account(&self) -> String {
        if self.seed.is_multiple_of(3) {
            "default".to_string()
        } else {
            self.name.clone()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    Opaque,
    Tls,
    DockerConfig,
    /// `sh.helm.release.v1.<release>.v<N>`: Helm's gzipped, base64'd release record.
    Helm,
}

#[derive(Debug, Clone)]
pub struct SecretPlan {
    pub name: String,
    pub kind: SecretKind,
    /// Rough size of the data in bytes.
    pub size: usize,
}

#[derive(Debug, Clone)]
pub struct ConfigMapPlan {
    pub name: String,
    pub size: usize,
}

/// Everything one application namespace holds at creation.
#[derive(Debug, Clone)]
pub struct NsPlan {
    pub index: usize,
    pub name: String,
    pub seed: u64,
    pub created: i64,
    pub apps: Vec<App>,
    pub configmaps: Vec<ConfigMapPlan>,
    pub secrets: Vec<SecretPlan>,
    pub service_accounts: Vec<String>,
    pub roles: Vec<String>,
    /// (release, number of Helm revisions kept)
    pub helm_releases: Vec<(String, u32)>,
    pub certificates: Vec<String>,
    pub external_secrets: Vec<String>,
}

/// A config/secret payload size: mostly small, some tens of KB, a few near 100 KB.
pub fn payload_size(r: &mut Rng) -> usize {
    let x = r.unit();
    (if x < 0.70 {
        r.log_uniform(200, 3_000)
    } else if x < 0.95 {
        r.log_uniform(3_000, 30_000)
    } else {
        r.log_uniform(30_000, 100_000)
    }) as usize
}

/// The name of application namespace `index` (unique: the index is part of it once the
/// team/env combinations run out).
pub fn namespace_name(seed: u64, index: usize) -> String {
    let mut r = Rng::derive(seed, &format!("nsname/{index}"));
    let team = TEAMS[index % TEAMS.len()];
    let env = ENVS[(index / TEAMS.len()) % ENVS.len()];
    let round = index / (TEAMS.len() * ENVS.len());
    let _ = r.next_u64();
    if round == 0 {
        format!("{team}-{env}")
    } else {
        format!("{team}-{env}-{}", round + 1)
    }
}

pub fn ns_plan(seed: u64, index: usize) -> NsPlan {
    let name = namespace_name(seed, index);
    let mut r = Rng::derive(seed, &format!("ns/{name}"));
    let ns_seed = r.next_u64();
    let created = crate::k8s::EPOCH - 30 * 86_400 + (index as i64 * 613) % (25 * 86_400);
    let n_apps = if r.chance(0.1) { r.usize(20, 36) } else { r.usize(3, 18) };
    let n_releases = r.usize(1, 4.min(n_apps));
    let releases: Vec<String> = (0..n_releases)
        .map(|i| format!("{}-{}", name.split('-').next().unwrap_or("app"), ["core", "svc", "jobs", "edge"][i]))
        .collect();
    let mut used = std::collections::HashSet::new();
    let mut apps = Vec::with_capacity(n_apps);
    for i in 0..n_apps {
        let mut a = Rng::derive(ns_seed, &format!("app/{i}"));
        let mut base = a.pick(APPS).to_string();
        if !used.insert(base.clone()) {
            base = format!("{base}-{}", a.string(b"abcdefghijklmnopqrstuvwxyz", 3));
            used.insert(base.clone());
        }
        let style = match a.below(10) {
            0..=3 => Style::Helm,
            4..=6 => Style::Kubectl,
            _ => Style::Argo,
        };
        let replicas = match a.below(20) {
            0 => 0,
            1..=8 => 1,
            9..=14 => 2,
            15..=17 => 3,
            18 => a.range(4, 6) as u32,
            _ => a.range(6, 12) as u32,
        };
        let revision = a.range(1, 9) as u32;
        let history = (revision - 1).min(a.range(0, 3) as u32);
        apps.push(App {
            ns: name.clone(),
            seed: a.next_u64(),
            created: created + 600 + a.below(20 * 86_400) as i64,
            style,
            replicas,
            revision,
            history,
            service: a.chance(0.85),
            port: *a.pick(&[8080, 8080, 8000, 3000, 9090, 5000, 8443]),
            release: releases[i % releases.len()].clone(),
            leader_election: a.chance(0.12),
            service_monitor: a.chance(0.5),
            name: base,
        });
    }
    let mut configmaps = Vec::new();
    let mut secrets = Vec::new();
    for app in &apps {
        for k in 0..r.below(3) {
            let suffix = ["config", "settings", "rules"][k as usize];
            configmaps.push(ConfigMapPlan { name: format!("{}-{suffix}", app.name), size: payload_size(&mut r) });
        }
        if r.chance(0.6) {
            secrets.push(SecretPlan {
                name: format!("{}-secrets", app.name),
                kind: SecretKind::Opaque,
                size: r.log_uniform(150, 3_000) as usize,
            });
        }
        if app.service && r.chance(0.25) {
            secrets.push(SecretPlan { name: format!("{}-tls", app.name), kind: SecretKind::Tls, size: 0 });
        }
    }
    if r.chance(0.8) {
        secrets.push(SecretPlan { name: "registry-credentials".into(), kind: SecretKind::DockerConfig, size: 0 });
    }
    let mut helm_releases = Vec::new();
    for rel in &releases {
        if apps.iter().any(|a| &a.release == rel && a.style == Style::Helm) {
            let revisions = r.range(1, 6) as u32;
            let size = r.log_uniform(8_000, 90_000) as usize;
            for v in 1..=revisions {
                secrets.push(SecretPlan {
                    name: format!("sh.helm.release.v1.{rel}.v{v}"),
                    kind: SecretKind::Helm,
                    size: size + v as usize * 97,
                });
            }
            helm_releases.push((rel.clone(), revisions));
        }
    }
    let mut service_accounts = vec!["default".to_string()];
    service_accounts.extend(apps.iter().map(App::service_account).filter(|s| s != "default"));
    service_accounts.dedup();
    let roles = (0..r.usize(1, 3)).map(|i| ["app-reader", "deployer", "config-editor"][i].to_string()).collect();
    let certificates = secrets.iter().filter(|s| s.kind == SecretKind::Tls).map(|s| s.name.clone()).collect();
    let external_secrets =
        secrets.iter().filter(|s| s.kind == SecretKind::Opaque && hash_bit(&s.name)).map(|s| s.name.clone()).collect();
    NsPlan {
        index,
        name,
        seed: ns_seed,
        created,
        apps,
        configmaps,
        secrets,
        service_accounts,
        roles,
        helm_releases,
        certificates,
        external_secrets,
    }
}

fn hash_bit(s: &str) -> bool {
    crate::rng::hash64(s.as_bytes()) & 1 == 0
}
