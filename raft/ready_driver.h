// ReadyDriver: the one implementation of the Ready contract (raw_node.h). kvd's node loop and
// every simulator hand it their I/O (ReadyIo) and call it; nobody else calls ready()/advance().
//
// It does, for each Ready: send early what may go early (below), then persist (snapshot,
// entries, hard state, fsync when must_sync), send the rest, apply the snapshot and the
// committed entries, deliver the read states, advance(). The early-send rule lives here only:
// a node that is leader at the moment ready() returned (not the role it had before this
// Ready, which may have been lost inside it), in a Ready that does not change its term or
// vote, may send before persisting, and then only messages that promise nothing; vote grants
// and append acknowledgements always wait.
//
// Persisting may fail. The Ready then stays in hand with nothing durable-promising sent, the
// node may take more inputs (the contract allows them between ready() and advance()), and the
// next finish() resumes persisting at the stage that failed, so stages that succeeded are not
// redone (a snapshot persisted twice would be refused as not newer). The driver decides which
// errors are retryable: disk full (base::Code::kResourceExhausted) is; a failed fsync is not
// (the page cache may have dropped the data: kvd stops).
//
// Two ways to drive it: take() then finish() later (raft_sim: persistence that takes a while),
// or handle_all() inline (kvd). Not thread-safe; the thread that drives the RawNode calls it.
#pragma once

#include <optional>
#include <vector>

#include "base/status.h"
#include "raft/raw_node.h"

namespace raft {

// The node's I/O, called by ReadyDriver in the contract's order. The persist calls return an
// error to keep the Ready and retry later; the others cannot fail (a driver that cannot send
// drops the message: Raft retransmits).
class ReadyIo {
 public:
  virtual ~ReadyIo() = default;

  // Step 1-2: durable state. A snapshot replaces the log up to its index; entries may
  // overwrite a conflicting suffix of the stored log.
  virtual base::Status persist_snapshot(const Snapshot& snapshot) = 0;
  virtual base::Status persist_entries(const std::vector<Entry>& entries) = 0;
  virtual base::Status persist_hard_state(const HardState& hard_state) = 0;
  virtual base::Status sync() = 0;
  // Step 3.
  virtual void send(Message message) = 0;
  // Step 4: the snapshot first, then every committed entry in order (all types; the state
  // machine needs only kNormal, a driver may want kConfChange's context).
  virtual void apply_snapshot(const Snapshot& snapshot) = 0;
  virtual void apply_entry(const Entry& entry) = 0;
  // Step 5: reads answered in this Ready (serve each once applied >= its index).
  virtual void deliver_read_states(std::vector<ReadState> read_states) = 0;
};

// Vote grants and append acknowledgements promise what the Ready persists.
bool promises_durability(const Message& message);

class ReadyDriver {
 public:
  // `leader_sends_early`: whether a leader sends its promise-free messages before persisting
  // (thesis §10.2.1; kvd does). Both node and io must outlive the driver.
  ReadyDriver(RawNode& node, ReadyIo& io, bool leader_sends_early);

  bool in_hand() const { return ready_.has_value(); }
  // The Ready in hand (to describe it), or nullptr.
  const Ready* ready_in_hand() const { return ready_ ? &*ready_ : nullptr; }
  // True once the Ready in hand is durable (all its persist stages are done).
  bool persisted() const { return ready_ && stage_ == Stage::kDone; }

  // Takes a Ready if none is in hand and the node has one, and sends what may go early.
  // Returns whether a Ready is now in hand because of this call.
  bool take();
  // Handles the Ready in hand to the end (no-op without one). On a persist error returns it
  // with the Ready kept; call again to retry.
  base::Status finish();
  // finish() the Ready in hand, then take() and finish() until the node has none; stops at
  // the first persist error (the Ready stays in hand).
  base::Status handle_all();
  // The process crashed: forget the Ready in hand and the messages not yet sent.
  void drop();

 private:
  enum class Stage : uint8_t { kSnapshot, kEntries, kHardState, kSync, kDone };
  base::Status persist();

  RawNode& node_;
  ReadyIo& io_;
  bool leader_sends_early_;
  std::optional<Ready> ready_;
  std::vector<Message> held_;  // messages of the Ready in hand not yet sent
  Stage stage_ = Stage::kDone;
};

}  // namespace raft
