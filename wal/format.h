// Constants of the on-disk format. wal/FORMAT.md is the specification; every value here mirrors
// a line of it, so change both together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wal::format {

inline constexpr uint32_t kVersion = 2;

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
  kFooter = 5,  // ends every batch that Log::sync() makes durable
};
inline constexpr uint8_t kRecordTypeMax = 5;

// version, sequence, base index, segment bytes (the preallocated size)
inline constexpr size_t kSegmentHeaderPayloadBytes = 4 + 8 + 8 + 8;
inline constexpr size_t kHardStatePayloadBytes = 8 + 8 + 8;   // term, vote, commit
inline constexpr size_t kEntryFixedPayloadBytes = 8 + 8 + 1;  // index, term, type
inline constexpr size_t kResetPayloadBytes = 8;               // next index
// batch start offset, records in the batch, next segment's sequence (0: not sealed)
inline constexpr size_t kFooterPayloadBytes = 8 + 4 + 8;

// The two records every segment starts with (header, hard state), durable before the segment
// gets its name.
inline constexpr size_t kCreationRecordsBytes =
    2 * kRecordHeaderBytes + kSegmentHeaderPayloadBytes + kHardStatePayloadBytes;
inline constexpr size_t kFooterRecordBytes = kRecordHeaderBytes + kFooterPayloadBytes;
inline constexpr size_t kResetRecordBytes = kRecordHeaderBytes + kResetPayloadBytes;
// Room every segment keeps free after the records of a call: the footer that closes their batch,
// then a reset record and the footer that seals the segment.
inline constexpr size_t kTailReserveBytes = 2 * kFooterRecordBytes + kResetRecordBytes;
// Segment size rule (FORMAT.md): min(configured, max(free space / kFreeSpaceDivisor,
// kMinSegmentBytes)), and never less than what the records of one call need.
inline constexpr uint64_t kMinSegmentBytes = uint64_t{1} << 20;
inline constexpr uint64_t kFreeSpaceDivisor = 8;

// Segment files: "wal-" + 16 lowercase hex digits of the sequence number + ".log".
inline constexpr std::string_view kSegmentPrefix = "wal-";
inline constexpr std::string_view kSegmentSuffix = ".log";
// "wal-<sequence>.log.tmp": a segment being created (renamed into place once durable).

// Snapshot files: "snap-" + index (16 hex) + "-" + term (16 hex) + ".snap"; ".tmp" appended
// while being written.
inline constexpr std::string_view kSnapshotPrefix = "snap-";
inline constexpr std::string_view kSnapshotSuffix = ".snap";
inline constexpr std::string_view kTmpSuffix = ".tmp";
inline constexpr std::string_view kSnapshotMagic = "RKVWSNP2";  // wal snapshot file, format v2
inline constexpr size_t kSnapshotTrailerBytes = 8 + 8 + 8;  // state length, state xxh3, file xxh3
// A newest snapshot that failed verification, set aside (at most one is kept).
inline constexpr std::string_view kCorruptSuffix = ".corrupt";

// The storage identity file (FORMAT.md, "Storage identity"); ".tmp" while being replaced.
inline constexpr std::string_view kIdentityName = "identity";
inline constexpr std::string_view kIdentityMagic = "RKVIDEN1";
inline constexpr size_t kStorageIdBytes = 16;
inline constexpr uint32_t kIdentityMessageMaxBytes = 4096;

}  // namespace wal::format
