#include "raft/quorum.h"

#include <algorithm>
#include <functional>

namespace raft {

size_t majority(size_t voter_count) { return voter_count == 0 ? 0 : voter_count / 2 + 1; }

Index committed_index(const std::vector<NodeId>& voters, const std::map<NodeId, Index>& match) {
  if (voters.empty()) return 0;
  std::vector<Index> indexes;
  indexes.reserve(voters.size());
  for (NodeId voter : voters) {
    auto it = match.find(voter);
    indexes.push_back(it == match.end() ? 0 : it->second);
  }
  // Sorted descending, the majority-th value is stored on at least a majority of voters.
  std::sort(indexes.begin(), indexes.end(), std::greater<>());
  return indexes[majority(voters.size()) - 1];
}

VoteResult vote_result(const std::vector<NodeId>& voters, const std::map<NodeId, bool>& granted) {
  if (voters.empty()) return VoteResult::kWon;  // no one to ask (never used for elections)
  size_t yes = 0;
  size_t no = 0;
  for (NodeId voter : voters) {
    auto it = granted.find(voter);
    if (it == granted.end()) continue;
    (it->second ? yes : no) += 1;
  }
  const size_t needed = majority(voters.size());
  if (yes >= needed) return VoteResult::kWon;
  if (voters.size() - no < needed) return VoteResult::kLost;
  return VoteResult::kPending;
}

bool has_quorum(const std::vector<NodeId>& voters, const std::vector<NodeId>& acked) {
  size_t count = 0;
  for (NodeId voter : voters) {
    if (std::find(acked.begin(), acked.end(), voter) != acked.end()) ++count;
  }
  return !voters.empty() && count >= majority(voters.size());
}

}  // namespace raft
