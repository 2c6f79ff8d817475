// One simulated node: the Ready contract, crash and restart (see cluster.h).
#include <fmt/format.h>

#include "base/check.h"
#include "raft/sim/cluster.h"

namespace raft::sim {
namespace {

enum Event : uint64_t {
  kEvStart = 1,
  kEvCrash,
  kEvRetire,
  kEvReady,
  kEvSend,
  kEvApply,
  kEvSnapshotInstalled,
  kEvRole,
  kEvReadServed,
};

bool promises_durability(const Message& m) {
  return (m.type == MessageType::kVoteResponse || m.type == MessageType::kAppendResponse) &&
         !m.reject;
}

}  // namespace

SimNode* Cluster::find(NodeId id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second.get();
}

const LogStorage* Cluster::storage_of(NodeId id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second->storage.get();
}

SimNode& Cluster::add_node(NodeId id, bool initial_member) {
  auto node = std::make_unique<SimNode>();
  node->id = id;
  node->initial_member = initial_member;
  node->storage = std::make_unique<MemoryStorage>();
  SimNode& ref = *node;
  nodes_.emplace(id, std::move(node));
  start(ref);
  return ref;
}

Config Cluster::node_config(const SimNode& node) const {
  Config config;
  config.id = node.id;
  config.seed = options_.seed * 1000003 + node.id * 101 + node.lives;
  // Bootstrap voters write the initial configuration into their logs; a node added later
  // starts empty and learns it from the leader (raft/README.md, "Bootstrap").
  if (node.initial_member) config.initial_voters = initial_voters_;
  config.max_inflight_appends = profile_.max_inflight_appends;
  config.max_append_bytes = profile_.max_append_bytes;
#ifdef RAFTKV_TEST_HOOKS
  config.planted_bug = static_cast<PlantedBug>(options_.planted_bug);
#endif
  return config;
}

void Cluster::start(SimNode& node) {
  node.raft = std::make_unique<RawNode>(node_config(node), *node.storage);
  const Snapshot snap = node.storage->snapshot();
  if (snap.data != nullptr && snap.meta.index > 0) {
    base::Result<StateMachine> restored = StateMachine::deserialize(*snap.data);
    ENSURE_MSG(restored.is_ok(), "node {}: own snapshot unreadable", node.id);
    node.state_machine = std::move(restored).value();
  } else {
    node.state_machine = StateMachine(ConfState{initial_voters_, {}});
  }
  node.last_role = Role::kFollower;
  node.last_term = node.storage->hard_state().term;
  checker_.on_restart(node.id);
  trace({kEvStart, node.id, node.lives}, [&] {
    return fmt::format("start node {} (life {}), durable last index {} term {}", node.id,
                       node.lives, node.storage->last_index(), node.storage->hard_state().term);
  });
  after_input(node);
}

void Cluster::crash(SimNode& node, const char* why) {
  if (!node.up()) return;
  if (node.in_hand && !node.persisted) ++coverage_.unpersisted_lost;
  node.raft.reset();
  node.in_hand.reset();
  node.waiting_reads.clear();
  ++node.lives;
  trace({kEvCrash, node.id}, [&] { return fmt::format("{} node {}", why, node.id); });
}

void Cluster::retire(SimNode& node) {
  crash(node, "retire removed");
  node.retired = true;
  node.retire_due_step.reset();
  trace({kEvRetire, node.id}, [&] { return fmt::format("node {} retired", node.id); });
}

void Cluster::after_input(SimNode& node) {
  node.raft->check_invariants();
  observe(node);
  if (!node.in_hand && node.raft->has_ready()) take_ready(node);
}

void Cluster::observe(SimNode& node) {
  const NodeStatus st = node.raft->status();
  const bool leading = st.role == Role::kLeader;
  checker_.on_node_state(node.id, st.term, leading, st.commit, *node.storage);
  if (leading && leaders_seen_.insert({st.term, node.id}).second) {
    ++coverage_.elections_won;
    max_leader_term_ = std::max(max_leader_term_, st.term);
    if (transfer_ && transfer_->target == node.id && st.term > transfer_->term_at_request) {
      ++coverage_.transfers_completed;
      transfer_.reset();
    }
  }
  if (node.last_role == Role::kLeader && !leading && st.last_index > st.commit) {
    ++coverage_.leader_deposed_uncommitted;
  }
  if (st.role != node.last_role || st.term != node.last_term) {
    trace({kEvRole, node.id, st.term, static_cast<uint64_t>(st.role)}, [&] {
      return fmt::format("node {} is {} in term {} (commit {}, last {})", node.id,
                         role_name(st.role), st.term, st.commit, st.last_index);
    });
  }
  node.last_role = st.role;
  node.last_term = st.term;
}

void Cluster::take_ready(SimNode& node) {
  node.in_hand = node.raft->ready();
  node.persisted = false;
  node.sent = false;
  const Ready& ready = *node.in_hand;
  trace({kEvReady, node.id, ready.entries.size(), ready.committed_entries.size(),
         ready.messages.size(), ready.snapshot ? ready.snapshot->meta.index : 0,
         ready.hard_state ? ready.hard_state->term : 0,
         ready.hard_state ? ready.hard_state->vote : 0},
        [&] {
          return fmt::format(
              "node {} ready: {} entries{}{}, {} to apply, {} messages", node.id,
              ready.entries.size(),
              ready.hard_state ? fmt::format(", hard state t{} v{} c{}", ready.hard_state->term,
                                             ready.hard_state->vote, ready.hard_state->commit)
                               : "",
              ready.snapshot ? fmt::format(", snapshot {}", ready.snapshot->meta.index) : "",
              ready.committed_entries.size(), ready.messages.size());
        });
  // raw_node.h: a leader may send before its own persist finishes; its log counts toward
  // commit only after advance(). Never for messages that promise durability.
  bool early = profile_.leader_sends_before_persist && node.raft->status().role == Role::kLeader;
  for (const Message& m : ready.messages) early = early && !promises_durability(m);
  if (early) send(node, ready);
  uint64_t delay = 0;
  if (profile_.persist_delay_per_mille > 0 && rng_.chance(profile_.persist_delay_per_mille, 1000)) {
    delay = rng_.range(1, profile_.persist_delay_max_steps);
  }
  node.persist_due_step = now_step_ + delay;
  if (delay == 0) finish_ready(node);
}

void Cluster::finish_ready(SimNode& node) {
  Ready ready = std::move(*node.in_hand);
  persist(node, ready);
  node.persisted = true;
  if (!node.sent) send(node, ready);
  apply(node, ready);
  serve_reads(node, ready.read_states);
  node.raft->advance(ready);
  node.in_hand.reset();
  if (node.refresh_snapshot) {
    // Like etcd's server, a leader that ships a snapshot ships its current state: the core
    // sends storage.snapshot(), and a follower refuses one whose configuration predates it.
    node.refresh_snapshot = false;
    snapshot(node);
  }
  const NodeStatus st = node.raft->status();
  checker_.on_commit_observed(node.id, st.commit, *node.storage);
  if (st.role == Role::kLeader) {
    checker_.on_leader_commit(node.id, st.term, st.commit, st.conf,
                              [this](NodeId id) { return storage_of(id); });
  }
  after_input(node);
}

void Cluster::persist(SimNode& node, const Ready& ready) {
  MemoryStorage& storage = *node.storage;
  if (ready.snapshot) {
    base::Status s = storage.apply_snapshot(*ready.snapshot);
    ENSURE_MSG(s.is_ok(), "node {}: the core handed over a snapshot storage refuses: {}", node.id,
               s.to_string());
  }
  if (!ready.entries.empty()) {
    storage.append(ready.entries);
    checker_.on_entries_persisted(node.id, ready.entries, storage);
  }
  if (ready.hard_state) {
    storage.set_hard_state(*ready.hard_state);
    checker_.on_hard_state_persisted(node.id, *ready.hard_state);
  }
}

void Cluster::send(SimNode& node, const Ready& ready) {
  node.sent = true;
  for (const Message& m : ready.messages) {
    checker_.on_message_sent(m, *node.storage);
    if (m.type == MessageType::kSnapshot) node.refresh_snapshot = true;
    trace({kEvSend, m.from, m.to, static_cast<uint64_t>(m.type), m.term, m.index, m.log_term,
           m.commit, m.entries.size(), m.reject ? 1u : 0u},
          [&] { return "send " + describe(m); });
    network_.send(m, now_step_, rng_);
  }
}

void Cluster::apply(SimNode& node, const Ready& ready) {
  if (ready.snapshot) {
    const SnapshotMeta& meta = ready.snapshot->meta;
    ENSURE_MSG(ready.snapshot->data != nullptr, "node {}: snapshot without data", node.id);
    base::Result<StateMachine> restored = StateMachine::deserialize(*ready.snapshot->data);
    ENSURE_MSG(restored.is_ok(), "node {}: snapshot data unreadable", node.id);
    node.state_machine = std::move(restored).value();
    ENSURE_MSG(node.state_machine.applied_index() == meta.index,
               "snapshot meta index {} but data at {}", meta.index,
               node.state_machine.applied_index());
    checker_.on_snapshot_applied(node.id, meta.index, meta.term, node.state_machine.chain_hash());
    ++coverage_.snapshots_installed;
    trace({kEvSnapshotInstalled, node.id, meta.index, meta.term}, [&] {
      return fmt::format("node {} installed snapshot at index {} term {}", node.id, meta.index,
                         meta.term);
    });
  }
  for (const Entry& e : ready.committed_entries) apply_entry(node, e);
}

void Cluster::apply_entry(SimNode& node, const Entry& e) {
  const Index previous = node.state_machine.applied_index();
  node.state_machine.apply(e);
  checker_.on_applied(node.id, previous, e, node.state_machine.chain_hash());
  trace({kEvApply, node.id, e.index, e.term, static_cast<uint64_t>(e.type)}, [&] {
    return fmt::format("node {} applies {}/t{} {}", node.id, e.index, e.term,
                       e.type == EntryType::kNormal  ? e.data
                       : e.type == EntryType::kEmpty ? "(no-op)"
                                                     : "(conf change)");
  });
  if (e.type == EntryType::kNormal) {
    if (pending_proposals_.erase(e.data) > 0) ++coverage_.proposals_committed;
    return;
  }
  if (e.type != EntryType::kConfChange || !conf_entries_seen_.insert(e.index).second) return;
  ++coverage_.membership_changes;
  base::Result<ConfChange> change = ConfChange::decode(e.data);
  if (!change.is_ok() || change->type != ConfChange::Type::kRemoveNode) return;
  if (removal_proposed_while_leading_.count(change->node) > 0) ++coverage_.leader_removed;
  SimNode* removed = find(change->node);
  // The removed node keeps running a while (it may try to disrupt), then shuts down.
  if (removed != nullptr && !removed->retired && !removed->retire_due_step) {
    removed->retire_due_step = now_step_ + rng_.range(0, 200);
  }
}

void Cluster::serve_reads(SimNode& node, const std::vector<ReadState>& answered) {
  // raw_node.h step 5: a read may be served once applied >= its read index.
  node.waiting_reads.insert(node.waiting_reads.end(), answered.begin(), answered.end());
  std::vector<ReadState> still_waiting;
  for (ReadState& rs : node.waiting_reads) {
    if (rs.index > node.state_machine.applied_index()) {
      still_waiting.push_back(std::move(rs));
      continue;
    }
    const uint64_t id = std::stoull(rs.context.substr(1));
    auto pending = pending_reads_.find(id);
    if (pending == pending_reads_.end()) continue;  // answered already (duplicate)
    checker_.on_read_served(id, node.id, rs.index, node.state_machine.applied_index());
    ++coverage_.reads_served;
    if (max_leader_term_ > pending->second.leader_term_at_start) {
      ++coverage_.reads_across_leader_change;
    }
    trace({kEvReadServed, node.id, id, rs.index, node.state_machine.applied_index()}, [&] {
      return fmt::format("node {} serves read {} at read index {} (applied {})", node.id, id,
                         rs.index, node.state_machine.applied_index());
    });
    pending_reads_.erase(pending);
  }
  node.waiting_reads = std::move(still_waiting);
}

}  // namespace raft::sim
