#!/bin/sh
# Runs the `kv key` commands end to end: exact output for good input, a clear error and a
# non-zero exit for bad input. Usage: kv_key_test.sh <path to kv>
set -u
KV="$1"
failures=0

expect_out() {  # expected-stdout args...
  expected="$1"; shift
  actual=$("$KV" "$@" 2>/tmp/kv_key_test.$$) ; rc=$?
  if [ "$rc" -ne 0 ] || [ "$actual" != "$expected" ]; then
    echo "FAIL: kv $*"; echo "  expected: $expected"; echo "  actual:   $actual (exit $rc)"
    cat /tmp/kv_key_test.$$; failures=$((failures + 1))
  fi
}

expect_err() {  # expected-exit expected-stderr args...
  code="$1"; expected="$2"; shift 2
  actual=$("$KV" "$@" 2>&1 >/dev/null) ; rc=$?
  if [ "$rc" -ne "$code" ] || [ "$actual" != "$expected" ]; then
    echo "FAIL: kv $*"; echo "  expected (exit $code): $expected"
    echo "  actual   (exit $rc): $actual"; failures=$((failures + 1))
  fi
}

expect_out "0268656c6c6f00" key encode '["hello"]'
expect_out "02757365727300" key encode '["users"]'
expect_out "0275736572730021c045000000000000" key encode '["users", 42]'
expect_out "214007ffffffffffff" key encode '[-1.5]'
expect_out "217fffffffffffffff" key encode '[-0]'
expect_out "21fff8000000000000" key encode '[{"number":"NaN"}]'
expect_out "1d09010000000000000000" key encode '[{"bigint":"18446744073709551616"}]'
expect_out "1337" key encode '[{"bigint":"-200"}]'
expect_out "0100ff01ff00" key encode '[{"bytes":"AAH/"}]'
expect_out "2726" key encode '[true, false]'
expect_out "" key encode '[]'
expect_out '["users",42]' key decode 0275736572730021c045000000000000
expect_out '[{"bigint":"-18446744073709551616"},{"bytes":"AAH/"},-1.5,-0]' \
  key decode 0bf6feffffffffffffffff0100ff01ff00214007ffffffffffff217fffffffffffffff
expect_out '[{"number":"-Infinity"},true,"a\u0000b"]' key decode 21000fffffffffffff27026100ff6200
expect_out '[0.1]' key decode "$("$KV" key encode '[0.1]')"

expect_err 1 "kv key encode: invalid JSON at offset 5: expected ',' or ']'" key encode '["a" "b"]'
expect_err 1 "kv key encode: a key must be a JSON array" key encode '"a"'
expect_err 1 "kv key encode: key part 1: expected a string, number, boolean, {\"bigint\": ...}, {\"bytes\": ...} or {\"number\": ...}" key encode '["a", null]'
expect_err 1 "kv key encode: key part 0: bigint must be a decimal string" key encode '[{"bigint":"12x"}]'
expect_err 1 "kv key encode: key part 0: bytes must be standard base64" key encode '[{"bytes":"!!"}]'
expect_err 1 "kv key encode: key part 0: unknown part type \"date\"" key encode '[{"date":"1"}]'
expect_err 1 "kv key decode: invalid key at offset 0: unknown tag 0x05" key decode 05
expect_err 1 "kv key decode: not an even-length hex string: 'abc'" key decode abc
expect_err 1 "kv key decode: invalid key at offset 0: unterminated bytes or string part" key decode 0261
expect_err 2 "kv: unknown command 'frobnicate' (see kv --help)" frobnicate

help=$("$KV" --help) || { echo "FAIL: kv --help exited non-zero"; failures=$((failures + 1)); }
case "$help" in
  *"kv key encode"*"kv key decode"*) ;;
  *) echo "FAIL: kv --help does not list the key commands"; failures=$((failures + 1)) ;;
esac
"$KV" key >/dev/null 2>&1; [ $? -eq 2 ] || { echo "FAIL: 'kv key' should exit 2"; failures=$((failures + 1)); }

rm -f /tmp/kv_key_test.$$
[ "$failures" -eq 0 ] && echo "kv key: all checks passed"
exit "$failures"
