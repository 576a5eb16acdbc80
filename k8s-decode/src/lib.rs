//! Decode Kubernetes objects stored in etcd (protobuf `k8s\0` envelope, JSON, CBOR)
//! into the JSON/YAML the API server and `kubectl get -o yaml` would show.
//!
//! Work in progress: see issue 3.

pub mod yaml;
