// RaftLog: a node's whole log as the core sees it = LogStorage (durable) + LogUnstable (the
// in-memory tail), plus the commit and applied indexes (etcd's log.go).
// Invariants: applied <= committed <= last_index(); first_index() - 1 <= applied once the
// unstable snapshot (if any) is applied.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "raft/log_unstable.h"
#include "raft/planted_bug.h"
#include "raft/storage.h"

namespace raft {

class RaftLog {
 public:
  explicit RaftLog(const LogStorage& storage);
#ifdef RAFTKV_TEST_HOOKS
  void plant_bug(PlantedBug bug) {
    planted_bug_ = bug;
    unstable_.plant_bug(bug);
  }
#endif

  Index first_index() const;
  Index last_index() const;
  // nullopt when `index` is compacted away or beyond the last index.
  std::optional<Term> term(Index index) const;
  Term last_term() const;
  bool match_term(Index index, Term term) const;
  // Paper §5.4.1: a log ending at (last_index, last_term) is at least as up to date as ours.
  bool is_up_to_date(Index last_index, Term last_term) const;

  // A follower's append (paper Fig. 2 "AppendEntries RPC" receiver rules 2-5): returns the
  // last index the leader's entries cover, or nullopt when (prev_index, prev_term) does not
  // match our log. Only a conflicting suffix is cut (an append that matches what we hold,
  // e.g. a reordered older one, leaves the entries after it alone), and commit moves to at
  // most that last covered index: entries beyond it may be a stale tail the leader does not
  // share (rule 5, "index of last new entry").
  std::optional<Index> maybe_append(Index prev_index, Term prev_term, Index leader_commit,
                                    const std::vector<Entry>& entries);
  // A leader's own append of entries with consecutive indexes after last_index().
  void append(const std::vector<Entry>& entries);
  // The index of the first entry that conflicts with ours (0 when all match).
  Index find_conflict(const std::vector<Entry>& entries) const;
  // The largest index <= `index` whose term is <= `term`, and that term (fast backtracking:
  // every entry above it certainly conflicts with a log whose entry at `index` has `term`).
  std::pair<Index, Term> find_conflict_by_term(Index index, Term term) const;

  // Entries [lo, last_index()], at most max_bytes of data (but at least one entry); nullopt
  // when lo is compacted away (the follower needs a snapshot).
  std::optional<std::vector<Entry>> entries_from(Index lo, uint64_t max_bytes) const;
  // Entries [lo, hi), all of which must be available.
  std::vector<Entry> slice(Index lo, Index hi, uint64_t max_bytes) const;

  Index committed() const { return committed_; }
  Index applied() const { return applied_; }
  void commit_to(Index index);
  void applied_to(Index index);
  void set_committed_for_restart(Index index) { committed_ = index; }

  // A snapshot from the leader replaces the log (it is newer than our commit).
  void restore(const Snapshot& snapshot);
  const LogUnstable& unstable() const { return unstable_; }
  // The highest index durably stored that agrees with the log (committed entries up to it
  // may be handed out for applying).
  Index stable_last_index() const;
  std::vector<Entry> next_committed_entries() const;
  bool has_next_committed_entries() const;
  void stable_to(Index index, Term term) { unstable_.stable_to(index, term); }
  void stable_snapshot_to(Index index) { unstable_.stable_snapshot_to(index); }
  // The latest snapshot (the unstable one if any, else the storage's).
  Snapshot snapshot() const;
  // True when a kConfChange entry is committed but not yet applied.
  bool has_unapplied_conf_change() const;

 private:
  const LogStorage& storage_;
  LogUnstable unstable_;
  Index committed_ = 0;
  Index applied_ = 0;
  PlantedBug planted_bug_ = PlantedBug::kNone;  // test builds only set it
};

}  // namespace raft
