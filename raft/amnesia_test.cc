// Unit tests of amnesia (raw_node.h, "Amnesia"): a node whose storage lost what it promised
// neither votes nor campaigns until a leader has repaired it, and a leader re-learns the match
// of a follower whose log went backwards.
#include <doctest/doctest.h>

#include "raft/test_node.h"

using namespace raft;
using raft::test::append_from;
using raft::test::TestNode;

namespace {

Entry entry(Index index, Term term) { return Entry{.index = index, .term = term, .data = "x"}; }

// Node 2 of {1, 2, 3}, bootstrapped (entries 1..3 at term 1), then amnesiac.
std::unique_ptr<TestNode> amnesiac_follower() {
  auto n = std::make_unique<TestNode>(2, std::vector<NodeId>{1, 2, 3});
  n->config.amnesiac = true;
  n->restart();
  n->settle();
  REQUIRE(n->raw->status().amnesiac);
  return n;
}

const Message* find_sent(const TestNode& n, MessageType type) {
  for (const Message& m : n.io.sent) {
    if (m.type == type) return &m;
  }
  return nullptr;
}

// Steps `m`, handles every Ready, and tells whether the node is still amnesiac.
bool amnesiac_after(TestNode& n, const Message& m) {
  n.raw->step(m);
  n.settle();
  return n.raw->status().amnesiac;
}

// Node 2 rejects the append at index 4 of leader 1 (term 2), hinting its log ends at 2.
Message rejection_by_2(std::string context) {
  return Message{.type = MessageType::kAppendResponse,
                 .from = 2,
                 .to = 1,
                 .term = 2,
                 .index = 4,
                 .reject = true,
                 .reject_hint = 2,
                 .reject_hint_term = 1,
                 .context = std::move(context)};
}

}  // namespace

TEST_CASE("amnesia: an amnesiac node refuses votes and pre-votes and never campaigns") {
  auto node = amnesiac_follower();
  TestNode& n = *node;
  for (int i = 0; i < 100; ++i) n.raw->tick();
  REQUIRE(n.driver->handle_all().is_ok());
  CHECK(n.raw->role() == Role::kFollower);
  CHECK(find_sent(n, MessageType::kPreVote) == nullptr);
  n.raw->campaign();
  CHECK(n.raw->role() == Role::kFollower);
  for (MessageType type : {MessageType::kPreVote, MessageType::kVote}) {
    n.settle();
    n.raw->step(Message{.type = type, .from = 3, .to = 2, .term = 5, .log_term = 1, .index = 3});
    REQUIRE(n.driver->handle_all().is_ok());
    const MessageType response =
        type == MessageType::kVote ? MessageType::kVoteResponse : MessageType::kPreVoteResponse;
    const Message* answer = find_sent(n, response);
    REQUIRE(answer != nullptr);
    CHECK(answer->reject);
  }
  CHECK(n.storage.hard_state().vote == kNoNode);
}

TEST_CASE(
    "amnesia: repaired once the leader's log is held up to the commit of its first append "
    "and to an entry of its term, and only once that is durable") {
  auto node = amnesiac_follower();
  TestNode& n = *node;
  // Leader 1 of term 2: entries 4, 5 of term 2, commit 5 when it first writes to us.
  n.raw->step(append_from(1, 2, 2, 3, 1, {entry(4, 2)}, 5));
  n.settle();
  CHECK(n.raw->status().amnesiac);  // holds up to 4 < 5
  // A Ready is in hand when the repairing append arrives (a heartbeat's answer).
  n.raw->step(Message{.type = MessageType::kHeartbeat, .from = 1, .to = 2, .term = 2});
  REQUIRE(n.driver->take());
  // A later append announces a higher commit: the target stays the first one's.
  n.raw->step(append_from(1, 2, 2, 4, 2, {entry(5, 2)}, 9));
  CHECK(n.raw->status().amnesiac);  // holds 5 now, but not durably
  REQUIRE(n.driver->finish().is_ok());
  CHECK(n.raw->status().amnesiac);  // that Ready did not persist 5
  REQUIRE(n.driver->take());
  CHECK(n.raw->status().amnesiac);
  REQUIRE(n.driver->finish().is_ok());
  CHECK_FALSE(n.raw->status().amnesiac);
  // Repaired, it votes again (log check permitting).
  for (int i = 0; i < 30; ++i) n.raw->tick();
  n.settle();
  n.raw->step(Message{
      .type = MessageType::kVote, .from = 3, .to = 2, .term = 3, .log_term = 2, .index = 5});
  REQUIRE(n.driver->handle_all().is_ok());
  const Message* answer = find_sent(n, MessageType::kVoteResponse);
  REQUIRE(answer != nullptr);
  CHECK_FALSE(answer->reject);
}

TEST_CASE("amnesia: holding the leader's commit is not enough without an entry of its term") {
  auto node = amnesiac_follower();
  TestNode& n = *node;
  // Leader 1 of term 3 has committed 5 (entries of term 2); its own first entry is 6.
  CHECK(amnesiac_after(n, append_from(1, 2, 3, 3, 1, {entry(4, 2), entry(5, 2)}, 5)));
  CHECK_FALSE(amnesiac_after(n, append_from(1, 2, 3, 5, 2, {entry(6, 3)}, 5)));
}

TEST_CASE("amnesia: a new leader's first append sets a new target") {
  auto node = amnesiac_follower();
  TestNode& n = *node;
  // Target 3 (its commit); 4 >= 3 and of term 2: repaired.
  CHECK_FALSE(amnesiac_after(n, append_from(1, 2, 2, 3, 1, {entry(4, 2)}, 3)));

  auto node_m = amnesiac_follower();
  TestNode& m = *node_m;
  CHECK(amnesiac_after(m, append_from(1, 2, 2, 3, 1, {}, 6)));  // leader 1 of term 2, commit 6
  // Leader 3 of term 4, commit 4 in its first append: its target replaces leader 1's.
  CHECK_FALSE(amnesiac_after(m, append_from(3, 2, 4, 3, 1, {entry(4, 4)}, 4)));
}

TEST_CASE("amnesia: a restart from a storage that contradicts itself is amnesiac") {
  SUBCASE("hard state lost: its term is below the log's last term") {
    TestNode n(2, {1, 2, 3});
    n.settle();
    CHECK_FALSE(amnesiac_after(n, append_from(1, 2, 2, 3, 1, {entry(4, 2)}, 3)));
    n.storage.set_hard_state(HardState{});
    n.restart();
    CHECK(n.raw->status().amnesiac);
    CHECK(n.raw->status().term == 2);  // from the log
  }
  SUBCASE("log lost a tail: commit beyond the last index") {
    TestNode n(2, {1, 2, 3});
    n.settle();
    CHECK_FALSE(amnesiac_after(n, append_from(1, 2, 2, 3, 1, {entry(4, 2), entry(5, 2)}, 5)));
    REQUIRE(n.storage.hard_state().commit == 5);
    n.storage.lose_entries_after(4);
    n.restart();
    CHECK(n.raw->status().amnesiac);
    CHECK(n.raw->status().commit == 4);  // clamped to what is left
  }
  SUBCASE("a healthy restart is not") {
    TestNode n(2, {1, 2, 3});
    n.settle();
    CHECK_FALSE(amnesiac_after(n, append_from(1, 2, 2, 3, 1, {entry(4, 2)}, 4)));
    n.restart();
    CHECK_FALSE(n.raw->status().amnesiac);
  }
}

TEST_CASE("amnesia: a leader that learns its storage was replaced steps down") {
  auto n = TestNode::leader_of_three(true);
  n->raw->become_amnesiac();
  CHECK(n->raw->role() == Role::kFollower);
  CHECK(n->raw->status().amnesiac);
  n->raw->check_invariants();
}

TEST_CASE(
    "progress repair: a rejection of a numbered probe below match resets the follower; a "
    "stale one does not") {
  auto n = TestNode::leader_of_three(true);
  n->settle();  // the empty entry 4 of term 2 is out
  n->raw->step(
      Message{.type = MessageType::kAppendResponse, .from = 2, .to = 1, .term = 2, .index = 4});
  n->settle();
  auto progress_of_2 = [&] {
    for (const ProgressStatus& p : n->raw->status().progress) {
      if (p.id == 2) return p;
    }
    FAIL("no progress for node 2");
    return ProgressStatus{};
  };
  REQUIRE(progress_of_2().match == 4);
  REQUIRE(n->raw->propose("a").is_ok());
  n->settle();  // append prev=4 [5] to node 2
  // Node 2 lost its tail: it rejects index 5 (above match): the leader probes at match.
  n->raw->step(Message{.type = MessageType::kAppendResponse,
                       .from = 2,
                       .to = 1,
                       .term = 2,
                       .index = 5,
                       .reject = true,
                       .reject_hint = 2,
                       .reject_hint_term = 1});
  REQUIRE(n->driver->handle_all().is_ok());
  const Message* probe = find_sent(*n, MessageType::kAppend);
  REQUIRE(probe != nullptr);
  CHECK(probe->index == 4);
  REQUIRE_FALSE(probe->context.empty());
  const std::string probe_context = probe->context;
  n->io.sent.clear();
  CHECK(progress_of_2().state == std::string("probe"));
  CHECK(progress_of_2().match == 4);
  // A stale rejection (no number, or one it never sent since match was 4) is no evidence.
  for (const char* stale : {"", "0", "999999"}) {
    n->raw->step(rejection_by_2(stale));
    CHECK(progress_of_2().match == 4);
    CHECK(progress_of_2().storage_loss_resets == 0);
  }
  // The answer to the probe: its log really went back below 4.
  n->raw->step(rejection_by_2(probe_context));
  CHECK(progress_of_2().match == 0);
  CHECK(progress_of_2().storage_loss_resets == 1);
  CHECK(n->raw->status().commit == 4);  // commit never regresses
  REQUIRE(n->driver->handle_all().is_ok());
  const Message* resend = find_sent(*n, MessageType::kAppend);
  REQUIRE(resend != nullptr);
  CHECK(resend->index == 2);  // from the follower's hint
  n->raw->check_invariants();
}

TEST_CASE("peer storage lost: a leader resets the follower; a candidate ignores its grant") {
  auto leader = TestNode::leader_of_three(true);
  leader->settle();
  leader->raw->step(
      Message{.type = MessageType::kAppendResponse, .from = 3, .to = 1, .term = 2, .index = 4});
  leader->settle();
  leader->raw->peer_storage_lost(3, 0);
  for (const ProgressStatus& p : leader->raw->status().progress) {
    if (p.id != 3) continue;
    CHECK(p.match == 0);
    CHECK(p.next == 1);
    CHECK(p.storage_loss_resets == 1);
  }
  REQUIRE(leader->driver->handle_all().is_ok());
  CHECK(find_sent(*leader, MessageType::kAppend) != nullptr);  // probing at once

  TestNode candidate(1, {1, 2, 3});
  candidate.settle();
  candidate.raw->peer_storage_lost(2, 0);
  candidate.raw->campaign();
  candidate.settle();
  candidate.raw->step(
      Message{.type = MessageType::kPreVoteResponse, .from = 2, .to = 1, .term = 2});
  CHECK(candidate.raw->role() == Role::kPreCandidate);  // node 2's grant does not count
  candidate.raw->peer_storage_repaired(2);
  candidate.raw->step(
      Message{.type = MessageType::kPreVoteResponse, .from = 3, .to = 1, .term = 2});
  CHECK(candidate.raw->role() == Role::kCandidate);
}
