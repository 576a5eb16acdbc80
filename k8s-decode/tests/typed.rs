//! `Decoder::decode_into` gives `k8s-openapi` types, and our rendering survives a trip
//! through them unchanged: deserialising a decoded object into the typed struct and
//! serialising it back gives the same JSON. `k8s-openapi` structs reject unknown fields
//! only silently, so the comparison is what proves that no field is misnamed or mistyped.

use k8s_decode::{DecodeOptions, Decoder, KubeVersion};
use k8s_openapi::api::{apps, batch, coordination, core, discovery, flowcontrol, rbac, scheduling, storage};
use k8s_openapi::Resource;
use serde_json::Value;

/// Null and absent mean the same to the API server, and typed structs write neither. A
/// required list that Go renders as `null` (a nil slice without omitempty, e.g. CSINode
/// `spec.drivers`) comes back from k8s-openapi's non-optional `Vec` as `[]`: the three are
/// one value, so all are dropped before comparing.
fn without_nulls(v: &Value) -> Value {
    let empty = |v: &Value| v.is_null() || v.as_array().is_some_and(Vec::is_empty);
    match v {
        Value::Object(m) => {
            Value::Object(m.iter().filter(|(_, v)| !empty(v)).map(|(k, v)| (k.clone(), without_nulls(v))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn round_trip<T: Resource + serde::de::DeserializeOwned + serde::Serialize>(
    decoder: &Decoder,
    value: &[u8],
    key: &str,
) -> Option<Result<(), String>> {
    let decoded = decoder.decode(value, &DecodeOptions::default()).ok()?;
    if decoded.api_version != T::API_VERSION || decoded.kind != T::KIND {
        return None;
    }
    let typed: T = match decoder.decode_into(value, &DecodeOptions::default()) {
        Ok(t) => t,
        Err(e) => return Some(Err(format!("{key}: {e}"))),
    };
    let back = serde_json::to_value(&typed).unwrap();
    if without_nulls(&back) == without_nulls(&decoded.object) {
        Some(Ok(()))
    } else {
        Some(Err(format!("{key}: {} changed through the typed struct", T::KIND)))
    }
}

macro_rules! try_types {
    ($decoder:expr, $value:expr, $key:expr, [$($t:ty),* $(,)?]) => {
        None$(.or_else(|| round_trip::<$t>($decoder, $value, $key)))*
    };
}

#[test]
fn real_cluster_objects_round_trip_through_k8s_openapi() {
    let Some(shared) = testdata::shared_fixtures("real_cluster_objects_round_trip_through_k8s_openapi") else { return };
    let snapshot =
        etcd_snapshot::Snapshot::open(shared.join("real-snapshots/ggkarthikgit-infosys/snapshot.db")).unwrap();
    let store = snapshot.store().unwrap();
    let decoder = Decoder::new(KubeVersion::minor_release(24));
    let (mut checked, mut failures, mut kinds) = (0, Vec::new(), std::collections::BTreeSet::new());
    for record in store.live(b"/registry/", None).unwrap().items {
        let key = String::from_utf8_lossy(record.kv.key).into_owned();
        let outcome = try_types!(
            &decoder,
            record.kv.value,
            &key,
            [
                core::v1::Pod,
                core::v1::Service,
                core::v1::ConfigMap,
                core::v1::Secret,
                core::v1::ServiceAccount,
                core::v1::Namespace,
                core::v1::Node,
                core::v1::Endpoints,
                core::v1::Event,
                apps::v1::Deployment,
                apps::v1::ReplicaSet,
                apps::v1::DaemonSet,
                apps::v1::StatefulSet,
                apps::v1::ControllerRevision,
                batch::v1::Job,
                batch::v1::CronJob,
                coordination::v1::Lease,
                rbac::v1::ClusterRole,
                rbac::v1::ClusterRoleBinding,
                rbac::v1::Role,
                rbac::v1::RoleBinding,
                scheduling::v1::PriorityClass,
                discovery::v1::EndpointSlice,
                storage::v1::CSINode,
                storage::v1::StorageClass,
                flowcontrol::v1::FlowSchema,
                flowcontrol::v1::PriorityLevelConfiguration,
            ]
        );
        match outcome {
            Some(Ok(())) => {
                checked += 1;
                kinds.insert(key.split('/').nth(2).unwrap_or("").to_owned());
            }
            Some(Err(e)) => failures.push(e),
            None => {}
        }
    }
    println!("{checked} objects round-tripped; resources: {kinds:?}");
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(checked > 300, "only {checked} objects checked");
}

#[test]
fn decode_into_a_deployment() {
    let Some(shared) = testdata::shared_fixtures("decode_into_a_deployment") else { return };
    let snapshot =
        etcd_snapshot::Snapshot::open(shared.join("real-snapshots/ggkarthikgit-infosys/snapshot.db")).unwrap();
    let store = snapshot.store().unwrap();
    let record = store.live(b"/registry/deployments/kube-system/coredns", None).unwrap().items[0];
    let opts = DecodeOptions { mod_revision: Some(record.kv.mod_revision), ..Default::default() };
    let deployment: apps::v1::Deployment =
        Decoder::new(KubeVersion::minor_release(24)).decode_into(record.kv.value, &opts).unwrap();
    assert_eq!(deployment.metadata.name.as_deref(), Some("coredns"));
    assert_eq!(deployment.metadata.resource_version, Some(record.kv.mod_revision.to_string()));
    let spec = deployment.spec;
    let pod_spec = spec.template.spec.unwrap_or_default();
    assert_eq!(pod_spec.containers[0].name, "coredns");
}
