// Segment files: names, and the scan that splits a segment image into valid records and a tail
// (FORMAT.md, rows 3-7 of the recovery decision table).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "wal/record.h"

namespace wal {

std::string segment_file_name(uint64_t sequence);
std::optional<uint64_t> parse_segment_file_name(std::string_view name);

struct ScannedRecord {
  RecordType type = RecordType::kInvalid;
  std::string_view payload;
  uint64_t offset = 0;      // where the record starts in the file
  uint64_t size_bytes = 0;  // header + payload
};

struct SegmentScan {
  uint64_t end_offset = 0;  // the valid records occupy [0, end_offset)
  bool torn_tail = false;   // non-zero bytes follow end_offset (last segment only)
  // The first record is not valid (last segment only): the segment holds nothing synced.
  bool header_torn = false;
};

using RecordVisitor = std::function<base::Status(const ScannedRecord&)>;

// Calls `visit` for each valid record in order (stopping at its first error). In the last
// segment a bad record with no valid record anywhere after it is a torn tail; a bad record
// followed by a valid one, or any bad record or stray bytes in another segment, is corruption
// reported as "<path>: <what> at offset N".
base::Result<SegmentScan> scan_segment(const std::string& path, std::string_view bytes,
                                       bool is_last, const RecordVisitor& visit);

}  // namespace wal
