// raft_sim: runs the deterministic cluster simulator over a range of seeds.
//   raft_sim --seeds N [--first-seed S] [--nodes 3|5] [--steps K] [--trace]
//            [--planted-bug NAME] [--expect-failure]
// Exits 0 only when every seed passes (with --expect-failure: only when some seed fails, which
// is how CI proves a planted bug is caught). See raft/README.md, "Simulator".
#include <fmt/format.h>

#include <cstdio>

#include "base/flags.h"
#include "raft/sim/simulation.h"

namespace {

using raft::sim::Coverage;
using raft::sim::SeedResult;
using raft::sim::SimOptions;

struct Args {
  uint64_t seeds = 1;
  uint64_t first_seed = 1;
  uint64_t seed = 0;   // --seed N: exactly that one seed
  uint64_t nodes = 0;  // 0: mixed, 3 nodes for odd seeds and 5 for even ones
  uint64_t steps = 3000;
  uint64_t liveness_ticks = 400;
  raft::PlantedBug planted_bug = raft::PlantedBug::kNone;
  uint64_t determinism_every = 50;  // re-run every Nth seed and compare trace hashes
  bool trace = false;
  bool expect_failure = false;
};

int nodes_for(const Args& args, uint64_t seed) {
  if (args.nodes != 0) return static_cast<int>(args.nodes);
  return seed % 2 == 1 ? 3 : 5;
}

std::string reproduce_flags(const Args& args, uint64_t seed) {
  std::string out =
      fmt::format("--seed {} --nodes {} --steps {}", seed, nodes_for(args, seed), args.steps);
  if (args.planted_bug != raft::PlantedBug::kNone) {
    out += fmt::format(" --planted-bug {}", raft::planted_bug_name(args.planted_bug));
  }
  return out;
}

void report_failure(const Args& args, const SeedResult& r) {
  std::printf("FAIL seed %llu: %s: %s\n", static_cast<unsigned long long>(r.seed),
              r.violation->property.c_str(), r.violation->detail.c_str());
  std::printf("  at step %llu; profile: %s\n", static_cast<unsigned long long>(r.failed_at_step),
              r.profile.c_str());
  std::printf("  reproduce with %s --trace\n", reproduce_flags(args, r.seed).c_str());
}

void print_trace(const SeedResult& r) {
  std::printf("--- trace of seed %llu (%zu lines) ---\n", static_cast<unsigned long long>(r.seed),
              r.trace.size());
  for (const std::string& line : r.trace) std::printf("%s\n", line.c_str());
  std::printf("--- end of trace ---\n");
}

int run(const Args& args) {
  if (args.nodes != 0 && args.nodes != 3 && args.nodes != 5) {
    std::fprintf(stderr, "raft_sim: --nodes must be 3 or 5 (or 0 for mixed)\n");
    return 2;
  }
  const uint64_t first = args.seed != 0 ? args.seed : args.first_seed;
  const uint64_t count = args.seed != 0 ? 1 : args.seeds;
  uint64_t failed = 0, steps = 0, determinism_checked = 0;
  Coverage total;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    SimOptions options;
    options.seed = seed;
    options.nodes = nodes_for(args, seed);
    options.steps = args.steps;
    options.liveness_ticks = args.liveness_ticks;
    options.keep_trace = args.trace;
    options.planted_bug = args.planted_bug;
    SeedResult r = raft::sim::run_seed(options);
    if (r.ok() && args.determinism_every != 0 &&
        (seed == first || seed % args.determinism_every == 0)) {
      const SeedResult again = raft::sim::run_seed(options);
      ++determinism_checked;
      if (again.trace_hash != r.trace_hash || again.trace_events != r.trace_events) {
        r.violation = raft::sim::Violation{
            "determinism",
            fmt::format("two runs of the seed gave trace hashes {:016x} ({} events) "
                        "and {:016x} ({} events)",
                        r.trace_hash, r.trace_events, again.trace_hash, again.trace_events)};
      }
    }
    steps += r.steps_run;
    total.add(r.coverage);
    if (args.trace && (count == 1 || !r.ok())) print_trace(r);
    if (!r.ok()) {
      ++failed;
      report_failure(args, r);
      if (args.expect_failure) {
        std::printf("caught planted bug %s at seed %llu (%s) after %llu seeds\n",
                    std::string(raft::planted_bug_name(args.planted_bug)).c_str(),
                    static_cast<unsigned long long>(seed), r.violation->property.c_str(),
                    static_cast<unsigned long long>(seed - first + 1));
        return 0;
      }
    }
  }
  std::printf(
      "raft_sim: seeds=%llu first_seed=%llu steps=%llu violations=%llu "
      "determinism_checked=%llu\n",
      static_cast<unsigned long long>(count), static_cast<unsigned long long>(first),
      static_cast<unsigned long long>(steps), static_cast<unsigned long long>(failed),
      static_cast<unsigned long long>(determinism_checked));
  std::printf("coverage: %s\n", total.describe().c_str());
  if (args.expect_failure) {
    std::printf("raft_sim: expected a failure (planted bug %s) but all %llu seeds passed\n",
                std::string(raft::planted_bug_name(args.planted_bug)).c_str(),
                static_cast<unsigned long long>(count));
    return 1;
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  base::Flags flags(
      "raft_sim --seeds N [--first-seed S] [--nodes 3|5] [--steps K] [--trace] "
      "[--planted-bug NAME] [--expect-failure]");
  flags.add_uint("seeds", &args.seeds, "number of seeds to run");
  flags.add_uint("first-seed", &args.first_seed, "first seed of the range");
  flags.add_uint("seed", &args.seed, "run exactly this seed (replay)");
  flags.add_uint("nodes", &args.nodes, "initial voters, 3 or 5 (0: odd seeds 3, even seeds 5)");
  flags.add_uint("steps", &args.steps, "steps of the chaos phase per seed");
  flags.add_uint("liveness-ticks", &args.liveness_ticks, "tick budget of the liveness phase");
  flags.add_bool("trace", &args.trace, "print the readable event trace of failing seeds");
  std::string planted_bug_text = "none";
  flags.add_string("planted-bug", &planted_bug_text,
                   "plant bug NAME (or its number) in every node; test builds only "
                   "(raft/planted_bug.h)");
  flags.add_bool("expect-failure", &args.expect_failure,
                 "exit 0 only if some seed fails (proves a planted bug is caught)");
  flags.add_uint("determinism-every", &args.determinism_every,
                 "re-run every Nth seed (and the first) and compare trace hashes; 0: never");
  base::Status s = flags.parse(argc, argv);
  if (!s.is_ok()) {
    std::fprintf(stderr, "raft_sim: %s\n%s", s.to_string().c_str(), flags.usage().c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::printf("%s", flags.usage().c_str());
    return 0;
  }
  base::Result<raft::PlantedBug> bug = raft::parse_planted_bug(planted_bug_text);
  if (!bug.is_ok()) {
    std::fprintf(stderr, "raft_sim: --planted-bug: %s\n", bug.status().message().c_str());
    return 2;
  }
  args.planted_bug = *bug;
#ifndef RAFTKV_TEST_HOOKS
  if (args.planted_bug != raft::PlantedBug::kNone) {
    std::fprintf(stderr, "raft_sim: --planted-bug needs a build with -Dtest_hooks=true\n");
    return 2;
  }
#endif
  return run(args);
}
