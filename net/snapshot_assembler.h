// Reassembles a snapshot sent as SnapshotChunks (see peer.fbs) on one peer connection.
// Pure logic, one per inbound connection; not thread-safe.
#pragma once

#include <optional>

#include "base/status.h"
#include "net/peer_codec.h"
#include "raft/types.h"

namespace net {

class SnapshotAssembler {
 public:
  // Adds the next chunk. Returns the complete Snapshot message (with its data) when `chunk` is
  // the last one, nullopt while more chunks are needed, or a corruption error when the chunk
  // does not continue the snapshot in progress (the caller closes the connection; the sender
  // reconnects and Raft sends the snapshot again). A chunk at offset 0 starts a new snapshot,
  // abandoning any unfinished one.
  base::Result<std::optional<raft::Message>> add(SnapshotChunk chunk);

  bool in_progress() const { return message_.has_value(); }
  size_t received_bytes() const { return data_.size(); }

 private:
  std::optional<raft::Message> message_;
  base::Bytes data_;
};

}  // namespace net
