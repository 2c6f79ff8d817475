// Encoding of peer-protocol payloads (net/peer.fbs) to and from raft's value types.
// Payloads are flatbuffers without the frame header; frame them with append_frame().
// Pure functions: no I/O, thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "raft/types.h"

namespace net {

// First frame of an outbound peer connection (see Hello in peer.fbs).
struct PeerHello {
  raft::NodeId from = raft::kNoNode;
  raft::NodeId to = raft::kNoNode;
  std::string cluster_id;

  friend bool operator==(const PeerHello&, const PeerHello&) = default;
};

// One slice of a snapshot's data (see SnapshotChunk in peer.fbs).
struct SnapshotChunk {
  raft::Index index = 0;
  raft::Term term = 0;
  uint64_t offset = 0;
  base::Bytes data;
  bool last = false;
  std::optional<raft::Message> message;  // only at offset 0; its snapshot has no data
};

using PeerFrame = std::variant<PeerHello, std::vector<raft::Message>, SnapshotChunk>;

base::Bytes encode_hello(const PeerHello& hello);
// Messages with a snapshot are encoded with its metadata only: snapshot data travels in chunks.
base::Bytes encode_message_batch(std::span<const raft::Message> messages);
// `first_message` must be given iff offset == 0.
base::Bytes encode_snapshot_chunk(raft::Index index, raft::Term term, uint64_t offset,
                                  base::BytesView data, bool last,
                                  const raft::Message* first_message);

// True when `payload` is a well-formed PeerFrame flatbuffer (runs the Verifier).
bool verify_peer_frame(base::BytesView payload);

// Decodes a payload (verifying it first). Errors (corruption) for malformed input, unknown
// enum values or a missing body. A decoded message's snapshot, if any, carries data == nullptr.
base::Result<PeerFrame> decode_peer_frame(base::BytesView payload);

// Approximate encoded size of a message, for splitting batches under the frame limit.
size_t estimated_message_bytes(const raft::Message& message);

}  // namespace net
