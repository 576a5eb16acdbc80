//! What `get` and `diff` are asked for: an etcd key, or an object named as kubectl names it
//! (`TYPE NAME`, `TYPE/NAME`, `-n NS`), and the key the API server stores it at.

use anyhow::{bail, Result};
use etcd_snapshot::Snapshot;
use k8s_decode::encryption::EncryptionKeys;
use k8s_decode::keys::{normalize_prefix, object_key};
use k8s_decode::resources::ResourceTable;

use crate::output::SnapshotArg;
use crate::render::{crd_prefix, resource_table, EncryptionArg, KubeVersionArg};

/// What the commands about one object (`get`, `diff`) take: the snapshot, the object, and
/// how to read it.
#[derive(Debug, clap::Args)]
pub struct ObjectArgs {
    #[command(flatten)]
    pub snapshot: SnapshotArg,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Key prefix of the API server (`--etcd-prefix`; OpenShift: /kubernetes.io): where
    /// TYPE NAME targets, CRDs and the Nodes for version detection are.
    #[arg(long, default_value = "/registry", value_name = "PREFIX")]
    pub etcd_prefix: String,
    #[command(flatten)]
    pub kube_version: KubeVersionArg,
    #[command(flatten)]
    pub encryption: EncryptionArg,
}

/// The snapshot opened, the encryption keys loaded, and the object's etcd key found.
pub struct OpenedObject {
    pub snapshot: Snapshot,
    pub keys: Option<EncryptionKeys>,
    pub target: Target,
    pub key: String,
}

impl ObjectArgs {
    /// Load the keys first (a bad config fails before any reading), open the snapshot and
    /// find the key; CRDs are read at `at` when the type needs them.
    pub fn open(&self, at: Option<i64>) -> Result<OpenedObject> {
        let keys = self.encryption.load()?;
        let snapshot = self.snapshot.open()?;
        let target = self.target.parse()?;
        let key = target.key(&snapshot, &self.etcd_prefix, at, &self.kube_version, keys.as_ref())?;
        Ok(OpenedObject { snapshot, keys, target, key })
    }
}

/// The object a command is about, as its arguments give it.
#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// The object: an etcd key (/registry/deployments/default/web), or a resource and a
    /// name as kubectl takes them (`deployment web`, `deploy/web`, `widgets.example.com w1`;
    /// custom resources of the CRDs in the snapshot too).
    #[arg(value_name = "KEY | TYPE NAME | TYPE/NAME", num_args = 1..=2, required = true)]
    pub target: Vec<String>,
    /// Namespace of a TYPE NAME target (default: `default`, as kubectl's).
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    pub namespace: Option<String>,
}

impl TargetArgs {
    pub fn parse(&self) -> Result<Target> {
        Target::parse(&self.target, self.namespace.as_deref())
    }
}

/// An object as a command was asked for it.
pub enum Target {
    /// An etcd key as given.
    Key(String),
    /// kubectl's `TYPE NAME` or `TYPE/NAME`.
    Object { resource: String, name: String, namespace: Option<String> },
}

impl Target {
    /// One argument is a key when it starts with `/` or has none (`compact_rev_key`), else
    /// `TYPE/NAME`; two are `TYPE NAME`.
    pub fn parse(args: &[String], namespace: Option<&str>) -> Result<Target> {
        let namespace = namespace.map(str::to_string);
        let (resource, name) = match args {
            [key] if key.starts_with('/') || !key.contains('/') => {
                if namespace.is_some() {
                    bail!("-n applies to TYPE NAME; the etcd key {key:?} names its namespace itself");
                }
                return Ok(Target::Key(key.clone()));
            }
            [typed] => typed.split_once('/').map(|(r, n)| (r.to_string(), n.to_string())).expect("has a '/'"),
            [resource, name] => (resource.clone(), name.clone()),
            _ => bail!("expected an etcd key, TYPE NAME or TYPE/NAME"),
        };
        if name.is_empty() || name.contains('/') {
            bail!("{name:?} is not an object name");
        }
        Ok(Target::Object { resource, name, namespace })
    }

    /// The etcd key: as given, or where the API server stores the object. A resource the
    /// built-in table does not know is looked up among the CRDs of the snapshot's store.
    pub fn key(
        &self,
        snapshot: &Snapshot,
        etcd_prefix: &str,
        at: Option<i64>,
        kube_version: &KubeVersionArg,
        keys: Option<&EncryptionKeys>,
    ) -> Result<String> {
        let (resource, name, namespace) = match self {
            Target::Key(key) => return Ok(key.clone()),
            Target::Object { resource, name, namespace } => (resource, name, namespace),
        };
        let prefix = normalize_prefix(etcd_prefix);
        let mut table = ResourceTable::builtin();
        if table.resolve(resource).is_err() {
            let store = snapshot.store()?;
            let crds = store.key_histories(crd_prefix(&prefix).as_bytes(), at)?;
            table = resource_table(&crds.items, &kube_version.decoder(), keys, &prefix);
        }
        let info = match table.resolve(resource) {
            Ok(found) => found[0],
            Err(_) => bail!(
                "{}: no resource type {resource:?}, built in or defined by a CRD in the snapshot",
                snapshot.path().display()
            ),
        };
        let namespace = info.namespaced.then(|| namespace.as_deref().unwrap_or("default"));
        Ok(object_key(&prefix, info, namespace, name))
    }

    /// The object as kubectl would name it in an error, with its etcd key.
    pub fn describe(&self, key: &str) -> String {
        match self {
            Target::Key(_) => format!("key {key:?}"),
            Target::Object { resource, name, .. } => format!("{resource} {name:?} (etcd key {key})"),
        }
    }
}
