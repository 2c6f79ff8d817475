#include "net/client_types.h"

namespace net {

bool opens_stream(const RequestBody& body) {
  return std::holds_alternative<Watch>(body) || std::holds_alternative<QueueListen>(body);
}

bool is_final(const ResponseBody& body) {
  return !std::holds_alternative<WatchEvent>(body) && !std::holds_alternative<QueueDelivery>(body);
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kUnknown:
      return "unknown";
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
    case Role::kLearner:
      return "learner";
  }
  return "unknown";
}

}  // namespace net
