#include "raft/planted_bug.h"

#include <charconv>
#include <string>

namespace raft {

std::string_view planted_bug_name(PlantedBug bug) {
  switch (bug) {
    case PlantedBug::kNone:
      return "none";
    case PlantedBug::kVoteWithoutLogCheck:
      return "vote-without-log-check";
    case PlantedBug::kCommitPreviousTermByCount:
      return "commit-previous-term-by-count";
    case PlantedBug::kAckBeforePersist:
      return "ack-before-persist";
    case PlantedBug::kReadIndexWithoutQuorum:
      return "read-index-without-quorum";
    case PlantedBug::kVoteNotPersisted:
      return "vote-not-persisted";
    case PlantedBug::kFollowerCommitToLastIndex:
      return "follower-commit-to-last-index";
    case PlantedBug::kUnstableOverwriteInPlace:
      return "unstable-overwrite-in-place";
    case PlantedBug::kPreVoteRaisesTerm:
      return "pre-vote-raises-term";
    case PlantedBug::kLeaderIgnoresHigherTerm:
      return "leader-ignores-higher-term";
    case PlantedBug::kAmnesiacVotes:
      return "amnesiac-votes";
  }
  return "?";
}

base::Result<PlantedBug> parse_planted_bug(std::string_view text) {
  const auto last = static_cast<unsigned>(kLastPlantedBug);
  unsigned number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error == std::errc() && end == text.data() + text.size() && number <= last) {
    return static_cast<PlantedBug>(number);  // the one place a number becomes a bug
  }
  std::string known;
  for (unsigned i = 0; i <= last; ++i) {
    const auto bug = static_cast<PlantedBug>(i);
    if (planted_bug_name(bug) == text) return bug;
    known += fmt::format("{}{} ({})", i == 0 ? "" : ", ", planted_bug_name(bug), i);
  }
  return base::invalid_argument("unknown planted bug '{}' (known: {})", text, known);
}

}  // namespace raft
