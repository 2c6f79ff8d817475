// One simulated run of a whole Raft cluster, from one seed. Single-threaded, no wall clock, no
// real I/O: time is a step counter, the network is raft::sim::Network, durable state is one
// MemoryStorage per node, and all randomness flows from the seed.
//
// A run has two phases:
//   chaos:    `steps` steps of random client operations (proposals, ReadIndex reads,
//             membership changes, leadership transfers, snapshots with compaction) under the
//             seed's swarm faults (message delay/drop/duplication/reordering, one-way and
//             symmetric partitions, crashes that lose whatever a node had not yet persisted,
//             restarts, slow persistence);
//   liveness: every fault stops, every crashed node restarts, the network heals; within
//             `liveness_ticks` ticks a leader must emerge and commit every proposal still
//             pending (clients retry them) plus a final marker proposal.
// Every input to every node is followed by the SafetyChecker's checks and
// RawNode::check_invariants(); the first violation ends the run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raft/planted_bug.h"
#include "raft/sim/checker.h"
#include "raft/sim/coverage.h"

namespace raft::sim {

struct SimOptions {
  uint64_t seed = 1;
  int nodes = 3;                               // initial voters: 3 or 5
  uint64_t steps = 3000;                       // chaos phase length
  uint64_t liveness_ticks = 400;               // budget of the liveness phase
  bool keep_trace = false;                     // keep the readable event trace (costs time)
  PlantedBug planted_bug = PlantedBug::kNone;  // raft/planted_bug.h (test builds only)
};

struct SeedResult {
  uint64_t seed = 0;
  std::optional<Violation> violation;  // safety, liveness or a core assertion
  uint64_t failed_at_step = 0;
  uint64_t steps_run = 0;
  uint64_t trace_hash = 0;
  uint64_t trace_events = 0;
  std::string profile;  // the swarm profile drawn for the seed
  Coverage coverage;
  std::vector<std::string> trace;  // readable events, when keep_trace

  bool ok() const { return !violation.has_value(); }
};

// Runs one seed. Installs base's fatal hook for the duration (so a core assertion becomes a
// violation of this seed) and restores the previous one.
SeedResult run_seed(const SimOptions& options);

}  // namespace raft::sim
