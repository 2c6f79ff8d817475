#include "net/client_types.h"

namespace net {

bool opens_stream(const RequestBody& body) {
  return std::holds_alternative<Watch>(body) || std::holds_alternative<QueueListen>(body);
}

bool is_final(const ResponseBody& body) {
  return !std::holds_alternative<WatchEvent>(body) && !std::holds_alternative<QueueDelivery>(body);
}

std::string_view role_name(const NodeStatus& status) {
  return status.learner ? "learner" : raft::role_name(status.role);
}

}  // namespace net
