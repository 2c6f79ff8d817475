// Workloads of kv-jepsen: what the client processes do, in the op shapes of HISTORY.md, over
// the real client library (cli::Client) against real kvd processes.
//
// Life of a workload in a run (runner.cc): setup() once on a healthy cluster; then
// start_background() (queue listeners, watchers), and `concurrency` worker threads each call
// step() in a loop at the offered rate through the quiet, faulted and recovery phases; after
// the workers stop and the cluster is healed, finish() does the final reads or the queue drain;
// then stop_background(). Everything each op does is recorded (invoke + ok/fail/info).
//
// Each worker owns a Client (its own session id for exactly-once) whose first endpoint is its
// "home" node, recorded as the op's node. After an info op the worker takes a fresh process id
// (Jepsen's convention: the old process may still be running that op forever).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/rng.h"
#include "base/status.h"
#include "cli/client.h"
#include "jepsen_tests/checkers.h"
#include "jepsen_tests/recorder.h"

namespace jepsen {

struct WorkloadOptions {
  int concurrency = 6;
  uint64_t seed = 1;
  int nodes = 3;
  // Harness-side planted bug "stale-reads": register reads ask only the worker's home node with
  // consistency eventual, which the node serves from its local state without a ReadIndex round
  // -- the behaviour of a server that skips ReadIndex. The checker must flag it.
  bool stale_reads = false;
  // watch: when > 0, every watcher closes its stream after this long and opens a new one (a new
  // process) starting at the next node, so first yields from every node are checked (W4). 0:
  // a watcher keeps its stream until it breaks.
  int64_t watch_reopen_ms = 0;
  // register: each strong read starts at a random node through a fresh client (as behind a
  // load balancer) instead of the worker's leader-tracking client.
  bool reads_any_node = false;
};

// Everything a workload needs to make clients of its own (listeners, watchers, final reads).
struct WorkloadEnv {
  Recorder* recorder = nullptr;
  std::vector<std::string> endpoints;   // every node's client address
  std::vector<std::string> node_names;  // "n1", ... parallel to endpoints
  std::atomic<bool>* stop = nullptr;    // set when the run is over (or interrupted)
};

struct Worker {
  int index = 0;
  int64_t process = 0;
  std::string node;  // home node name
  base::Rng rng{1};
  std::unique_ptr<cli::Client> client;
  std::unique_ptr<cli::Client> home_only;  // talks to the home node alone (planted bugs)
  Recorder* recorder = nullptr;
  int concurrency = 1;

  void retire() { process += concurrency; }
  // Completes `f` with the outcome of a failed write (fail or info) and retires on info.
  void complete_write_error(const std::string& f, const Json& invoke_value,
                            const base::Status& status);
};

class Workload {
 public:
  virtual ~Workload() = default;
  virtual std::string name() const = 0;
  virtual base::Status setup(cli::Client& client) {
    (void)client;
    return base::Status::ok();
  }
  virtual void start_background(const WorkloadEnv& env) { (void)env; }
  virtual void step(Worker& worker) = 0;
  // Final reads / drain after healing; `deadline` bounds it.
  virtual base::Status finish(const WorkloadEnv& env, std::chrono::milliseconds deadline) = 0;
  virtual void stop_background() {}
  virtual CheckOptions check_options() const { return {}; }
};

// "register", "bank", "append", "set", "queue", "watch", "expiry"; an error otherwise.
base::Result<std::unique_ptr<Workload>> make_workload(const std::string& name,
                                                      const WorkloadOptions& options);

std::unique_ptr<Workload> make_register_workload(const WorkloadOptions& options);
std::unique_ptr<Workload> make_bank_workload(const WorkloadOptions& options);
std::unique_ptr<Workload> make_append_workload(const WorkloadOptions& options);
std::unique_ptr<Workload> make_set_workload(const WorkloadOptions& options);
std::unique_ptr<Workload> make_queue_workload(const WorkloadOptions& options);
std::unique_ptr<Workload> make_watch_workload(const WorkloadOptions& options);
std::unique_ptr<Workload> make_expiry_workload(const WorkloadOptions& options);

// ---- helpers shared by the workloads
// Tuple key ["jepsen", space, name] (kvmodel::encode_key).
base::Bytes workload_key(std::string_view space, std::string_view name);
base::Bytes workload_prefix(std::string_view space);  // ["jepsen", space]
// Integers are stored as their decimal text in a bytes value; parse errors are reported.
kvmodel::Value int_value(int64_t v);
base::Result<int64_t> parse_int_value(const kvmodel::Value& value);
// Client options tuned for a faulty cluster: short attempts, a bounded total deadline.
cli::ClientOptions harness_client_options(uint64_t seed);
// A client whose first endpoint is endpoints[home % n] (then the others in order).
std::unique_ptr<cli::Client> make_home_client(const std::vector<std::string>& endpoints,
                                              size_t home, uint64_t seed);
std::string versionstamp_text(const kvmodel::Versionstamp& vs);  // 20 hex digits

}  // namespace jepsen
