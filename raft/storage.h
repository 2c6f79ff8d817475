// The Raft core reads the stable part of its log through this interface; wal/ implements it
// for real nodes and MemoryStorage (memory_storage.h) for tests and the simulator.
//
// Contract:
// - Everything returned is durable: the driver appends to storage (and fsyncs) before calling
//   RawNode::advance(), which is when the core forgets its unstable copy.
// - The log covers indexes [first_index(), last_index()]. first_index() - 1 is the index of the
//   latest snapshot (0 with no snapshot); term(first_index() - 1) is that snapshot's term.
//   An empty log has first_index() == last_index() + 1.
// - Preconditions (checked by callers; implementations assert): term(i) needs
//   first_index() - 1 <= i <= last_index(); entries(lo, hi, ...) needs
//   first_index() <= lo < hi <= last_index() + 1.
// - Methods are called only from the thread that drives the RawNode.
#pragma once

#include <cstdint>
#include <vector>

#include "raft/types.h"

namespace raft {

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // The state recovered at startup: hard state and the configuration in force at the
  // latest snapshot (configuration entries after it are replayed from the log).
  virtual HardState initial_hard_state() const = 0;
  virtual SnapshotMeta snapshot_meta() const = 0;

  virtual Index first_index() const = 0;
  virtual Index last_index() const = 0;
  virtual Term term(Index index) const = 0;

  // Entries [lo, hi), stopping early once the total data size would exceed max_bytes,
  // but always returning at least one entry.
  virtual std::vector<Entry> entries(Index lo, Index hi, uint64_t max_bytes) const = 0;

  // The latest snapshot, data included (shared, not copied). Its meta equals snapshot_meta().
  virtual Snapshot snapshot() const = 0;
};

}  // namespace raft
