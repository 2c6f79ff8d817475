#include "raft/quorum.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "base/rng.h"

using namespace raft;

namespace {

// The naive definitions: try every candidate index / count every subset size directly.
Index naive_committed(const std::vector<NodeId>& voters, const std::map<NodeId, Index>& match) {
  Index best = 0;
  for (const auto& [id, candidate] : match) {
    size_t holders = 0;
    for (NodeId voter : voters) {
      auto it = match.find(voter);
      if (it != match.end() && it->second >= candidate) ++holders;
    }
    if (holders * 2 > voters.size()) best = std::max(best, candidate);
  }
  return best;
}

VoteResult naive_vote(const std::vector<NodeId>& voters, const std::map<NodeId, bool>& granted) {
  size_t yes = 0, no = 0;
  for (NodeId voter : voters) {
    if (!granted.contains(voter)) continue;
    (granted.at(voter) ? yes : no) += 1;
  }
  const size_t missing = voters.size() - yes - no;
  if (yes * 2 > voters.size()) return VoteResult::kWon;
  if ((yes + missing) * 2 <= voters.size()) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace

TEST_CASE("quorum: majority sizes") {
  CHECK(majority(1) == 1);
  CHECK(majority(2) == 2);
  CHECK(majority(3) == 2);
  CHECK(majority(4) == 3);
  CHECK(majority(5) == 3);
}

TEST_CASE("quorum: committed index is the median match of the voters only") {
  CHECK(committed_index({1, 2, 3}, {{1, 5}, {2, 3}, {3, 1}}) == 3);
  CHECK(committed_index({1, 2, 3}, {{1, 5}}) == 0);
  // A learner (4) with a high match does not count.
  CHECK(committed_index({1, 2, 3}, {{1, 5}, {4, 9}, {2, 1}}) == 1);
  CHECK(committed_index({}, {{1, 5}}) == 0);
}

TEST_CASE("quorum: elections are won, lost or pending") {
  CHECK(vote_result({1, 2, 3}, {{1, true}, {2, true}}) == VoteResult::kWon);
  CHECK(vote_result({1, 2, 3}, {{1, true}, {2, false}}) == VoteResult::kPending);
  CHECK(vote_result({1, 2, 3}, {{1, true}, {2, false}, {3, false}}) == VoteResult::kLost);
  CHECK(vote_result({1, 2, 3, 4}, {{1, true}, {2, true}, {3, false}}) == VoteResult::kPending);
  CHECK(vote_result({1, 2, 3, 4}, {{1, true}, {2, false}, {3, false}}) == VoteResult::kLost);
}

TEST_CASE("quorum: property: fast committed index and tally agree with naive versions") {
  base::Rng rng(42);
  for (int round = 0; round < 20000; ++round) {
    std::vector<NodeId> voters;
    std::map<NodeId, Index> match;
    std::map<NodeId, bool> granted;
    std::vector<NodeId> acked;
    const size_t ids = rng.range(0, 7);
    for (NodeId id = 1; id <= ids; ++id) {
      if (rng.chance(3, 4)) voters.push_back(id);  // the rest act as learners / strangers
      if (rng.chance(4, 5)) match[id] = rng.range(0, 10);
      if (rng.chance(2, 3)) granted[id] = rng.chance(1, 2);
      if (rng.chance(1, 2)) acked.push_back(id);
    }
    INFO("round " << round);
    CHECK(committed_index(voters, match) == naive_committed(voters, match));
    if (!voters.empty()) CHECK(vote_result(voters, granted) == naive_vote(voters, granted));
    size_t acked_voters = 0;
    for (NodeId id : acked)
      acked_voters += static_cast<size_t>(std::count(voters.begin(), voters.end(), id));
    CHECK(has_quorum(voters, acked) == (!voters.empty() && acked_voters * 2 > voters.size()));
  }
}
