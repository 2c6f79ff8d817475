#!/usr/bin/env bash
# Profiles raftkv under load (issue 8), writing reports under a temp dir:
#   1. perf, sampling the leader of a three-node cluster on the cpu-clock software event (this VM
#      has no hardware counters: `perf stat -e instructions` is "not supported"), while kv bench
#      runs each WORKLOAD at 64 in flight: perf-<workload>.txt (flat, by symbol) and
#      perf-<workload>-callers.txt (call graph);
#   2. valgrind --tool=callgrind on a single-node kvd taking 3000 writes at 16 in flight:
#      callgrind-set.txt (instruction counts, inclusive), since sampling cannot count instructions.
#
#   bench/profile.sh            BUILD=<meson build dir> (default build-bench; -O2 -g)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-$ROOT/build-bench}
WORKLOADS=${WORKLOADS:-"set get"}
SECONDS_PER_PROFILE=${SECONDS_PER_PROFILE:-4}
KVD=$BUILD/node/kvd
KVBENCH=$BUILD/bench/kv-bench
WORK=$(mktemp -d /tmp/raftkv-profile.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "profile: reports in $WORK" >&2
}
trap cleanup EXIT

EPS=127.0.0.1:16501,127.0.0.1:16502,127.0.0.1:16503
PEERS=1=127.0.0.1:16601,2=127.0.0.1:16602,3=127.0.0.1:16603
declare -A pid_of
for id in 1 2 3; do
  "$KVD" --id "$id" --data-dir "$WORK/kv$id" --client-addr "127.0.0.1:1650$id" \
    --peer-addr "127.0.0.1:1660$id" --peers "$PEERS" --log-level warn 2>>"$WORK/kv$id.log" &
  pid_of[$id]=$!
  pids+=($!)
done
leader=$("$KVBENCH" leader --endpoints "$EPS" | cut -d' ' -f1)
leader_pid=${pid_of[${leader: -1}]}
"$KVBENCH" get --endpoints "$EPS" --count 1 --quiet >/dev/null  # the key space, for reads

for workload in $WORKLOADS; do
  "$KVBENCH" "$workload" --endpoints "$EPS" --concurrency 64 --no-preload --quiet \
    --warmup 1 --duration $((SECONDS_PER_PROFILE + 2)) >"$WORK/load-$workload.txt" &
  load=$!
  sleep 1.5
  # The build has no frame pointers: unwind with DWARF (larger samples, so a lower rate).
  perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$leader_pid" \
    -o "$WORK/perf-$workload.data" -- sleep "$SECONDS_PER_PROFILE" 2>/dev/null
  wait "$load"
  # Full reports to files first: `| head` would end perf with SIGPIPE and this script with it.
  perf report -i "$WORK/perf-$workload.data" --no-children --sort symbol --stdio -g none \
    >"$WORK/perf-$workload.txt" 2>/dev/null || true
  perf report -i "$WORK/perf-$workload.data" --children --sort symbol --stdio -g none \
    >"$WORK/perf-$workload-inclusive.txt" 2>/dev/null || true
  perf report -i "$WORK/perf-$workload.data" --no-children --sort symbol --stdio \
    -g caller,0.5,callee,function,percent >"$WORK/perf-$workload-callers.txt" 2>/dev/null || true
done
for pid in "${pid_of[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
wait "${pid_of[@]}" 2>/dev/null || true

valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" "$KVD" --id 9 \
  --data-dir "$WORK/kv-single" --client-addr 127.0.0.1:16509 --peer-addr 127.0.0.1:16609 \
  --peers 9=127.0.0.1:16609 --log-level warn 2>"$WORK/valgrind.log" &
vg=$!
pids+=($vg)
wait_for_single() {
  for _ in $(seq 1 300); do
    "$KVBENCH" leader --endpoints 127.0.0.1:16509 >/dev/null 2>&1 && return 0
    sleep 0.2
  done
}
wait_for_single
"$KVBENCH" set --endpoints 127.0.0.1:16509 --concurrency 16 --count 2000 --quiet \
  >"$WORK/load-callgrind.txt"
kill -TERM "$vg"
wait "$vg" || true
callgrind_annotate --inclusive=yes "$WORK/callgrind.out" >"$WORK/callgrind-set-inclusive.txt" \
  2>/dev/null || true
callgrind_annotate "$WORK/callgrind.out" >"$WORK/callgrind-set.txt" 2>/dev/null || true
for f in "$WORK"/perf-*.txt "$WORK"/callgrind-set*.txt; do
  echo "=== $f"
  grep -v '^#' "$f" | grep -v '^$' | sed -n 1,40p
done
