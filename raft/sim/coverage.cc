#include "raft/sim/coverage.h"

#include <fmt/format.h>

namespace raft::sim {
namespace {

struct Field {
  const char* name;
  uint64_t Coverage::*member;
};

constexpr Field kFields[] = {
    {"elections_won", &Coverage::elections_won},
    {"leader_deposed_uncommitted", &Coverage::leader_deposed_uncommitted},
    {"proposals", &Coverage::proposals},
    {"proposals_committed", &Coverage::proposals_committed},
    {"reads_started", &Coverage::reads_started},
    {"reads_served", &Coverage::reads_served},
    {"reads_across_leader_change", &Coverage::reads_across_leader_change},
    {"snapshots_created", &Coverage::snapshots_created},
    {"snapshots_installed", &Coverage::snapshots_installed},
    {"membership_changes", &Coverage::membership_changes},
    {"leader_removed", &Coverage::leader_removed},
    {"transfers_requested", &Coverage::transfers_requested},
    {"transfers_completed", &Coverage::transfers_completed},
    {"crashes", &Coverage::crashes},
    {"restarts", &Coverage::restarts},
    {"unpersisted_lost", &Coverage::unpersisted_lost},
    {"persist_failures", &Coverage::persist_failures},
    {"storage_wipes", &Coverage::storage_wipes},
    {"storage_truncations", &Coverage::storage_truncations},
    {"repairs", &Coverage::repairs},
    {"progress_resets", &Coverage::progress_resets},
    {"partitions", &Coverage::partitions},
    {"messages_sent", &Coverage::messages_sent},
    {"messages_dropped", &Coverage::messages_dropped},
    {"messages_duplicated", &Coverage::messages_duplicated},
    {"messages_cut", &Coverage::messages_cut},
};

}  // namespace

void Coverage::add(const Coverage& other) {
  for (const Field& f : kFields) this->*f.member += other.*f.member;
}

std::string Coverage::describe() const {
  std::string out;
  for (const Field& f : kFields) {
    out += fmt::format("{}{}={}", out.empty() ? "" : " ", f.name, this->*f.member);
  }
  return out;
}

}  // namespace raft::sim
