// The simulated cluster behind run_seed() (simulation.h): nodes, network, client workload,
// faults and the checker, all driven by one seeded Rng. Internal to raft/sim.
//
// Each node's Ready goes through raft/ready_driver.h, the same ReadyDriver kvd runs, with a
// NodeIo whose durable store is MemoryStorage. A Ready is taken after every input, or (seeds
// with ready_after_batches, as kvd) after all of a step's inputs to the node; it is persisted
// possibly some steps later (a slow fsync), then sent, applied, read states delivered, and
// advanced. A node whose persistence failed (disk full) keeps its Ready, keeps taking inputs
// and retries each step. A crash drops the RawNode, the Ready in hand (unless already
// persisted) and everything else in memory; only MemoryStorage survives, unless the fault
// was a storage fault (wipe, truncation). Files: node_driver.cc (one node: Ready handling,
// crash, restart, storage faults), workload.cc (client operations and faults), cluster.cc
// (the step loop and the phases).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/rng.h"
#include "raft/memory_storage.h"
#include "raft/raw_node.h"
#include "raft/ready_driver.h"
#include "raft/sim/checker.h"
#include "raft/sim/coverage.h"
#include "raft/sim/network.h"
#include "raft/sim/profile.h"
#include "raft/sim/simulation.h"
#include "raft/sim/state_machine.h"
#include "raft/sim/trace.h"

namespace raft::sim {

struct SimNode {
  NodeId id = kNoNode;
  std::unique_ptr<MemoryStorage> storage;  // durable: survives crashes (not storage faults)
  std::unique_ptr<RawNode> raft;           // null while down or retired
  std::unique_ptr<ReadyIo> io;             // the node's side of the Ready contract
  std::unique_ptr<ReadyDriver> driver;     // null while down or retired
  StateMachine state_machine;
  uint64_t persist_due_step = 0;
  uint64_t restart_due_step = 0;
  uint64_t disk_full_until_step = 0;     // persistence fails before this step
  bool persist_failed = false;           // the Ready in hand failed to persist: retry, take inputs
  bool inputs_while_persisting = false;  // the seed's SwarmProfile::inputs_while_persisting
  uint64_t lives = 0;                    // restarts so far (varies the core's election seed)
  bool initial_member = false;    // one of the bootstrap voters (gets Config::initial_voters)
  bool refresh_snapshot = false;  // it sent a snapshot: store a fresher one after advance
  bool retired = false;           // removed from the cluster and shut down for good
  // Its storage lost promised state and it has not been repaired yet (what kvd records in
  // the storage identity file): it restarts amnesiac.
  bool amnesiac_on_disk = false;
  bool amnesiac = false;  // as the core last reported it
  // It crashed with a Ready persisted part-way (disk full): entries without the hard state
  // that goes with them look like a lost hard state, and the core takes no chances.
  bool crashed_mid_persist = false;
  std::optional<uint64_t> retire_due_step;
  std::vector<ReadState> waiting_reads;  // answered, waiting for applied >= index
  Role last_role = Role::kFollower;
  Term last_term = 0;

  bool up() const { return raft != nullptr; }
  bool in_hand() const { return driver != nullptr && driver->in_hand(); }
  bool idle() const { return up() && !in_hand(); }
  // Inputs go to a node with no Ready in hand, or (like kvd's loop) to one whose Ready is
  // waiting for disk space, and, in seeds that say so, to one still persisting its Ready.
  bool takes_inputs() const {
    return up() && (!in_hand() || persist_failed || inputs_while_persisting);
  }
};

struct PendingRead {
  NodeId node = kNoNode;
  Term leader_term_at_start = 0;
};

struct PendingTransfer {
  NodeId target = kNoNode;
  Term term_at_request = 0;
  uint64_t deadline_step = 0;
};

class Cluster {
 public:
  explicit Cluster(const SimOptions& options);
  ~Cluster();

  // Runs both phases; returns when done or at the first violation.
  void run();
  SeedResult result() const;

 private:
  // --- cluster.cc: the loop ---
  void step_once(bool chaos);
  void deliver_messages();
  void tick_nodes();
  void finish_due_ready();
  bool liveness_reached();
  void run_liveness();
  void heal_everything();
  NodeId current_leader() const;  // the up node leading the highest term, or kNoNode

  // --- node_driver.cc: one node ---
  class NodeIo;  // ReadyIo over MemoryStorage, the network and the StateMachine
  friend class NodeIo;
  SimNode& add_node(NodeId id, bool initial_member);
  Config node_config(const SimNode& node) const;
  void start(SimNode& node);
  void crash(SimNode& node, const char* why);
  void retire(SimNode& node);
  void lose_storage(SimNode& node, bool wipe);
  void tell_peers_storage_lost(SimNode& node);
  void after_input(SimNode& node);  // checks, then (per input) takes a Ready if there is one
  void take_ready(SimNode& node);
  void take_batched_readys();
  void finish_ready(SimNode& node);
  void after_advance(SimNode& node);
  void trace_ready(const SimNode& node, const Ready& ready);
  base::Status check_disk(SimNode& node);
  void send(SimNode& node, Message message);
  void apply_snapshot(SimNode& node, const Snapshot& snapshot);
  void apply_entry(SimNode& node, const Entry& entry);
  void serve_reads(SimNode& node, std::vector<ReadState> answered);
  void observe(SimNode& node);
  void step_node(SimNode& node, const Message& message);
  SimNode* find(NodeId id);
  const LogStorage* storage_of(NodeId id) const;

  // --- workload.cc: clients and faults ---
  void client_operation();
  void propose(SimNode& node);
  void read(SimNode& node);
  void change_membership();
  void transfer_leadership();
  void snapshot(SimNode& node);
  void inject_faults();
  void inject_storage_faults();
  void start_partition();
  size_t amnesiac_count() const;
  SimNode* random_idle_node();
  SimNode* random_up_node();

  std::string describe(const Message& m) const;
  template <typename Describe>
  void trace(std::initializer_list<uint64_t> fields, Describe&& describe_event) {
    trace_.event(now_step_, fields, describe_event);
  }

  SimOptions options_;
  base::Rng rng_;
  SwarmProfile profile_;
  Network network_;
  SafetyChecker checker_;
  Trace trace_;
  Coverage coverage_;
  std::vector<NodeId> initial_voters_;
  std::map<NodeId, std::unique_ptr<SimNode>> nodes_;
  NodeId next_node_id_ = 1;
  uint64_t now_step_ = 0;
  std::optional<uint64_t> partition_heal_step_;

  uint64_t next_proposal_ = 0;
  std::map<std::string, uint64_t> pending_proposals_;  // payload -> step proposed
  uint64_t next_read_ = 0;
  std::map<uint64_t, PendingRead> pending_reads_;
  std::set<Index> conf_entries_seen_;
  std::map<NodeId, Term> removal_proposed_while_leading_;  // node -> its term then
  std::optional<PendingTransfer> transfer_;
  std::set<std::pair<Term, NodeId>> leaders_seen_;
  Term max_leader_term_ = 0;
  std::optional<Violation> liveness_failure_;
  uint64_t failed_at_step_ = 0;
};

}  // namespace raft::sim
