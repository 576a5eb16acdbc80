#!/usr/bin/env bash
# Builds benches/go-bbolt/ls.go (Go bbolt baseline lister) in GOPATH mode.
#   bash benches/go-bbolt/build.sh [OUTPUT]     (default: target/go-bbolt-ls,
#                                                relative to the workspace root)
# Installs golang-go and golang-github-coreos-bbolt-dev with apt if missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/target/go-bbolt-ls}"

BBOLT_SRC=/usr/share/gocode/src/go.etcd.io/bbolt
if ! command -v go >/dev/null 2>&1 || [ ! -f "$BBOLT_SRC/db.go" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "build.sh: need golang-go and golang-github-coreos-bbolt-dev (run as root to install)" >&2
    exit 1
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y golang-go golang-github-coreos-bbolt-dev
fi

mkdir -p "$(dirname "$out")"
export GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS=
go build -trimpath -o "$out" "$here/ls.go"
echo "built $out ($(go version | awk '{print $3}'), bbolt $(dpkg-query -W -f='${Version}' golang-github-coreos-bbolt-dev 2>/dev/null || echo unknown))"
