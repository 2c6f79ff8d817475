// What a node puts in a Raft snapshot: the members' peer addresses (they live in
// configuration entries that the snapshot compacts away) followed by the state machine's own
// checksummed stream (kvstate/snapshot.h).
//
//   "RKVNODE" 0x01 ‖ varint member_count ‖ member_count × (varint id ‖ lp peer_addr)
//   ‖ kvstate snapshot stream (to the end)
// (lp = varint length ‖ bytes.) The whole file is checksummed again by wal/'s snapshot store.
#pragma once

#include <map>
#include <string>

#include "base/bytes.h"
#include "base/status.h"
#include "raft/types.h"

namespace node {

struct SnapshotPayload {
  std::map<raft::NodeId, std::string> peer_addrs;
  base::BytesView state;  // points into the decoded buffer
};

base::Bytes encode_snapshot_header(const std::map<raft::NodeId, std::string>& peer_addrs);
base::Result<SnapshotPayload> decode_snapshot_payload(base::BytesView payload);

}  // namespace node
