// The safety checker of the simulator. The driver reports what each node does, at the moment
// it does it (a Ready persisted, a message sent, an entry applied, a role observed after an
// input); every report is checked at once against a global record, so a violation is found at
// the step that causes it. Properties (Raft paper Fig. 3 and §5.4, thesis §6.4):
//   - election safety: at most one leader per term;
//   - terms never decrease, per node: in memory within one life, and in the persisted hard state
//     forever (across restarts); the persisted commit index never regresses either;
//   - one vote per term: a persisted vote never changes within its term, and a vote is granted
//     only once it is persisted for that term and candidate;
//   - an append is acknowledged only up to what the follower has durably stored;
//   - log matching: entries with the same index and term have the same content and follow an
//     entry of the same term (by induction, the same prefix);
//   - state machine safety: one global record of committed entries (index -> term) and of
//     applied prefixes (index -> chain hash, see StateMachine) that no node contradicts, and
//     every node applies indexes in order without gaps;
//   - leader completeness: a new leader's durable log holds every entry known committed;
//   - a leader advances its commit index only to an entry of its own term (§5.4.2: earlier
//     terms' entries are committed indirectly, never by counting replicas);
//   - durability: when a leader's commit index advances, each newly committed entry is stored
//     by a quorum of the voters of its configuration (the configuration reported after the
//     advance, or the one reported at its previous advance: one of the two is the one that
//     counted, see the README);
//   - ReadIndex: a read returns a state that includes every write acknowledged (applied on
//     some node, so reportable to its client) before the read began, and its read index is at
//     least that write's index;
//   - PreVote (thesis §9.6): a node raises its persisted term only to a term it heard from
//     another node, or to one it campaigns in after pre-vote grants from a quorum (or a
//     kTimeoutNow): a node that cannot reach a quorum never raises it by itself;
//   - a leader shown a higher term (anything but a vote request, which the leader lease may
//     ignore, a pre-vote request or a granted pre-vote response) is no longer leader after
//     that step (Fig. 2, "Rules for all servers");
//   - a follower's match index never decreases within a leader's term, except through the
//     storage-loss reset the leader reports (ProgressStatus::storage_loss_resets).
// Storage faults (a wiped or truncated store) are reported with on_storage_lost(): the node's
// persisted facts start again from what is left; the global record of committed entries and
// of votes granted does not, so a committed entry lost for good or a second vote in a term is
// still found.
// The first violation is kept; later reports are ignored. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "raft/raw_node.h"
#include "raft/storage.h"
#include "raft/types.h"

namespace raft::sim {

struct Violation {
  std::string property;  // e.g. "election safety"
  std::string detail;    // what was seen, with node ids, terms and indexes
};

// A node's durable log, or nullptr for an unknown node.
using StorageLookup = std::function<const LogStorage*(NodeId)>;

class SafetyChecker {
 public:
  bool failed() const { return violation_.has_value(); }
  const std::optional<Violation>& violation() const { return violation_; }

  // After every input to a node: its in-memory term, whether it leads, and its commit index.
  // `durable` is its storage, read for leader completeness when it has just become leader.
  void on_node_state(NodeId node, Term term, bool is_leader, Index commit,
                     const LogStorage& durable);
  // A node restarted: its in-memory term starts again from the persisted one.
  void on_restart(NodeId node);

  void on_hard_state_persisted(NodeId node, const HardState& hard_state);
  // The persisted term rose (reported before on_hard_state_persisted for that hard state);
  // `voters` is the node's configuration now.
  void on_term_raised(NodeId node, Term term, const std::vector<NodeId>& voters);
  // The node's storage is about to lose state (it is down): a wipe, or a log cut with the
  // hard state kept or lost. `before` is its storage now. What it stored until then still
  // counts toward "durable on a quorum": its acknowledgements were true when sent, and a
  // commit may count them after the loss (as it may lose a copy right after a commit).
  void on_storage_lost(NodeId node, bool hard_state_kept, const LogStorage& before);
  // Then: the storage after the fault.
  void after_storage_lost(NodeId node, const LogStorage& after);
  // A message was stepped into `node`, whose term and role before and after are given.
  void on_step(NodeId node, const Message& message, Term term_before, bool leader_before,
               Term term_after, bool leader_after);
  // Leader `leader` of `term` was told (peer_storage_lost) that `follower`'s storage was
  // replaced: it may reset that follower's match once without further evidence.
  void on_leader_told_storage_lost(NodeId leader, Term term, NodeId follower);
  // A leader's progress after an input, its durable log and everyone's storage. Returns how
  // many storage-loss resets are new; each must be justified: the follower's storage really
  // no longer holds the entry at the match it had.
  uint64_t on_leader_progress(NodeId leader, Term term, const std::vector<ProgressStatus>& progress,
                              const LogStorage& leader_durable, const StorageLookup& storages);
  // After `entries` were appended to `durable` (so durable.term(index - 1) is their predecessor).
  void on_entries_persisted(NodeId node, const std::vector<Entry>& entries,
                            const LogStorage& durable);
  // A message leaves its sender, whose durable log is `sender_durable`.
  void on_message_sent(const Message& message, const LogStorage& sender_durable);

  // A commit index of `node` that its durable log backs: its persisted commit, or a leader's
  // (a leader's commit never exceeds its own durable, never rewritten log).
  void on_commit_observed(NodeId node, Index commit, const LogStorage& durable);
  // A leader's commit index after an advance, with the configuration it now reports. Only
  // indexes it committed itself are checked (beyond its commit index when it was elected).
  void on_leader_commit(NodeId leader, Term term, Index commit, const ConfState& conf,
                        const StorageLookup& storages);

  void on_applied(NodeId node, Index previous_applied, const Entry& entry, uint64_t chain_hash);
  void on_snapshot_applied(NodeId node, Index index, Term term, uint64_t chain_hash);

  // The highest index acknowledged to a client so far (applied on some node).
  Index acknowledged_index() const { return acknowledged_index_; }
  void on_read_started(uint64_t read_id);
  void on_read_served(uint64_t read_id, NodeId node, Index read_index, Index applied_index);

  // An ENSURE in the core (or RawNode::check_invariants) failed.
  void on_core_assertion(const std::string& message);

  Index committed_max() const { return committed_term_.empty() ? 0 : committed_term_.size() - 1; }
  std::optional<Term> committed_term(Index index) const;

 private:
  struct EntryKey {
    Index index;
    Term term;
    friend bool operator==(const EntryKey&, const EntryKey&) = default;
  };
  struct EntryKeyHash {
    size_t operator()(const EntryKey& k) const { return k.index * 0x9e3779b97f4a7c15ULL ^ k.term; }
  };
  struct EntryFacts {
    uint64_t content_hash;
    Term previous_term;
    NodeId first_seen_on;
  };
  struct LeaderProgress {
    Index checked = 0;
    ConfState previous_conf;
  };
  struct LostStorage {  // what a node stored before its storage faults (merged)
    Index snapshot_index = 0;
    std::set<std::pair<Index, Term>> entries;
  };
  struct FollowerMatch {
    Term term = 0;
    Index match = 0;
    uint64_t resets = 0;
  };

  template <typename... Args>
  void fail(const char* property, fmt::format_string<Args...> f, Args&&... args);
  void record_commit(NodeId node, Index index, Term term);
  void record_chain(NodeId node, Index index, uint64_t chain_hash);
  void check_leader_completeness(NodeId node, Term term, const LogStorage& durable);
  bool stored_on(NodeId node, const LogStorage* durable, Index index, Term term) const;
  void check_reset_justified(NodeId leader, Term term, NodeId follower, Index old_match,
                             const LogStorage& leader_durable, const LogStorage* follower_durable);
  size_t count_stored(const std::vector<NodeId>& voters, Index index, Term term,
                      const StorageLookup& storages) const;

  std::optional<Violation> violation_;
  std::map<Term, NodeId> leader_of_term_;
  std::map<NodeId, Term> life_term_;
  std::map<NodeId, HardState> persisted_;
  std::map<std::pair<NodeId, Term>, NodeId> vote_granted_;
  std::unordered_map<EntryKey, EntryFacts, EntryKeyHash> entries_;
  std::vector<Term> committed_term_;  // [i] = term of committed index i; 0 = not yet known
  std::vector<NodeId> committed_by_;
  std::vector<std::optional<uint64_t>> applied_chain_;
  std::map<NodeId, Index> commit_checked_;
  std::map<NodeId, LeaderProgress> leader_progress_;
  std::map<uint64_t, Index> read_ack_at_start_;
  Index acknowledged_index_ = 0;
  std::map<NodeId, Term> term_heard_;  // highest term-changing message term stepped into it
  std::map<std::pair<NodeId, Term>, std::set<NodeId>> pre_vote_grants_;  // (node, term) -> from
  std::map<NodeId, Term> timeout_now_term_;  // highest term of a kTimeoutNow stepped into it
  std::map<std::pair<NodeId, NodeId>, FollowerMatch> follower_match_;  // (leader, follower)
  std::map<NodeId, LostStorage> lost_storage_;
  std::map<std::pair<NodeId, NodeId>, Term> told_storage_lost_;  // (leader, follower) -> term
  bool hard_state_kept_ = true;                                  // of the storage fault in progress
};

}  // namespace raft::sim
