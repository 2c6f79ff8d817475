#include "raft/describe.h"

#include <fmt/format.h>

#include "base/bytes.h"

namespace raft {
namespace {

// Printable data as a quoted string, anything else as hex.
std::string quote(const std::string& data) {
  for (char c : data) {
    if (c < 0x20 || c > 0x7e || c == '"') return "0x" + base::to_hex(data);
  }
  return "\"" + data + "\"";
}

std::string ids(const std::vector<NodeId>& nodes) {
  std::string out = "(";
  for (size_t i = 0; i < nodes.size(); ++i) out += (i ? " " : "") + std::to_string(nodes[i]);
  return out + ")";
}

bool carries_log_position(MessageType type) {
  return type == MessageType::kAppend || type == MessageType::kVote ||
         type == MessageType::kPreVote;
}

}  // namespace

const char* message_type_name(MessageType type) {
  static const char* const kNames[] = {"Append",       "AppendResponse",    "Vote",
                                       "VoteResponse", "PreVote",           "PreVoteResponse",
                                       "Snapshot",     "Heartbeat",         "HeartbeatResponse",
                                       "ReadIndex",    "ReadIndexResponse", "TimeoutNow",
                                       "Propose",      "TransferLeader"};
  const auto i = static_cast<size_t>(type);
  return i < std::size(kNames) ? kNames[i] : "Unknown";
}

std::string describe(const Entry& entry) {
  std::string out = fmt::format("{}/{} ", entry.term, entry.index);
  switch (entry.type) {
    case EntryType::kNormal:
      return out + quote(entry.data);
    case EntryType::kEmpty:
      return out + "empty";
    case EntryType::kConfChange: {
      auto change = ConfChange::decode(entry.data);
      if (!change.is_ok()) return out + "conf <garbled>";
      static const char* const kTypes[] = {"add-voter", "add-learner", "remove"};
      return out + fmt::format("conf {} {}", kTypes[static_cast<int>(change->type)], change->node);
    }
  }
  return out + "?";
}

std::string describe(const Message& m) {
  std::string out =
      fmt::format("{}->{} {} term={}", m.from, m.to, message_type_name(m.type), m.term);
  if (carries_log_position(m.type)) {
    out += fmt::format(" log={}/{}", m.log_term, m.index);
  } else if (m.index != 0) {
    out += fmt::format(" index={}", m.index);
  }
  if (m.commit != 0) out += fmt::format(" commit={}", m.commit);
  if (m.reject) out += " rejected";
  if (m.reject_hint != 0 || m.reject_hint_term != 0) {
    out += fmt::format(" hint={}/{}", m.reject_hint_term, m.reject_hint);
  }
  if (!m.context.empty()) out += " context=" + quote(m.context);
  if (!m.entries.empty()) {
    out += " entries=[";
    for (size_t i = 0; i < m.entries.size(); ++i) out += (i ? ", " : "") + describe(m.entries[i]);
    out += "]";
  }
  if (m.snapshot) {
    out += fmt::format(" snapshot={}/{} {}", m.snapshot->meta.term, m.snapshot->meta.index,
                       describe(m.snapshot->meta.conf));
  }
  return out;
}

std::string describe(const ConfState& conf) {
  std::string out = "voters=" + ids(conf.voters);
  if (!conf.learners.empty()) out += " learners=" + ids(conf.learners);
  return out;
}

std::string describe(const HardState& hs) {
  return fmt::format("term={} vote={} commit={}", hs.term, hs.vote, hs.commit);
}

}  // namespace raft
