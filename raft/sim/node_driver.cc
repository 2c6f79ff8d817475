// One simulated node: its side of the Ready contract (NodeIo, driven by raft::ReadyDriver,
// the driver kvd runs), crash, restart and storage faults (see cluster.h).
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
  kEvPersistFailed,
  kEvStorageLost,
  kEvRepaired,
  kEvProgressReset,
};

}  // namespace

// MemoryStorage is the durable store, the simulated network carries the messages, the
// StateMachine applies; every step is reported to the checker as it happens.
class Cluster::NodeIo final : public ReadyIo {
 public:
  NodeIo(Cluster& cluster, SimNode& node) : cluster_(cluster), node_(node) {}

  base::Status persist_snapshot(const Snapshot& snapshot) override {
    RETURN_IF_ERROR(cluster_.check_disk(node_));
    base::Status s = node_.storage->apply_snapshot(snapshot);
    ENSURE_MSG(s.is_ok(), "node {}: the core handed over a snapshot storage refuses: {}", node_.id,
               s.to_string());
    return base::Status::ok();
  }
  base::Status persist_entries(const std::vector<Entry>& entries) override {
    RETURN_IF_ERROR(cluster_.check_disk(node_));
    node_.storage->append(entries);
    cluster_.checker_.on_entries_persisted(node_.id, entries, *node_.storage);
    return base::Status::ok();
  }
  base::Status persist_hard_state(const HardState& hard_state) override {
    RETURN_IF_ERROR(cluster_.check_disk(node_));
    if (hard_state.term > node_.storage->hard_state().term) {
      cluster_.checker_.on_term_raised(node_.id, hard_state.term, node_.raft->status().conf.voters);
    }
    node_.storage->set_hard_state(hard_state);
    cluster_.checker_.on_hard_state_persisted(node_.id, hard_state);
    return base::Status::ok();
  }
  base::Status sync() override { return base::Status::ok(); }
  void send(Message message) override { cluster_.send(node_, std::move(message)); }
  void apply_snapshot(const Snapshot& snapshot) override {
    cluster_.apply_snapshot(node_, snapshot);
  }
  void apply_entry(const Entry& entry) override { cluster_.apply_entry(node_, entry); }
  void deliver_read_states(std::vector<ReadState> read_states) override {
    cluster_.serve_reads(node_, std::move(read_states));
  }

 private:
  Cluster& cluster_;
  SimNode& node_;
};

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
  node->inputs_while_persisting = profile_.inputs_while_persisting;
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
  config.planted_bug = options_.planted_bug;
#endif
  return config;
}

// A storage that lost state contradicts itself, or not; the core must then be told. Both ways
// (Config::amnesiac, become_amnesiac() as on a peer's hello) are drawn, and a storage whose
// contradiction the core detects by itself is sometimes not flagged at all.
void Cluster::start(SimNode& node) {
  Config config = node_config(node);
  const MemoryStorage& storage = *node.storage;
  const bool self_evident = storage.hard_state().commit > storage.last_index() ||
                            storage.hard_state().term < storage.term(storage.last_index());
  const uint64_t how = rng_.uniform(self_evident ? 3 : 2);
  if (node.amnesiac_on_disk && how == 0) config.amnesiac = true;
  node.raft = std::make_unique<RawNode>(config, storage);
  if (node.amnesiac_on_disk && how == 1) node.raft->become_amnesiac();
  node.io = std::make_unique<NodeIo>(*this, node);
  node.driver =
      std::make_unique<ReadyDriver>(*node.raft, *node.io, profile_.leader_sends_before_persist);
  node.persist_failed = false;
  node.amnesiac = node.raft->status().amnesiac;
  // A healthy restart is never taken for amnesia; a half-persisted Ready may be.
  if (node.crashed_mid_persist && self_evident) node.amnesiac_on_disk = true;
  node.crashed_mid_persist = false;
  ENSURE_MSG(node.amnesiac == node.amnesiac_on_disk, "node {} restarts amnesiac={}, expected {}",
             node.id, node.amnesiac, node.amnesiac_on_disk);
  const Snapshot snap = storage.snapshot();
  if (snap.data != nullptr && snap.meta.index > 0) {
    base::Result<StateMachine> restored = StateMachine::deserialize(*snap.data);
    ENSURE_MSG(restored.is_ok(), "node {}: own snapshot unreadable", node.id);
    node.state_machine = std::move(restored).value();
  } else {
    node.state_machine = StateMachine(ConfState{initial_voters_, {}});
  }
  node.last_role = Role::kFollower;
  node.last_term = storage.hard_state().term;
  checker_.on_restart(node.id);
  trace({kEvStart, node.id, node.lives, node.amnesiac ? 1u : 0u}, [&] {
    return fmt::format("start node {} (life {}{}), durable last index {} term {}", node.id,
                       node.lives, node.amnesiac ? ", amnesiac" : "", storage.last_index(),
                       storage.hard_state().term);
  });
  tell_peers_storage_lost(node);
  after_input(node);
}

// The peer hellos: peers learn that this node's storage lost state, and it learns which of
// its peers are unrepaired. Seeds without peers_learn_storage_loss never tell (the core's own
// refusal to vote must then be enough).
void Cluster::tell_peers_storage_lost(SimNode& node) {
  if (!profile_.peers_learn_storage_loss) return;
  for (auto& [id, peer] : nodes_) {
    if (id == node.id || !peer->up()) continue;
    if (node.amnesiac) {
      if (peer->raft->role() == Role::kLeader) {
        checker_.on_leader_told_storage_lost(id, peer->raft->term(), node.id);
      }
      peer->raft->peer_storage_lost(node.id, node.storage->last_index());
      after_input(*peer);
    }
    if (peer->amnesiac_on_disk) node.raft->peer_storage_lost(id, peer->storage->last_index());
  }
}

void Cluster::crash(SimNode& node, const char* why) {
  if (!node.up()) return;
  if (node.in_hand() && !node.driver->persisted()) ++coverage_.unpersisted_lost;
  node.crashed_mid_persist = node.in_hand() && node.persist_failed;
  node.driver.reset();
  node.io.reset();
  node.raft.reset();
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

// A storage fault: the node crashes and its store loses everything (wipe) or the log's tail,
// with the hard state kept or lost (truncate). It restarts amnesiac.
void Cluster::lose_storage(SimNode& node, bool wipe) {
  crash(node, wipe ? "wipe the storage of" : "truncate the log of");
  network_.drop_involving(node.id);
  const bool hard_state_kept = !wipe && rng_.chance(2, 3);
  checker_.on_storage_lost(node.id, hard_state_kept, *node.storage);
  if (wipe) {
    node.storage = std::make_unique<MemoryStorage>();
    ++coverage_.storage_wipes;
  } else {
    MemoryStorage& storage = *node.storage;
    storage.lose_entries_after(rng_.range(storage.first_index() - 1, storage.last_index()));
    if (!hard_state_kept) storage.set_hard_state(HardState{});
    ++coverage_.storage_truncations;
  }
  node.amnesiac_on_disk = true;
  checker_.after_storage_lost(node.id, *node.storage);
  trace({kEvStorageLost, node.id, wipe ? 1u : 0u, node.storage->last_index()}, [&] {
    return fmt::format("node {} lost its storage ({}), durable last index {}{}", node.id,
                       wipe ? "wiped" : "log truncated", node.storage->last_index(),
                       wipe || hard_state_kept ? "" : ", hard state lost");
  });
  node.restart_due_step = now_step_ + rng_.range(profile_.restart_delay_min_steps,
                                                 std::max(profile_.restart_delay_min_steps,
                                                          profile_.restart_delay_max_steps));
}

void Cluster::after_input(SimNode& node) {
  node.raft->check_invariants();
  observe(node);
  if (!profile_.ready_after_batches) take_ready(node);
}

void Cluster::step_node(SimNode& node, const Message& m) {
  const Term term_before = node.raft->term();
  const bool leader_before = node.raft->role() == Role::kLeader;
  node.raft->step(m);
  checker_.on_step(node.id, m, term_before, leader_before, node.raft->term(),
                   node.raft->role() == Role::kLeader);
  after_input(node);
}

void Cluster::observe(SimNode& node) {
  const NodeStatus st = node.raft->status();
  const bool leading = st.role == Role::kLeader;
  checker_.on_node_state(node.id, st.term, leading, st.commit, *node.storage);
  if (leading) {
    // A leader's commit covers only entries durable on a quorum, its own included: check it
    // at the input that moved it, against the storages as they are now.
    checker_.on_commit_observed(node.id, st.commit, *node.storage);
    checker_.on_leader_commit(node.id, st.term, st.commit, st.conf,
                              [this](NodeId id) { return storage_of(id); });
    const uint64_t resets = checker_.on_leader_progress(
        node.id, st.term, st.progress, *node.storage, [this](NodeId id) { return storage_of(id); });
    if (resets > 0) {
      coverage_.progress_resets += resets;
      trace({kEvProgressReset, node.id, resets}, [&] {
        return fmt::format("leader {} reset a follower's progress (its log went backwards)",
                           node.id);
      });
    }
  }
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

void Cluster::take_batched_readys() {
  for (auto& [id, node] : nodes_) {
    if (node->up()) take_ready(*node);
  }
}

void Cluster::take_ready(SimNode& node) {
  if (!node.driver->take()) return;
  node.persist_failed = false;
  trace_ready(node, *node.driver->ready_in_hand());
  uint64_t delay = 0;
  if (profile_.persist_delay_per_mille > 0 && rng_.chance(profile_.persist_delay_per_mille, 1000)) {
    delay = rng_.range(1, profile_.persist_delay_max_steps);
  }
  node.persist_due_step = now_step_ + delay;
  if (delay == 0) finish_ready(node);
}

// Its messages are not in it any more: the driver sent the early ones (traced before this
// line) and holds the rest.
void Cluster::trace_ready(const SimNode& node, const Ready& ready) {
  trace({kEvReady, node.id, ready.entries.size(), ready.committed_entries.size(),
         ready.snapshot ? ready.snapshot->meta.index : 0,
         ready.hard_state ? ready.hard_state->term : 0,
         ready.hard_state ? ready.hard_state->vote : 0},
        [&] {
          return fmt::format(
              "node {} ready: {} entries{}{}, {} to apply", node.id, ready.entries.size(),
              ready.hard_state ? fmt::format(", hard state t{} v{} c{}", ready.hard_state->term,
                                             ready.hard_state->vote, ready.hard_state->commit)
                               : "",
              ready.snapshot ? fmt::format(", snapshot {}", ready.snapshot->meta.index) : "",
              ready.committed_entries.size());
        });
}

// Disk full: while it lasts, each persist stage fails with a good chance, so some Readys fail
// part-way and are resumed at the stage that failed.
base::Status Cluster::check_disk(SimNode& node) {
  if (now_step_ >= node.disk_full_until_step || !rng_.chance(3, 4)) return base::Status::ok();
  return base::Status(base::Code::kResourceExhausted,
                      fmt::format("no space left on the data disk of node {}", node.id));
}

void Cluster::finish_ready(SimNode& node) {
  base::Status s = node.driver->finish();
  if (!s.is_ok()) {
    ENSURE_MSG(s.code() == base::Code::kResourceExhausted, "node {}: {}", node.id, s.to_string());
    node.persist_failed = true;  // retried next step; inputs keep coming meanwhile
    node.persist_due_step = now_step_ + 1;
    ++coverage_.persist_failures;
    trace({kEvPersistFailed, node.id},
          [&] { return fmt::format("node {}: {}", node.id, s.message()); });
    return;
  }
  node.persist_failed = false;
  after_advance(node);
}

void Cluster::after_advance(SimNode& node) {
  if (node.refresh_snapshot) {
    // Like etcd's server, a leader that ships a snapshot ships its current state: the core
    // sends storage.snapshot(), and a follower refuses one whose configuration predates it.
    node.refresh_snapshot = false;
    snapshot(node);
  }
  // Reads answered earlier wait for the state machine to reach their index.
  if (!node.waiting_reads.empty()) serve_reads(node, {});
  const NodeStatus st = node.raft->status();
  // The persisted commit, not the one in memory: inputs that arrived while this Ready was
  // persisted may have moved commit over entries that are not durable yet.
  checker_.on_commit_observed(node.id, node.storage->hard_state().commit, *node.storage);
  if (node.amnesiac && !st.amnesiac) {
    // Repaired: what kvd records in its storage identity file, and tells its peers.
    node.amnesiac_on_disk = false;
    ++coverage_.repairs;
    trace({kEvRepaired, node.id, st.last_index},
          [&] { return fmt::format("node {} repaired (last index {})", node.id, st.last_index); });
    for (auto& [id, peer] : nodes_) {
      if (id == node.id || !peer->up() || !profile_.peers_learn_storage_loss) continue;
      peer->raft->peer_storage_repaired(node.id);
      after_input(*peer);
    }
  }
  node.amnesiac = st.amnesiac;
  after_input(node);
}

void Cluster::send(SimNode& node, Message m) {
  checker_.on_message_sent(m, *node.storage);
  if (m.type == MessageType::kSnapshot) node.refresh_snapshot = true;
  trace({kEvSend, m.from, m.to, static_cast<uint64_t>(m.type), m.term, m.index, m.log_term,
         m.commit, m.entries.size(), m.reject ? 1u : 0u},
        [&] { return "send " + describe(m); });
  network_.send(std::move(m), now_step_, rng_);
}

void Cluster::apply_snapshot(SimNode& node, const Snapshot& snapshot) {
  const SnapshotMeta& meta = snapshot.meta;
  ENSURE_MSG(snapshot.data != nullptr, "node {}: snapshot without data", node.id);
  base::Result<StateMachine> restored = StateMachine::deserialize(*snapshot.data);
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

void Cluster::serve_reads(SimNode& node, std::vector<ReadState> answered) {
  // raw_node.h step 5: a read may be served once applied >= its read index.
  node.waiting_reads.insert(node.waiting_reads.end(), std::make_move_iterator(answered.begin()),
                            std::make_move_iterator(answered.end()));
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
