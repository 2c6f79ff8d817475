// Unit tests of the simulator's state machine: snapshots round-trip, the chain hash names the
// applied prefix, configuration changes apply one node at a time.
#include "raft/sim/state_machine.h"

#include <doctest/doctest.h>

namespace raft::sim {
namespace {

Entry normal(Index i, Term t, std::string data) {
  return Entry{i, t, EntryType::kNormal, std::move(data)};
}

TEST_CASE("sim state machine: a snapshot round-trips payloads, conf and chain hash") {
  StateMachine sm(ConfState{{1, 2, 3}, {}});
  sm.apply(normal(1, 1, "a"));
  sm.apply(Entry{2, 1, EntryType::kEmpty, ""});
  ConfChange add{ConfChange::Type::kAddLearner, 4, ""};
  sm.apply(Entry{3, 2, EntryType::kConfChange, add.encode()});
  sm.apply(normal(4, 2, "b"));
  base::Result<StateMachine> back = StateMachine::deserialize(sm.serialize());
  REQUIRE(back.is_ok());
  CHECK(back->applied_index() == 4);
  CHECK(back->applied_term() == 2);
  CHECK(back->chain_hash() == sm.chain_hash());
  CHECK(back->payloads() == std::vector<std::string>{"a", "b"});
  CHECK(back->conf() == ConfState{{1, 2, 3}, {4}});
}

TEST_CASE("sim state machine: different histories give different chain hashes") {
  StateMachine a, b;
  a.apply(normal(1, 1, "x"));
  b.apply(normal(1, 2, "x"));  // same data, other term
  CHECK(a.chain_hash() != b.chain_hash());
  StateMachine c;
  c.apply(normal(1, 1, "x"));
  CHECK(a.chain_hash() == c.chain_hash());
}

TEST_CASE("sim state machine: truncated or trailing snapshot bytes are rejected") {
  StateMachine sm;
  sm.apply(normal(1, 1, "payload"));
  std::string bytes = sm.serialize();
  CHECK_FALSE(StateMachine::deserialize(bytes.substr(0, bytes.size() - 1)).is_ok());
  CHECK_FALSE(StateMachine::deserialize(bytes + "x").is_ok());
  CHECK_FALSE(StateMachine::deserialize("").is_ok());
}

TEST_CASE("sim state machine: conf changes promote, demote and remove one node") {
  ConfState c{{1, 2, 3}, {}};
  c = apply_conf_change(c, {ConfChange::Type::kAddLearner, 5, ""});
  CHECK(c == ConfState{{1, 2, 3}, {5}});
  c = apply_conf_change(c, {ConfChange::Type::kAddVoter, 5, ""});
  CHECK(c == ConfState{{1, 2, 3, 5}, {}});
  c = apply_conf_change(c, {ConfChange::Type::kRemoveNode, 2, ""});
  CHECK(c == ConfState{{1, 3, 5}, {}});
  c = apply_conf_change(c, {ConfChange::Type::kRemoveNode, 9, ""});
  CHECK(c == ConfState{{1, 3, 5}, {}});
}

}  // namespace
}  // namespace raft::sim
