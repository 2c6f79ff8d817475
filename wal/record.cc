#include "wal/record.h"

#include "base/check.h"
#include "base/hash.h"

namespace wal {

namespace {

using format::kChecksumBytes;
using format::kRecordHeaderBytes;

// Writes the header for the payload that already follows `start` in `out`.
void seal_record(base::Bytes& out, size_t start, RecordType type) {
  const size_t payload_bytes = out.size() - start - kRecordHeaderBytes;
  ENSURE_MSG(payload_bytes <= format::kRecordPayloadMaxBytes, "record payload of {} bytes",
             payload_bytes);
  char* header = out.data() + start;
  const auto length = static_cast<uint32_t>(payload_bytes);
  for (int i = 0; i < 4; ++i) header[8 + i] = static_cast<char>(length >> (8 * i));
  header[12] = static_cast<char>(type);
  const uint64_t checksum =
      base::xxh3(header + kChecksumBytes, out.size() - start - kChecksumBytes);
  for (int i = 0; i < 8; ++i) header[i] = static_cast<char>(checksum >> (8 * i));
}

bool all_zero(std::string_view bytes) {
  for (char c : bytes) {
    if (c != 0) return false;
  }
  return true;
}

bool valid_entry_type(uint8_t type) {
  return type <= static_cast<uint8_t>(raft::EntryType::kEmpty);
}

}  // namespace

void append_record(base::Bytes& out, RecordType type, std::string_view payload) {
  const size_t start = out.size();
  out.resize(start + kRecordHeaderBytes);
  out.append(payload);
  seal_record(out, start, type);
}

void append_entry_record(base::Bytes& out, const raft::Entry& entry) {
  const size_t start = out.size();
  out.resize(start + kRecordHeaderBytes);
  base::put_u64_le(out, entry.index);
  base::put_u64_le(out, entry.term);
  base::put_u8(out, static_cast<uint8_t>(entry.type));
  out.append(entry.data);
  seal_record(out, start, RecordType::kEntry);
}

const char* decode_status_name(DecodeStatus status) {
  switch (status) {
    case DecodeStatus::kOk:
      return "ok";
    case DecodeStatus::kZero:
      return "zero header";
    case DecodeStatus::kShort:
      return "short record";
    case DecodeStatus::kBadLength:
      return "bad length";
    case DecodeStatus::kBadType:
      return "bad type";
    case DecodeStatus::kBadChecksum:
      return "bad checksum";
  }
  return "unknown";
}

DecodedRecord decode_record(std::string_view bytes) {
  DecodedRecord record;
  if (bytes.size() < kRecordHeaderBytes) {
    record.status = all_zero(bytes) ? DecodeStatus::kZero : DecodeStatus::kShort;
    return record;
  }
  if (all_zero(bytes.substr(0, kRecordHeaderBytes))) {
    record.status = DecodeStatus::kZero;
    return record;
  }
  const uint32_t length = base::get_u32_le(bytes.data() + kChecksumBytes);
  const auto type = static_cast<uint8_t>(bytes[12]);
  if (length > format::kRecordPayloadMaxBytes) {
    record.status = DecodeStatus::kBadLength;
  } else if (type == 0 || type > format::kRecordTypeMax) {
    record.status = DecodeStatus::kBadType;
  } else if (bytes.size() - kRecordHeaderBytes < length) {
    record.status = DecodeStatus::kShort;
  } else {
    const size_t size = kRecordHeaderBytes + length;
    const uint64_t expected = base::get_u64_le(bytes.data());
    if (base::xxh3(bytes.data() + kChecksumBytes, size - kChecksumBytes) != expected) {
      record.status = DecodeStatus::kBadChecksum;
    } else {
      record.status = DecodeStatus::kOk;
      record.type = static_cast<RecordType>(type);
      record.payload = bytes.substr(kRecordHeaderBytes, length);
      record.size_bytes = size;
    }
  }
  return record;
}

// Cheap per offset: the checksum is computed only where the type and length are plausible.
std::optional<uint64_t> find_valid_record_after(std::string_view bytes, uint64_t from) {
  for (uint64_t offset = from + 1; offset + kRecordHeaderBytes <= bytes.size(); ++offset) {
    const auto type = static_cast<uint8_t>(bytes[offset + 12]);
    if (type == 0 || type > format::kRecordTypeMax) continue;
    const uint32_t length = base::get_u32_le(bytes.data() + offset + kChecksumBytes);
    if (length > bytes.size() - offset - kRecordHeaderBytes) continue;
    if (decode_record(bytes.substr(offset)).status == DecodeStatus::kOk) return offset;
  }
  return std::nullopt;
}

base::Bytes encode_segment_header(const SegmentHeader& header) {
  base::Bytes out;
  base::put_u32_le(out, header.version);
  base::put_u64_le(out, header.sequence);
  base::put_u64_le(out, header.base_index);
  base::put_u64_le(out, header.segment_bytes);
  return out;
}

std::optional<SegmentHeader> decode_segment_header(std::string_view payload) {
  base::Reader reader(payload);
  SegmentHeader header;
  reader.u32_le(header.version);
  if (header.version != format::kVersion) return std::nullopt;
  reader.u64_le(header.sequence);
  reader.u64_le(header.base_index);
  reader.u64_le(header.segment_bytes);
  if (!reader.ok() || !reader.empty() || header.base_index == 0 ||
      header.segment_bytes < format::kCreationRecordsBytes + format::kTailReserveBytes) {
    return std::nullopt;
  }
  return header;
}

std::optional<uint32_t> segment_header_version(std::string_view payload) {
  if (payload.size() < 4) return std::nullopt;
  return base::get_u32_le(payload.data());
}

base::Bytes encode_hard_state(const raft::HardState& hard_state) {
  base::Bytes out;
  base::put_u64_le(out, hard_state.term);
  base::put_u64_le(out, hard_state.vote);
  base::put_u64_le(out, hard_state.commit);
  return out;
}

std::optional<raft::HardState> decode_hard_state(std::string_view payload) {
  base::Reader reader(payload);
  raft::HardState hard_state;
  reader.u64_le(hard_state.term);
  reader.u64_le(hard_state.vote);
  reader.u64_le(hard_state.commit);
  if (!reader.ok() || !reader.empty()) return std::nullopt;
  return hard_state;
}

base::Bytes encode_reset(raft::Index next_index) {
  base::Bytes out;
  base::put_u64_le(out, next_index);
  return out;
}

std::optional<raft::Index> decode_reset(std::string_view payload) {
  base::Reader reader(payload);
  raft::Index next_index = 0;
  reader.u64_le(next_index);
  if (!reader.ok() || !reader.empty() || next_index == 0) return std::nullopt;
  return next_index;
}

base::Bytes encode_footer(const Footer& footer) {
  base::Bytes out;
  base::put_u64_le(out, footer.batch_start);
  base::put_u32_le(out, footer.records);
  base::put_u64_le(out, footer.next_sequence);
  return out;
}

std::optional<Footer> decode_footer(std::string_view payload) {
  base::Reader reader(payload);
  Footer footer;
  reader.u64_le(footer.batch_start);
  reader.u32_le(footer.records);
  reader.u64_le(footer.next_sequence);
  if (!reader.ok() || !reader.empty()) return std::nullopt;
  return footer;
}

std::optional<EntryHead> decode_entry_head(std::string_view payload) {
  if (payload.size() < format::kEntryFixedPayloadBytes) return std::nullopt;
  EntryHead head;
  head.index = base::get_u64_le(payload.data());
  head.term = base::get_u64_le(payload.data() + 8);
  const auto type = static_cast<uint8_t>(payload[16]);
  if (head.index == 0 || !valid_entry_type(type)) return std::nullopt;
  head.type = static_cast<raft::EntryType>(type);
  return head;
}

std::optional<raft::Entry> decode_entry(std::string_view payload) {
  const std::optional<EntryHead> head = decode_entry_head(payload);
  if (!head) return std::nullopt;
  raft::Entry entry;
  entry.index = head->index;
  entry.term = head->term;
  entry.type = head->type;
  entry.data.assign(payload.substr(format::kEntryFixedPayloadBytes));
  return entry;
}

}  // namespace wal
