// Record framing and payload codecs (FORMAT.md, "Record framing"). Pure functions over bytes:
// no I/O. Decoders never trust their input: every failure is a value, nothing asserts on it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/bytes.h"
#include "raft/types.h"
#include "wal/format.h"

namespace wal {

using format::RecordType;

// Appends one framed record (header + payload) to `out`.
void append_record(base::Bytes& out, RecordType type, std::string_view payload);
// Appends an entry record without building the payload separately (the hot append path).
void append_entry_record(base::Bytes& out, const raft::Entry& entry);

enum class DecodeStatus : uint8_t {
  kOk,
  kZero,         // 13 zero bytes (or a zero-filled short tail): the end of the written part
  kShort,        // fewer bytes left than the header or the payload needs
  kBadLength,    // length above kRecordPayloadMaxBytes
  kBadType,      // type 0 with a non-zero header, or above kRecordTypeMax
  kBadChecksum,  // the checksum does not match
};
const char* decode_status_name(DecodeStatus status);

struct DecodedRecord {
  DecodeStatus status = DecodeStatus::kShort;
  RecordType type = RecordType::kInvalid;
  std::string_view payload;  // points into the decoded buffer
  size_t size_bytes = 0;     // header + payload, when status == kOk
};

// Decodes the record at the start of `bytes`.
DecodedRecord decode_record(std::string_view bytes);
// The offset of the first valid record starting after `from` in `bytes`, if any.
std::optional<uint64_t> find_valid_record_after(std::string_view bytes, uint64_t from);

struct SegmentHeader {
  uint32_t version = format::kVersion;
  uint64_t sequence = 0;
  raft::Index base_index = 1;
  uint64_t segment_bytes = 0;  // the preallocated size: the file is never shorter
};

// Ends each batch sync() makes durable; the last one of a segment that is not the last one
// names the next segment (it is "sealed").
struct Footer {
  uint64_t batch_start = 0;  // offset of the batch's first record (after the previous footer)
  uint32_t records = 0;      // records in the batch, the footer not counted
  uint64_t next_sequence = 0;
  bool operator==(const Footer&) const = default;
};

base::Bytes encode_segment_header(const SegmentHeader& header);
// Only the current version decodes; segment_header_version() reads the version of any.
std::optional<SegmentHeader> decode_segment_header(std::string_view payload);
std::optional<uint32_t> segment_header_version(std::string_view payload);
base::Bytes encode_hard_state(const raft::HardState& hard_state);
std::optional<raft::HardState> decode_hard_state(std::string_view payload);
base::Bytes encode_reset(raft::Index next_index);
std::optional<raft::Index> decode_reset(std::string_view payload);
base::Bytes encode_footer(const Footer& footer);
std::optional<Footer> decode_footer(std::string_view payload);

// Entry payloads: index and term are read without copying the data (replay needs only those).
struct EntryHead {
  raft::Index index = 0;
  raft::Term term = 0;
  raft::EntryType type = raft::EntryType::kNormal;
};
std::optional<EntryHead> decode_entry_head(std::string_view payload);
std::optional<raft::Entry> decode_entry(std::string_view payload);

}  // namespace wal
