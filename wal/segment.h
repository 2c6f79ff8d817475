// Segment files: names, and the scan that splits a segment image into its valid records and
// what follows them (FORMAT.md, "Recovery decision table"). Pure functions over bytes.
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
// "wal-<sequence>.log.tmp": a segment being created (renamed to its name once durable).
std::string segment_tmp_file_name(uint64_t sequence);
std::optional<uint64_t> parse_segment_file_name(std::string_view name);

struct ScannedRecord {
  RecordType type = RecordType::kInvalid;
  std::string_view payload;
  uint64_t offset = 0;      // where the record starts in the file
  uint64_t size_bytes = 0;  // header + payload
};

enum class SegmentEnd : uint8_t {
  kClean,    // only zeros follow the records
  kTorn,     // a bad record, and no valid record anywhere after it
  kCorrupt,  // a bad record, and a valid record later in the file
};

struct SegmentScan {
  uint64_t end_offset = 0;  // the valid records occupy [from, end_offset)
  SegmentEnd end = SegmentEnd::kClean;
  DecodeStatus bad = DecodeStatus::kZero;  // what is at end_offset
  uint64_t valid_after = 0;                // kCorrupt: where the next valid record starts
  uint64_t dirty_end = 0;                  // one past the last non-zero byte (>= end_offset)
};

using RecordVisitor = std::function<base::Status(const ScannedRecord&)>;

// Calls `visit` for each valid record from offset `from` on, in order, stopping at its first
// error (which is returned), then classifies what follows the records.
base::Result<SegmentScan> scan_segment(std::string_view bytes, uint64_t from,
                                       const RecordVisitor& visit);

// The last hard state among the valid records at or after `from`, skipping anything invalid
// (what recovery salvages from the part of a log it cannot keep).
std::optional<raft::HardState> last_hard_state_in(std::string_view bytes, uint64_t from);

}  // namespace wal
