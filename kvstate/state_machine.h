// The deterministic state machine every replica applies (DESIGN.md "kvstate/"): Deno KV data,
// queues, client sessions and the replicated clock. Pure: no I/O, no clock, no threads, no
// randomness. Given the same commands with the same versionstamps, every replica reaches the
// same state and returns the same results.
//
// Thread-safety: a StateMachine is used by one thread (the node's apply loop). A SnapshotView
// taken from it is an immutable copy-on-write view that any thread may read or serialize
// while apply goes on (snapshot.h).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "base/status.h"
#include "kvmodel/read.h"
#include "kvstate/btree.h"
#include "kvstate/command.h"
#include "kvstate/types.h"

namespace kvstate {

class SnapshotView;

class StateMachine {
 public:
  StateMachine() = default;
  StateMachine(const StateMachine&) = delete;
  StateMachine& operator=(const StateMachine&) = delete;

  // Applies one committed Raft entry: command i of its batch gets versionstamp (raft_index, i).
  // raft_index must exceed last_applied_index() (ENSUREd). Empty data is an empty batch (Raft's
  // own empty entries). A batch that does not decode applies nothing, still advances
  // last_applied_index(), and returns the decode error (the same on every replica).
  base::Result<std::vector<CommandResult>> apply_entry(uint64_t raft_index, base::BytesView data);

  // Applies one command. Versionstamps must strictly increase across calls (ENSUREd).
  // Never fails as a call: problems are outcomes (kError) in the result.
  CommandResult apply(const Command& command, kvmodel::Versionstamp versionstamp);

  // A snapshot read of up to 10 ranges [start, end) (spec §4.1, §9.5): each range yields up to
  // `limit` entries in ascending order, or descending when reverse. Expired but unswept keys are
  // returned, as in denokv.
  base::Result<std::vector<std::vector<kvmodel::KvEntry>>> read(
      const std::vector<kvmodel::ReadRange>& ranges) const;
  const Entry* get(base::BytesView key) const { return data_.find(key); }

  uint64_t last_applied_index() const { return last_applied_index_; }
  // The replicated clock: the largest now_ms seen in any command. Never goes backwards, so a
  // new leader with a slower clock cannot move time backwards for queues or sessions.
  uint64_t clock_ms() const { return clock_ms_; }

  // What the leader needs to schedule its proposals; nullopt when there is nothing.
  std::optional<uint64_t> next_ready_at() const;        // earliest ready_at of a ready message
  std::optional<uint64_t> next_lease_deadline() const;  // earliest deadline of a lease
  std::optional<uint64_t> next_expiry() const;          // earliest expire_at of a key

  size_t key_count() const { return data_.size(); }
  size_t queue_size() const { return queue_.size(); }
  size_t session_count() const { return sessions_.size(); }
  const QueueMessage* find_message(base::BytesView id) const { return queue_.find(id); }

  // O(1) consistent view of the whole state for snapshotting and reads on another thread.
  SnapshotView snapshot_view() const;
  // Replaces the whole state with a snapshot stream (snapshot.h). On error (kCorruption with a
  // clear message) the current state is left untouched.
  base::Status load_snapshot(base::BytesView stream);

  // Cross-checks every derived index against the trees; for tests (O(n)).
  void check_invariants() const;

 private:
  friend class SnapshotView;
  struct Staged;

  // `owned`, when given, is the very command (or write) being applied, handed over by a caller
  // that discards it afterwards (apply_entry's decoded batch): keys and values are moved out of
  // it instead of copied. Read through the const reference, write through `owned` only.
  CommandResult apply_command(const Command& command, Command* owned, kvmodel::Versionstamp vs);
  CommandResult apply_atomic_write(const kvmodel::AtomicWrite& write, kvmodel::AtomicWrite* owned,
                                   kvmodel::Versionstamp vs);
  CommandResult apply_write_body(const kvmodel::AtomicWrite& write, kvmodel::AtomicWrite* owned,
                                 kvmodel::Versionstamp vs);
  base::Status stage_mutations(const kvmodel::AtomicWrite& write, kvmodel::Versionstamp vs,
                               Staged& staged) const;
  void commit_staged(Staged& staged, kvmodel::Versionstamp vs, CommandResult& result);
  void apply_in_order(const kvmodel::AtomicWrite& write, kvmodel::AtomicWrite* owned,
                      kvmodel::Versionstamp vs, CommandResult& result);
  void add_enqueues(const kvmodel::AtomicWrite& write, kvmodel::Versionstamp vs, uint64_t now_ms,
                    CommandResult& result);
  CommandResult apply_expiry_sweep(const ExpirySweep& sweep, kvmodel::Versionstamp vs);

  // Sessions (session.cc).
  const WriteOutcome* find_session_result(uint64_t client_id, uint64_t sequence,
                                          WriteOutcome& too_old) const;
  void record_session(uint64_t client_id, uint64_t sequence, kvmodel::Versionstamp vs,
                      const WriteOutcome& outcome);
  void expire_sessions();

  // Queues (queue.cc).
  CommandResult apply_lease(const QueueLease& lease, kvmodel::Versionstamp vs);
  CommandResult apply_ack(const kvmodel::QueueAck& ack, kvmodel::Versionstamp vs);
  CommandResult apply_nack(const kvmodel::QueueNack& nack, kvmodel::Versionstamp vs);
  CommandResult apply_extend(const kvmodel::QueueExtend& extend, kvmodel::Versionstamp vs);
  CommandResult apply_expire_leases(const ExpireLeases& expire, kvmodel::Versionstamp vs);
  const QueueMessage* find_lease(base::BytesView id, const kvmodel::Versionstamp& token,
                                 CommandResult& result) const;
  void fail_delivery(base::BytesView id, QueueMessage message, uint64_t now_ms,
                     kvmodel::Versionstamp vs, CommandResult& result);

  // Every write to the trees goes through these, which keep the derived indexes in step.
  void put_entry(base::BytesView key, Entry entry);
  void erase_entry(base::BytesView key);
  void put_message(base::BytesView id, QueueMessage message);
  void erase_message(base::BytesView id);
  void put_session(uint64_t client_id, Session session);
  void erase_session(uint64_t client_id);
  void rebuild_indexes();
  uint64_t advance_clock(uint64_t now_ms);

  // Replicated state (all of it goes into snapshots).
  BTree<Entry> data_;          // encoded key -> entry
  BTree<QueueMessage> queue_;  // 12-byte message id -> message
  BTree<Session> sessions_;    // client id (8 bytes big-endian) -> session
  uint64_t last_applied_index_ = 0;
  kvmodel::Versionstamp last_versionstamp_;
  uint64_t clock_ms_ = 0;

  // Derived indexes, rebuilt from the trees after a snapshot load.
  std::set<std::pair<uint64_t, base::Bytes>> expiry_index_;  // (expire_at_ms, key)
  std::set<std::pair<uint64_t, base::Bytes>> ready_index_;   // (ready_at_ms, id), not leased
  std::set<std::pair<uint64_t, base::Bytes>> lease_index_;   // (deadline_ms, id), leased
  std::map<kvmodel::Versionstamp, uint64_t> session_lru_;    // last_used -> client id
};

}  // namespace kvstate
