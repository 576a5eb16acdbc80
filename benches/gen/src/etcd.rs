//! Writing to etcd through its HTTP/JSON gateway (`/v3/kv/put`, `/v3/kv/txn`, …) with a
//! small HTTP/1.1 keep-alive client of our own over `TcpStream`.
//!
//! Writes are spread over several connections, one thread each; every key always goes to
//! the same connection, so the writes of one key reach etcd in the order the scenario made
//! them and the final content is the same every run. Lease revocations and the compaction
//! wait for all connections to drain first.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;

use crate::emit::Sink;
use crate::rng::hash64;

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    addr: String,
    writer: TcpStream,
    reader: BufReader<TcpStream>,
    request: Vec<u8>,
}

impl Conn {
    /// `addr` is `host:port` (an `http://` prefix is accepted).
    pub fn connect(addr: &str) -> Result<Conn> {
        let addr = addr.trim_start_matches("http://").trim_end_matches('/').to_string();
        let stream = TcpStream::connect(&addr).with_context(|| format!("cannot connect to etcd at {addr}"))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(300)))?;
        let reader = BufReader::with_capacity(64 * 1024, stream.try_clone()?);
        Ok(Conn { addr, writer: stream, reader, request: Vec::new() })
    }

    /// POST a JSON body; the parsed JSON answer of a 200, an error otherwise. etcd's
    /// "request timed out" (HTTP 503, when the machine is briefly starved: a multi-minute
    /// generation on a shared 2-core machine) is retried a few times, as the API server's
    /// etcd client does; a put that did land before the timeout then lands twice, which
    /// only adds a revision.
    pub fn post(&mut self, path: &str, body: &[u8]) -> Result<Value> {
        const ATTEMPTS: u32 = 6;
        for attempt in 1.. {
            match self.post_once(path, body) {
                Err(e) if attempt < ATTEMPTS && format!("{e:#}").contains("request timed out") => {
                    std::thread::sleep(Duration::from_secs(u64::from(attempt)));
                }
                answer => return answer,
            }
        }
        unreachable!("the loop returns")
    }

    fn post_once(&mut self, path: &str, body: &[u8]) -> Result<Value> {
        self.request.clear();
        write!(
            self.request,
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        )?;
        self.request.extend_from_slice(body);
        self.writer.write_all(&self.request).with_context(|| format!("sending {path}"))?;
        let (status, answer) = self.read_response().with_context(|| format!("reading the answer to {path}"))?;
        if status != 200 {
            bail!("etcd answered {path} with HTTP {status}: {}", String::from_utf8_lossy(&answer));
        }
        serde_json::from_slice(&answer).with_context(|| format!("etcd's answer to {path} is not JSON"))
    }

    fn read_response(&mut self) -> Result<(u16, Vec<u8>)> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            bail!("etcd closed the connection");
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("bad status line {line:?}"))?;
        let mut length: Option<usize> = None;
        let mut chunked = false;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                bail!("connection closed in the headers");
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = Some(value.parse().context("bad Content-Length")?);
                } else if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
                    chunked = true;
                }
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size =
                    usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16).context("bad chunk size")?;
                if size == 0 {
                    // Trailers (none expected) end with an empty line.
                    loop {
                        line.clear();
                        if self.reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                self.reader.read_exact(&mut body[start..])?;
                line.clear();
                self.reader.read_line(&mut line)?;
            }
        } else if let Some(n) = length {
            body.resize(n, 0);
            self.reader.read_exact(&mut body)?;
        } else {
            bail!("answer without Content-Length or chunked encoding");
        }
        Ok((status, body))
    }
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// `header.revision` of an answer.
fn header_revision(v: &Value) -> Result<i64> {
    let r = &v["header"]["revision"];
    r.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| r.as_i64())
        .ok_or_else(|| anyhow!("answer without header.revision: {v}"))
}

fn int_field(v: &Value, name: &str) -> i64 {
    let f = &v[name];
    f.as_str().and_then(|s| s.parse().ok()).or_else(|| f.as_i64()).unwrap_or(0)
}

enum Op {
    Put { key: String, value: Vec<u8>, lease: Option<i64> },
    Delete { key: String },
}

impl Op {
    fn key(&self) -> &str {
        match self {
            Op::Put { key, .. } | Op::Delete { key } => key,
        }
    }
}

enum Msg {
    Op(Op),
    Barrier(SyncSender<()>),
}

/// Throughput counters shared with the workers.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: u64,
    pub ops: u64,
    pub value_bytes: u64,
    pub body_bytes: u64,
}

/// Writes go to etcd over `connections` keep-alive connections; with `batch` > 1,
/// consecutive writes of one connection are grouped into one transaction (they then share
/// a revision, with sub-revisions 0..n).
pub struct EtcdSink {
    control: Conn,
    workers: Vec<SyncSender<Msg>>,
    handles: Vec<JoinHandle<()>>,
    error: Arc<Mutex<Option<String>>>,
    pub stats: Arc<Mutex<Stats>>,
}

impl EtcdSink {
    pub fn new(addr: &str, connections: usize, batch: usize) -> Result<EtcdSink> {
        let control = Conn::connect(addr)?;
        let error = Arc::new(Mutex::new(None));
        let stats = Arc::new(Mutex::new(Stats::default()));
        let mut workers = Vec::new();
        let mut handles = Vec::new();
        for n in 0..connections.max(1) {
            let (tx, rx) = sync_channel::<Msg>(256);
            let conn = Conn::connect(addr)?;
            let (error, stats) = (error.clone(), stats.clone());
            let batch = batch.max(1);
            handles.push(
                std::thread::Builder::new()
                    .name(format!("etcd-writer-{n}"))
                    .spawn(move || {
                        if let Err(e) = worker(conn, rx, batch, &stats) {
                            let mut slot = error.lock().unwrap_or_else(|p| p.into_inner());
                            slot.get_or_insert(format!("{e:#}"));
                        }
                    })
                    .context("cannot start a writer thread")?,
            );
            workers.push(tx);
        }
        Ok(EtcdSink { control, workers, handles, error, stats })
    }

    fn failed(&self) -> Option<String> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn send(&mut self, op: Op) -> Result<()> {
        let w = (hash64(op.key().as_bytes()) % self.workers.len() as u64) as usize;
        if self.workers[w].send(Msg::Op(op)).is_err() {
            bail!("writer stopped: {}", self.failed().unwrap_or_else(|| "unknown error".into()));
        }
        Ok(())
    }

    /// Stop the writers (after a barrier).
    pub fn close(mut self) -> Result<()> {
        self.barrier()?;
        self.workers.clear();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
        Ok(())
    }

    /// etcd's server version (`/version`).
    pub fn server_version(addr: &str) -> Result<String> {
        let mut c = Conn::connect(addr)?;
        c.request.clear();
        write!(c.request, "GET /version HTTP/1.1\r\nHost: {}\r\n\r\n", c.addr)?;
        c.writer.write_all(&c.request)?;
        let (_, body) = c.read_response()?;
        let v: Value = serde_json::from_slice(&body)?;
        Ok(v["etcdserver"].as_str().unwrap_or("?").to_string())
    }
}

fn worker(mut conn: Conn, rx: Receiver<Msg>, batch: usize, stats: &Mutex<Stats>) -> Result<()> {
    let mut pending: Vec<Op> = Vec::new();
    let mut body = Vec::with_capacity(1 << 20);
    let flush = |conn: &mut Conn, pending: &mut Vec<Op>, body: &mut Vec<u8>| -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let value_bytes: usize =
            pending.iter().map(|op| if let Op::Put { value, .. } = op { value.len() } else { 0 }).sum();
        body.clear();
        let single = pending.len() == 1;
        if !single {
            body.extend_from_slice(b"{\"success\":[");
        }
        for (i, op) in pending.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            match op {
                Op::Put { key, value, lease } => {
                    if !single {
                        body.extend_from_slice(b"{\"requestPut\":");
                    }
                    body.extend_from_slice(b"{\"key\":\"");
                    body.extend_from_slice(b64(key.as_bytes()).as_bytes());
                    body.extend_from_slice(b"\",\"value\":\"");
                    body.extend_from_slice(b64(value).as_bytes());
                    body.push(b'"');
                    if let Some(l) = lease {
                        body.extend_from_slice(format!(",\"lease\":\"{l}\"").as_bytes());
                    }
                    body.push(b'}');
                    if !single {
                        body.push(b'}');
                    }
                }
                Op::Delete { key } => {
                    if !single {
                        body.extend_from_slice(b"{\"requestDeleteRange\":");
                    }
                    body.extend_from_slice(format!("{{\"key\":\"{}\"}}", b64(key.as_bytes())).as_bytes());
                    if !single {
                        body.push(b'}');
                    }
                }
            }
        }
        if !single {
            body.extend_from_slice(b"]}");
        }
        let answer = match (single, &pending[0]) {
            (true, Op::Put { .. }) => conn.post("/v3/kv/put", body)?,
            (true, Op::Delete { key }) => {
                let a = conn.post("/v3/kv/deleterange", body)?;
                if int_field(&a, "deleted") != 1 {
                    bail!("deleting {key}: etcd deleted {} keys, expected 1", int_field(&a, "deleted"));
                }
                a
            }
            (false, _) => {
                let a = conn.post("/v3/kv/txn", body)?;
                let responses = a["responses"].as_array().cloned().unwrap_or_default();
                for (op, resp) in pending.iter().zip(&responses) {
                    if let Op::Delete { key } = op {
                        let d = int_field(&resp["response_delete_range"], "deleted");
                        if d != 1 {
                            bail!("deleting {key} in a transaction: etcd deleted {d} keys, expected 1");
                        }
                    }
                }
                a
            }
        };
        if answer.get("error").is_some() {
            bail!("etcd error: {answer}");
        }
        let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
        s.requests += 1;
        s.ops += pending.len() as u64;
        s.value_bytes += value_bytes as u64;
        s.body_bytes += body.len() as u64;
        pending.clear();
        Ok(())
    };
    for msg in rx {
        match msg {
            Msg::Op(op) => {
                // A key may appear once per transaction.
                if pending.iter().any(|p| p.key() == op.key()) {
                    flush(&mut conn, &mut pending, &mut body)?;
                }
                pending.push(op);
                if pending.len() >= batch {
                    flush(&mut conn, &mut pending, &mut body)?;
                }
            }
            Msg::Barrier(done) => {
                flush(&mut conn, &mut pending, &mut body)?;
                let _ = done.send(());
            }
        }
    }
    flush(&mut conn, &mut pending, &mut body)
}

impl Sink for EtcdSink {
    fn put(&mut self, key: &str, value: Vec<u8>, lease: Option<i64>) -> Result<()> {
        self.send(Op::Put { key: key.to_string(), value, lease })
    }

    fn delete(&mut self, key: &str) -> Result<()> {
        self.send(Op::Delete { key: key.to_string() })
    }

    fn grant(&mut self, id: i64, ttl: i64) -> Result<()> {
        let a = self.control.post("/v3/lease/grant", format!("{{\"TTL\":\"{ttl}\",\"ID\":\"{id}\"}}").as_bytes())?;
        if int_field(&a, "ID") != id {
            bail!("lease grant {id}: etcd answered {a}");
        }
        Ok(())
    }

    fn revoke(&mut self, id: i64) -> Result<()> {
        self.barrier()?;
        self.control.post("/v3/lease/revoke", format!("{{\"ID\":\"{id}\"}}").as_bytes())?;
        Ok(())
    }

    fn barrier(&mut self) -> Result<()> {
        let mut waits = Vec::new();
        for w in &self.workers {
            let (tx, rx) = sync_channel(1);
            if w.send(Msg::Barrier(tx)).is_err() {
                bail!("writer stopped: {}", self.failed().unwrap_or_else(|| "unknown error".into()));
            }
            waits.push(rx);
        }
        for rx in waits {
            if rx.recv().is_err() {
                bail!("writer stopped: {}", self.failed().unwrap_or_else(|| "unknown error".into()));
            }
        }
        match self.failed() {
            Some(e) => bail!("writing to etcd failed: {e}"),
            None => Ok(()),
        }
    }

    fn compact(&mut self) -> Result<i64> {
        self.barrier()?;
        let key = b64(b"compact_rev_key");
        let got = self.control.post("/v3/kv/range", format!("{{\"key\":\"{key}\"}}").as_bytes())?;
        let current = header_revision(&got)?;
        let version = got["kvs"].get(0).map_or(0, |kv| int_field(kv, "version"));
        // kube-apiserver's compactor: record the revision with a version-guarded txn, then compact.
        let txn = format!(
            "{{\"compare\":[{{\"key\":\"{key}\",\"target\":\"VERSION\",\"result\":\"EQUAL\",\"version\":\"{version}\"}}],\
             \"success\":[{{\"requestPut\":{{\"key\":\"{key}\",\"value\":\"{}\"}}}}],\
             \"failure\":[{{\"requestRange\":{{\"key\":\"{key}\"}}}}]}}",
            b64(current.to_string().as_bytes())
        );
        let a = self.control.post("/v3/kv/txn", txn.as_bytes())?;
        if a["succeeded"] != Value::Bool(true) {
            bail!("compact_rev_key transaction failed: {a}");
        }
        self.control
            .post("/v3/kv/compaction", format!("{{\"revision\":\"{current}\",\"physical\":true}}").as_bytes())?;
        Ok(current)
    }

    fn revision(&mut self) -> Result<i64> {
        self.barrier()?;
        let a = self.control.post("/v3/kv/range", format!("{{\"key\":\"{}\"}}", b64(b"compact_rev_key")).as_bytes())?;
        header_revision(&a)
    }

    fn count_keys(&mut self) -> Result<Option<u64>> {
        self.barrier()?;
        let all = b64(b"\0");
        let a = self.control.post(
            "/v3/kv/range",
            format!("{{\"key\":\"{all}\",\"range_end\":\"{all}\",\"count_only\":true}}").as_bytes(),
        )?;
        Ok(Some(int_field(&a, "count") as u64))
    }
}
