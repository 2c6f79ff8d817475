// One kv-jepsen run, end to end:
//   setup    fresh cluster (kvd processes behind the peer proxy), a leader, workload setup
//   quiet    traffic without faults (quiet_s)
//   faulted  traffic while the nemesis injects a fault, holds it, heals it, again and again
//            (time_limit_s; periods jittered from the seed)
//   recovery everything healed, traffic continues (recovery_s)
//   final    traffic stops; final reads / queue drain; then the cluster is stopped and the
//            history is checked
// Run directory: config.json, history.jsonl, faults.jsonl, n<ID>.log and n<ID>/data per node,
// results.json, report.html. After a valid run the n<ID>/ dirs (data, clock file) are removed
// unless `keep`; an invalid, unknown or failed run keeps everything for inspection.
// Output: progress and harness errors on stderr; the results on stdout, starting with one
// verdict line in words that names report.html (report.h's verdict_line).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "jepsen_tests/check_result.h"
#include "tests/launcher.h"

namespace jepsen {

struct RunConfig {
  std::string workload = "register";
  std::string nemesis = "none";
  int nodes = 3;
  double time_limit_s = 30;
  double rate = 100;  // offered ops/s over all workers
  int concurrency = 6;
  uint64_t seed = 1;
  std::string out;            // run directory (created; must not exist or be empty)
  bool replace = false;       // clear `out` first if it holds an earlier run (has config.json)
  bool keep = false;          // keep the nodes' data dirs after a valid run (removed otherwise)
  launcher::PortRange ports;  // every port the run listens on (kvd client/peer, proxy)
  std::string kvd;            // kvd binary
  double quiet_s = 3;
  double recovery_s = 6;
  double fault_interval_s = 4;  // mean length of one fault period; gaps are about half of it
  double final_timeout_s = 60;  // bound on the final reads / drain
  uint64_t tick_ms = 20;
  uint64_t snapshot_entries = 1000;
  double watch_reopen_s = 0;
  bool reads_any_node = false;  // register: strong reads start at a random node (fresh client)  //
                                // watch workload: reopen each stream at the next node (0: never)
  std::string plant;            // harness-side planted bug: "" or "stale-reads" (see workload.h)
  std::map<std::string, std::string> kvd_env;  // extra environment for kvd (planted bugs)
  std::vector<std::string> kvd_args;           // extra kvd flags
  // kvd-side planted bugs (test builds): each becomes `kvd --plant-bug NAME`; see
  // kvd_planted_bugs().
  std::vector<std::string> plant_kvd_bugs;
  std::string expect;  // "", "valid", "invalid": CI mode, exit 0 iff the verdict matches
  bool quiet_progress = false;
};

// Exit codes: 0 valid, 1 invalid, 2 unknown; 3 harness error (cluster never healthy, files,
// bad flags); 4 interrupted. With `expect` set: 0 when the verdict equals it, else 1 (or
// 3 / 4 for harness errors).
// The names `kvd --plant-bug` accepts: local-reads, ack-before-fsync, drop-queue-acks,
// stale-watch.
const std::vector<std::string>& kvd_planted_bugs();

constexpr int kExitHarnessError = 3;
constexpr int kExitInterrupted = 4;
int run_jepsen(const RunConfig& config);

}  // namespace jepsen
