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
  // false: a Ready after every input; true: as kvd, a node takes its inputs of a whole step
  // (deliveries, its tick, client requests) and then one Ready, so a conflicting append can
  // meet a non-empty unstable tail.
  bool ready_after_batches = false;
  // Inputs also reach a node while its Ready is being persisted (the contract allows inputs
  // between ready() and advance(); a driver with asynchronous writes does this, kvd does it
  // while a disk is full): conflicting appends then meet a tail still being written.
  bool inputs_while_persisting = false;
  uint64_t max_append_bytes = 256;  // 1: one entry per append (followers ack entry by entry)
  int max_inflight_appends = 8;
  // Disk full: a node's persistence fails (kResourceExhausted) for a while; it keeps its Ready,
  // keeps taking inputs, and retries every step.
  uint32_t disk_full_per_mille = 0;
  uint64_t disk_full_max_steps = 1;
  // Storage faults (a crash that loses more than unsynced writes): the node restarts with
  // empty storage, or with its durable log cut at a random index (hard state intact or lost).
  // It restarts amnesiac (raw_node.h) and must be repaired by the leader.
  uint32_t wipe_per_mille = 0;
  uint32_t truncate_per_mille = 0;
  bool peers_learn_storage_loss = false;  // peers are told (peer hello), or never find out

  bool faulty() const;
  std::string describe() const;
};

// Draws a profile; about one seed in eight gets no faults at all.
SwarmProfile draw_profile(base::Rng& rng);

}  // namespace raft::sim
