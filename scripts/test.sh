#!/usr/bin/env bash
# One command that installs what is missing, builds raftkv and runs every test.
#   scripts/test.sh              the release build (debugoptimized, assertions on, NO test hooks)
#                                in build/ runs every test; then the tests that need test hooks
#                                (suite "hooks": planted bugs, power loss, clock skew) run from
#                                build-hooks/, configured with -Dtest_hooks=true
#   scripts/test.sh --sanitize   AddressSanitizer + UBSan build (clang, with test hooks) in
#                                build-asan/ runs every test
# Extra arguments go to `meson test` (e.g. --suite node, --no-suite jepsen).
# Ends with the line "tests: N passed, N failed" read from meson's test logs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Configures $1 with the given options, or reconfigures it when it was set up differently.
configure() {
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    env "${compiler_env[@]}" meson setup "$dir" "$@" >/dev/null
  fi
}

compiler_env=()
sanitize=false
if [ "${1:-}" = "--sanitize" ]; then
  sanitize=true
  shift
fi

scripts/setup.sh
status=0
if $sanitize; then
  # clang builds coroutine-heavy files under sanitizers much faster than g++ (see docs/).
  compiler_env=(CXX=clang++)
  configure build-asan -Dtest_hooks=true -Dsanitizers=true -Db_lundef=false -Doptimization=1
  ninja -C build-asan
  meson test -C build-asan --print-errorlogs "$@" || status=$?
  python3 scripts/count_tests.py build-asan/meson-logs/testlog.json
  exit $status
fi

configure build -Dtest_hooks=false
ninja -C build
meson test -C build --print-errorlogs "$@" || status=$?
configure build-hooks -Dtest_hooks=true
ninja -C build-hooks
meson test -C build-hooks --print-errorlogs --suite hooks "$@" || status=$?
python3 scripts/count_tests.py build/meson-logs/testlog.json build-hooks/meson-logs/testlog.json
exit $status
