// Snapshot write and load; the stream format is in snapshot.h.
#include "kvstate/snapshot.h"

#include "kvstate/command.h"
#include "kvstate/read.h"
#include "kvstate/snapshot_format.h"

namespace kvstate {

using namespace kvmodel;  // the data model this state machine stores

namespace {

using namespace snapshot_format;

void put_record_type(base::Bytes& out, RecordType type) {
  base::put_u8(out, static_cast<uint8_t>(type));
}

// Accumulates records and emits checksummed blocks.
class BlockWriter {
 public:
  explicit BlockWriter(const std::function<void(base::BytesView)>& sink) : sink_(sink) {}
  base::Bytes& record() { return payload_; }
  void maybe_flush() {
    if (payload_.size() >= kBlockTargetBytes) flush();
  }
  void finish() {
    if (!payload_.empty()) flush();
    flush();  // the empty terminator block
  }

 private:
  void flush() {
    base::Bytes block;
    block.reserve(kBlockHeaderBytes + payload_.size());
    base::put_u32_le(block, static_cast<uint32_t>(payload_.size()));
    base::put_u64_le(block, block_checksum(block_number_++, payload_));
    block += payload_;
    payload_.clear();
    sink_(block);
  }
  const std::function<void(base::BytesView)>& sink_;
  base::Bytes payload_;
  uint64_t block_number_ = 0;
};

void put_outcome(base::Bytes& out, const WriteOutcome& o) {
  base::put_u8(out, static_cast<uint8_t>(o.kind));
  out.append(o.versionstamp.view());
  base::put_varint(out, o.failed_checks.size());
  for (uint32_t i : o.failed_checks) base::put_varint(out, i);
  base::put_u8(out, static_cast<uint8_t>(o.error.code()));
  base::put_length_prefixed(out, o.error.message());
}

void put_message_record(base::Bytes& out, std::string_view id, const QueueMessage& m) {
  put_record_type(out, RecordType::kMessage);
  base::put_length_prefixed(out, id);
  base::put_length_prefixed(out, m.payload);
  base::put_varint(out, m.ready_at_ms);
  base::put_varint(out, m.backoff_ms.size());
  for (uint32_t b : m.backoff_ms) base::put_varint(out, b);
  base::put_varint(out, m.keys_if_undelivered.size());
  for (const auto& k : m.keys_if_undelivered) base::put_length_prefixed(out, k);
  base::put_varint(out, m.deliveries);
  base::put_u8(out, m.leased ? 1 : 0);
  base::put_varint(out, m.consumer_id);
  base::put_varint(out, m.lease_deadline_ms);
  out.append(m.lease_token.view());
}

void put_session_record(base::Bytes& out, std::string_view key, const Session& s) {
  put_record_type(out, RecordType::kSession);
  base::put_varint(out, base::get_u64_be(key.data()));
  base::put_varint(out, s.last_sequence);
  out.append(s.last_used.view());
  base::put_varint(out, s.last_used_ms);
  base::put_varint(out, s.recent.size());
  for (const auto& [seq, outcome] : s.recent) {
    base::put_varint(out, seq);
    put_outcome(out, outcome);
  }
}

}  // namespace

base::Result<std::vector<std::vector<KvEntry>>> SnapshotView::read(
    const std::vector<ReadRange>& ranges) const {
  return read_ranges(data_, ranges);
}

void SnapshotView::write(const std::function<void(base::BytesView)>& sink) const {
  sink(kMagic);
  BlockWriter w(sink);
  base::Bytes& out = w.record();
  put_record_type(out, RecordType::kMeta);
  base::put_varint(out, last_applied_index_);
  out.append(last_versionstamp_.view());
  base::put_varint(out, clock_ms_);
  base::put_varint(out, data_.size());
  base::put_varint(out, queue_.size());
  base::put_varint(out, sessions_.size());
  data_.scan("", std::nullopt, false, [&](std::string_view key, const Entry& e) {
    put_record_type(out, RecordType::kEntry);
    base::put_length_prefixed(out, key);
    base::put_u8(out, static_cast<uint8_t>(e.value.encoding));
    base::put_length_prefixed(out, e.value.data);
    out.append(e.versionstamp.view());
    base::put_varint(out, e.expire_at_ms);
    w.maybe_flush();
    return true;
  });
  queue_.scan("", std::nullopt, false, [&](std::string_view id, const QueueMessage& m) {
    put_message_record(out, id, m);
    w.maybe_flush();
    return true;
  });
  sessions_.scan("", std::nullopt, false, [&](std::string_view key, const Session& s) {
    put_session_record(out, key, s);
    w.maybe_flush();
    return true;
  });
  w.finish();
}

base::Bytes SnapshotView::serialize() const {
  base::Bytes out;
  write([&](base::BytesView chunk) { out.append(chunk); });
  return out;
}

SnapshotView StateMachine::snapshot_view() const {
  SnapshotView v;
  v.data_ = data_;
  v.queue_ = queue_;
  v.sessions_ = sessions_;
  v.last_applied_index_ = last_applied_index_;
  v.last_versionstamp_ = last_versionstamp_;
  v.clock_ms_ = clock_ms_;
  return v;
}

}  // namespace kvstate
