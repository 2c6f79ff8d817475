// Unit tests of ReadyDriver (ready_driver.h): the order of the Ready contract, who may send
// before persisting, and retrying a Ready whose persistence failed (disk full).
#include "raft/ready_driver.h"

#include <doctest/doctest.h>

#include "raft/test_node.h"

using namespace raft;
using raft::test::append_from;
using raft::test::TestNode;

TEST_CASE("ready driver: a follower persists and syncs before its acknowledgement leaves") {
  TestNode n(2, {1, 2, 3});
  n.settle();
  n.raw->step(append_from(1, 2, 2, 3, 1, {Entry{.index = 4, .term = 2, .data = "a"}}, 3));
  REQUIRE(n.driver->handle_all().is_ok());
  const size_t ack = n.io.first("send append ack");
  REQUIRE(ack < n.io.calls.size());
  CHECK(n.io.first("entries") < ack);
  CHECK(n.io.first("hard state") < ack);
  CHECK(n.io.first("sync") < ack);
  CHECK(n.storage.last_index() == 4);
}

TEST_CASE("ready driver: a leader sends its appends before persisting, if allowed") {
  for (const bool early : {true, false}) {
    CAPTURE(early);
    auto n = TestNode::leader_of_three(early);
    REQUIRE(n->driver->take());  // the leader's empty entry and its appends
    const size_t appends_before_finish = n->io.sent.size();
    REQUIRE(n->driver->finish().is_ok());
    CHECK(appends_before_finish == (early ? 2u : 0u));
    const size_t first_append = n->io.first("send append");
    REQUIRE(first_append < n->io.calls.size());
    CHECK((first_append < n->io.first("entries")) == early);
  }
}

TEST_CASE(
    "ready driver: a leader deposed inside the Ready sends its acknowledgement only after "
    "persisting (the role is read after ready(), not before)") {
  auto n = TestNode::leader_of_three(true);
  n->settle();
  // Node 3 leads term 3 and overwrites our uncommitted empty entry of term 2.
  n->raw->step(append_from(3, 1, 3, 3, 1, {Entry{.index = 4, .term = 3, .data = "b"}}, 3));
  REQUIRE(n->raw->role() == Role::kFollower);
  REQUIRE(n->driver->take());
  CHECK(n->io.sent.empty());
  REQUIRE(n->driver->finish().is_ok());
  const size_t ack = n->io.first("send append ack");
  REQUIRE(ack < n->io.calls.size());
  CHECK(n->io.first("sync") < ack);
}

TEST_CASE(
    "ready driver: a leader that stepped down inside the Ready sends nothing early, not "
    "even the heartbeats it made while it led") {
  auto n = TestNode::leader_of_three(true);
  n->settle();
  // No follower answers: after an election timeout CheckQuorum makes it a follower of the
  // same term, with the heartbeats of every tick still in its outbox.
  for (int i = 0; i < n->config.election_ticks; ++i) n->raw->tick();
  REQUIRE(n->raw->role() == Role::kFollower);
  REQUIRE(n->driver->take());
  CHECK_FALSE(n->driver->ready_in_hand()->term_or_vote_changed);
  CHECK(n->io.sent.empty());
  REQUIRE(n->driver->finish().is_ok());
  CHECK_FALSE(n->io.sent.empty());
}

TEST_CASE(
    "ready driver: a single voter elected inside a Ready sends nothing before its new "
    "term is durable") {
  TestNode n(1, {1});
  n.settle();
  n.raw->campaign();
  n.settle();
  REQUIRE(n.raw->role() == Role::kLeader);
  REQUIRE(n.raw->propose_conf_change(ConfChange{.type = ConfChange::Type::kAddLearner, .node = 2})
              .is_ok());
  n.settle();
  REQUIRE(n.raw->status().progress.size() == 2);
  // A restart, then an election won at once: term 3's appends to learner 2 must wait.
  n.restart();
  n.settle();
  n.raw->campaign();
  REQUIRE(n.raw->role() == Role::kLeader);
  REQUIRE(n.driver->take());
  CHECK(n.driver->ready_in_hand()->term_or_vote_changed);
  CHECK(n.io.sent.empty());
  REQUIRE(n.driver->finish().is_ok());
  CHECK(n.io.first("hard state") < n.io.first("send append"));
}

TEST_CASE(
    "ready driver: a Ready that failed to persist is kept, takes inputs meanwhile, and is "
    "retried from the stage that failed") {
  TestNode n(2, {1, 2, 3});
  n.settle();
  n.io.fail_hard_state = 1;
  n.raw->step(append_from(1, 2, 2, 3, 1, {Entry{.index = 4, .term = 2, .data = "a"}}, 3));
  base::Status s = n.driver->handle_all();
  CHECK(s.code() == base::Code::kResourceExhausted);
  CHECK(n.driver->in_hand());
  CHECK_FALSE(n.driver->persisted());
  CHECK(n.io.sent.empty());  // the acknowledgement waits
  CHECK(n.io.calls == std::vector<std::string>{"entries"});
  // An input while the Ready is in hand: its answer comes with the next Ready.
  n.raw->step(append_from(1, 2, 2, 4, 2, {Entry{.index = 5, .term = 2, .data = "b"}}, 3));
  REQUIRE(n.driver->finish().is_ok());
  CHECK(n.io.calls[1] == "hard state");  // resumed: the entries were not written twice
  REQUIRE(n.io.sent.size() == 1);
  CHECK(n.io.sent[0].index == 4);
  REQUIRE(n.driver->handle_all().is_ok());
  REQUIRE(n.io.sent.size() == 2);
  CHECK(n.io.sent[1].index == 5);
  CHECK(n.storage.last_index() == 5);
}

TEST_CASE("ready driver: drop() forgets the Ready in hand (a crash)") {
  TestNode n(2, {1, 2, 3});
  n.settle();
  n.io.fail_entries = 1;
  n.raw->step(append_from(1, 2, 2, 3, 1, {Entry{.index = 4, .term = 2, .data = "a"}}, 3));
  CHECK_FALSE(n.driver->handle_all().is_ok());
  n.driver->drop();
  CHECK_FALSE(n.driver->in_hand());
  CHECK(n.io.sent.empty());
  CHECK(n.storage.last_index() == 3);
}
