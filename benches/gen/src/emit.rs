//! Between the scenario and etcd: encodes objects, keeps the books (what was written,
//! what is live, per resource and namespace) and hands writes to a [`Sink`].

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{bail, Context, Result};
use k8s_decode::encode::Encoder;
use k8s_decode::{DecodeOptions, Decoder, KubeVersion};
use serde_json::{json, Value};

/// Where writes go: a real etcd, or nowhere (dry runs and tests).
pub trait Sink {
    fn put(&mut self, key: &str, value: Vec<u8>, lease: Option<i64>) -> Result<()>;
    fn delete(&mut self, key: &str) -> Result<()>;
    /// Grant an etcd lease with our own id (so ids are the same every run).
    fn grant(&mut self, id: i64, ttl: i64) -> Result<()>;
    /// Revoke a lease: etcd deletes its keys in one transaction. Writes already handed
    /// over are finished first.
    fn revoke(&mut self, id: i64) -> Result<()>;
    /// Wait until every write handed over is done.
    fn barrier(&mut self) -> Result<()>;
    /// As kube-apiserver's compactor: write `compact_rev_key` in a transaction, then
    /// compact at the revision current before that write. Returns the compaction revision.
    fn compact(&mut self) -> Result<i64>;
    /// The store's current revision (after a barrier).
    fn revision(&mut self) -> Result<i64>;
    /// Number of keys etcd holds (`None` when there is no etcd).
    fn count_keys(&mut self) -> Result<Option<u64>>;
}

/// A sink that writes nothing and counts revisions as etcd assigns them with one write
/// per request.
#[derive(Debug)]
pub struct NullSink {
    revision: i64,
    leases: HashMap<i64, Vec<String>>,
    live: HashSet<String>,
}

impl Default for NullSink {
    fn default() -> Self {
        // An empty etcd store is at revision 1.
        NullSink { revision: 1, leases: HashMap::new(), live: HashSet::new() }
    }
}

impl Sink for NullSink {
    fn put(&mut self, key: &str, _value: Vec<u8>, lease: Option<i64>) -> Result<()> {
        self.revision += 1;
        if let Some(l) = lease {
            self.leases.entry(l).or_default().push(key.to_string());
        }
        self.live.insert(key.to_string());
        Ok(())
    }
    fn delete(&mut self, key: &str) -> Result<()> {
        if !self.live.remove(key) {
            bail!("delete of a key that does not exist: {key}");
        }
        self.revision += 1;
        Ok(())
    }
    fn grant(&mut self, _id: i64, _ttl: i64) -> Result<()> {
        Ok(())
    }
    fn revoke(&mut self, id: i64) -> Result<()> {
        let mut any = false;
        for k in self.leases.remove(&id).unwrap_or_default() {
            any |= self.live.remove(&k);
        }
        if any {
            self.revision += 1;
        }
        Ok(())
    }
    fn barrier(&mut self) -> Result<()> {
        Ok(())
    }
    fn compact(&mut self) -> Result<i64> {
        let c = self.revision;
        self.live.insert("compact_rev_key".into());
        self.revision += 1;
        Ok(c)
    }
    fn revision(&mut self) -> Result<i64> {
        Ok(self.revision)
    }
    fn count_keys(&mut self) -> Result<Option<u64>> {
        Ok(Some(self.live.len() as u64))
    }
}

/// How a value is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Kubernetes protobuf (built-in kinds).
    Proto,
    /// Compact JSON and a newline (custom resources, CRDs).
    Json,
}

/// Counts for one resource.
#[derive(Debug, Default, Clone)]
pub struct ResourceCounts {
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
    pub live: u64,
    pub bytes_written: u64,
    pub live_bytes: u64,
    /// Smallest and largest value written.
    pub min_size: u64,
    pub max_size: u64,
}

#[derive(Debug, Clone, Copy)]
struct Live {
    size: u32,
    res: u16,
    ns: u32,
    lease: Option<i64>,
}

/// Upper bounds of the value size histogram buckets.
pub const SIZE_BUCKETS: &[(u64, &str)] = &[
    (300, "<300B"),
    (1_024, "300B-1KiB"),
    (4_096, "1-4KiB"),
    (16_384, "4-16KiB"),
    (65_536, "16-64KiB"),
    (262_144, "64-256KiB"),
    (u64::MAX, ">=256KiB"),
];

fn bucket(size: u64) -> usize {
    SIZE_BUCKETS.iter().position(|(hi, _)| size < *hi).unwrap_or(SIZE_BUCKETS.len() - 1)
}

/// The apiserver attaches at most this many events to one etcd lease.
const EVENTS_PER_LEASE: u32 = 1_000;

pub struct Emitter<'s> {
    sink: &'s mut dyn Sink,
    encoder: Encoder,
    /// Verify that every value decodes back to the object it was encoded from.
    check: Option<Decoder>,
    resources: Vec<&'static str>,
    counts: Vec<ResourceCounts>,
    namespaces: Vec<String>,
    ns_index: HashMap<String, u32>,
    live: HashMap<String, Live>,
    /// Events attached to each etcd lease, in grant order.
    leases: Vec<(i64, Vec<String>)>,
    lease_seq: i64,
    lease_seed: i64,
    pub lease_ttl: i64,
    pub writes: u64,
    /// Revisions etcd assigns with one write per request: writes, revocations that
    /// deleted something, the compaction's transaction.
    pub revisions: i64,
    pub revokes: u64,
    pub value_bytes: u64,
    pub max_value: u64,
    pub written_hist: [u64; 7],
    pub checked: u64,
}

impl<'s> Emitter<'s> {
    pub fn new(sink: &'s mut dyn Sink, kube_minor: u32, seed: u64, check: bool) -> Emitter<'s> {
        let version = KubeVersion::minor_release(kube_minor);
        Emitter {
            sink,
            encoder: Encoder::new(version),
            check: check.then(|| Decoder::new(version)),
            resources: Vec::new(),
            counts: Vec::new(),
            namespaces: vec![String::new()],
            ns_index: HashMap::from([(String::new(), 0)]),
            live: HashMap::new(),
            leases: Vec::new(),
            lease_seq: 0,
            // Lease ids look like etcd's (large, positive), and are the same every run.
            lease_seed: 0x694d_0000_0000_0000 | ((seed as i64 & 0xffff) << 32),
            lease_ttl: 86_400,
            writes: 0,
            revisions: 1,
            revokes: 0,
            value_bytes: 0,
            max_value: 0,
            written_hist: [0; 7],
            checked: 0,
        }
    }

    fn res_index(&mut self, res: &'static str) -> u16 {
        match self.resources.iter().position(|r| *r == res) {
            Some(i) => i as u16,
            None => {
                self.resources.push(res);
                self.counts.push(ResourceCounts::default());
                (self.resources.len() - 1) as u16
            }
        }
    }

    fn ns_idx(&mut self, ns: Option<&str>) -> u32 {
        let ns = ns.unwrap_or("");
        if let Some(&i) = self.ns_index.get(ns) {
            return i;
        }
        self.namespaces.push(ns.to_string());
        let i = (self.namespaces.len() - 1) as u32;
        self.ns_index.insert(ns.to_string(), i);
        i
    }

    /// Stored bytes of an object.
    pub fn encode(&self, object: &Value, stored: Stored) -> Result<Vec<u8>> {
        let bytes = match stored {
            Stored::Proto => self.encoder.encode(object).context("encoding")?,
            Stored::Json => crate::objects::json_bytes(object),
        };
        if let Some(decoder) = &self.check {
            let decoded = decoder.decode(&bytes, &DecodeOptions::default()).context("decoding back")?;
            if let Some(diff) = first_difference(object, &decoded.object, String::new()) {
                bail!("does not decode back to the same object: {diff}");
            }
            if !decoded.warnings.is_empty() {
                bail!("decoding warns: {:?}", decoded.warnings);
            }
        }
        Ok(bytes)
    }

    /// Write an object (create or update).
    pub fn put(
        &mut self,
        res: &'static str,
        ns: Option<&str>,
        key: &str,
        object: &Value,
        stored: Stored,
    ) -> Result<()> {
        self.put_with(res, ns, key, object, stored, None)
    }

    fn put_with(
        &mut self,
        res: &'static str,
        ns: Option<&str>,
        key: &str,
        object: &Value,
        stored: Stored,
        lease: Option<i64>,
    ) -> Result<()> {
        let bytes = self.encode(object, stored).with_context(|| key.to_string())?;
        if self.check.is_some() {
            self.checked += 1;
        }
        self.put_raw(res, ns, key, bytes, lease)
    }

    pub fn put_raw(
        &mut self,
        res: &'static str,
        ns: Option<&str>,
        key: &str,
        bytes: Vec<u8>,
        lease: Option<i64>,
    ) -> Result<()> {
        let r = self.res_index(res);
        let n = self.ns_idx(ns);
        let size = bytes.len() as u64;
        let c = &mut self.counts[r as usize];
        c.bytes_written += size;
        c.min_size = if c.created + c.updated == 0 { size } else { c.min_size.min(size) };
        c.max_size = c.max_size.max(size);
        match self.live.insert(key.to_string(), Live { size: size as u32, res: r, ns: n, lease }) {
            Some(old) => {
                c.updated += 1;
                c.live_bytes = c.live_bytes + size - u64::from(old.size);
            }
            None => {
                c.created += 1;
                c.live += 1;
                c.live_bytes += size;
            }
        }
        self.writes += 1;
        self.revisions += 1;
        self.value_bytes += size;
        self.max_value = self.max_value.max(size);
        self.written_hist[bucket(size)] += 1;
        self.sink.put(key, bytes, lease)
    }

    /// An Event: attached to the current etcd lease, as the API server does with its TTL.
    pub fn event(&mut self, ns: &str, key: &str, object: &Value) -> Result<()> {
        let need_new = self.leases.last().is_none_or(|(_, keys)| keys.len() as u32 >= EVENTS_PER_LEASE);
        if need_new {
            self.lease_seq += 1;
            let id = self.lease_seed + self.lease_seq * 0x1_0003;
            self.sink.grant(id, self.lease_ttl)?;
            self.leases.push((id, Vec::new()));
        }
        let id = self.leases.last().map(|(id, _)| *id).unwrap_or_default();
        self.put_with("events", Some(ns), key, object, Stored::Proto, Some(id))?;
        if let Some((_, keys)) = self.leases.last_mut() {
            keys.push(key.to_string());
        }
        Ok(())
    }

    pub fn delete(&mut self, key: &str) -> Result<()> {
        let Some(old) = self.live.remove(key) else { bail!("internal: delete of {key}, which is not live") };
        let c = &mut self.counts[old.res as usize];
        c.deleted += 1;
        c.live -= 1;
        c.live_bytes -= u64::from(old.size);
        self.writes += 1;
        self.revisions += 1;
        self.sink.delete(key)
    }

    pub fn is_live(&self, key: &str) -> bool {
        self.live.contains_key(key)
    }

    /// Number of event leases granted so far.
    pub fn event_lease_count(&self) -> usize {
        self.leases.len()
    }

    /// Revoke event lease number `n` (grant order): its events that still exist are deleted
    /// by etcd in one revision.
    pub fn revoke_event_lease(&mut self, n: usize) -> Result<u64> {
        let (id, keys) = (self.leases[n].0, std::mem::take(&mut self.leases[n].1));
        let mut deleted = 0;
        for k in keys {
            if let Some(old) = self.live.get(&k).copied() {
                if old.lease == Some(id) {
                    self.live.remove(&k);
                    let c = &mut self.counts[old.res as usize];
                    c.deleted += 1;
                    c.live -= 1;
                    c.live_bytes -= u64::from(old.size);
                    deleted += 1;
                }
            }
        }
        self.revokes += 1;
        if deleted > 0 {
            self.revisions += 1;
        }
        self.sink.revoke(id)?;
        Ok(deleted)
    }

    pub fn barrier(&mut self) -> Result<()> {
        self.sink.barrier()
    }

    pub fn compact(&mut self) -> Result<i64> {
        let c = self.sink.compact()?;
        // compact_rev_key is a live key from now on (not a Kubernetes object).
        let r = self.res_index("compact_rev_key");
        if self.live.insert("compact_rev_key".into(), Live { size: 0, res: r, ns: 0, lease: None }).is_none() {
            self.counts[r as usize].created += 1;
            self.counts[r as usize].live += 1;
        } else {
            self.counts[r as usize].updated += 1;
        }
        self.writes += 1;
        self.revisions += 1;
        Ok(c)
    }

    pub fn revision(&mut self) -> Result<i64> {
        self.sink.revision()
    }

    pub fn count_keys(&mut self) -> Result<Option<u64>> {
        self.sink.count_keys()
    }

    /// Live keys whose namespace is `ns`.
    pub fn live_keys_in(&self, ns: &str) -> Vec<String> {
        let Some(&n) = self.ns_index.get(ns) else { return Vec::new() };
        let mut keys: Vec<String> = self.live.iter().filter(|(_, l)| l.ns == n).map(|(k, _)| k.clone()).collect();
        keys.sort();
        keys
    }

    pub fn live_count(&self) -> u64 {
        self.live.len() as u64
    }

    /// Live objects per resource in `ns`.
    pub fn ns_counts(&self, ns: &str) -> BTreeMap<&'static str, u64> {
        let mut out = BTreeMap::new();
        if let Some(&n) = self.ns_index.get(ns) {
            for l in self.live.values().filter(|l| l.ns == n) {
                *out.entry(self.resources[l.res as usize]).or_insert(0) += 1;
            }
        }
        out
    }

    /// Live objects per namespace (namespaced objects only).
    pub fn live_per_namespace(&self) -> Vec<(String, u64)> {
        let mut per = vec![0u64; self.namespaces.len()];
        for l in self.live.values() {
            per[l.ns as usize] += 1;
        }
        self.namespaces.iter().cloned().zip(per).skip(1).collect()
    }

    pub fn live_hist(&self) -> [u64; 7] {
        let mut h = [0; 7];
        for l in self.live.values().filter(|l| l.size > 0) {
            h[bucket(u64::from(l.size))] += 1;
        }
        h
    }

    pub fn counts(&self) -> BTreeMap<&'static str, ResourceCounts> {
        self.resources.iter().copied().zip(self.counts.iter().cloned()).collect()
    }

    pub fn counts_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        for (res, c) in self.counts() {
            m.insert(
                res.to_string(),
                json!({"created": c.created, "updated": c.updated, "deleted": c.deleted, "live": c.live,
                       "bytes_written": c.bytes_written, "live_bytes": c.live_bytes,
                       "value_size": {"min": c.min_size, "max": c.max_size,
                                      "mean": c.bytes_written / (c.created + c.updated).max(1)}}),
            );
        }
        Value::Object(m)
    }
}

/// Where two JSON values first differ (`None` if equal; object key order is ignored).
pub fn first_difference(a: &Value, b: &Value, path: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    None => return Some(format!("{path}.{k}: missing after decoding")),
                    Some(vb) => {
                        if let Some(d) = first_difference(va, vb, format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                }
            }
            y.keys().find(|k| !x.contains_key(*k)).map(|k| format!("{path}.{k}: added by decoding ({})", y[k]))
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: {} items vs {}", x.len(), y.len()));
            }
            x.iter().zip(y).enumerate().find_map(|(i, (va, vb))| first_difference(va, vb, format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}
