//! Decode Kubernetes objects stored in etcd. (Work in progress: see issue 3.)
