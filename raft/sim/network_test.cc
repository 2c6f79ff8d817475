// Unit tests of the simulated network: delays, drops, duplicates, cuts and busy receivers.
#include "raft/sim/network.h"

#include <doctest/doctest.h>

namespace raft::sim {
namespace {

Message msg(NodeId from, NodeId to, Index index) {
  Message m;
  m.from = from;
  m.to = to;
  m.index = index;
  return m;
}

Receiver all_ready(NodeId) { return Receiver::kReady; }

TEST_CASE("network: a message arrives no earlier than its delay and exactly once") {
  base::Rng rng(1);
  Network net;
  net.set_faults({0, 0, 3, 5, 0, 1});
  net.send(msg(1, 2, 7), 10, rng);
  CHECK(net.take_due(12, rng, all_ready).empty());
  size_t got = 0;
  for (uint64_t step = 13; step <= 15; ++step) got += net.take_due(step, rng, all_ready).size();
  CHECK(got == 1);
  CHECK(net.in_flight() == 0);
  CHECK(net.counters().delivered == 1);
}

TEST_CASE("network: drop and duplicate rates act on roughly their share of messages") {
  base::Rng rng(2);
  Network net;
  net.set_faults({200, 300, 1, 1, 0, 1});
  for (int i = 0; i < 2000; ++i) net.send(msg(1, 2, i), 0, rng);
  const auto& c = net.counters();
  CHECK(c.dropped > 300);
  CHECK(c.dropped < 500);
  CHECK(c.duplicated > 400);  // 30% of the ~1600 kept
  CHECK(c.duplicated < 600);
  CHECK(net.take_due(1, rng, all_ready).size() == 2000 - c.dropped + c.duplicated);
}

TEST_CASE("network: a one-way cut loses messages in one direction only, and heals") {
  base::Rng rng(3);
  Network net;
  net.cut(1, 2);
  net.send(msg(1, 2, 1), 0, rng);
  net.send(msg(2, 1, 2), 0, rng);
  auto got = net.take_due(1, rng, all_ready);
  REQUIRE(got.size() == 1);
  CHECK(got[0].from == 2);
  CHECK(net.counters().cut == 1);
  net.heal_all();
  net.send(msg(1, 2, 3), 1, rng);
  CHECK(net.take_due(2, rng, all_ready).size() == 1);
}

TEST_CASE("network: messages wait for a busy receiver and are lost to a down one") {
  base::Rng rng(4);
  Network net;
  net.send(msg(1, 2, 1), 0, rng);
  net.send(msg(1, 3, 2), 0, rng);
  auto state = [](NodeId id) { return id == 2 ? Receiver::kBusy : Receiver::kDown; };
  CHECK(net.take_due(1, rng, state).empty());
  CHECK(net.in_flight() == 1);
  CHECK(net.counters().to_down_node == 1);
  CHECK(net.take_due(2, rng, all_ready).size() == 1);
}

TEST_CASE("network: messages due together are reordered, deterministically per seed") {
  auto order = [](uint64_t seed) {
    base::Rng rng(seed);
    Network net;
    for (Index i = 0; i < 20; ++i) net.send(msg(1, 2, i), 0, rng);
    std::vector<Index> out;
    for (const Message& m : net.take_due(1, rng, all_ready)) out.push_back(m.index);
    return out;
  };
  CHECK(order(5) == order(5));
  std::vector<Index> sorted(20);
  for (Index i = 0; i < 20; ++i) sorted[i] = i;
  CHECK(order(5) != sorted);
}

}  // namespace
}  // namespace raft::sim
