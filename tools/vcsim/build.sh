#!/bin/sh
# Build the project's vcsim (tools/vcsim/main.go) from Debian packages alone: tools/vcsim/build.sh [OUT]
# OUT defaults to var/bin/vcsim (relative to the repository root). Needs: apt-get install -y --no-install-recommends
# golang-go golang-github-vmware-govmomi-dev
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/var/bin/vcsim}
GOCODE=/usr/share/gocode
APT_HINT="apt-get install -y --no-install-recommends golang-go golang-github-vmware-govmomi-dev"

if ! command -v go >/dev/null 2>&1; then
    echo "vcsim build: the go compiler is missing; install it with: $APT_HINT" >&2
    exit 2
fi
if [ ! -d "$GOCODE/src/github.com/vmware/govmomi/simulator" ] || [ ! -d "$GOCODE/src/github.com/vmware/govmomi/vapi/simulator" ]; then
    echo "vcsim build: govmomi's simulator is missing under $GOCODE; install it with: $APT_HINT" >&2
    exit 2
fi

mkdir -p "$(dirname "$OUT")"
cd "$ROOT"
if [ -z "${GOCACHE:-}" ] && [ -z "${HOME:-}" ]; then
    export GOCACHE=/tmp/qlrf-go-build-cache
fi
GOPATH=$GOCODE GO111MODULE=off go build -o "$OUT" tools/vcsim/main.go
