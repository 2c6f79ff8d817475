// What a node puts in a Raft snapshot: the members' addresses (they live in configuration
// entries that the snapshot compacts away) followed by the state machine's own checksummed
// stream (kvstate/snapshot.h).
//
//   version 2 (written): "RKVNODE" 0x02 ‖ varint member_count
//                        ‖ member_count × (varint id ‖ lp peer_addr ‖ lp client_addr)
//                        ‖ kvstate snapshot stream (to the end)
//   version 1 (read):    "RKVNODE" 0x01 ‖ varint member_count ‖ member_count × (varint id ‖
//                        lp peer_addr) ‖ kvstate snapshot stream
// (lp = varint length ‖ bytes; an empty client_addr means unknown.) The whole file is
// checksummed again by wal/'s snapshot store.
#pragma once

#include <map>
#include <string>

#include "base/bytes.h"
#include "base/status.h"
#include "raft/types.h"

namespace node {

struct SnapshotPayload {
  std::map<raft::NodeId, std::string> peer_addrs;
  std::map<raft::NodeId, std::string> client_addrs;  // members whose client address is known
  base::BytesView state;                             // points into the decoded buffer
};

// Members are the union of both maps' keys.
base::Bytes encode_snapshot_header(const std::map<raft::NodeId, std::string>& peer_addrs,
                                   const std::map<raft::NodeId, std::string>& client_addrs = {});
base::Result<SnapshotPayload> decode_snapshot_payload(base::BytesView payload);

}  // namespace node
