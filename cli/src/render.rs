//! Decoding stored values, printing objects as kubectl prints them, and the resources of a
//! snapshot (built-ins and its CRDs), shared by `get`, `decode` and `extract`.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use etcd_snapshot::{with_prefix, KeyHistory, Salvage, Store};
use k8s_decode::encryption::{is_encrypted, DecryptError, EncryptionKeys};
use k8s_decode::keys::ObjectKeyRef;
use k8s_decode::resources::{is_builtin_group, ResourceInfo, ResourceTable};
use k8s_decode::{detect_kube_version, DecodeError, DecodeOptions, Decoded, Decoder, KubeVersion};
use rayon::prelude::*;

/// `--encryption-config`: the keys that decrypt values encrypted at rest.
#[derive(Debug, Default, clap::Args)]
pub struct EncryptionArg {
    /// The API server's EncryptionConfiguration (its `--encryption-provider-config` file):
    /// values encrypted at rest with its aescbc, aesgcm and secretbox keys are decrypted.
    /// KMS-encrypted values cannot be: their data keys are sealed by the KMS.
    #[arg(long, visible_alias = "encryption-provider-config", value_name = "FILE")]
    pub encryption_config: Option<PathBuf>,
}

impl EncryptionArg {
    /// The keys of the file given, if any. Errors name the file and the place in it, never
    /// a key.
    pub fn load(&self) -> Result<Option<EncryptionKeys>> {
        let Some(path) = &self.encryption_config else { return Ok(None) };
        let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        // YAML, of which JSON is a subset. The parser's message may quote the line it
        // stopped at, which may hold a key: only its position is kept.
        let config: serde_json::Value = serde_saphyr::from_str(&text).map_err(|e| {
            let at = e.location().map(|l| format!(" (line {}, column {})", l.line(), l.column())).unwrap_or_default();
            anyhow::anyhow!("{}: does not parse as YAML or JSON{at}", path.display())
        })?;
        let keys = EncryptionKeys::from_config(&config).with_context(|| format!("{}", path.display()))?;
        Ok(Some(keys))
    }
}

/// The value as the API server stored it before encrypting it: decrypted when it is
/// encrypted at rest and keys were given, else as it is (the decoder then says it is
/// encrypted).
pub fn plaintext<'v>(
    keys: Option<&EncryptionKeys>,
    etcd_key: &[u8],
    value: &'v [u8],
) -> Result<Cow<'v, [u8]>, DecryptError> {
    match keys {
        Some(keys) if is_encrypted(value) => keys.decrypt(etcd_key, value).map(Cow::Owned),
        _ => Ok(Cow::Borrowed(value)),
    }
}

/// A decode error, with what to do about an encrypted value.
pub fn explain(e: &DecodeError) -> String {
    match e {
        DecodeError::Encrypted { .. } => format!("{e} (--encryption-config FILE)"),
        other => other.to_string(),
    }
}

/// `--kube-version`: the release whose rendering rules apply.
#[derive(Debug, clap::Args)]
pub struct KubeVersionArg {
    /// Render as this Kubernetes release (1.N, v1.N, 1.N.P or HEAD). Default: detected from
    /// the snapshot (kube-apiserver Pod image, else Nodes' kubelet version), else the newest.
    #[arg(long, value_name = "VERSION")]
    pub kube_version: Option<KubeVersion>,
}

/// Object output formats, named as kubectl names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ObjectFormat {
    Yaml,
    Json,
}

impl KubeVersionArg {
    /// The decoder for a snapshot: the flag, else detection from `evidence` (reported on
    /// stderr), else HEAD. `evidence` is only consulted when there is no flag.
    /// `evidence` gives (etcd key, value) pairs; values encrypted at rest are decrypted
    /// with `keys` first when they can be.
    pub fn decoder_for<'a>(
        &self,
        keys: Option<&EncryptionKeys>,
        evidence: impl FnOnce() -> Vec<(&'a [u8], &'a [u8])>,
    ) -> Decoder {
        if let Some(version) = self.kube_version {
            return Decoder::new(version);
        }
        let values: Vec<Cow<'a, [u8]>> = evidence()
            .into_iter()
            .map(|(key, value)| plaintext(keys, key, value).unwrap_or(Cow::Borrowed(value)))
            .collect();
        match detect_kube_version(values.iter().map(AsRef::as_ref)) {
            Some(detected) => {
                eprintln!(
                    "etcdsnap: rendering as Kubernetes {} ({}); --kube-version overrides",
                    detected.version, detected.evidence
                );
                Decoder::new(detected.version)
            }
            None => Decoder::new(KubeVersion::HEAD),
        }
    }

    /// The decoder for a lone value: the flag, else the newest release.
    pub fn decoder(&self) -> Decoder {
        Decoder::new(self.kube_version.unwrap_or(KubeVersion::HEAD))
    }
}

/// Where release evidence lives: Nodes, and the kube-apiserver static Pods of kube-system.
pub fn evidence_prefixes(etcd_prefix: &str) -> [String; 2] {
    let prefix = etcd_prefix.trim_end_matches('/');
    [format!("{prefix}/minions/"), format!("{prefix}/pods/kube-system/kube-apiserver")]
}

/// Release evidence from the live state of a store.
pub fn store_evidence<'a>(store: &Store<'a>, etcd_prefix: &str) -> Vec<(&'a [u8], &'a [u8])> {
    let mut values = Vec::new();
    for prefix in evidence_prefixes(etcd_prefix) {
        let scan = store.live(prefix.as_bytes(), None).map(|s| s.items).unwrap_or_default();
        values.extend(scan.iter().map(|r| (r.kv.key, r.kv.value)));
    }
    values
}

/// Release evidence from a key-sorted scan that covers the evidence prefixes (live keys only).
pub fn sorted_evidence<'a>(sorted: &[KeyHistory<'a>], etcd_prefix: &str) -> Vec<(&'a [u8], &'a [u8])> {
    let mut values = Vec::new();
    for prefix in evidence_prefixes(etcd_prefix) {
        let found = with_prefix(sorted, prefix.as_bytes());
        values.extend(found.iter().filter(|h| !h.is_deleted()).map(|h| (h.key, h.last.value())));
    }
    values
}

/// Release evidence from salvaged records.
pub fn salvage_evidence<'a>(salvage: &Salvage<'a>, etcd_prefix: &str) -> Vec<(&'a [u8], &'a [u8])> {
    let mut values = Vec::new();
    for prefix in evidence_prefixes(etcd_prefix) {
        let newest = salvage.key_histories(prefix.as_bytes(), None);
        values.extend(newest.iter().filter_map(|h| Some((h.key, h.last_put?.value()))));
    }
    values
}

/// Decode one stored value (`name`: its key or file, for messages), decrypting it first when
/// it is encrypted and `keys` are given (`etcd_key`: what AES-GCM authenticates); warnings go
/// to stderr, naming it.
pub fn decode_value(
    decoder: &Decoder,
    name: &str,
    value: &[u8],
    mod_revision: Option<i64>,
    keys: Option<&EncryptionKeys>,
    etcd_key: &[u8],
) -> Result<Decoded> {
    let value = plaintext(keys, etcd_key, value).with_context(|| format!("{name}: cannot decrypt the stored value"))?;
    let options = DecodeOptions { key: Some(name.as_bytes()), mod_revision, ..Default::default() };
    let decoded = decoder
        .decode(&value, &options)
        .map_err(|e| anyhow::anyhow!("{name}: cannot decode the stored value: {}", explain(&e)))?;
    for warning in &decoded.warnings {
        eprintln!("etcdsnap: warning: {name}: {warning}");
    }
    Ok(decoded)
}

/// Print one object as `kubectl get -o yaml|json` would: both sort every object's keys
/// (go-yaml in its natural order, `encoding/json` by bytes).
pub fn write_object(out: &mut impl Write, object: &serde_json::Value, format: ObjectFormat) -> Result<()> {
    match format {
        ObjectFormat::Yaml => out.write_all(k8s_decode::yaml::to_yaml_string(object)?.as_bytes())?,
        ObjectFormat::Json => out.write_all(k8s_decode::to_kubectl_json_pretty(object).as_bytes())?,
    }
    Ok(())
}

/// The object as `kubectl get -o name` names it: the lower-cased kind, `.group` outside the
/// core group, `/`, the name (`deployment.apps/web`, `pod/web-1`).
pub fn kubectl_name(object: &serde_json::Value) -> Option<String> {
    let kind = object["kind"].as_str()?;
    let name = object["metadata"]["name"].as_str()?;
    let kind = match object["apiVersion"].as_str()?.split_once('/') {
        Some((group, _)) => format!("{kind}.{group}"),
        None => kind.to_string(),
    };
    Some(format!("{}/{name}", kind.to_lowercase()))
}

/// Where the API server stores CRDs, under its (normalised) prefix.
pub fn crd_prefix(prefix: &str) -> String {
    format!("{prefix}apiextensions.k8s.io/customresourcedefinitions/")
}

/// The name of the CustomResourceDefinition that defines the resource of `key`
/// (`widgets.example.com`), if it is a custom resource: of a group the API server does not
/// serve itself.
pub fn crd_name(key: &ObjectKeyRef<'_>) -> Option<String> {
    (!is_builtin_group(key.group)).then(|| format!("{}.{}", key.resource, key.group))
}

/// Of the CRDs named `names`, the keys of those `sorted` (key-sorted histories, as a scan
/// returns them) holds, and the names it holds no CRD for.
pub fn held_crd_keys(names: BTreeSet<String>, sorted: &[KeyHistory<'_>], prefix: &str) -> (Vec<String>, Vec<String>) {
    let crd_prefix = crd_prefix(prefix);
    let held = with_prefix(sorted, crd_prefix.as_bytes());
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    for name in names {
        let key = format!("{crd_prefix}{name}");
        if held.binary_search_by(|h| h.key.cmp(key.as_bytes())).is_ok() {
            found.push(key);
        } else {
            missing.push(name);
        }
    }
    (found, missing)
}

/// Built-ins plus the CRDs stored in the snapshot (at the revision asked for).
pub fn resource_table(
    sorted: &[KeyHistory<'_>],
    decoder: &Decoder,
    keys: Option<&EncryptionKeys>,
    prefix: &str,
) -> ResourceTable {
    let crds = with_prefix(sorted, crd_prefix(prefix).as_bytes());
    // Read on every core (a cluster can hold tens of MB of CRDs), added in key order.
    let resources: Vec<Option<ResourceInfo>> = crds
        .par_iter()
        .filter(|history| !history.is_deleted())
        .map(|history| {
            let value = plaintext(keys, history.key, history.last.value()).ok()?;
            // A malformed CRD only means its resources are not resolvable by name.
            ResourceInfo::from_crd_json(&value).or_else(|| {
                let decoded = decoder.decode(&value, &DecodeOptions::default()).ok()?;
                ResourceInfo::from_crd(&decoded.object).ok()
            })
        })
        .collect();
    let mut table = ResourceTable::builtin();
    for resource in resources.into_iter().flatten() {
        table.add(resource);
    }
    table
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::kubectl_name;

    #[test]
    fn names_as_kubectl_get_o_name() {
        let named = |api_version: &str, kind: &str| {
            kubectl_name(&json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}))
        };
        assert_eq!(named("apps/v1", "Deployment").as_deref(), Some("deployment.apps/x"));
        assert_eq!(named("v1", "Pod").as_deref(), Some("pod/x"));
        assert_eq!(
            named("apiextensions.k8s.io/v1", "CustomResourceDefinition").as_deref(),
            Some("customresourcedefinition.apiextensions.k8s.io/x")
        );
        assert_eq!(named("shop.example.com/v1", "StoreFront").as_deref(), Some("storefront.shop.example.com/x"));
        assert_eq!(kubectl_name(&json!({"apiVersion": "v1", "kind": "Pod"})), None);
    }
}
