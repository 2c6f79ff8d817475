// ConfChange wire form (inside a kConfChange entry's data):
//   u8 type (0 add voter, 1 add learner, 2 remove) | varint node | varint length | context
#include "base/bytes.h"
#include "raft/raw_node.h"

namespace raft {

std::string ConfChange::encode() const {
  std::string out;
  base::put_u8(out, static_cast<uint8_t>(type));
  base::put_varint(out, node);
  base::put_length_prefixed(out, context);
  return out;
}

base::Result<ConfChange> ConfChange::decode(std::string_view bytes) {
  base::Reader reader(bytes);
  uint8_t type = 0;
  uint64_t node = 0;
  std::string_view context;
  if (!reader.u8(type) || !reader.varint(node) || !reader.length_prefixed(context)) {
    return base::corruption("conf change: truncated ({} bytes)", bytes.size());
  }
  if (!reader.empty())
    return base::corruption("conf change: {} trailing bytes", reader.remaining());
  if (type > static_cast<uint8_t>(Type::kRemoveNode)) {
    return base::corruption("conf change: unknown type {}", type);
  }
  if (node == kNoNode) return base::corruption("conf change: node id 0");
  return ConfChange{.type = static_cast<Type>(type), .node = node, .context = std::string(context)};
}

}  // namespace raft
