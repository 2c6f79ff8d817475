#include "node/snapshot_payload.h"

namespace node {

static constexpr std::string_view kMagic("RKVNODE\x01", 8);

base::Bytes encode_snapshot_header(const std::map<raft::NodeId, std::string>& peer_addrs) {
  base::Bytes out(kMagic);
  base::put_varint(out, peer_addrs.size());
  for (const auto& [id, addr] : peer_addrs) {
    base::put_varint(out, id);
    base::put_length_prefixed(out, addr);
  }
  return out;
}

base::Result<SnapshotPayload> decode_snapshot_payload(base::BytesView payload) {
  if (payload.substr(0, kMagic.size()) != kMagic)
    return base::corruption("snapshot payload: bad magic (not a raftkv node snapshot)");
  base::Reader r(payload.substr(kMagic.size()));
  SnapshotPayload out;
  uint64_t count = 0;
  if (!r.varint(count) || count > 100000)
    return base::corruption("snapshot payload: bad member count");
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t id = 0;
    base::BytesView addr;
    if (!r.varint(id) || !r.length_prefixed(addr) || id == 0)
      return base::corruption("snapshot payload: bad member record {}", i);
    out.peer_addrs[id] = std::string(addr);
  }
  out.state = payload.substr(kMagic.size() + r.position());
  return out;
}

}  // namespace node
