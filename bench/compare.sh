#!/usr/bin/env bash
# raftkv against etcd 3.4 and Deno KV, side by side on this machine, in one run (issue 8).
#
#   bench/compare.sh                   the full comparison (about 15-20 minutes on 2 cores)
#   DURATION=1 REPS=1 bench/compare.sh a quick smoke run
#
# 1. three-node etcd (Debian's etcd-server, default fsync durability) and three-node raftkv
#    (kvd, WAL fsync before acknowledging), loopback, data under a fresh temp dir;
#    every workload x concurrency, REPS times, alternating which system goes first;
# 2. single-node raftkv against Deno KV's local SQLite backend (Deno.openKv(path));
# 3. leader kill -9 -> next successful write, FAILOVERS times per cluster;
# 4. a STABILITY_S-second full-load write run on each cluster, counting leader changes (terms).
# Every run prints one JSON line into $WORK/results.jsonl; bench/summarize.py turns them into
# the tables (medians), printed at the end and written to $WORK/tables.md.
#
# Load generators: build-bench/bench/kv-bench (= `kv bench`, C++, one io thread, callback API)
# and bench/etcd_bench (Go, Debian's clientv3, one goroutine per in-flight request): the same
# concurrency model (N requests in flight over M connections) and report; both print their own
# CPU use, so either one being the bottleneck shows in the table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

DURATION=${DURATION:-3}
WARMUP=${WARMUP:-1}
REPS=${REPS:-3}
CONCS=${CONCS:-"1 16 64 256"}
WORKLOADS=${WORKLOADS:-"set cas get get-eventual list mixed"}
DENO_WORKLOADS=${DENO_WORKLOADS:-"set cas get get-eventual list enqueue"}
DENO_CONCS=${DENO_CONCS:-"1 64"}
FAILOVERS=${FAILOVERS:-5}
STABILITY_S=${STABILITY_S:-60}
CONNS=${CONNS:-4}
KEYS=${KEYS:-10000}
BUILD=${BUILD:-$ROOT/build-bench}

WORK=$(mktemp -d /tmp/raftkv-bench.XXXXXX)
RESULTS=$WORK/results.jsonl
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "compare: results kept in $WORK" >&2
}
trap cleanup EXIT

log() { echo "compare: $*" >&2; }
# SIGTERM, then SIGKILL after 5 s: a clean stop is not what is measured here.
stop_pids() {
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "$@"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

# ---------------------------------------------------------------- build
scripts/setup.sh --bench
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" node/kvd bench/kv-bench bench/bench-baseline >/dev/null
KVD=$BUILD/node/kvd
KVBENCH=$BUILD/bench/kv-bench
(cd bench/etcd_bench && GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE=$WORK/gocache \
  go build -o "$WORK/etcd-bench" main.go)
ETCDBENCH=$WORK/etcd-bench
if [ -z "${DENO:-}" ]; then
  mkdir -p "$WORK/deno" && (cd "$WORK/deno" && npm install --silent deno >/dev/null 2>&1)
  DENO=$WORK/deno/node_modules/.bin/deno
fi

# ---------------------------------------------------------------- clusters
KV_EPS=127.0.0.1:15501,127.0.0.1:15502,127.0.0.1:15503
KV_PEERS=1=127.0.0.1:15601,2=127.0.0.1:15602,3=127.0.0.1:15603
KV_CLIENT_PEERS=1=127.0.0.1:15501,2=127.0.0.1:15502,3=127.0.0.1:15503
ETCD_EPS=127.0.0.1:12379,127.0.0.1:22379,127.0.0.1:32379
ETCD_CLUSTER=e1=http://127.0.0.1:12380,e2=http://127.0.0.1:22380,e3=http://127.0.0.1:32380
declare -A kv_pid etcd_pid

start_kvd() {  # id
  local id=$1
  "$KVD" --id "$id" --data-dir "$WORK/kv$id" --client-addr "127.0.0.1:1550$id" \
    --peer-addr "127.0.0.1:1560$id" --peers "$KV_PEERS" --client-peers "$KV_CLIENT_PEERS" \
    --log-level warn 2>>"$WORK/kv$id.log" &
  kv_pid[$id]=$!
  pids+=($!)
}
start_etcd() {  # id
  local id=$1
  etcd --name "e$id" --data-dir "$WORK/etcd$id" \
    --listen-client-urls "http://127.0.0.1:${id}2379" \
    --advertise-client-urls "http://127.0.0.1:${id}2379" \
    --listen-peer-urls "http://127.0.0.1:${id}2380" \
    --initial-advertise-peer-urls "http://127.0.0.1:${id}2380" \
    --initial-cluster "$ETCD_CLUSTER" --initial-cluster-state new \
    --log-level error 2>>"$WORK/etcd$id.log" &
  etcd_pid[$id]=$!
  pids+=($!)
}
wait_leader() {  # tool endpoints -> "addr term"
  local out
  for _ in $(seq 1 100); do
    if out=$("$1" leader --endpoints "$2" 2>/dev/null); then echo "$out"; return 0; fi
    sleep 0.1
  done
  log "no leader on $2"
  return 1
}

for id in 1 2 3; do start_kvd "$id"; start_etcd "$id"; done
wait_leader "$KVBENCH" "$KV_EPS" >/dev/null
wait_leader "$ETCDBENCH" "$ETCD_EPS" >/dev/null
log "clusters up; work dir $WORK"

run() {  # system tool endpoints workload concurrency [extra flags] -> one JSON line
  local system=$1 tool=$2 eps=$3 workload=$4 conc=$5
  shift 5
  local conns=$((conc < CONNS ? conc : CONNS))
  "$tool" "$workload" --endpoints "$eps" --concurrency "$conc" --connections "$conns" \
    --keys "$KEYS" --duration "$DURATION" --warmup "$WARMUP" --json --quiet --no-preload \
    --label "$system" "$@" | python3 -c "
import json,sys
for line in sys.stdin:
    r=json.loads(line); r.update(part='$PART', rep=$REP); print(json.dumps(r))" >>"$RESULTS" ||
    log "run failed: $system $workload c=$conc (see the tables for missing cells)"
}

# ---------------------------------------------------------------- 0. machine baseline
"$BUILD/bench/bench-baseline" "$WORK" | python3 -c "
import json,sys; r=json.load(sys.stdin); r['part']='baseline'; print(json.dumps(r))" >>"$RESULTS"

# ---------------------------------------------------------------- 1. three nodes each
# Write the key space once (a read run with preload and a single measured operation).
"$KVBENCH" get --endpoints "$KV_EPS" --keys "$KEYS" --count 1 --quiet >/dev/null
"$ETCDBENCH" get --endpoints "$ETCD_EPS" --keys "$KEYS" --count 1 --quiet >/dev/null
PART=cluster
for workload in $WORKLOADS; do
  for conc in $CONCS; do
    for REP in $(seq 1 "$REPS"); do
      log "cluster $workload c=$conc rep $REP"
      if [ $((REP % 2)) -eq 1 ]; then
        run raftkv "$KVBENCH" "$KV_EPS" "$workload" "$conc"
        run etcd "$ETCDBENCH" "$ETCD_EPS" "$workload" "$conc"
      else
        run etcd "$ETCDBENCH" "$ETCD_EPS" "$workload" "$conc"
        run raftkv "$KVBENCH" "$KV_EPS" "$workload" "$conc"
      fi
    done
  done
done

# ---------------------------------------------------------------- 4. stability under load
stability() {  # system tool endpoints
  local before after
  before=$(wait_leader "$2" "$3")
  PART=stability REP=1 DURATION=$STABILITY_S run "$1" "$2" "$3" set 64
  after=$(wait_leader "$2" "$3")
  echo "{\"part\":\"stability_terms\",\"system\":\"$1\",\"before\":\"$before\",\"after\":\"$after\"}" >>"$RESULTS"
}
if [ "$STABILITY_S" != 0 ]; then
  log "stability: ${STABILITY_S}s of writes at 64 in flight on each cluster"
  stability raftkv "$KVBENCH" "$KV_EPS"
  stability etcd "$ETCDBENCH" "$ETCD_EPS"
fi

# ---------------------------------------------------------------- 3. failover
failover() {  # system tool endpoints
  local system=$1 tool=$2 eps=$3 leader port id kill_us
  leader=$(wait_leader "$tool" "$eps" | cut -d' ' -f1)
  port=${leader##*:}
  id=${port:0:1}
  [ "$system" = raftkv ] && id=${port: -1}
  "$tool" probe --endpoints "$eps" --duration 4 >"$WORK/probe-$system.txt" 2>/dev/null &
  local probe=$!
  sleep 1.5
  if [ "$system" = raftkv ]; then kill -9 "${kv_pid[$id]}"; else kill -9 "${etcd_pid[$id]}"; fi
  kill_us=$(date +%s%6N)  # after the kill: no write that starts later can reach the old leader
  wait "$probe" || true
  # Recovery: the end of the first acknowledged write that started after the kill (a write
  # started before it may have been acknowledged by the dying leader). Error: one write's latency.
  python3 - "$WORK/probe-$system.txt" "$kill_us" "$system" >>"$RESULTS" <<'PY'
import json, sys
kill = int(sys.argv[2])
oks = [tuple(map(int, l.split()[1:3])) for l in open(sys.argv[1]) if l.startswith("ok ")]
after = [end for start, end in oks if start >= kill]
print(json.dumps({"part": "failover", "system": sys.argv[3],
                  "recovery_ms": (after[0] - kill) / 1000 if after else None,
                  "writes_before_kill": sum(1 for s, e in oks if e < kill)}))
PY
  # Bring the node back (its data dir is kept) and let the cluster settle before the next trial.
  if [ "$system" = raftkv ]; then start_kvd "$id"; else
    wait "${etcd_pid[$id]}" 2>/dev/null || true
    start_etcd "$id"
  fi
  sleep 2
  wait_leader "$tool" "$eps" >/dev/null
}
for i in $(seq 1 "$FAILOVERS"); do
  log "failover trial $i"
  failover raftkv "$KVBENCH" "$KV_EPS"
  failover etcd "$ETCDBENCH" "$ETCD_EPS"
done

stop_pids "${kv_pid[@]}" "${etcd_pid[@]}"

# ---------------------------------------------------------------- 2. single node vs Deno KV
"$KVD" --id 9 --data-dir "$WORK/kv-single" --client-addr 127.0.0.1:15509 \
  --peer-addr 127.0.0.1:15609 --peers 9=127.0.0.1:15609 --log-level warn 2>>"$WORK/kv9.log" &
pids+=($!)
single=$!
wait_leader "$KVBENCH" 127.0.0.1:15509 >/dev/null
"$KVBENCH" get --endpoints 127.0.0.1:15509 --keys "$KEYS" --count 1 --quiet >/dev/null
"$DENO" run --unstable-kv -A bench/deno_bench.ts get --path "$WORK/deno.sqlite" --keys "$KEYS" \
  --count 1 --quiet >/dev/null
deno_run() {  # workload concurrency
  "$DENO" run --unstable-kv -A bench/deno_bench.ts "$1" --path "$WORK/deno.sqlite" \
    --concurrency "$2" --keys "$KEYS" --duration "$DURATION" --warmup "$WARMUP" --json --quiet \
    --no-preload | python3 -c "
import json,sys
for line in sys.stdin:
    r=json.loads(line); r.update(part='$PART', rep=$REP); print(json.dumps(r))" >>"$RESULTS" ||
    log "run failed: deno $1 c=$2"
}
PART=single
for workload in $DENO_WORKLOADS; do
  for conc in $DENO_CONCS; do
    for REP in $(seq 1 "$REPS"); do
      log "single $workload c=$conc rep $REP"
      if [ $((REP % 2)) -eq 1 ]; then
        run raftkv-1 "$KVBENCH" 127.0.0.1:15509 "$workload" "$conc"
        deno_run "$workload" "$conc"
      else
        deno_run "$workload" "$conc"
        run raftkv-1 "$KVBENCH" 127.0.0.1:15509 "$workload" "$conc"
      fi
    done
  done
done
stop_pids "$single"

# ---------------------------------------------------------------- tables
{
  echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(uname -r);"
  echo "raftkv $(git rev-parse --short HEAD), $(etcd --version | head -1), deno $("$DENO" --version | head -1 | cut -d' ' -f2)."
  echo "DURATION=$DURATION WARMUP=$WARMUP REPS=$REPS CONNS=$CONNS KEYS=$KEYS value 100 B."
  echo
  python3 bench/summarize.py "$RESULTS"
} | tee "$WORK/tables.md"
