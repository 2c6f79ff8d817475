// Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012): every seed draws its own fault and
// workload rates, so some seeds hammer one kind of fault while others see none at all. Rates are
// per simulated step, in per-mille unless named otherwise.
#pragma once

#include <cstdint>
#include <string>

#include "base/rng.h"
#include "raft/sim/network.h"

namespace raft::sim {

struct SwarmProfile {
  NetworkFaults network;
  uint32_t crash_per_mille = 0;  // a running node crashes
  uint64_t restart_delay_min_steps = 20;
  uint64_t restart_delay_max_steps = 200;
  uint32_t partition_per_mille = 0;  // a partition starts (when none is active)
  uint64_t partition_min_steps = 50;
  uint64_t partition_max_steps = 400;
  uint32_t persist_delay_per_mille = 0;  // handling a Ready takes a while (a slow fsync)
  uint64_t persist_delay_max_steps = 1;
  uint32_t tick_per_mille = 250;  // each node ticks with this chance per step (clock drift)
  uint32_t propose_per_mille = 0;
  uint32_t read_per_mille = 0;
  uint32_t conf_change_per_mille = 0;
  uint32_t transfer_per_mille = 0;
  uint32_t snapshot_per_mille = 0;  // a node snapshots its state machine and compacts its log
  bool leader_sends_before_persist = false;  // raw_node.h allows it for leaders
  uint64_t max_append_bytes = 256;  // 1: one entry per append (followers ack entry by entry)
  int max_inflight_appends = 8;

  bool faulty() const;
  std::string describe() const;
};

// Draws a profile; about one seed in eight gets no faults at all.
SwarmProfile draw_profile(base::Rng& rng);

}  // namespace raft::sim
