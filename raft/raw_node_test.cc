// Unit tests of RawNode rules that the scripts show only implicitly: the persistence rule of
// the Ready contract, and robustness against arbitrary messages.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "base/rng.h"
#include "raft/memory_storage.h"
#include "raft/raw_node.h"

using namespace raft;

namespace {

// A 3-voter cluster member that has handled its bootstrap Readys.
struct Member {
  MemoryStorage storage;
  std::unique_ptr<RawNode> node;

  explicit Member(NodeId id, bool amnesiac = false) {
    Config config;
    config.id = id;
    config.initial_voters = {1, 2, 3};
    config.amnesiac = amnesiac;
    node = std::make_unique<RawNode>(config, storage);
    drain();
  }

  // Handles every Ready as a driver would; returns the messages it sent.
  std::vector<Message> drain() {
    std::vector<Message> sent;
    while (node->has_ready()) {
      Ready rd = node->ready();
      if (rd.snapshot) REQUIRE(storage.apply_snapshot(*rd.snapshot).is_ok());
      storage.append(rd.entries);
      if (rd.hard_state) storage.set_hard_state(*rd.hard_state);
      sent.insert(sent.end(), rd.messages.begin(), rd.messages.end());
      node->advance(rd);
      node->check_invariants();
    }
    return sent;
  }
};

}  // namespace

TEST_CASE("raw node: a vote grant leaves in the same Ready as the persisted vote") {
  Member member(2);
  member.node->step(Message{
      .type = MessageType::kVote, .from = 1, .to = 2, .term = 5, .log_term = 1, .index = 3});
  REQUIRE(member.node->has_ready());
  Ready rd = member.node->ready();
  REQUIRE(rd.hard_state.has_value());
  CHECK(rd.hard_state->term == 5);
  CHECK(rd.hard_state->vote == 1);
  CHECK(rd.must_sync);
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].type == MessageType::kVoteResponse);
  CHECK_FALSE(rd.messages[0].reject);
  member.node->advance(rd);
}

TEST_CASE("raw node: an append acknowledgement leaves with the entries it acknowledges") {
  Member member(2);
  member.node->step(Message{.type = MessageType::kAppend,
                            .from = 1,
                            .to = 2,
                            .term = 2,
                            .log_term = 1,
                            .index = 3,
                            .entries = {Entry{.index = 4, .term = 2, .data = "x"}},
                            .commit = 3});
  Ready rd = member.node->ready();
  REQUIRE(rd.entries.size() == 1);
  CHECK(rd.entries[0].index == 4);
  CHECK(rd.must_sync);
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].type == MessageType::kAppendResponse);
  CHECK(rd.messages[0].index == 4);
  CHECK(rd.committed_entries.empty());  // not committed yet (leader commit was 3)
  member.node->advance(rd);
}

TEST_CASE("raw node: a stale vote request with a shorter log is refused") {
  Member member(2);
  member.node->step(Message{.type = MessageType::kAppend,
                            .from = 1,
                            .to = 2,
                            .term = 2,
                            .log_term = 1,
                            .index = 3,
                            .entries = {Entry{.index = 4, .term = 2, .type = EntryType::kEmpty}}});
  member.drain();
  // Node 3 asks for term 3 with a log ending at (1, 3); ours ends at (2, 4). Within the
  // leader lease (a live leader was heard from) the request is ignored outright.
  member.node->step(Message{
      .type = MessageType::kVote, .from = 3, .to = 2, .term = 3, .log_term = 1, .index = 3});
  CHECK(member.drain().empty());
  for (int i = 0; i < 10; ++i) member.node->tick();  // the lease expires...
  member.drain();
  member.node->step(Message{
      .type = MessageType::kVote, .from = 3, .to = 2, .term = 9, .log_term = 1, .index = 3});
  auto sent = member.drain();
  REQUIRE_FALSE(sent.empty());
  CHECK(sent.back().type == MessageType::kVoteResponse);
  CHECK(sent.back().reject);  // ...but the log check (§5.4.1) still refuses
  CHECK(member.storage.hard_state().vote == 0);
}

TEST_CASE(
    "raw node: arbitrary messages are ignored or handled, never crash, keep invariants (also "
    "amnesiac, and with peers' storage lost)") {
  base::Rng rng(7);
  for (int round = 0; round < 300; ++round) {
    Member member(1 + rng.uniform(3), rng.chance(1, 4));
    const NodeId self = member.node->status().id;
    if (rng.chance(1, 2)) {
      member.node->campaign();
      member.drain();
    }
    for (int i = 0; i < 200; ++i) {
      Message m;
      m.type = static_cast<MessageType>(rng.uniform(16));
      m.from = rng.uniform(5);
      m.to = rng.chance(9, 10) ? self : rng.uniform(5);
      m.term = rng.uniform(8);
      m.log_term = rng.uniform(8);
      m.index = rng.uniform(12);
      m.commit = rng.uniform(12);
      m.reject = rng.chance(1, 3);
      m.reject_hint = rng.uniform(12);
      m.reject_hint_term = rng.uniform(8);
      Term entry_term = m.log_term;
      for (uint64_t k = rng.uniform(4); k > 0; --k) {
        entry_term += rng.uniform(2);
        m.entries.push_back(Entry{.index = m.index + m.entries.size() + 1,
                                  .term = entry_term,
                                  .type = static_cast<EntryType>(rng.uniform(3)),
                                  .data = "d"});
      }
      if (rng.chance(1, 10)) {
        m.snapshot = Snapshot{.meta = {.index = rng.uniform(12),
                                       .term = rng.uniform(8),
                                       .conf = {.voters = {1, 2, 3}}}};
      }
      member.node->step(m);
      member.node->check_invariants();
      if (rng.chance(1, 5)) member.node->tick();
      if (rng.chance(1, 50)) member.node->peer_storage_lost(rng.uniform(5), rng.uniform(12));
      if (rng.chance(1, 50)) member.node->peer_storage_repaired(rng.uniform(5));
      if (rng.chance(1, 200)) member.node->become_amnesiac();
      member.drain();
    }
  }
}
