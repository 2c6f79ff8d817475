// Unit tests of the simulator's safety checker: each feeds a hand-made history that breaks one
// property and asserts the checker names it; a clean history must pass.
#include "raft/sim/checker.h"

#include <doctest/doctest.h>

#include <map>

namespace raft::sim {
namespace {

// A durable log held in a vector: entries [first, last] after a snapshot at first - 1.
class FakeLog : public LogStorage {
 public:
  explicit FakeLog(std::vector<Term> terms, Index snapshot_index = 0, Term snapshot_term = 0)
      : snapshot_index_(snapshot_index), snapshot_term_(snapshot_term), terms_(std::move(terms)) {}
  HardState initial_hard_state() const override { return {}; }
  SnapshotMeta snapshot_meta() const override { return {snapshot_index_, snapshot_term_, {}}; }
  Index first_index() const override { return snapshot_index_ + 1; }
  Index last_index() const override { return snapshot_index_ + terms_.size(); }
  Term term(Index i) const override {
    return i == snapshot_index_ ? snapshot_term_ : terms_.at(i - snapshot_index_ - 1);
  }
  std::vector<Entry> entries(Index lo, Index hi, uint64_t) const override {
    std::vector<Entry> out;
    for (Index i = lo; i < hi; ++i) out.push_back(entry(i));
    return out;
  }
  Snapshot snapshot() const override { return {snapshot_meta(), nullptr}; }
  Entry entry(Index i) const { return Entry{i, term(i), EntryType::kNormal, "x"}; }

 private:
  Index snapshot_index_;
  Term snapshot_term_;
  std::vector<Term> terms_;
};

Message vote_grant(NodeId from, NodeId to, Term term) {
  Message m;
  m.type = MessageType::kVoteResponse;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

std::string property_of(const SafetyChecker& c) {
  return c.violation() ? c.violation()->property : "none";
}

TEST_CASE("checker: two leaders in one term violate election safety") {
  SafetyChecker c;
  FakeLog log({1});
  c.on_node_state(1, 2, true, 0, log);
  c.on_node_state(2, 2, false, 0, log);
  CHECK_FALSE(c.failed());
  c.on_node_state(2, 2, true, 0, log);
  CHECK(property_of(c) == "election safety");
}

TEST_CASE("checker: a node whose term goes down without restarting is flagged") {
  SafetyChecker c;
  FakeLog log({});
  c.on_node_state(1, 5, false, 0, log);
  c.on_restart(1);
  c.on_node_state(1, 3, false, 0, log);  // allowed: nothing above 3 was persisted
  CHECK_FALSE(c.failed());
  c.on_node_state(1, 2, false, 0, log);
  CHECK(property_of(c) == "terms never decrease");
}

TEST_CASE("checker: a persisted term going back is flagged across restarts") {
  SafetyChecker c;
  c.on_hard_state_persisted(1, {4, 2, 0});
  c.on_restart(1);
  c.on_hard_state_persisted(1, {3, 0, 0});
  CHECK(property_of(c) == "terms never decrease");
}

TEST_CASE("checker: changing a persisted vote within a term is flagged") {
  SafetyChecker c;
  c.on_hard_state_persisted(1, {4, 0, 0});
  c.on_hard_state_persisted(1, {4, 2, 0});
  c.on_hard_state_persisted(1, {5, 3, 0});  // a new term may vote again
  CHECK_FALSE(c.failed());
  c.on_hard_state_persisted(1, {5, 2, 0});
  CHECK(property_of(c) == "one vote per term");
}

TEST_CASE("checker: a vote granted before it is persisted is flagged") {
  SafetyChecker c;
  FakeLog log({});
  c.on_hard_state_persisted(1, {3, 2, 0});
  c.on_message_sent(vote_grant(1, 2, 3), log);
  CHECK_FALSE(c.failed());
  c.on_message_sent(vote_grant(1, 3, 4), log);  // term 4 vote never persisted
  CHECK(property_of(c) == "one vote per term");
}

TEST_CASE("checker: an append acknowledged beyond the durable log is flagged") {
  SafetyChecker c;
  FakeLog log({1, 1, 2});
  Message ack;
  ack.type = MessageType::kAppendResponse;
  ack.from = 2;
  ack.to = 1;
  ack.term = 2;
  ack.index = 3;
  c.on_message_sent(ack, log);
  CHECK_FALSE(c.failed());
  ack.index = 4;
  c.on_message_sent(ack, log);
  CHECK(property_of(c) == "append acknowledged only when durable");
}

TEST_CASE("checker: same index and term with different data breaks log matching") {
  SafetyChecker c;
  FakeLog log({1, 2});
  c.on_entries_persisted(1, {log.entry(1), log.entry(2)}, log);
  c.on_entries_persisted(2, {log.entry(2)}, log);
  CHECK_FALSE(c.failed());
  Entry other = log.entry(2);
  other.data = "y";
  c.on_entries_persisted(3, {other}, log);
  CHECK(property_of(c) == "log matching");
}

TEST_CASE("checker: same index and term after a different predecessor breaks log matching") {
  SafetyChecker c;
  FakeLog a({1, 3});
  FakeLog b({2, 3});
  c.on_entries_persisted(1, {a.entry(2)}, a);
  c.on_entries_persisted(2, {b.entry(2)}, b);
  CHECK(property_of(c) == "log matching");
}

TEST_CASE("checker: two nodes committing different terms at one index break safety") {
  SafetyChecker c;
  c.on_commit_observed(1, 2, FakeLog({1, 1}));
  c.on_commit_observed(2, 2, FakeLog({1, 1, 3}));
  CHECK_FALSE(c.failed());
  c.on_commit_observed(3, 2, FakeLog({1, 2}));
  CHECK(property_of(c) == "state machine safety");
}

TEST_CASE("checker: applied prefixes that differ, or an apply gap, break safety") {
  SafetyChecker c1;
  Entry e{1, 1, EntryType::kNormal, "a"};
  c1.on_applied(1, 0, e, 111);
  c1.on_applied(2, 0, e, 111);
  CHECK_FALSE(c1.failed());
  c1.on_snapshot_applied(3, 1, 1, 222);
  CHECK(property_of(c1) == "state machine safety");

  SafetyChecker c2;
  c2.on_applied(1, 0, e, 111);
  c2.on_applied(1, 1, Entry{3, 1, EntryType::kNormal, "c"}, 333);
  CHECK(property_of(c2) == "state machine safety");
}

TEST_CASE("checker: a new leader missing a committed entry breaks leader completeness") {
  SafetyChecker c;
  c.on_commit_observed(1, 3, FakeLog({1, 1, 2}));
  c.on_node_state(2, 3, true, 0, FakeLog({1, 1, 2, 2}));  // holds all: fine
  CHECK_FALSE(c.failed());
  c.on_node_state(3, 4, true, 0, FakeLog({1, 1}));
  CHECK(property_of(c) == "leader completeness");
  SafetyChecker d;
  d.on_commit_observed(1, 3, FakeLog({1, 1, 2}));
  d.on_node_state(3, 4, true, 0, FakeLog({1, 1, 3}));  // right length, wrong term
  CHECK(property_of(d) == "leader completeness");
}

TEST_CASE("checker: a leader's snapshot covers committed entries it no longer stores") {
  SafetyChecker c;
  c.on_commit_observed(1, 3, FakeLog({1, 1, 2}));
  c.on_node_state(2, 3, true, 0, FakeLog({2}, 2, 1));
  CHECK_FALSE(c.failed());
}

TEST_CASE("checker: a commit stored by a minority of voters is flagged") {
  std::map<NodeId, FakeLog> logs = {{1, FakeLog({1, 1})}, {2, FakeLog({1, 1})}, {3, FakeLog({1})}};
  StorageLookup lookup = [&](NodeId id) -> const LogStorage* {
    auto it = logs.find(id);
    return it == logs.end() ? nullptr : &it->second;
  };
  ConfState conf{{1, 2, 3}, {}};
  SafetyChecker c;
  c.on_commit_observed(1, 2, logs.at(1));
  c.on_leader_commit(1, 1, 2, conf, lookup);
  CHECK_FALSE(c.failed());

  logs = {{1, FakeLog({1, 1, 1})}, {2, FakeLog({1, 1})}, {3, FakeLog({1})}};
  c.on_commit_observed(1, 3, logs.at(1));
  c.on_leader_commit(1, 1, 3, conf, lookup);
  CHECK(property_of(c) == "committed entries are durable on a quorum");
}

TEST_CASE("checker: a leader committing an earlier term's entry by counting is flagged") {
  std::map<NodeId, FakeLog> logs = {{1, FakeLog({1, 2, 3})}, {2, FakeLog({1, 2})}};
  StorageLookup lookup = [&](NodeId id) -> const LogStorage* {
    auto it = logs.find(id);
    return it == logs.end() ? nullptr : &it->second;
  };
  SafetyChecker c;
  c.on_node_state(1, 3, true, 1, logs.at(1));  // elected in term 3 with commit 1
  c.on_commit_observed(1, 2, logs.at(1));
  c.on_leader_commit(1, 3, 2, ConfState{{1, 2}, {}}, lookup);  // index 2 has term 2
  CHECK(property_of(c) == "commit only entries of the leader's term");
}

TEST_CASE("checker: a read that misses an acknowledged write is flagged") {
  SafetyChecker c;
  c.on_applied(1, 0, Entry{1, 1, EntryType::kNormal, "a"}, 1);
  c.on_read_started(7);
  c.on_read_served(7, 2, 1, 1);
  CHECK_FALSE(c.failed());
  c.on_applied(1, 1, Entry{2, 1, EntryType::kNormal, "b"}, 2);
  c.on_read_started(8);
  c.on_read_served(8, 3, 1, 1);
  CHECK(property_of(c) == "linearizable reads");
}

TEST_CASE(
    "checker: a read index below an acknowledged write is flagged even if the state "
    "served happens to include it") {
  SafetyChecker c;
  c.on_applied(1, 0, Entry{1, 1, EntryType::kNormal, "a"}, 1);
  c.on_applied(1, 1, Entry{2, 1, EntryType::kNormal, "b"}, 2);
  c.on_read_started(9);
  c.on_read_served(9, 3, 1, 2);
  CHECK(property_of(c) == "linearizable reads");
}

TEST_CASE("checker: only the first violation is kept") {
  SafetyChecker c;
  FakeLog log({});
  c.on_core_assertion("check failed: commit <= last");
  c.on_node_state(1, 1, true, 0, log);
  c.on_node_state(2, 1, true, 0, log);
  CHECK(property_of(c) == "core invariant");
  CHECK(c.violation()->detail == "check failed: commit <= last");
}

}  // namespace
}  // namespace raft::sim
