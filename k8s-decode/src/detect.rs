//! Which Kubernetes release wrote a snapshot, from the objects in it.
//!
//! Rendering is release-aware (fields and omission rules change between releases), so a
//! snapshot should be rendered as the release that served it. Evidence, best first:
//! 1. the image tag of a `kube-apiserver` container (a kubeadm-style static Pod in
//!    `kube-system`): the API server itself;
//! 2. each Node's `status.nodeInfo.kubeletVersion`: kubelets never run newer than the API
//!    server, and control-plane nodes run its release, so the newest kubelet is the API
//!    server's release in practically every cluster (managed clusters show no API server
//!    Pod, but do show Nodes).

use serde_json::Value;

use crate::peek::envelope_kind;
use crate::{DecodeOptions, Decoder, KubeVersion, LeaveOut};

/// A detected release and the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectedVersion {
    pub version: KubeVersion,
    /// Human-readable evidence, e.g. `Node cp-1 kubeletVersion v1.24.3`.
    pub evidence: String,
}

/// Detect the release from stored values: Nodes (`/registry/minions/*`) and `kube-system`
/// Pods (`/registry/pods/kube-system/*`); other values are ignored, as are values that do
/// not decode or carry no parsable version. `None` when nothing says anything.
pub fn detect_kube_version<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Option<DetectedVersion> {
    let values: Vec<&[u8]> = values.into_iter().collect();
    detect_from_apiserver_pods(values.iter().copied()).or_else(|| detect_from_nodes(values.iter().copied()))
}

/// Whether a value may hold an object of `kind`: a protobuf value whose envelope names
/// another kind is passed over without decoding it. Detection runs before any object is
/// written; on the 2 GiB benchmark snapshot, decoding its 250 Nodes in full when looking for
/// the API server's Pod was a sixth of the work of `extract -n NS`.
fn may_be(value: &[u8], kind: &str) -> bool {
    envelope_kind(value).is_none_or(|k| k == kind.as_bytes())
}

/// The objects of `kind` among `values`, decoded leaving out `leave_out`; values that do not
/// decode are skipped. Pods and Nodes decode the same way in every release, and HEAD knows
/// every field.
fn objects_of_kind<'a, I: IntoIterator<Item = &'a [u8]>>(
    values: I,
    kind: &'static str,
    leave_out: LeaveOut,
) -> impl Iterator<Item = Value> + use<'a, I> {
    let decoder = Decoder::new(KubeVersion::HEAD);
    let options = DecodeOptions { leave_out, ..Default::default() };
    values
        .into_iter()
        .filter(move |value| may_be(value, kind))
        .filter_map(move |value| decoder.decode(value, &options).ok())
        .filter(move |decoded| decoded.kind == kind)
        .map(|decoded| decoded.object)
}

/// The newest `kube-apiserver` container image tag among stored Pods.
fn detect_from_apiserver_pods<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Option<DetectedVersion> {
    // Only the spec's containers and the name are read.
    let leave_out = LeaveOut { status: true, managed_fields: true, last_applied: true, ..LeaveOut::default() };
    let mut best: Option<(u32, DetectedVersion)> = None;
    for object in objects_of_kind(values, "Pod", leave_out) {
        let containers = object.pointer("/spec/containers").and_then(|c| c.as_array());
        for container in containers.into_iter().flatten() {
            if container.get("name").and_then(|n| n.as_str()) != Some("kube-apiserver") {
                continue;
            }
            let Some(image) = container.get("image").and_then(|i| i.as_str()) else { continue };
            // registry.k8s.io/kube-apiserver:v1.24.0 (a digest may follow the tag).
            let Some(tag) = image.rsplit_once(':').map(|(_, t)| t.split('@').next().unwrap_or(t)) else { continue };
            let Ok(version) = tag.parse::<KubeVersion>() else { continue };
            let Some(minor) = version.minor() else { continue };
            if best.as_ref().is_some_and(|(m, _)| *m >= minor) {
                continue;
            }
            let name = object.pointer("/metadata/name").and_then(|v| v.as_str()).unwrap_or("?");
            best = Some((minor, DetectedVersion { version, evidence: format!("Pod {name} image {image}") }));
        }
    }
    best.map(|(_, d)| d)
}

/// Detect the release from stored Node values only (see [`detect_kube_version`]).
pub fn detect_from_nodes<'a>(node_values: impl IntoIterator<Item = &'a [u8]>) -> Option<DetectedVersion> {
    // Only the status's node info and the name are read; a Node's managedFields are large.
    let leave_out = LeaveOut { managed_fields: true, last_applied: true, ..LeaveOut::default() };
    let mut best: Option<(u32, DetectedVersion)> = None;
    for object in objects_of_kind(node_values, "Node", leave_out) {
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
    fn api_server_pod_beats_kubelets() {
        let pod = b"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"kube-apiserver-cp-1\"},\
            \"spec\":{\"containers\":[{\"name\":\"kube-apiserver\",\"image\":\"registry.k8s.io/kube-apiserver:v1.25.2\"}]}}\n";
        let nodes = [node("cp-1", "v1.24.3")];
        let values = nodes.iter().map(Vec::as_slice).chain([pod.as_slice()]);
        let detected = detect_kube_version(values).unwrap();
        assert_eq!(detected.version, KubeVersion::minor_release(25));
        assert_eq!(detected.evidence, "Pod kube-apiserver-cp-1 image registry.k8s.io/kube-apiserver:v1.25.2");
        let detected = detect_kube_version(nodes.iter().map(Vec::as_slice)).unwrap();
        assert_eq!(detected.version, KubeVersion::minor_release(24));
    }

    /// Stored as the API server stores them: each pass decodes only the values whose
    /// envelope names its kind, and leaves out fields without losing what it reads (the
    /// Node's status, the Pod's containers).
    #[test]
    fn protobuf_values_are_told_apart_by_their_envelope() {
        use serde_json::json;
        let encoder = crate::encode::Encoder::new(KubeVersion::HEAD);
        let managed = json!([{"manager": "kubelet", "operation": "Update", "apiVersion": "v1"}]);
        let stored_node = encoder
            .encode(&json!({"kind": "Node", "apiVersion": "v1",
                "metadata": {"name": "cp-1", "managedFields": managed},
                "status": {"nodeInfo": {"kubeletVersion": "v1.24.3"}}}))
            .unwrap();
        let stored_pod = encoder
            .encode(&json!({"kind": "Pod", "apiVersion": "v1",
                "metadata": {"name": "kube-apiserver-cp-1", "managedFields": managed},
                "spec": {"containers": [{"name": "kube-apiserver", "image": "registry.k8s.io/kube-apiserver:v1.25.2"}]},
                "status": {"phase": "Running"}}))
            .unwrap();
        assert_eq!(envelope_kind(&stored_node), Some(&b"Node"[..]));
        assert_eq!(envelope_kind(&stored_pod), Some(&b"Pod"[..]));
        assert_eq!(envelope_kind(&node("w-1", "v1.23.4")), None, "JSON: decoded to learn its kind");
        assert!(may_be(&stored_node, "Node") && !may_be(&stored_node, "Pod") && may_be(&node("w-1", "v1.23.4"), "Pod"));

        let both = [stored_node.as_slice(), stored_pod.as_slice()];
        let detected = detect_kube_version(both).unwrap();
        assert_eq!(detected.evidence, "Pod kube-apiserver-cp-1 image registry.k8s.io/kube-apiserver:v1.25.2");
        let detected = detect_from_nodes(both.into_iter().rev()).unwrap();
        assert_eq!(detected.evidence, "Node cp-1 kubeletVersion v1.24.3");
        // A JSON Node among protobuf values still counts.
        let newer = node("w-2", "v1.26.0");
        let detected = detect_from_nodes([stored_node.as_slice(), stored_pod.as_slice(), newer.as_slice()]).unwrap();
        assert_eq!(detected.evidence, "Node w-2 kubeletVersion v1.26.0");
    }

    #[test]
    fn no_nodes_no_answer() {
        assert_eq!(detect_from_nodes(std::iter::empty()), None);
    }
}
