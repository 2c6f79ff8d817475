// How often a run reached the paths worth testing. A simulator that never deposes a leader
// holding uncommitted entries proves little about that path, so the summary prints these.
#pragma once

#include <cstdint>
#include <string>

namespace raft::sim {

struct Coverage {
  uint64_t elections_won = 0;               // distinct (term, leader) pairs observed
  uint64_t leader_deposed_uncommitted = 0;  // a leader lost its role holding uncommitted entries
  uint64_t proposals = 0;                   // accepted by propose()
  uint64_t proposals_committed = 0;         // applied somewhere (acknowledged to the client)
  uint64_t reads_started = 0;
  uint64_t reads_served = 0;
  uint64_t reads_across_leader_change = 0;  // served after a newer term had a leader
  uint64_t snapshots_created = 0;
  uint64_t snapshots_installed = 0;  // a node received a snapshot through a Ready
  uint64_t membership_changes = 0;   // configuration entries applied (counted once)
  uint64_t leader_removed = 0;       // a node removed while it led
  uint64_t transfers_requested = 0;
  uint64_t transfers_completed = 0;  // the target became leader after the request
  uint64_t crashes = 0;
  uint64_t restarts = 0;
  uint64_t unpersisted_lost = 0;     // crashes that dropped a Ready not yet persisted
  uint64_t persist_failures = 0;     // a Ready failed to persist (disk full) and was kept
  uint64_t storage_wipes = 0;        // a node restarted with empty storage
  uint64_t storage_truncations = 0;  // a node restarted with its durable log cut short
  uint64_t repairs = 0;              // an amnesiac node was repaired by a leader
  uint64_t progress_resets = 0;      // a leader reset a follower's match after a storage loss
  uint64_t partitions = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_dropped = 0;
  uint64_t messages_duplicated = 0;
  uint64_t messages_cut = 0;  // lost to a partition

  void add(const Coverage& other);
  std::string describe() const;  // "name=value" pairs, one line
};

}  // namespace raft::sim
