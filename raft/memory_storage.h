// MemoryStorage: a LogStorage held in memory, for tests and the cluster simulator. It models
// the *durable* state of a node: whatever the driver wrote here survives a simulated crash;
// the RawNode's unstable tail does not.
//
// Layout: entries_[0] is a dummy entry carrying the latest snapshot's (index, term); entries_[i]
// holds log index i + entries_[0].index. So first_index() == entries_[0].index + 1.
//
// Mutators are called by the driver while it handles a Ready (raw_node.h): apply_snapshot,
// append, set_hard_state, then later create_snapshot/compact for log compaction. Calling a
// mutator in a way the Ready contract never asks for (a gap in the log) is a driver bug and
// stops the process; requests that can legitimately race (an out-of-date snapshot, compacting
// an index already compacted) return a Status.
// Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "raft/storage.h"

namespace raft {

class MemoryStorage final : public LogStorage {
 public:
  MemoryStorage();

  // LogStorage.
  HardState initial_hard_state() const override { return hard_state_; }
  SnapshotMeta snapshot_meta() const override { return snapshot_.meta; }
  Index first_index() const override;
  Index last_index() const override;
  Term term(Index index) const override;
  std::vector<Entry> entries(Index lo, Index hi, uint64_t max_bytes) const override;
  Snapshot snapshot() const override { return snapshot_; }

  // The persisted hard state (what initial_hard_state() returns after a restart).
  const HardState& hard_state() const { return hard_state_; }
  void set_hard_state(const HardState& hard_state) { hard_state_ = hard_state; }

  // Appends entries, which must be contiguous and start at or before last_index() + 1.
  // Entries at or below the snapshot index are skipped; stored entries from the first new
  // index onward are replaced (a conflicting suffix is truncated, paper §5.3).
  void append(const std::vector<Entry>& new_entries);

  // Replaces the whole log with a snapshot received from the leader. Error when the
  // snapshot is not newer than the one held.
  base::Status apply_snapshot(const Snapshot& snapshot);

  // Records a snapshot of the state machine at `index` (which must be in the log and newer
  // than the current snapshot); `conf` is the configuration in force at `index`. Does not
  // discard entries: call compact() for that.
  base::Status create_snapshot(Index index, const ConfState& conf,
                               std::shared_ptr<const std::string> data);

  // Discards entries up to and including `index`, which must not exceed the snapshot index
  // (entries not covered by a snapshot could then never be sent to a lagging follower).
  base::Status compact(Index index);

  // A storage fault (simulators and tests): the log loses every entry after `last`, which
  // must lie in [first_index() - 1, last_index()]. The hard state and snapshot stay.
  void lose_entries_after(Index last);

 private:
  Index offset() const { return entries_.front().index; }

  HardState hard_state_;
  Snapshot snapshot_;
  std::vector<Entry> entries_;  // entries_[0] is the dummy at the snapshot index
};

}  // namespace raft
