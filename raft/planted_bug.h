// The known bugs a test build can plant in the Raft core (Config::planted_bug), each to prove
// that a check notices it: raft_sim's safety and liveness checks (`raft_sim --planted-bug NAME`,
// one meson test per bug) and, for the log bugs, the unit tests beside raft_log.h.
//
// The enum is plain names and numbers, compiled in every build so that tools can parse and
// print them; only test builds (-Dtest_hooks=true, RAFTKV_TEST_HOOKS) have the Config field
// that switches one on. The numbers are stable: they name the bugs in README.md and CI logs.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace raft {

enum class PlantedBug : uint8_t {
  kNone = 0,
  kVoteWithoutLogCheck = 1,        // grant votes without the §5.4.1 up-to-date check
  kCommitPreviousTermByCount = 2,  // commit an earlier term's entry by counting replicas (§5.4.2)
  kAckBeforePersist = 3,           // acks leave one Ready before their entries are persisted
  kReadIndexWithoutQuorum = 4,     // answer ReadIndex without a quorum heartbeat round
  kVoteNotPersisted = 5,           // grant a vote without putting it in the persisted HardState
  kFollowerCommitToLastIndex = 6,  // a follower caps the leader's commit at its own last index,
                                   // not at the last entry this append covered (Fig. 2, AE 5)
  kUnstableOverwriteInPlace = 7,   // a conflicting append overwrites the unstable tail in place
                                   // and keeps the stale entries after it (§5.3: delete them)
  kPreVoteRaisesTerm = 8,          // a pre-candidate raises (and persists) its term (§9.6)
  kLeaderIgnoresHigherTerm = 9,    // a leader drops responses of a higher term instead of
                                   // stepping down (Fig. 2, "Rules for all servers")
  kAmnesiacVotes = 10,             // a node that lost promised state votes and campaigns anyway
};
inline constexpr PlantedBug kLastPlantedBug = PlantedBug::kAmnesiacVotes;

// "vote-without-log-check", ...; "none" for kNone.
std::string_view planted_bug_name(PlantedBug bug);
// Accepts a name or its number ("7"); "none" and "0" are kNone. kInvalidArgument otherwise,
// with the list of known names.
base::Result<PlantedBug> parse_planted_bug(std::string_view text);

}  // namespace raft
