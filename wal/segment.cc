#include "wal/segment.h"

#include <cstring>

#include "base/bytes.h"

namespace wal {

namespace {

// Word at a time: recovery checks the whole preallocated tail of a segment.
bool all_zero(std::string_view bytes) {
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    if (word != 0) return false;
  }
  for (; i < bytes.size(); ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

uint64_t nonzero_end(std::string_view bytes, uint64_t from) {
  uint64_t end = bytes.size();
  while (end > from && bytes[end - 1] == 0) --end;
  return end;
}

}  // namespace

std::string segment_file_name(uint64_t sequence) {
  return fmt::format("{}{:016x}{}", format::kSegmentPrefix, sequence, format::kSegmentSuffix);
}

std::string segment_tmp_file_name(uint64_t sequence) {
  return segment_file_name(sequence) + std::string(format::kTmpSuffix);
}

std::optional<uint64_t> parse_segment_file_name(std::string_view name) {
  if (!name.starts_with(format::kSegmentPrefix) || !name.ends_with(format::kSegmentSuffix)) {
    return std::nullopt;
  }
  name.remove_prefix(format::kSegmentPrefix.size());
  name.remove_suffix(format::kSegmentSuffix.size());
  if (name.size() != 16) return std::nullopt;
  const std::optional<base::Bytes> raw = base::from_hex(name);
  if (!raw) return std::nullopt;
  return base::get_u64_be(raw->data());
}

base::Result<SegmentScan> scan_segment(std::string_view bytes, uint64_t from,
                                       const RecordVisitor& visit) {
  SegmentScan scan;
  uint64_t offset = from;
  for (;;) {
    const DecodedRecord record = decode_record(bytes.substr(offset));
    if (record.status == DecodeStatus::kOk) {
      RETURN_IF_ERROR(visit(ScannedRecord{record.type, record.payload, offset, record.size_bytes}));
      offset += record.size_bytes;
      continue;
    }
    scan.end_offset = offset;
    scan.dirty_end = offset;
    scan.bad = record.status;
    if (record.status == DecodeStatus::kZero && all_zero(bytes.substr(offset))) return scan;
    scan.dirty_end = nonzero_end(bytes, offset);
    if (const auto next = find_valid_record_after(bytes, offset)) {
      scan.end = SegmentEnd::kCorrupt;
      scan.valid_after = *next;
    } else {
      scan.end = SegmentEnd::kTorn;
    }
    return scan;
  }
}

std::optional<raft::HardState> last_hard_state_in(std::string_view bytes, uint64_t from) {
  std::optional<raft::HardState> last;
  std::optional<uint64_t> offset = from;
  while (offset && *offset < bytes.size()) {
    const DecodedRecord record = decode_record(bytes.substr(*offset));
    if (record.status != DecodeStatus::kOk) {
      offset = find_valid_record_after(bytes, *offset);
      continue;
    }
    if (record.type == RecordType::kHardState) {
      if (auto hard_state = decode_hard_state(record.payload)) last = hard_state;
    }
    *offset += record.size_bytes;
  }
  return last;
}

}  // namespace wal
