#include "wal/segment.h"

#include <cstring>

#include "base/bytes.h"

namespace wal {

namespace {

// Word at a time: recovery checks the whole preallocated tail of the last segment.
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

// The offset of the first valid record starting after `from`, if any. Cheap per offset: the
// checksum is computed only where the type and length bytes are plausible.
std::optional<uint64_t> find_valid_record_after(std::string_view bytes, uint64_t from) {
  for (uint64_t offset = from + 1; offset + format::kRecordHeaderBytes <= bytes.size(); ++offset) {
    const auto type = static_cast<uint8_t>(bytes[offset + 12]);
    if (type == 0 || type > format::kRecordTypeMax) continue;
    const uint32_t length = base::get_u32_le(bytes.data() + offset + format::kChecksumBytes);
    if (length > bytes.size() - offset - format::kRecordHeaderBytes) continue;
    if (decode_record(bytes.substr(offset)).status == DecodeStatus::kOk) return offset;
  }
  return std::nullopt;
}

}  // namespace

std::string segment_file_name(uint64_t sequence) {
  return fmt::format("{}{:016x}{}", format::kSegmentPrefix, sequence, format::kSegmentSuffix);
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

base::Result<SegmentScan> scan_segment(const std::string& path, std::string_view bytes,
                                       bool is_last, const RecordVisitor& visit) {
  SegmentScan scan;
  uint64_t offset = 0;
  for (;;) {
    const DecodedRecord record = decode_record(bytes.substr(offset));
    if (record.status != DecodeStatus::kOk) {
      scan.end_offset = offset;
      if (record.status == DecodeStatus::kZero && all_zero(bytes.substr(offset))) {
        scan.header_torn = offset == 0 && is_last;
        if (offset == 0 && !is_last) return base::corruption("{}: empty segment at offset 0", path);
        return scan;  // row 3: clean end
      }
      if (!is_last) {  // row 7
        return base::corruption("{}: {} at offset {} in a segment that is not the last", path,
                                decode_status_name(record.status), offset);
      }
      if (const auto next = find_valid_record_after(bytes, offset)) {  // row 5
        return base::corruption("{}: {} at offset {}, but a valid record follows at offset {}",
                                path, decode_status_name(record.status), offset, *next);
      }
      scan.torn_tail = true;  // rows 4 and 6
      scan.header_torn = offset == 0;
      return scan;
    }
    RETURN_IF_ERROR(visit(ScannedRecord{record.type, record.payload, offset, record.size_bytes}));
    offset += record.size_bytes;
  }
}

}  // namespace wal
