// Constants of the on-disk format. wal/FORMAT.md is the specification; every value here mirrors
// a line of it, so change both together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wal::format {

inline constexpr uint32_t kVersion = 1;

// Record framing: u64 checksum | u32 length | u8 type | payload. The checksum covers bytes
// [kChecksumBytes, kRecordHeaderBytes + length): length, type and payload.
inline constexpr size_t kChecksumBytes = 8;
inline constexpr size_t kRecordHeaderBytes = 13;
inline constexpr uint32_t kRecordPayloadMaxBytes = uint32_t{1} << 30;

enum class RecordType : uint8_t {
  kInvalid = 0,  // never written: a zero header marks the unused, preallocated tail
  kSegmentHeader = 1,
  kHardState = 2,
  kEntry = 3,
  kReset = 4,
};
inline constexpr uint8_t kRecordTypeMax = 4;

inline constexpr size_t kSegmentHeaderPayloadBytes = 4 + 8 + 8;  // version, sequence, base
inline constexpr size_t kHardStatePayloadBytes = 8 + 8 + 8;      // term, vote, commit
inline constexpr size_t kEntryFixedPayloadBytes = 8 + 8 + 1;     // index, term, type
inline constexpr size_t kResetPayloadBytes = 8;                  // next index

// Segment files: "wal-" + 16 lowercase hex digits of the sequence number + ".log".
inline constexpr std::string_view kSegmentPrefix = "wal-";
inline constexpr std::string_view kSegmentSuffix = ".log";

// Snapshot files: "snap-" + index (16 hex) + "-" + term (16 hex) + ".snap"; ".tmp" appended
// while being written.
inline constexpr std::string_view kSnapshotPrefix = "snap-";
inline constexpr std::string_view kSnapshotSuffix = ".snap";
inline constexpr std::string_view kTmpSuffix = ".tmp";
inline constexpr std::string_view kSnapshotMagic = "RKVSNAP1";
inline constexpr size_t kSnapshotTrailerBytes = 8 + 8 + 8;  // state length, state xxh3, file xxh3

}  // namespace wal::format
