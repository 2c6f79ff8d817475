// RawNode: the whole Raft protocol as a pure state machine (no I/O, no threads, no clock,
// no global randomness). Time is tick() calls; randomness comes from Config::seed.
//
// The Ready contract. After any input (tick, step, propose, read_index, ...), the driver calls
// has_ready(); if true it takes ready() and handles it IN THIS ORDER, then calls advance(ready).
// raft/ready_driver.h implements it once; kvd's node loop and every simulator use that.
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
// arrive in between, any number of them; what they produce waits for the next Ready. So a
// driver may also step a whole inbox and tick before it takes one Ready (kvd does).
// Sending early: a node that is leader at the moment ready() returned, in a Ready that does
// not change its term or vote (term_or_vote_changed), may send, before step 2, the messages
// that promise nothing (everything but vote grants and append acknowledgements, which a node
// that was a follower earlier in the same Ready may still carry). Its own log counts toward
// the commit quorum only after advance() reports the entries durable ("leader writes to its
// WAL while replicating", thesis §10.2.1). The role must be read after ready(): a leader that
// stepped down in this Ready carries promises and sends nothing early.
// Persisting may fail with a retryable error (disk full: base::Code::kResourceExhausted).
// Then nothing that promises durability is sent, the Ready stays in the driver's hand (no
// advance()), inputs continue to arrive, and the driver retries persisting the same Ready
// later, from the step that failed. Any other persist error stops the node.
//
// Amnesia (CTRL, Alagappan et al., FAST 2018). A node whose storage may have lost state it
// promised (acknowledged entries, a vote) is amnesiac: it grants no votes and no pre-votes (it
// answers rejections) and never campaigns, so no election counts a promise it cannot keep; it
// still accepts appends and acknowledges them, since those acknowledgements rest on what it
// stores now. It is repaired once it durably holds the log of a leader L of its current term T
// up to an index i with (a) i >= the commit index L announced in the first append this node
// received from L while amnesiac, and (b) term(i) == T, i.e. past L's first entry of T. (b)
// covers every entry committed in earlier terms (Leader Completeness holds for L because no
// election counted this node's lost votes, and every quorum without this node still meets
// every commit quorum); (a) covers what L committed in T with this node's lost
// acknowledgements. (a) needs the leader to have handled every message of the node's
// previous life before it sends anything to the next one, or never to see them (kvd: drop
// the old life's connections before answering the new life's hello; raft_sim drops them).
// The node starts amnesiac when Config::amnesiac says so, or when its storage contradicts
// itself: a hard state whose term is below the log's last term (the hard state was lost), or
// a commit index beyond the last index (the log lost a tail; commit is clamped to it).
// Known limit: a node whose hard state (term, vote) was lost and which is then repaired by a
// leader of a term below one it voted in before the loss could vote a second time in that
// older term; closing it needs the highest term of a quorum (e.g. from the peer hellos).
// Peers learn of a replaced storage through peer_storage_lost() (votes from it stop counting;
// a leader resets the follower's progress). A leader also resets a follower's progress when it
// rejects the probe in flight with a hint below its recorded match (on_replication.cc): the
// paper's leader never lowers matchIndex because followers never lose entries (§5.3); with
// storage faults they can, and the leader must learn again what the follower holds.
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
#include "raft/planted_bug.h"
#include "raft/storage.h"
#include "raft/types.h"

namespace raft {


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
  // Start amnesiac (see "Amnesia" above): the driver knows this storage may have lost what the
  // node promised (a new storage identity the peers knew differently, a missing hard state, a
  // WAL shorter than it was, a corrupt synced record, or an earlier life that was never
  // repaired). The core also starts amnesiac by itself when the storage contradicts itself.
  bool amnesiac = false;
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
  // hard_state changes the term or the vote. Every message of this Ready was made in that
  // term, so none may leave before it is durable: a leader elected inside this Ready (a
  // single voter) that crashed before persisting could lead the same term again with other
  // entries at the same indexes.
  bool term_or_vote_changed = false;
};

struct ProgressStatus {
  NodeId id = kNoNode;
  Index match = 0;
  Index next = 0;
  const char* state = "";  // "probe", "replicate" or "snapshot"
  bool learner = false;
  // How often this leader reset the follower's match because its log went backwards (a
  // rejection below match, or peer_storage_lost()); the only way a match ever decreases.
  uint64_t storage_loss_resets = 0;
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
  // True until the node is repaired (see "Amnesia"): it neither votes nor campaigns. When it
  // turns false, the entries that repaired it are durable: the driver may record it.
  bool amnesiac = false;
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

  // Amnesia (see above). This node learned that its storage may have lost what it promised
  // (e.g. a peer's hello names the storage identity it knew, and it is not ours): it stops
  // voting and campaigning until repaired; a leader or candidate steps down.
  void become_amnesiac();
  // A peer's storage was replaced or lost its tail (its hello carries a new identity, or says
  // it is amnesiac): its vote grants no longer count here until peer_storage_repaired(peer),
  // and a leader resets its progress to probe from peer_last_index + 1 with match 0.
  void peer_storage_lost(NodeId peer, Index peer_last_index);
  // The peer reports it was repaired (its status().amnesiac turned false): its votes count again.
  void peer_storage_repaired(NodeId peer);

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& ready);

  NodeStatus status() const;
  Role role() const;  // status().role, without building the rest
  Term term() const;  // status().term, likewise
  // Asserts the invariants of the core (term never decreases, commit never regresses,
  // log terms non-decreasing, commit <= last index, ...). Tests call it after every step.
  void check_invariants() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raft
