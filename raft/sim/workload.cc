// Client operations and faults of the chaos phase (see cluster.h).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/check.h"
#include "raft/sim/cluster.h"

namespace raft::sim {
namespace {

enum Event : uint64_t {
  kEvPropose = 20,
  kEvRead,
  kEvConfChange,
  kEvTransfer,
  kEvSnapshot,
  kEvPartition,
  kEvHeal,
};

constexpr size_t kMinVoters = 2;
constexpr size_t kMaxVoters = 7;
constexpr NodeId kNodePoolSize = 12;  // ids 1..12; never reused once removed

const char* conf_change_name(ConfChange::Type type) {
  switch (type) {
    case ConfChange::Type::kAddVoter:
      return "add voter";
    case ConfChange::Type::kAddLearner:
      return "add learner";
    case ConfChange::Type::kRemoveNode:
      return "remove";
  }
  return "?";
}

}  // namespace

SimNode* Cluster::random_idle_node() {
  std::vector<SimNode*> idle;
  for (auto& [id, node] : nodes_) {
    if (node->takes_inputs()) idle.push_back(node.get());
  }
  return idle.empty() ? nullptr : idle[rng_.uniform(idle.size())];
}

SimNode* Cluster::random_up_node() {
  std::vector<SimNode*> up;
  for (auto& [id, node] : nodes_) {
    if (node->up()) up.push_back(node.get());
  }
  return up.empty() ? nullptr : up[rng_.uniform(up.size())];
}

void Cluster::client_operation() {
  const SwarmProfile& p = profile_;
  if (rng_.chance(p.propose_per_mille, 1000)) {
    if (SimNode* n = random_idle_node()) propose(*n);
  }
  if (p.read_per_mille > 0 && rng_.chance(p.read_per_mille, 1000)) {
    if (SimNode* n = random_idle_node()) read(*n);
  }
  if (p.conf_change_per_mille > 0 && rng_.chance(p.conf_change_per_mille, 1000)) {
    change_membership();
  }
  if (p.transfer_per_mille > 0 && rng_.chance(p.transfer_per_mille, 1000)) {
    transfer_leadership();
  }
  if (p.snapshot_per_mille > 0 && rng_.chance(p.snapshot_per_mille, 1000)) {
    if (SimNode* n = random_idle_node()) snapshot(*n);
  }
}

void Cluster::propose(SimNode& node) {
  std::string payload = fmt::format("p{}", next_proposal_++);
  base::Status s = node.raft->propose(payload);
  trace({kEvPropose, node.id, next_proposal_, s.is_ok() ? 1u : 0u}, [&] {
    return fmt::format("client proposes {} on node {}: {}", payload, node.id, s.to_string());
  });
  if (s.is_ok()) {
    ++coverage_.proposals;
    pending_proposals_.emplace(payload, now_step_);
  }
  after_input(node);
}

void Cluster::read(SimNode& node) {
  const uint64_t id = next_read_++;
  checker_.on_read_started(id);
  pending_reads_[id] = PendingRead{node.id, max_leader_term_};
  ++coverage_.reads_started;
  trace({kEvRead, node.id, id, checker_.acknowledged_index()}, [&] {
    return fmt::format("client reads on node {} (read {}, acknowledged index {})", node.id, id,
                       checker_.acknowledged_index());
  });
  node.raft->read_index(fmt::format("r{}", id));
  after_input(node);
}

void Cluster::change_membership() {
  SimNode* leader = find(current_leader());
  if (leader == nullptr || !leader->takes_inputs()) return;
  const ConfState conf = leader->raft->status().conf;
  std::vector<ConfChange> choices;
  const bool can_add = next_node_id_ <= kNodePoolSize && conf.voters.size() < kMaxVoters;
  if (can_add) {
    choices.push_back({ConfChange::Type::kAddLearner, next_node_id_, ""});
    choices.push_back({ConfChange::Type::kAddVoter, next_node_id_, ""});
  }
  for (NodeId l : conf.learners) {
    if (conf.voters.size() < kMaxVoters) choices.push_back({ConfChange::Type::kAddVoter, l, ""});
    choices.push_back({ConfChange::Type::kRemoveNode, l, ""});
  }
  // While a node is amnesiac, fewer voters could leave no quorum of trustworthy ones (the
  // storage-fault budget in inject_storage_faults assumes the voters it saw).
  if (conf.voters.size() > kMinVoters && amnesiac_count() == 0) {
    for (NodeId v : conf.voters) choices.push_back({ConfChange::Type::kRemoveNode, v, ""});
  }
  if (choices.empty()) return;
  const ConfChange change = choices[rng_.uniform(choices.size())];
  base::Status s = leader->raft->propose_conf_change(change);
  trace({kEvConfChange, leader->id, static_cast<uint64_t>(change.type), change.node,
         s.is_ok() ? 1u : 0u},
        [&] {
          return fmt::format("client asks leader {} to {} node {}: {}", leader->id,
                             conf_change_name(change.type), change.node, s.to_string());
        });
  if (s.is_ok()) {
    if (change.type == ConfChange::Type::kRemoveNode && change.node == leader->id) {
      removal_proposed_while_leading_[leader->id] = leader->raft->status().term;
    }
    if (change.node == next_node_id_) {
      ++next_node_id_;
      add_node(change.node, false);
    }
  }
  after_input(*leader);
}

void Cluster::transfer_leadership() {
  SimNode* leader = find(current_leader());
  if (leader == nullptr || !leader->takes_inputs()) return;
  const NodeStatus st = leader->raft->status();
  std::vector<NodeId> targets;
  for (NodeId v : st.conf.voters) {
    if (v != leader->id) targets.push_back(v);
  }
  if (targets.empty()) return;
  const NodeId target = targets[rng_.uniform(targets.size())];
  ++coverage_.transfers_requested;
  transfer_ = PendingTransfer{target, st.term, now_step_ + 400};
  trace({kEvTransfer, leader->id, target}, [&] {
    return fmt::format("client asks leader {} to transfer leadership to {}", leader->id, target);
  });
  leader->raft->transfer_leadership(target);
  after_input(*leader);
}

void Cluster::snapshot(SimNode& node) {
  MemoryStorage& storage = *node.storage;
  const StateMachine& sm = node.state_machine;
  if (sm.applied_index() <= storage.first_index() - 1) return;
  base::Status s = storage.create_snapshot(sm.applied_index(), sm.conf(),
                                           std::make_shared<const std::string>(sm.serialize()));
  ENSURE_MSG(s.is_ok(), "node {}: create_snapshot at applied index {}: {}", node.id,
             sm.applied_index(), s.to_string());
  // Compact exactly to the snapshot: storage.h promises first_index() - 1 is the snapshot's
  // index, and the core restarts applying from there.
  s = storage.compact(sm.applied_index());
  ENSURE_MSG(s.is_ok(), "node {}: compact to {}: {}", node.id, sm.applied_index(), s.to_string());
  ++coverage_.snapshots_created;
  trace({kEvSnapshot, node.id, sm.applied_index()}, [&] {
    return fmt::format("node {} snapshots at index {} and compacts its log", node.id,
                       sm.applied_index());
  });
}

void Cluster::inject_faults() {
  const SwarmProfile& p = profile_;
  if (p.crash_per_mille > 0 && rng_.chance(p.crash_per_mille, 1000)) {
    if (SimNode* n = random_up_node()) {
      crash(*n, "crash");
      ++coverage_.crashes;
      n->restart_due_step =
          now_step_ + rng_.range(p.restart_delay_min_steps,
                                 std::max(p.restart_delay_min_steps, p.restart_delay_max_steps));
    }
  }
  inject_storage_faults();
  if (partition_heal_step_ && now_step_ >= *partition_heal_step_) {
    network_.heal_all();
    partition_heal_step_.reset();
    trace({kEvHeal}, [] { return std::string("network heals"); });
  }
  if (!partition_heal_step_ && p.partition_per_mille > 0 &&
      rng_.chance(p.partition_per_mille, 1000)) {
    start_partition();
  }
}

size_t Cluster::amnesiac_count() const {
  size_t n = 0;
  for (const auto& [id, node] : nodes_) n += !node->retired && node->amnesiac_on_disk ? 1 : 0;
  return n;
}

// Storage faults and disk full. At most a minority of the voters is amnesiac at once: with
// more, no quorum could elect a leader that holds every committed entry, and the cluster is
// rightly unavailable until an operator steps in.
void Cluster::inject_storage_faults() {
  const SwarmProfile& p = profile_;
  if (p.disk_full_per_mille > 0 && rng_.chance(p.disk_full_per_mille, 1000)) {
    if (SimNode* n = random_up_node()) {
      n->disk_full_until_step = now_step_ + rng_.range(1, p.disk_full_max_steps);
    }
  }
  const bool wipe = p.wipe_per_mille > 0 && rng_.chance(p.wipe_per_mille, 1000);
  const bool truncate =
      !wipe && p.truncate_per_mille > 0 && rng_.chance(p.truncate_per_mille, 1000);
  if (!wipe && !truncate) return;
  // The voters that count: those of a leader that has applied its whole log, so no
  // configuration change is pending (and removals wait while a node is amnesiac), and which
  // every node has applied too: a node campaigns with the configuration it applied, and one
  // with an older, smaller one could need the amnesiac node's vote.
  const SimNode* leader = find(current_leader());
  if (leader == nullptr) return;
  const NodeStatus st = leader->raft->status();
  if (st.applied != st.last_index) return;
  if (2 * (amnesiac_count() + 1) >= st.conf.voters.size()) return;
  for (const auto& [id, node] : nodes_) {
    if (node->retired) continue;
    if (!node->up() || node->raft->status().conf != st.conf) return;
  }
  std::vector<SimNode*> candidates;
  for (auto& [id, node] : nodes_) {
    if (!node->retired && !node->amnesiac_on_disk) candidates.push_back(node.get());
  }
  if (candidates.empty()) return;
  lose_storage(*candidates[rng_.uniform(candidates.size())], wipe);
}

void Cluster::start_partition() {
  std::vector<NodeId> ids;
  for (auto& [id, node] : nodes_) {
    if (!node->retired) ids.push_back(id);
  }
  if (ids.size() < 2) return;
  const uint64_t kind = rng_.uniform(3);
  std::string what;
  if (kind == 0) {  // isolate one node, both ways
    const NodeId lone = ids[rng_.uniform(ids.size())];
    for (NodeId other : ids) {
      if (other != lone) network_.cut_both(lone, other);
    }
    what = fmt::format("isolate node {}", lone);
  } else if (kind == 1) {  // split into two random sides
    std::vector<NodeId> side_a, side_b;
    for (NodeId id : ids) (rng_.chance(1, 2) ? side_a : side_b).push_back(id);
    for (NodeId a : side_a) {
      for (NodeId b : side_b) network_.cut_both(a, b);
    }
    what = fmt::format("split {} | {}", fmt::join(side_a, ","), fmt::join(side_b, ","));
  } else {  // one-way cuts: A cannot reach B, B still reaches A
    const uint64_t links = rng_.range(1, 3);
    for (uint64_t i = 0; i < links; ++i) {
      const NodeId a = ids[rng_.uniform(ids.size())];
      const NodeId b = ids[rng_.uniform(ids.size())];
      if (a == b) continue;
      network_.cut(a, b);
      what += fmt::format("{}{}->{}", what.empty() ? "one-way cut " : ", ", a, b);
    }
  }
  if (network_.cut_link_count() == 0) return;
  ++coverage_.partitions;
  partition_heal_step_ =
      now_step_ + rng_.range(profile_.partition_min_steps,
                             std::max(profile_.partition_min_steps, profile_.partition_max_steps));
  trace({kEvPartition, kind, network_.cut_link_count()}, [&] { return "partition: " + what; });
}

}  // namespace raft::sim
