//! Decoding stored values and printing objects as kubectl prints them, shared by `get` and
//! `decode`.

use std::io::Write;

use anyhow::{Context, Result};
use etcd_snapshot::Store;
use k8s_decode::{detect_from_nodes, DecodeOptions, Decoded, Decoder, KubeVersion};

/// `--kube-version`: the release whose rendering rules apply.
#[derive(Debug, clap::Args)]
pub struct KubeVersionArg {
    /// Render as this Kubernetes release (1.N, v1.N, 1.N.P or HEAD). Default: detected from
    /// the snapshot's Nodes, else the newest release.
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
    /// The decoder for a snapshot: the flag, else detection (reported on stderr), else HEAD.
    pub fn decoder_for(&self, store: &Store<'_>, etcd_prefix: &str) -> Decoder {
        if let Some(version) = self.kube_version {
            return Decoder::new(version);
        }
        let nodes_prefix = format!("{}/minions/", etcd_prefix.trim_end_matches('/'));
        let nodes = store.live(nodes_prefix.as_bytes(), None).map(|scan| scan.items).unwrap_or_default();
        match detect_from_nodes(nodes.iter().map(|r| r.kv.value)) {
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

/// Decode one stored value; warnings go to stderr, naming the key.
pub fn decode_value(decoder: &Decoder, key: &str, value: &[u8], mod_revision: Option<i64>) -> Result<Decoded> {
    let options = DecodeOptions { key: Some(key.as_bytes()), mod_revision, message: None };
    let decoded = decoder.decode(value, &options).with_context(|| format!("{key}: cannot decode the stored value"))?;
    for warning in &decoded.warnings {
        eprintln!("etcdsnap: warning: {key}: {warning}");
    }
    Ok(decoded)
}

/// Print one object as `kubectl get -o yaml|json` would.
pub fn write_object(out: &mut impl Write, object: &serde_json::Value, format: ObjectFormat) -> Result<()> {
    match format {
        ObjectFormat::Yaml => out.write_all(k8s_decode::yaml::to_yaml_string(object)?.as_bytes())?,
        ObjectFormat::Json => out.write_all(k8s_decode::to_go_json_pretty(object).as_bytes())?,
    }
    Ok(())
}
