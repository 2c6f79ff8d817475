#!/usr/bin/env bash
# One command that installs what is missing, builds raftkv and runs every test.
#   scripts/test.sh              release-style build (debugoptimized, assertions on) in build/
#   scripts/test.sh --sanitize   AddressSanitizer + UBSan build (clang) in build-asan/
# Ends with the line "tests: N passed, N failed" read from meson's test log.
set -euo pipefail
cd "$(dirname "$0")/.."

builddir=build
setup_args=()
compiler_env=()
if [ "${1:-}" = "--sanitize" ]; then
  builddir=build-asan
  # clang builds coroutine-heavy files under sanitizers much faster than g++ (see docs/).
  compiler_env=(CXX=clang++)
  setup_args=(-Dsanitizers=true -Db_lundef=false -Doptimization=1)
  shift
fi

scripts/setup.sh
if [ ! -f "$builddir/build.ninja" ]; then
  env "${compiler_env[@]}" meson setup "$builddir" -Dtest_hooks=true "${setup_args[@]}" >/dev/null
fi
ninja -C "$builddir"
status=0
meson test -C "$builddir" --print-errorlogs "$@" || status=$?
python3 scripts/count_tests.py "$builddir/meson-logs/testlog.json"
exit $status
