//! Decoding stored values and printing objects as kubectl prints them, shared by `get` and
//! `decode`.

use std::io::Write;

use anyhow::{Context, Result};
use etcd_snapshot::{with_prefix, KeyHistory, Salvage, Store};
use k8s_decode::{detect_kube_version, DecodeOptions, Decoded, Decoder, KubeVersion};

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
    pub fn decoder_for<'a>(&self, evidence: impl FnOnce() -> Vec<&'a [u8]>) -> Decoder {
        if let Some(version) = self.kube_version {
            return Decoder::new(version);
        }
        match detect_kube_version(evidence()) {
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
pub fn store_evidence<'a>(store: &Store<'a>, etcd_prefix: &str) -> Vec<&'a [u8]> {
    let mut values = Vec::new();
    for prefix in evidence_prefixes(etcd_prefix) {
        let scan = store.live(prefix.as_bytes(), None).map(|s| s.items).unwrap_or_default();
        values.extend(scan.iter().map(|r| r.kv.value));
    }
    values
}

/// Release evidence from a key-sorted scan that covers the evidence prefixes (live keys only).
pub fn sorted_evidence<'a>(sorted: &[KeyHistory<'a>], etcd_prefix: &str) -> Vec<&'a [u8]> {
    let mut values = Vec::new();
    for prefix in evidence_prefixes(etcd_prefix) {
        let found = with_prefix(sorted, prefix.as_bytes());
        values.extend(found.iter().filter(|h| !h.is_deleted()).map(|h| h.last.record().kv.value));
    }
    values
}

/// Release evidence from salvaged records.
pub fn salvage_evidence<'a>(salvage: &Salvage<'a>, etcd_prefix: &str) -> Vec<&'a [u8]> {
    let mut values = Vec::new();
    for prefix in evidence_prefixes(etcd_prefix) {
        let newest = salvage.key_histories(prefix.as_bytes(), None);
        values.extend(newest.iter().filter_map(|h| h.last_put).map(|r| r.record().kv.value));
    }
    values
}

/// Decode one stored value; warnings go to stderr, naming the key.
pub fn decode_value(decoder: &Decoder, key: &str, value: &[u8], mod_revision: Option<i64>) -> Result<Decoded> {
    let options = DecodeOptions { key: Some(key.as_bytes()), mod_revision, ..Default::default() };
    let decoded = decoder.decode(value, &options).with_context(|| format!("{key}: cannot decode the stored value"))?;
    for warning in &decoded.warnings {
        eprintln!("etcdsnap: warning: {key}: {warning}");
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
