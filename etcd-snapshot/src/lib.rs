//! Read etcd snapshots.
