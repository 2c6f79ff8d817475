// RawNode: the whole Raft protocol as a pure state machine (no I/O, no threads, no clock,
// no global randomness). Time is tick() calls; randomness comes from Config::seed.
//
// The Ready contract. After any input (tick, step, propose, read_index, ...), the driver calls
// has_ready(); if true it takes ready() and handles it IN THIS ORDER, then calls advance(ready):
//   1. If ready.snapshot is set: persist it (it replaces the log up to its index;
//      MemoryStorage::apply_snapshot).
//   2. Persist ready.entries (append; they may overwrite a conflicting suffix of the stored
//      log) and ready.hard_state if set. fsync when ready.must_sync is true.
//   3. Send ready.messages. (Messages may promise what step 2 persisted: vote grants and
//      append acknowledgements. They never leave before step 2 is durable.)
//   4. Apply ready.snapshot (if any) to the state machine, then ready.committed_entries in
//      order. Committed entries are always already durable locally. The driver applies only
//      kNormal entries; kEmpty and kConfChange entries are the core's own (see below).
//   5. Deliver ready.read_states: a read with context C may be served once the state machine
//      has applied index >= read_state.index.
//   6. Call advance(ready). Only then does the core forget its unstable copies.
// At most one Ready is outstanding: has_ready() is false between ready() and advance(), and
// calling ready() twice without advance() is a bug (ENSURE). Inputs (step, tick, ...) may
// arrive in between; what they produce waits for the next Ready.
// A leader may send its messages (3) before its own persist (2) finishes ("leader writes to
// its WAL while replicating", thesis §10.2.1): its own log counts toward the commit quorum only
// after advance() reports the entries durable.
//
// Configuration changes take effect when applied: advance() applies every kConfChange entry
// of ready.committed_entries (and the ConfState of ready.snapshot) to the core itself, so
// status().conf is always the configuration of the applied prefix of the log, which is what a
// driver stores with a snapshot it takes at status().applied. Only one change may be pending:
// propose_conf_change() is refused until the previous change is applied, and a new leader
// accepts none before it has applied its first (empty) entry.
//
// Startup: a brand-new node of the initial cluster (empty storage, Config::initial_voters set)
// bootstraps by writing one committed kConfChange entry per initial voter at term 1, indexes
// 1..N, identical on every initial voter; its first Ready persists them. A restarted node
// recovers the configuration from the storage's snapshot and replays the committed
// kConfChange entries after it (they come out in its first Ready's committed_entries, which
// the driver re-applies on top of the snapshot). A node joining later starts with empty storage
// and no initial voters, and learns everything from the leader.
//
// Ownership: RawNode keeps a reference to LogStorage, which must outlive it. Not thread-safe;
// one thread drives it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "raft/storage.h"
#include "raft/types.h"

namespace raft {

#ifdef RAFTKV_TEST_HOOKS
// Known bugs that test builds can plant, to prove the simulator catches each one.
enum class PlantedBug : uint8_t {
  kNone = 0,
  kVoteWithoutLogCheck = 1,        // grant votes without the §5.4.1 up-to-date check
  kCommitPreviousTermByCount = 2,  // commit an earlier term's entry by counting replicas (§5.4.2)
  kAckBeforePersist = 3,           // acks leave one Ready before their entries are persisted
  kReadIndexWithoutQuorum = 4,     // answer ReadIndex without a quorum heartbeat round
  kVoteNotPersisted = 5,           // grant a vote without putting it in the persisted HardState
};
#endif

struct Config {
  NodeId id = kNoNode;
#ifdef RAFTKV_TEST_HOOKS
  PlantedBug planted_bug = PlantedBug::kNone;
#endif
  // Election timeout is drawn uniformly from [election_ticks, 2 * election_ticks).
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  uint64_t seed = 1;
  bool pre_vote = true;                 // thesis §9.6
  bool check_quorum = true;             // thesis §6.2: leader steps down without a live quorum
  uint64_t max_append_bytes = 1 << 20;  // per kAppend message
  int max_inflight_appends = 256;       // per follower in replicate state
  uint64_t max_uncommitted_bytes = 64 << 20;  // propose() refuses beyond this
  // The initial configuration for a brand-new cluster (used only when storage is empty;
  // see "Startup" above). A node joining an existing cluster passes an empty one.
  std::vector<NodeId> initial_voters;
};

struct ReadState {
  Index index = 0;
  std::string context;
};

struct Ready {
  std::optional<HardState> hard_state;   // set when it changed
  std::vector<Entry> entries;            // to persist
  std::optional<Snapshot> snapshot;      // to persist and apply
  std::vector<Message> messages;         // to send
  std::vector<Entry> committed_entries;  // to apply, in order
  std::vector<ReadState> read_states;    // to deliver after applying
  bool must_sync = false;
};

struct ProgressStatus {
  NodeId id = kNoNode;
  Index match = 0;
  Index next = 0;
  const char* state = "";  // "probe", "replicate" or "snapshot"
  bool learner = false;
};

struct NodeStatus {
  NodeId id = kNoNode;
  Role role = Role::kFollower;
  Term term = 0;
  NodeId leader = kNoNode;
  NodeId vote = kNoNode;
  Index commit = 0;
  Index applied = 0;
  Index last_index = 0;
  ConfState conf;
  std::vector<ProgressStatus> progress;  // leader only
  uint64_t ignored_messages = 0;         // dropped by the ignore filter or term rules
  NodeId transfer_target = kNoNode;      // leader: a leadership transfer in progress
};

// A membership change: one voter or learner at a time (thesis §4.1).
struct ConfChange {
  enum class Type : uint8_t { kAddVoter = 0, kAddLearner = 1, kRemoveNode = 2 };
  Type type = Type::kAddVoter;
  NodeId node = kNoNode;
  std::string context;  // opaque to raft (raftkv stores the peer address here)

  std::string encode() const;
  static base::Result<ConfChange> decode(std::string_view bytes);
};

class RawNode {
 public:
  RawNode(const Config& config, const LogStorage& storage);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  void tick();
  // Untrusted messages from the network: anything stale or impossible is ignored (and
  // counted), never asserted on.
  void step(const Message& message);

  // Errors: kNotLeader when no leader is known to forward to, kUnavailable when too much is
  // uncommitted. A follower forwards proposals to the leader.
  base::Status propose(std::string data);
  base::Status propose_conf_change(const ConfChange& change);
  // Request a linearizable read point; answered through Ready::read_states with `context`
  // (thesis §6.4). A follower forwards it to the leader. Unanswerable reads (no leader known,
  // leader deposed before confirming) are dropped silently: the caller retries after a timeout.
  void read_index(std::string context);
  // Leader: make `target` (a voter) leader; proposals are refused meanwhile; aborted after an
  // election timeout. Follower: forwards the request to the leader.
  void transfer_leadership(NodeId target);
  // Start an election now (tests and the initial bootstrap of a single-node cluster).
  void campaign();

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& ready);

  NodeStatus status() const;
  // Asserts the invariants of the core (term never decreases, commit never regresses,
  // log terms non-decreasing, commit <= last index, ...). Tests call it after every step.
  void check_invariants() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raft
