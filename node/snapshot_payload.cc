#include "node/snapshot_payload.h"

#include <set>

namespace node {

static constexpr std::string_view kMagicV1("RKVNODE\x01", 8);
static constexpr std::string_view kMagicV2("RKVNODE\x02", 8);

base::Bytes encode_snapshot_header(const std::map<raft::NodeId, std::string>& peer_addrs,
                                   const std::map<raft::NodeId, std::string>& client_addrs) {
  std::set<raft::NodeId> ids;
  for (const auto& [id, addr] : peer_addrs) ids.insert(id);
  for (const auto& [id, addr] : client_addrs) ids.insert(id);
  auto find = [](const std::map<raft::NodeId, std::string>& m, raft::NodeId id) {
    auto it = m.find(id);
    return it == m.end() ? std::string_view() : std::string_view(it->second);
  };
  base::Bytes out(kMagicV2);
  base::put_varint(out, ids.size());
  for (raft::NodeId id : ids) {
    base::put_varint(out, id);
    base::put_length_prefixed(out, find(peer_addrs, id));
    base::put_length_prefixed(out, find(client_addrs, id));
  }
  return out;
}

base::Result<SnapshotPayload> decode_snapshot_payload(base::BytesView payload) {
  const base::BytesView magic = payload.substr(0, kMagicV2.size());
  const bool v2 = magic == kMagicV2;
  if (!v2 && magic != kMagicV1)
    return base::corruption("snapshot payload: bad magic (not a raftkv node snapshot)");
  base::Reader r(payload.substr(kMagicV2.size()));
  SnapshotPayload out;
  uint64_t count = 0;
  if (!r.varint(count) || count > 100000)
    return base::corruption("snapshot payload: bad member count");
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t id = 0;
    base::BytesView peer, client;
    if (!r.varint(id) || !r.length_prefixed(peer) || id == 0 || (v2 && !r.length_prefixed(client)))
      return base::corruption("snapshot payload: bad member record {}", i);
    if (!peer.empty()) out.peer_addrs[id] = std::string(peer);
    if (!client.empty()) out.client_addrs[id] = std::string(client);
  }
  out.state = payload.substr(kMagicV2.size() + r.position());
  return out;
}

}  // namespace node
