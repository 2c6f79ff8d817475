#!/usr/bin/env bash
# Installs what is missing, builds raftkv and runs a local three-node cluster in the foreground.
#   client ports 127.0.0.1:4501-4503, peer ports 127.0.0.1:4601-4603, data under ./data/nodeN.
# Ctrl-C stops every node cleanly (SIGTERM: the leader hands leadership over first).
# Running it again resumes with the same data.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
# A release build: no test hooks (scripts/test.sh builds those in build-hooks/).
if [ ! -f build/build.ninja ]; then
  meson setup build >/dev/null
elif grep -q "RAFTKV_TEST_HOOKS" build/build.ninja; then
  meson configure build -Dtest_hooks=false >/dev/null
fi
ninja -C build node/kvd cli/kv >/dev/null

peers="1=127.0.0.1:4601,2=127.0.0.1:4602,3=127.0.0.1:4603"
pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping nodes..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped; data kept in ./data (run scripts/cluster.sh again to resume)"
}
trap stop INT TERM EXIT

mkdir -p data
for id in 1 2 3; do
  build/node/kvd --id "$id" --data-dir "data/node$id" \
    --client-addr "127.0.0.1:450$id" --peer-addr "127.0.0.1:460$id" --peers "$peers" \
    2>>"data/node$id.log" &
  pids+=($!)
done

endpoints=127.0.0.1:4501,127.0.0.1:4502,127.0.0.1:4503
for _ in $(seq 1 100); do
  if build/cli/kv --endpoints "$endpoints" status >/dev/null 2>&1; then break; fi
  sleep 0.1
done
build/cli/kv --endpoints "$endpoints" status || true
cat <<MSG

raftkv is running: three nodes, logs in data/node{1,2,3}.log. In another shell:
  export KV_ENDPOINTS=$endpoints
  build/cli/kv set '["greeting"]' '"hello"'
  build/cli/kv get '["greeting"]'
  build/cli/kv status
Press Ctrl-C to stop the cluster.
MSG
wait
