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

Message with(MessageType type, NodeId from, NodeId to, Term term, bool reject = false) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  m.reject = reject;
  return m;
}

Message vote_grant(NodeId from, NodeId to, Term term) {
  return with(MessageType::kVoteResponse, from, to, term);
}

// Looks nodes up in `logs`, which the caller may change between checks.
StorageLookup lookup_in(std::map<NodeId, FakeLog>& logs) {
  return [&logs](NodeId id) -> const LogStorage* {
    auto it = logs.find(id);
    return it == logs.end() ? nullptr : &it->second;
  };
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
  StorageLookup lookup = lookup_in(logs);
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
  StorageLookup lookup = lookup_in(logs);
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

TEST_CASE("checker: a vote grant is durable once its vote or a later term is persisted") {
  SafetyChecker c;
  FakeLog log({});
  c.on_hard_state_persisted(1, {6, 1, 0});  // it voted 2 in term 5, then moved to term 6
  c.on_message_sent(vote_grant(1, 2, 5), log);
  CHECK_FALSE(c.failed());
}

TEST_CASE("checker: a term raised by a node alone, without a quorum's pre-votes, is flagged") {
  SafetyChecker ok;
  ok.on_hard_state_persisted(1, {1, 0, 3});
  ok.on_step(1, with(MessageType::kPreVoteResponse, 2, 1, 2), 1, false, 1, false);
  ok.on_term_raised(1, 2, {1, 2, 3});  // its pre-vote and node 2's: a quorum
  ok.on_step(1, with(MessageType::kAppend, 3, 1, 7), 2, false, 7, false);
  ok.on_term_raised(1, 7, {1, 2, 3});  // heard from node 3
  ok.on_step(1, with(MessageType::kTimeoutNow, 3, 1, 7), 7, false, 7, false);
  ok.on_step(1, with(MessageType::kTimeoutNow, 3, 1, 6), 7, false, 7, false);  // a late one
  ok.on_term_raised(1, 8, {1, 2, 3});  // a leadership transfer skips pre-vote
  CHECK_FALSE(ok.failed());

  SafetyChecker alone;
  alone.on_hard_state_persisted(1, {1, 0, 3});
  alone.on_step(1, with(MessageType::kPreVote, 2, 1, 5), 1, false, 1, false);  // not a reason
  alone.on_step(1, with(MessageType::kPreVoteResponse, 2, 1, 3), 1, false, 1, false);
  alone.on_term_raised(1, 2, {1, 2, 3, 4, 5});  // 2 of 5 pre-votes
  CHECK(property_of(alone) == "pre-vote keeps terms of isolated nodes");
}

TEST_CASE("checker: a leader still leading after a higher term reached it is flagged") {
  SafetyChecker c;
  c.on_step(1, with(MessageType::kVote, 2, 1, 5), 3, true, 3, true);  // the lease may ignore it
  c.on_step(1, with(MessageType::kPreVoteResponse, 2, 1, 4), 3, true, 3, true);  // granted
  c.on_step(1, with(MessageType::kAppendResponse, 2, 1, 4), 3, true, 4, false);
  CHECK_FALSE(c.failed());
  c.on_step(1, with(MessageType::kHeartbeatResponse, 2, 1, 6), 4, true, 4, true);
  CHECK(property_of(c) == "a leader shown a higher term steps down");
}

TEST_CASE("checker: a follower's match going down without a justified reset is flagged") {
  std::map<NodeId, FakeLog> logs = {{1, FakeLog({1, 1, 1})}, {2, FakeLog({1, 1, 1})}};
  StorageLookup lookup = lookup_in(logs);
  auto progress = [](Index match, uint64_t resets) {
    return std::vector<ProgressStatus>{
        ProgressStatus{.id = 2, .match = match, .next = match + 1, .storage_loss_resets = resets}};
  };
  SafetyChecker quiet;
  quiet.on_leader_progress(1, 1, progress(3, 0), logs.at(1), lookup);
  quiet.on_leader_progress(1, 2, progress(1, 0), logs.at(1), lookup);  // a new term starts over
  CHECK_FALSE(quiet.failed());

  SafetyChecker lowered;
  lowered.on_leader_progress(1, 1, progress(3, 0), logs.at(1), lookup);
  lowered.on_leader_progress(1, 1, progress(2, 0), logs.at(1), lookup);
  CHECK(property_of(lowered) == "a follower's match never decreases");

  SafetyChecker unjustified;  // a reset, but node 2 still holds index 3
  unjustified.on_leader_progress(1, 1, progress(3, 0), logs.at(1), lookup);
  unjustified.on_leader_progress(1, 1, progress(0, 1), logs.at(1), lookup);
  CHECK(property_of(unjustified) == "a follower's match never decreases");

  SafetyChecker told;  // peer_storage_lost() asks for it
  told.on_leader_progress(1, 1, progress(3, 0), logs.at(1), lookup);
  told.on_leader_told_storage_lost(1, 1, 2);
  CHECK(told.on_leader_progress(1, 1, progress(0, 1), logs.at(1), lookup) == 1);
  CHECK_FALSE(told.failed());

  logs.at(2) = FakeLog({1});  // its log really went back
  SafetyChecker justified;
  justified.on_leader_progress(1, 1, progress(3, 0), logs.at(1), lookup);
  CHECK(justified.on_leader_progress(1, 1, progress(0, 1), logs.at(1), lookup) == 1);
  CHECK_FALSE(justified.failed());
}

TEST_CASE("checker: what a node stored before its storage was lost still counted for a commit") {
  std::map<NodeId, FakeLog> logs = {{1, FakeLog({1, 1})}, {2, FakeLog({1, 1})}, {3, FakeLog({1})}};
  StorageLookup lookup = lookup_in(logs);
  SafetyChecker c;
  c.on_storage_lost(2, false, logs.at(2));  // it acknowledged index 2, then lost it
  logs.at(2) = FakeLog({});
  c.after_storage_lost(2, logs.at(2));
  c.on_hard_state_persisted(2, {1, 0, 0});  // its hard state starts again
  c.on_commit_observed(1, 2, logs.at(1));
  c.on_leader_commit(1, 1, 2, ConfState{{1, 2, 3}, {}}, lookup);
  CHECK_FALSE(c.failed());
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
