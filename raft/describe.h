// Human-readable one-line descriptions of the core's values, for test transcripts and
// simulator traces. Stable format (the data-driven scripts in testdata/ depend on it):
//   entry:   "2/5 \"data\"", "2/4 empty", "1/1 conf add-voter 1"   (term/index)
//   message: "1->2 Append term=2 log=1/3 commit=3 entries=[2/4 empty]"  (fields at defaults
//            are left out; log=T/I is (log_term, index) of append and vote requests)
#pragma once

#include <string>

#include "raft/raw_node.h"

namespace raft {

const char* message_type_name(MessageType type);
std::string describe(const Entry& entry);
std::string describe(const Message& message);
std::string describe(const ConfState& conf);
std::string describe(const HardState& hard_state);

}  // namespace raft
