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

struct SegmentHeader {
  uint32_t version = format::kVersion;
  uint64_t sequence = 0;
  raft::Index base_index = 1;
};

base::Bytes encode_segment_header(const SegmentHeader& header);
std::optional<SegmentHeader> decode_segment_header(std::string_view payload);
base::Bytes encode_hard_state(const raft::HardState& hard_state);
std::optional<raft::HardState> decode_hard_state(std::string_view payload);
base::Bytes encode_reset(raft::Index next_index);
std::optional<raft::Index> decode_reset(std::string_view payload);

// Entry payloads: index and term are read without copying the data (replay needs only those).
struct EntryHead {
  raft::Index index = 0;
  raft::Term term = 0;
  raft::EntryType type = raft::EntryType::kNormal;
};
std::optional<EntryHead> decode_entry_head(std::string_view payload);
std::optional<raft::Entry> decode_entry(std::string_view payload);

}  // namespace wal
