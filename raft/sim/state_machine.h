// The simulated application state machine: the list of applied normal payloads, the
// configuration as of the applied index, and a chain hash over every applied entry (of every
// type) that names the whole applied prefix: chain(i) = xxh3(chain(i-1), term, type, data).
// Two replicas with equal chain hashes at index i applied the same sequence up to i, so the
// checker compares one number per index instead of whole histories.
//
// Snapshot data is serialize(): what a real node would write to its snapshot file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "raft/raw_node.h"
#include "raft/types.h"

namespace raft::sim {

class StateMachine {
 public:
  StateMachine() = default;
  explicit StateMachine(ConfState initial_conf) : conf_(std::move(initial_conf)) {}

  Index applied_index() const { return applied_index_; }
  Term applied_term() const { return applied_term_; }
  uint64_t chain_hash() const { return chain_hash_; }
  const ConfState& conf() const { return conf_; }
  const std::vector<std::string>& payloads() const { return payloads_; }

  // Applies one committed entry. The caller (the checker) verifies entry.index is the next
  // index; here it is only recorded. A configuration entry whose bytes do not decode is
  // counted as applied and changes nothing (the core validates before proposing).
  void apply(const Entry& entry);

  std::string serialize() const;
  static base::Result<StateMachine> deserialize(std::string_view bytes);

  static uint64_t chain(uint64_t previous, const Entry& entry);

 private:
  Index applied_index_ = 0;
  Term applied_term_ = 0;
  uint64_t chain_hash_ = 0;
  ConfState conf_;
  std::vector<std::string> payloads_;
};

// The configuration after one change (thesis §4.1: one node at a time). Adding a voter that is
// a learner promotes it; adding a learner that is a voter demotes it; removing drops the node
// from both lists. Changes that change nothing leave the configuration as it is.
ConfState apply_conf_change(const ConfState& conf, const ConfChange& change);

}  // namespace raft::sim
