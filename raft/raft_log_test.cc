// Unit tests of the follower's append (RaftLog::maybe_append) and of the unstable tail
// (LogUnstable) on small hand-made logs, in the manner of etcd's log_test.go and
// log_unstable_test.go. Each scenario is a function of the planted bug, so that in test
// builds the same scenario also proves its check fails when bug 6 or 7 is planted.
#include <doctest/doctest.h>

#include <optional>
#include <vector>

#include "raft/log_unstable.h"
#include "raft/memory_storage.h"
#include "raft/raft_log.h"

using namespace raft;

namespace {

Entry entry(Index index, Term term) { return Entry{.index = index, .term = term, .data = "x"}; }

std::vector<Term> terms_of(const RaftLog& log) {
  std::vector<Term> out;
  for (Index i = log.first_index(); i <= log.last_index(); ++i) out.push_back(*log.term(i));
  return out;
}

std::vector<Term> terms_of(const LogUnstable& unstable) {
  std::vector<Term> out;
  for (const Entry& e : unstable.entries()) out.push_back(e.term);
  return out;
}

// A follower's log: `stored` durable in storage, then `tail` appended through maybe_append
// and not yet persisted (the unstable tail), commit at `commit`.
MemoryStorage storage_with(const std::vector<Entry>& stored) {
  MemoryStorage storage;
  storage.append(stored);
  return storage;
}

struct Follower {
  MemoryStorage storage;
  RaftLog log;

  Follower(const std::vector<Entry>& stored, const std::vector<Entry>& tail, Index commit,
           PlantedBug bug)
      : storage(storage_with(stored)), log(storage) {
#ifdef RAFTKV_TEST_HOOKS
    log.plant_bug(bug);
#else
    (void)bug;
#endif
    if (!tail.empty()) {
      const Index prev = tail.front().index - 1;
      REQUIRE(log.maybe_append(prev, *log.term(prev), 0, tail).has_value());
    }
    log.commit_to(commit);
  }
};

struct Outcome {
  std::optional<Index> last_new;
  Index commit = 0;
  std::vector<Term> terms;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

Outcome outcome(const Follower& f, std::optional<Index> last_new) {
  return Outcome{last_new, f.log.committed(), terms_of(f.log)};
}

// Stored [1@1 2@1], unstable [3@2 4@2 5@2]; the leader of term 3 matches at 3 and sends 4@3.
Outcome conflict_in_unpersisted_tail(PlantedBug bug) {
  Follower f({entry(1, 1), entry(2, 1)}, {entry(3, 2), entry(4, 2), entry(5, 2)}, 1, bug);
  const auto last_new = f.log.maybe_append(3, 2, 3, {entry(4, 3)});
  return outcome(f, last_new);
}

// Stored [1@1 2@1 3@2 4@2]: entries 3 and 4 are a stale tail of an old term; this leader
// (term 3) matches at 2, has committed 4, and sends an append covering only index 2.
Outcome commit_capped_at_last_new_entry(PlantedBug bug) {
  Follower f({entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2)}, {}, 1, bug);
  const auto last_new = f.log.maybe_append(1, 1, 4, {entry(2, 1)});
  return outcome(f, last_new);
}

}  // namespace

TEST_CASE("raft log: an append that does not match (prev index, prev term) changes nothing") {
  Follower f({entry(1, 1), entry(2, 2), entry(3, 3)}, {}, 1, PlantedBug::kNone);
  CHECK_FALSE(f.log.maybe_append(3, 2, 3, {entry(4, 4)}).has_value());  // term differs
  CHECK_FALSE(f.log.maybe_append(4, 3, 3, {entry(5, 4)}).has_value());  // beyond the log
  CHECK(terms_of(f.log) == std::vector<Term>{1, 2, 3});
  CHECK(f.log.committed() == 1);
}

TEST_CASE("raft log: commit moves to the leader's commit, capped at the last entry it sent") {
  struct Case {
    Index prev;
    Term prev_term;
    Index leader_commit;
    std::vector<Entry> entries;
    Index want_last_new;
    Index want_commit;
    std::vector<Term> want_terms;
  };
  const std::vector<Case> cases = {
      {3, 3, 3, {}, 3, 3, {1, 2, 3}},  // matches the last entry
      {3, 3, 4, {}, 3, 3, {1, 2, 3}},  // capped at the last index the append covers
      {3, 3, 2, {}, 3, 2, {1, 2, 3}},
      {3, 3, 0, {}, 3, 1, {1, 2, 3}},  // commit never decreases
      {3, 3, 3, {entry(4, 4)}, 4, 3, {1, 2, 3, 4}},
      {3, 3, 5, {entry(4, 4)}, 4, 4, {1, 2, 3, 4}},
      {3, 3, 5, {entry(4, 4), entry(5, 4)}, 5, 5, {1, 2, 3, 4, 4}},
      {2, 2, 3, {entry(3, 4)}, 3, 3, {1, 2, 4}},  // conflict at the last entry: replaced
      {1, 1, 3, {entry(2, 4)}, 2, 2, {1, 4}},     // conflict in the middle: the rest goes
      {1, 1, 3, {entry(2, 2)}, 2, 2, {1, 2, 3}},  // a matching older append keeps the tail
  };
  for (const Case& c : cases) {
    CAPTURE(c.prev);
    CAPTURE(c.leader_commit);
    CAPTURE(c.entries.size());
    Follower f({entry(1, 1), entry(2, 2), entry(3, 3)}, {}, 1, PlantedBug::kNone);
    const auto last_new = f.log.maybe_append(c.prev, c.prev_term, c.leader_commit, c.entries);
    REQUIRE(last_new.has_value());
    CHECK(*last_new == c.want_last_new);
    CHECK(f.log.committed() == c.want_commit);
    CHECK(terms_of(f.log) == c.want_terms);
  }
}

TEST_CASE("raft log: a conflict in the middle of an unpersisted tail truncates the rest") {
  const Outcome got = conflict_in_unpersisted_tail(PlantedBug::kNone);
  CHECK(got == Outcome{4, 3, {1, 1, 2, 3}});
}

TEST_CASE(
    "raft log: an append covering a prefix leaves a stale tail, and commits only up to "
    "the last entry this leader sent") {
  const Outcome got = commit_capped_at_last_new_entry(PlantedBug::kNone);
  CHECK(got == Outcome{2, 2, {1, 1, 2, 2}});
}

TEST_CASE("raft log: a stale tail is cut once the append reaches it") {
  Follower f({entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2)}, {}, 1, PlantedBug::kNone);
  REQUIRE(f.log.maybe_append(2, 1, 4, {entry(3, 3)}) == std::optional<Index>(3));
  CHECK(terms_of(f.log) == std::vector<Term>{1, 1, 3});
  CHECK(f.log.committed() == 3);
  // What storage still holds beyond the cut is not part of the log any more.
  CHECK_FALSE(f.log.term(4).has_value());
  CHECK(f.log.unstable().offset() == 3);
}

#ifdef RAFTKV_TEST_HOOKS
TEST_CASE("raft log: planted bug 6 (commit to last_index) fails the commit-capping test") {
  const Outcome got = commit_capped_at_last_new_entry(PlantedBug::kFollowerCommitToLastIndex);
  CHECK(got != Outcome{2, 2, {1, 1, 2, 2}});
  CHECK(got.commit == 4);  // the stale entries 3 and 4 of term 2 would be applied
}

TEST_CASE("raft log: planted bug 7 (overwrite in place) fails the unpersisted-conflict test") {
  const Outcome got = conflict_in_unpersisted_tail(PlantedBug::kUnstableOverwriteInPlace);
  CHECK(got != Outcome{4, 3, {1, 1, 2, 3}});
  CHECK(got.terms == std::vector<Term>{1, 1, 2, 3, 2});  // terms go back: 5@2 survived
}
#endif

TEST_CASE("log unstable: first, last and term with and without a snapshot") {
  LogUnstable empty(5);
  CHECK_FALSE(empty.maybe_first_index().has_value());
  CHECK_FALSE(empty.maybe_last_index().has_value());
  CHECK_FALSE(empty.maybe_term(4).has_value());

  LogUnstable tail(5);
  tail.truncate_and_append({entry(5, 1), entry(6, 1)});
  CHECK_FALSE(tail.maybe_first_index().has_value());
  CHECK(tail.maybe_last_index() == std::optional<Index>(6));
  CHECK(tail.maybe_term(6) == std::optional<Term>(1));
  CHECK_FALSE(tail.maybe_term(4).has_value());
  CHECK_FALSE(tail.maybe_term(7).has_value());

  LogUnstable restored(1);
  restored.restore(Snapshot{.meta = {.index = 4, .term = 2}});
  CHECK(restored.maybe_first_index() == std::optional<Index>(5));
  CHECK(restored.maybe_last_index() == std::optional<Index>(4));
  CHECK(restored.maybe_term(4) == std::optional<Term>(2));
  CHECK_FALSE(restored.maybe_term(3).has_value());
  CHECK(restored.offset() == 5);
}

TEST_CASE("log unstable: truncate_and_append appends, replaces the whole tail, or cuts it") {
  struct Case {
    std::vector<Entry> append;
    Index want_offset;
    std::vector<Term> want_terms;
  };
  const std::vector<Case> cases = {
      {{entry(7, 1), entry(8, 1)}, 5, {1, 1, 1, 1}},  // at the end
      {{entry(5, 2), entry(6, 2)}, 5, {2, 2}},        // from the offset: replaces it all
      {{entry(4, 2), entry(5, 2)}, 4, {2, 2}},        // below the offset (storage suffix too)
      {{entry(6, 2)}, 5, {1, 2}},                     // in the middle: the rest goes
      {{entry(6, 2), entry(7, 2), entry(8, 2)}, 5, {1, 2, 2, 2}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.append.front().index);
    LogUnstable unstable(5);
    unstable.truncate_and_append({entry(5, 1), entry(6, 1)});
    unstable.truncate_and_append(c.append);
    CHECK(unstable.offset() == c.want_offset);
    CHECK(terms_of(unstable) == c.want_terms);
  }
}

TEST_CASE("log unstable: stable_to forgets a persisted prefix unless the tail was rewritten") {
  LogUnstable unstable(5);
  unstable.truncate_and_append({entry(5, 1), entry(6, 1), entry(7, 1)});
  unstable.stable_to(6, 2);  // the persisted entry had another term: nothing to forget
  CHECK(unstable.offset() == 5);
  unstable.stable_to(4, 1);  // below the tail
  CHECK(unstable.offset() == 5);
  unstable.stable_to(6, 1);
  CHECK(unstable.offset() == 7);
  CHECK(terms_of(unstable) == std::vector<Term>{1});
  // A Ready handed out 7@1; before it was persisted a new leader replaced it with 7@2.
  unstable.truncate_and_append({entry(7, 2)});
  unstable.stable_to(7, 1);
  CHECK(unstable.offset() == 7);
  CHECK(terms_of(unstable) == std::vector<Term>{2});
}
