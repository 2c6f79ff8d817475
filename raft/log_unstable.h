// The unstable tail of a node's log: entries (and at most one snapshot) the core holds in
// memory that the driver has not yet reported durable (etcd's log_unstable.go).
// Invariant: entries[i] has index offset + i; with a snapshot, offset == snapshot index + 1.
// Entries below `offset` are in LogStorage and agree with the tail (a conflicting stored
// suffix is overwritten when the driver persists the tail).
#pragma once

#include <optional>
#include <vector>

#include "raft/planted_bug.h"
#include "raft/types.h"

namespace raft {

class LogUnstable {
 public:
  explicit LogUnstable(Index offset) : offset_(offset) {}
#ifdef RAFTKV_TEST_HOOKS
  void plant_bug(PlantedBug bug) { planted_bug_ = bug; }
#endif

  Index offset() const { return offset_; }
  const std::vector<Entry>& entries() const { return entries_; }
  const std::optional<Snapshot>& snapshot() const { return snapshot_; }

  std::optional<Index> maybe_first_index() const;
  std::optional<Index> maybe_last_index() const;
  std::optional<Term> maybe_term(Index index) const;

  // Appends entries, replacing any held entries from entries.front().index onward (those
  // after the new ones are dropped too: paper §5.3, "delete the existing entry and all that
  // follow it"); when that index is below offset, the tail restarts there (the stored suffix
  // will be overwritten).
  void truncate_and_append(const std::vector<Entry>& entries);
  // Entries [lo, hi), all of which must be in the tail.
  std::vector<Entry> slice(Index lo, Index hi) const;
  // The driver persisted entries up to (index, term); forget them unless the tail has since
  // been rewritten (then the term no longer matches and nothing is forgotten).
  void stable_to(Index index, Term term);
  void stable_snapshot_to(Index index);
  void restore(const Snapshot& snapshot);

 private:
  std::optional<Snapshot> snapshot_;
  std::vector<Entry> entries_;
  Index offset_;
  PlantedBug planted_bug_ = PlantedBug::kNone;  // test builds only set it
};

}  // namespace raft
