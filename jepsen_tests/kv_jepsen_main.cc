// kv-jepsen: runs one Jepsen-style test against a fresh raftkv cluster. See --help and
// jepsen_tests/README.md.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "base/flags.h"
#include "jepsen_tests/runner.h"

namespace {

constexpr const char* kUsage =
    "usage: kv-jepsen --workload W --nemesis N1,N2 --out DIR [flags]\n\n"
    "Starts a fresh cluster of real kvd processes on loopback (peer links through a\n"
    "fault-injecting proxy), drives concurrent clients, injects faults, heals, does final\n"
    "reads, and checks the recorded history. DIR gets config.json, history.jsonl (format:\n"
    "jepsen_tests/HISTORY.md), faults.jsonl, n<ID>.log, n<ID>/data, results.json, report.html;\n"
    "after a valid run the n<ID>/data dirs are removed (--keep keeps them).\n"
    "The results go to stdout, starting with a verdict line that names report.html; progress\n"
    "and harness errors go to stderr.\n\n"
    "workloads: register, bank, append, set, queue, watch, expiry\n"
    "nemeses:   none, all, kill (kill-one, kill-minority, kill-leader, kill-all),\n"
    "           pause (pause-leader, pause-minority), partition (partition-halves,\n"
    "           partition-leader, partition-one, partition-ring, partition-bridge,\n"
    "           partition-one-way), transfer (transfer-leader),\n"
    "           membership (member-replace, member-replace-leader),\n"
    "           power-loss (power-loss-one, power-loss-all; kill -9, then roll the data dir\n"
    "           back to what was fsynced), clock-skew (clock-skew-leader, clock-skew-all,\n"
    "           clock-drift); power-loss and clock-skew need kvd built with -Dtest_hooks=true\n\n"
    "exit status: 0 valid, 1 invalid, 2 unknown, 3 harness error, 4 interrupted;\n"
    "with --expect V: 0 iff the verdict is V, else 1 (3 / 4 unchanged)";

base::Result<double> parse_seconds(const std::string& name, const std::string& text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v) && v >= 0) return v;
  } catch (...) {
  }
  return base::invalid_argument("--{}: expected a finite non-negative number, got '{}'", name,
                                text);
}

// The kvd built next to this binary (build/jepsen_tests/kv-jepsen -> build/node/kvd).
std::string default_kvd() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "kvd";
  return (self.parent_path().parent_path() / "node" / "kvd").string();
}

// Flags whose text is checked after parsing (numbers of seconds, port ranges, KEY=VALUE).
struct FlagTexts {
  int64_t nodes = 0, concurrency = 0;
  std::string time_limit = "30", rate = "100", quiet = "3", recovery = "6", interval = "4",
              final_timeout = "60", watch_reopen = "0", ports;
  std::vector<std::string> env;
};

void add_flags(base::Flags& flags, jepsen::RunConfig& c, FlagTexts& t) {
  flags.add_string("workload", &c.workload,
                   "register | bank | append | set | queue | watch | expiry");
  flags.add_string("nemesis", &c.nemesis, "comma list of fault kinds or groups (see above)");
  flags.add_int("nodes", &t.nodes, "cluster size (3 or 5)");
  flags.add_string("time-limit", &t.time_limit, "length of the faulted period, seconds");
  flags.add_string("rate", &t.rate, "offered client operations per second, all workers together");
  flags.add_int("concurrency", &t.concurrency, "client worker threads (processes)");
  flags.add_uint("seed", &c.seed, "seed of every random choice (ops, faults, timings)");
  flags.add_string("out", &c.out, "run directory to create (must be new or empty)");
  flags.add_bool("replace", &c.replace, "clear --out first if it holds an earlier run");
  flags.add_bool("keep", &c.keep,
                 "keep the nodes' data dirs after a valid run (removed otherwise)");
  flags.add_string("ports", &t.ports, "FROM-TO: the loopback ports the run may listen on");
  flags.add_string("kvd", &c.kvd, "the kvd binary (default: ../node/kvd next to kv-jepsen)");
  flags.add_string("quiet", &t.quiet, "seconds of traffic before the first fault");
  flags.add_string("recovery", &t.recovery, "seconds of traffic after healing");
  flags.add_string("fault-interval", &t.interval, "mean seconds a fault is held (gaps are half)");
  flags.add_string("final-timeout", &t.final_timeout, "bound on final reads / queue drain, s");
  flags.add_uint("tick-ms", &c.tick_ms, "kvd --tick-ms");
  flags.add_uint("snapshot-entries", &c.snapshot_entries, "kvd --snapshot-entries");
  flags.add_string("watch-reopen", &t.watch_reopen,
                   "watch: reopen every stream after S s at the next node (0: never)");
  flags.add_bool("reads-any-node", &c.reads_any_node,
                 "register: strong reads start at a random node (fresh client each)");
  flags.add_string("plant", &c.plant, "harness-side planted bug: stale-reads (see README)");
  flags.add_list("plant-kvd-bug", &c.plant_kvd_bugs,
                 "kvd-side planted bug (repeatable; test builds): local-reads, ack-before-fsync, "
                 "drop-queue-acks, stale-watch");
  flags.add_list("kvd-env", &t.env, "KEY=VALUE for every kvd process (repeatable; planted bugs)");
  flags.add_list("kvd-arg", &c.kvd_args, "extra kvd flag (repeatable)");
  flags.add_string("expect", &c.expect, "valid | invalid | unknown: CI mode (see exit status)");
  flags.add_bool("no-progress", &c.quiet_progress, "no progress lines");
}

// Checks and converts what the flags left as text; the first problem is the error.
base::Status finish_config(const FlagTexts& t, jepsen::RunConfig& c) {
  for (const auto& [name, text, target] :
       {std::tuple{"time-limit", &t.time_limit, &c.time_limit_s},
        std::tuple{"rate", &t.rate, &c.rate}, std::tuple{"quiet", &t.quiet, &c.quiet_s},
        std::tuple{"recovery", &t.recovery, &c.recovery_s},
        std::tuple{"fault-interval", &t.interval, &c.fault_interval_s},
        std::tuple{"final-timeout", &t.final_timeout, &c.final_timeout_s},
        std::tuple{"watch-reopen", &t.watch_reopen, &c.watch_reopen_s}}) {
    auto v = parse_seconds(name, *text);
    if (!v.is_ok()) return v.status();
    *target = *v;
  }
  auto range = launcher::parse_port_range(t.ports);
  if (!range.is_ok()) return range.status();
  c.ports = *range;
  for (const auto& kv : t.env) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return base::invalid_argument("--kvd-env wants KEY=VALUE");
    c.kvd_env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (t.nodes < 1 || t.nodes > 9) return base::invalid_argument("--nodes must be 1..9");
  if (t.concurrency < 1 || t.concurrency > 256)
    return base::invalid_argument("--concurrency must be 1..256");
  c.nodes = static_cast<int>(t.nodes);
  c.concurrency = static_cast<int>(t.concurrency);
  if (c.out.empty()) return base::invalid_argument("--out DIR is required");
  if (!c.expect.empty() && c.expect != "valid" && c.expect != "invalid" && c.expect != "unknown")
    return base::invalid_argument("--expect must be valid, invalid or unknown");
  if (::access(c.kvd.c_str(), X_OK) != 0)
    return base::invalid_argument("kvd binary '{}' is not executable (use --kvd)", c.kvd);
  return base::Status::ok();
}

}  // namespace

int main(int argc, char** argv) {
  jepsen::RunConfig c;
  c.kvd = default_kvd();
  FlagTexts t;
  t.nodes = c.nodes;
  t.concurrency = c.concurrency;
  t.ports = fmt::format("{}-{}", c.ports.first, c.ports.last);
  base::Flags flags(kUsage);
  add_flags(flags, c, t);
  base::Status s = flags.parse(argc, argv);
  if (s.is_ok() && flags.help_requested()) {
    std::fputs(flags.usage().c_str(), stdout);
    return 0;
  }
  if (s.is_ok()) s = finish_config(t, c);
  if (!s.is_ok()) {
    std::fprintf(stderr, "kv-jepsen: %s (see --help)\n", s.message().c_str());
    return jepsen::kExitHarnessError;
  }
  return jepsen::run_jepsen(c);
}
