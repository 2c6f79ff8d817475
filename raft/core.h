// Internal: the state and handlers behind RawNode (raw_node.h). Split by concept:
//   core.cc          roles, ticks, elections' bookkeeping, the message outbox
//   ignore_filter.cc what untrusted input is dropped before any handler runs, term rules
//   on_election.cc   kVote/kPreVote and their responses, kTimeoutNow
//   replication.cc   sending appends/snapshots/heartbeats, commit rule
//   on_replication.cc kAppend/kHeartbeat/kSnapshot and their responses
//   read_index.cc    ReadIndex rounds (thesis §6.4)
//   amnesia.cc       a node (or a peer) whose storage lost what it promised (raw_node.h)
//   membership.cc    configuration changes, proposals, leadership transfer
//   ready.cc         Ready/advance, status, check_invariants
// After the ignore filter, handlers assert their preconditions with ENSURE.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/rng.h"
#include "raft/progress.h"
#include "raft/raft_log.h"
#include "raft/raw_node.h"

namespace raft {

// The context of a vote request sent because of kTimeoutNow: it bypasses the leader lease.
inline constexpr const char* kTransferContext = "transfer";

struct PendingRead {
  std::string context;
  NodeId requester = kNoNode;  // this node, or a follower that forwarded the read
  Index index = 0;             // the read index, fixed when its round starts
  uint64_t round = 0;          // 0: waiting for a round to start
};

struct RawNode::Impl {
  Impl(const Config& config, const LogStorage& storage);

  // --- state ---
  Config config;
  base::Rng rng;
  NodeId id;
  Term term = 0;
  NodeId vote = kNoNode;
  RaftLog log;
  Role role = Role::kFollower;
  NodeId leader = kNoNode;
  ConfState conf;                       // the configuration of the applied log prefix
  std::map<NodeId, Progress> progress;  // leader only: every voter and learner, self included
  std::map<NodeId, bool> votes;         // (pre-)candidate only
  int election_elapsed = 0;
  int heartbeat_elapsed = 0;
  int randomized_election_timeout = 0;
  Index pending_conf_index = 0;  // leader: no new conf change until applied >= this
  NodeId transfer_target = kNoNode;
  uint64_t uncommitted_bytes = 0;
  bool append_broadcast_pending = false;  // leader: proposals wait for one batched append
  std::deque<PendingRead> pending_reads;
  uint64_t read_round = 0;
  std::map<uint64_t, std::set<NodeId>> read_round_acks;
  std::vector<Message> outbox;
  std::vector<ReadState> read_states;
  HardState last_hard_state;  // as last handed to the driver (or recovered)
  bool ready_outstanding = false;
  Index withheld_from = 0;   // planted bug 3 only: entries from here wait one more Ready
  Index bug3_seen_last = 0;  // planted bug 3 only: last index at the previous ready()
  uint64_t ignored_messages = 0;
  mutable Term invariant_term = 0;
  mutable Index invariant_commit = 0;

  // Amnesia (raw_node.h, "Amnesia"). While amnesiac: no votes, no campaigns. repair_term is
  // the term whose leader is repairing us and repair_commit the commit index that leader sent
  // in its first append we got while amnesiac; repaired_at > 0 once our log matches that
  // leader up to an index meeting both conditions (it counts once durable, in advance()).
  bool amnesiac = false;
  Term repair_term = 0;
  Index repair_commit = 0;
  Index repaired_at = 0;
  std::set<NodeId> untrusted_peers;  // their vote grants do not count (peer_storage_lost)
  uint64_t probes_numbered = 0;      // leader: probes sent to followers with a match

  bool bug(PlantedBug which) const;

  // --- core.cc ---
  void recover(const LogStorage& storage);
  void bootstrap();
  void reset(Term new_term);
  void become_follower(Term new_term, NodeId new_leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  bool promotable() const;
  void hup(bool transfer);
  void campaign(bool pre_vote, bool transfer);
  void tick();
  void tick_election();
  void tick_leader();
  bool quorum_active() const;
  void send(Message message);
  bool is_voter(NodeId node) const;
  bool is_member(NodeId node) const;

  // --- ignore_filter.cc ---
  const char* ignore_reason(const Message& m) const;
  bool step_term(const Message& m);
  void step(const Message& m);
  void dispatch(const Message& m);

  // --- on_election.cc ---
  void on_vote(const Message& m);
  void on_vote_response(const Message& m);
  void on_timeout_now(const Message& m);

  // --- replication.cc ---
  bool maybe_send_append(NodeId to, bool send_if_empty);
  bool send_snapshot(NodeId to, Progress& pr);
  void broadcast_append();
  void broadcast_heartbeat(const std::string& context);
  bool maybe_commit();
  void append_as_leader(std::vector<Entry> entries);

  // --- on_replication.cc ---
  void on_append(const Message& m);
  void note_repair_progress(const Message& m, Index matched_to);
  bool maybe_reset_lost_follower(const Message& m, Progress& pr, Index next_probe);
  void on_append_response(const Message& m);
  void on_heartbeat(const Message& m);
  void on_heartbeat_response(const Message& m);
  void on_snapshot(const Message& m);

  // --- read_index.cc ---
  void read_index(std::string context, NodeId requester);
  bool committed_in_term() const;
  bool read_round_wanted() const;
  void start_read_round();
  std::string current_read_context() const;
  void ack_read_round(const std::string& context, NodeId from);
  void release_read(const PendingRead& read);
  void on_read_index_response(const Message& m);

  // --- amnesia.cc ---
  void become_amnesiac();
  void maybe_finish_repair();
  void peer_storage_lost(NodeId peer, Index peer_last_index);
  void peer_storage_repaired(NodeId peer);

  // --- membership.cc ---
  base::Status propose(std::string data);
  base::Status propose_conf_change(const ConfChange& change);
  base::Status validate_conf_change(const ConfChange& change) const;
  base::Status accept_proposal(Entry entry);
  void on_propose(const Message& m);
  void apply_conf_change(const ConfChange& change);
  void apply_conf_state(const ConfState& conf_state);
  void transfer_leadership(NodeId target);

  // --- ready.cc ---
  HardState hard_state_to_persist() const;
  bool has_ready() const;
  Ready ready();
  void advance(const Ready& ready);
  NodeStatus status() const;
  void check_invariants() const;
};

}  // namespace raft
