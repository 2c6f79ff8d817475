// Quorum arithmetic for a single majority configuration (paper §5.2, §5.3; thesis §4.1 keeps
// one configuration at a time, so no joint consensus is needed). Pure functions over plain
// values: no progress tracking, no side effects.
#pragma once

#include <map>
#include <vector>

#include "raft/types.h"

namespace raft {

// The smallest number of voters that forms a majority of `voter_count` (0 voters: 0).
size_t majority(size_t voter_count);

// The highest index known to be stored on a majority of `voters`, given each voter's match
// index (a voter missing from `match` counts as 0). With no voters: 0.
Index committed_index(const std::vector<NodeId>& voters, const std::map<NodeId, Index>& match);

enum class VoteResult : uint8_t { kPending, kWon, kLost };

// Tallies an election: `granted` maps a voter to true (granted) or false (refused); voters
// missing from it have not answered. Votes of non-voters are ignored.
VoteResult vote_result(const std::vector<NodeId>& voters, const std::map<NodeId, bool>& granted);

// True when the voters in `acked` form a majority of `voters` (non-voters are ignored).
bool has_quorum(const std::vector<NodeId>& voters, const std::vector<NodeId>& acked);

}  // namespace raft
