// Plain value types of the Raft core: entries, hard state, configuration, snapshots, messages.
// No I/O lives here; the wire codec for Message is in net/, the disk format for Entry and
// HardState in wal/. Field meanings follow the Raft paper (Ongaro & Ousterhout 2014) and the
// thesis (Ongaro 2014); section numbers are cited where a field exists for one rule.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace raft {

using NodeId = uint64_t;  // 0 means "none" (no vote, no leader).
using Term = uint64_t;
using Index = uint64_t;  // Log indexes start at 1; index 0 is the empty log's sentinel.

constexpr NodeId kNoNode = 0;

// A node's role in its current term (a learner is a follower that does not vote). Inline so
// that status output (net/client_types.h) names roles without linking the core.
enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
constexpr const char* role_name(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

enum class EntryType : uint8_t {
  kNormal = 0,      // data is an application command (for raftkv: a kvstate command batch)
  kConfChange = 1,  // data is an encoded ConfChange (see conf_change.h)
  kEmpty = 2,       // a new leader's no-op entry (thesis §6.4: commit an entry of its term)
};

struct Entry {
  Index index = 0;
  Term term = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// What must be durable before a node answers a vote or an append (paper Fig. 2, "persistent
// state on all servers"; commit is persisted too so a restart need not re-derive it).
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;

  friend bool operator==(const HardState&, const HardState&) = default;
};

// The cluster configuration: voters decide elections and commits; learners only replicate.
struct ConfState {
  std::vector<NodeId> voters;    // sorted, unique
  std::vector<NodeId> learners;  // sorted, unique, disjoint from voters

  friend bool operator==(const ConfState&, const ConfState&) = default;
};

// A snapshot replaces every entry up to and including `index`.
struct SnapshotMeta {
  Index index = 0;
  Term term = 0;
  ConfState conf;

  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

// The state machine's bytes are opaque to raft/. Shared so that a snapshot sent to several
// followers, or held in a Ready, is never copied.
struct Snapshot {
  SnapshotMeta meta;
  std::shared_ptr<const std::string> data;
};

enum class MessageType : uint8_t {
  kAppend = 0,          // leader -> follower: entries after (index, log_term); commit
  kAppendResponse = 1,  // follower -> leader: index = last matching index, or reject + hint
  kVote = 2,            // candidate -> all: (index, log_term) = candidate's last entry
  kVoteResponse = 3,    // reject = vote refused
  kPreVote = 4,         // thesis §9.6: a vote that changes no state
  kPreVoteResponse = 5,
  kSnapshot = 6,            // leader -> follower: install `snapshot`
  kHeartbeat = 7,           // leader -> follower: commit (capped at the follower's match); context
  kHeartbeatResponse = 8,   // context echoes the heartbeat's, for ReadIndex confirmation
  kReadIndex = 9,           // follower -> leader: forward a read request (context identifies it)
  kReadIndexResponse = 10,  // leader -> follower: index = read index, context; reject = not leader
  kTimeoutNow = 11,         // leader -> transfer target: campaign now (thesis §3.10)
  kPropose = 12,            // follower -> leader: forwarded proposals (entries carry the data)
  kTransferLeader = 13,     // follower -> leader: forwarded transfer request (from = target)
};

struct Message {
  MessageType type = MessageType::kAppend;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;  // sender's term; 0 only for forwarded local requests (kPropose, kReadIndex)
  Term log_term = 0;
  Index index = 0;
  std::vector<Entry> entries;
  Index commit = 0;
  bool reject = false;
  Index reject_hint = 0;      // on rejected appends: follower's best guess of the match point
  Term reject_hint_term = 0;  // term of the follower's entry at reject_hint (fast backtracking)
  std::string context;        // ReadIndex request id, or "transfer" on a forced campaign
  std::optional<Snapshot> snapshot;
};

}  // namespace raft
