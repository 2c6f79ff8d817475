#include "raft/sim/coverage.h"

#include <fmt/format.h>

namespace raft::sim {

#define RAFT_SIM_COVERAGE_FIELDS(X)                                                               \
  X(elections_won)                                                                                \
  X(leader_deposed_uncommitted)                                                                   \
  X(proposals)                                                                                    \
  X(proposals_committed)                                                                          \
  X(reads_started)                                                                                \
  X(reads_served)                                                                                 \
  X(reads_across_leader_change) X(snapshots_created) X(snapshots_installed) X(membership_changes) \
      X(leader_removed) X(transfers_requested) X(transfers_completed) X(crashes) X(restarts)      \
          X(unpersisted_lost) X(partitions) X(messages_sent) X(messages_dropped)                  \
              X(messages_duplicated) X(messages_cut)

void Coverage::add(const Coverage& other) {
#define RAFT_SIM_ADD(name) name += other.name;
  RAFT_SIM_COVERAGE_FIELDS(RAFT_SIM_ADD)
#undef RAFT_SIM_ADD
}

std::string Coverage::describe() const {
  std::string out;
#define RAFT_SIM_DESCRIBE(name) out += fmt::format("{}{}={}", out.empty() ? "" : " ", #name, name);
  RAFT_SIM_COVERAGE_FIELDS(RAFT_SIM_DESCRIBE)
#undef RAFT_SIM_DESCRIBE
  return out;
}

}  // namespace raft::sim
