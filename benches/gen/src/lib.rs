//! Generator of large, realistic etcd snapshots of a Kubernetes cluster, written through a
//! real etcd's API (see `benches/gen/README.md`).

pub mod emit;
pub mod etcd;
pub mod k8s;
pub mod model;
pub mod names;
pub mod objects;
pub mod rng;
pub mod scenario;

#[cfg(test)]
mod tests;
