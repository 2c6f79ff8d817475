#!/usr/bin/env bash
# Installs every build and test dependency of raftkv from Debian packages.
# Idempotent: a no-op (apart from a dpkg query) when everything is present.
#   scripts/setup.sh           build and test dependencies
#   scripts/setup.sh --bench   also what bench/compare.sh needs: etcd 3.4 (server, etcdctl), Go
#                              and Debian's etcd client sources (for the etcd load generator)
set -euo pipefail

# ccache: meson uses it when present, so rebuilds after a branch switch are cheap.
packages=(
  g++ clang meson ninja-build pkg-config python3
  libasio-dev libflatbuffers-dev flatbuffers-compiler libxxhash-dev doctest-dev libfmt-dev
  iproute2 iptables procps ccache
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(etcd-server etcd-client golang-go golang-etcd-server-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -o DPkg::Lock::Timeout=600 >/dev/null
# --no-install-recommends: libasio-dev would otherwise pull ~150 MB of Boost we do not use.
$SUDO apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
