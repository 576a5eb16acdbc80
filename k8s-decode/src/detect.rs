//! Which Kubernetes release wrote a snapshot, from the objects in it.
//!
//! Rendering is release-aware (fields and omission rules change between releases), so a
//! snapshot should be rendered as the release that served it. The best evidence a snapshot
//! carries is each Node's `status.nodeInfo.kubeletVersion`: kubelets never run newer than
//! the API server, and control-plane nodes run the API server's own release, so the newest
//! kubelet is the API server's release in practically every cluster.

use crate::{DecodeOptions, Decoder, KubeVersion};

/// A detected release and the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectedVersion {
    pub version: KubeVersion,
    /// Human-readable evidence, e.g. `Node cp-1 kubeletVersion v1.24.3`.
    pub evidence: String,
}

/// Detect the release from stored Node values (the values of `/registry/minions/*`).
/// Values that do not decode, or carry no parsable version, are ignored. `None` when no
/// Node says anything.
pub fn detect_from_nodes<'a>(node_values: impl IntoIterator<Item = &'a [u8]>) -> Option<DetectedVersion> {
    // Nodes decode the same way in every release; HEAD knows every field.
    let decoder = Decoder::new(KubeVersion::HEAD);
    let mut best: Option<(u32, DetectedVersion)> = None;
    for value in node_values {
        let Ok(decoded) = decoder.decode(value, &DecodeOptions::default()) else { continue };
        if decoded.kind != "Node" {
            continue;
        }
        let object = &decoded.object;
        let Some(kubelet) = object.pointer("/status/nodeInfo/kubeletVersion").and_then(|v| v.as_str()) else {
            continue;
        };
        let Ok(version) = kubelet.parse::<KubeVersion>() else { continue };
        let Some(minor) = version.minor() else { continue };
        if best.as_ref().is_some_and(|(m, _)| *m >= minor) {
            continue;
        }
        let name = object.pointer("/metadata/name").and_then(|v| v.as_str()).unwrap_or("?");
        best = Some((minor, DetectedVersion { version, evidence: format!("Node {name} kubeletVersion {kubelet}") }));
    }
    best.map(|(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, kubelet: &str) -> Vec<u8> {
        format!(
            "{{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{{\"name\":\"{name}\"}},\
             \"status\":{{\"nodeInfo\":{{\"kubeletVersion\":\"{kubelet}\"}}}}}}\n"
        )
        .into_bytes()
    }

    #[test]
    fn newest_kubelet_wins() {
        let values = [node("w-1", "v1.23.4"), node("cp-1", "v1.24.3"), b"garbage".to_vec(), node("w-2", "vX")];
        let detected = detect_from_nodes(values.iter().map(Vec::as_slice)).unwrap();
        assert_eq!(detected.version, KubeVersion::minor_release(24));
        assert_eq!(detected.evidence, "Node cp-1 kubeletVersion v1.24.3");
    }

    #[test]
    fn no_nodes_no_answer() {
        assert_eq!(detect_from_nodes(std::iter::empty()), None);
    }
}
