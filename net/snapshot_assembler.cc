#include "net/snapshot_assembler.h"

#include <memory>

namespace net {

base::Result<std::optional<raft::Message>> SnapshotAssembler::add(SnapshotChunk chunk) {
  if (chunk.offset == 0) {
    ENSURE(chunk.message.has_value() && chunk.message->snapshot.has_value());  // decoder checked
    const raft::SnapshotMeta& meta = chunk.message->snapshot->meta;
    if (meta.index != chunk.index || meta.term != chunk.term) {
      message_.reset();
      return base::corruption("snapshot chunk names ({}, {}) but its message carries ({}, {})",
                              chunk.index, chunk.term, meta.index, meta.term);
    }
    message_ = std::move(chunk.message);
    data_.clear();
  } else {
    if (!message_ || message_->snapshot->meta.index != chunk.index ||
        message_->snapshot->meta.term != chunk.term || data_.size() != chunk.offset) {
      message_.reset();
      data_.clear();
      return base::corruption(
          "snapshot chunk ({}, {}) at offset {} does not continue the snapshot in progress",
          chunk.index, chunk.term, chunk.offset);
    }
  }
  data_.append(chunk.data);
  if (!chunk.last) return std::optional<raft::Message>();
  raft::Message done = std::move(*message_);
  message_.reset();
  done.snapshot->data = std::make_shared<const std::string>(std::move(data_));
  data_ = {};
  return std::optional<raft::Message>(std::move(done));
}

}  // namespace net
