#include "wal/record.h"

#include <fstream>
#include <sstream>

#include "doctest/doctest.h"

namespace wal {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The hex after "<label>:" on its line of FORMAT.md, as bytes.
std::string example_bytes(const std::string& doc, const std::string& label) {
  const size_t at = doc.find("\n" + label + ":");
  REQUIRE(at != std::string::npos);
  const size_t start = doc.find(':', at) + 1;
  const std::string line = doc.substr(start, doc.find('\n', start) - start);
  std::string hex;
  for (char c : line) {
    if (c != ' ') hex.push_back(c);
  }
  const std::optional<base::Bytes> bytes = base::from_hex(hex);
  REQUIRE(bytes.has_value());
  return *bytes;
}

TEST_CASE("wal format: the worked example in FORMAT.md is what the encoder writes") {
  const std::string doc = read_text(std::string(WAL_SOURCE_DIR) + "/FORMAT.md");
  base::Bytes header, hard_state, entry, footer;
  append_record(header, RecordType::kSegmentHeader,
                encode_segment_header({format::kVersion, 1, 1, 1 << 20}));
  append_record(hard_state, RecordType::kHardState, encode_hard_state({}));
  append_entry_record(entry, raft::Entry{1, 2, raft::EntryType::kNormal, "hi"});
  REQUIRE(header.size() + hard_state.size() == format::kCreationRecordsBytes);
  append_record(footer, RecordType::kFooter, encode_footer({format::kCreationRecordsBytes, 1, 0}));
  CHECK(base::to_hex(example_bytes(doc, "segment header")) == base::to_hex(header));
  CHECK(base::to_hex(example_bytes(doc, "hard state")) == base::to_hex(hard_state));
  CHECK(base::to_hex(example_bytes(doc, "entry")) == base::to_hex(entry));
  CHECK(base::to_hex(example_bytes(doc, "footer")) == base::to_hex(footer));
  CHECK(footer.size() == format::kFooterRecordBytes);
}

TEST_CASE("wal format: records round-trip, and every truncation or bit flip is rejected") {
  base::Bytes bytes;
  const raft::Entry original{42, 7, raft::EntryType::kConfChange, std::string("\0payload\xff", 9)};
  append_entry_record(bytes, original);
  const DecodedRecord record = decode_record(bytes);
  REQUIRE(record.status == DecodeStatus::kOk);
  CHECK(record.size_bytes == bytes.size());
  CHECK(decode_entry(record.payload) == original);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    const DecodedRecord short_record = decode_record(std::string_view(bytes).substr(0, cut));
    CHECK(short_record.status != DecodeStatus::kOk);
  }
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    base::Bytes flipped = bytes;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    CHECK_MESSAGE(decode_record(flipped).status != DecodeStatus::kOk, "bit ", bit);
  }
}

TEST_CASE("wal format: zeros read as the end of the log, never as a record") {
  CHECK(decode_record(std::string(13, '\0')).status == DecodeStatus::kZero);
  CHECK(decode_record(std::string(5, '\0')).status == DecodeStatus::kZero);
  CHECK(decode_record("").status == DecodeStatus::kZero);
  std::string zero_type(13, '\0');
  zero_type[8] = 1;  // length 1, type 0
  CHECK(decode_record(zero_type + "x").status == DecodeStatus::kBadType);
}

TEST_CASE("wal format: payload decoders refuse malformed payloads") {
  CHECK_FALSE(decode_hard_state("short").has_value());
  CHECK_FALSE(decode_segment_header(std::string(19, 'x')).has_value());
  base::Bytes version_1;  // what format version 1 wrote: version, sequence, base index
  base::put_u32_le(version_1, 1);
  base::put_u64_le(version_1, 1);
  base::put_u64_le(version_1, 1);
  CHECK_FALSE(decode_segment_header(version_1).has_value());
  CHECK(segment_header_version(version_1) == 1u);
  // A size too small for the creation records and the tail reserve is malformed.
  CHECK_FALSE(decode_segment_header(encode_segment_header({format::kVersion, 1, 1, 100})));
  const SegmentHeader header{format::kVersion, 7, 30, 4096};
  const std::optional<SegmentHeader> decoded = decode_segment_header(encode_segment_header(header));
  REQUIRE(decoded.has_value());
  CHECK(decoded->sequence == 7);
  CHECK(decoded->base_index == 30);
  CHECK(decoded->segment_bytes == 4096);
  const Footer footer{78, 3, 2};
  CHECK(decode_footer(encode_footer(footer)) == footer);
  CHECK_FALSE(decode_footer(encode_footer(footer) + "x").has_value());
  CHECK_FALSE(decode_reset(std::string(8, '\0')).has_value());  // index 0 is never a next index
  CHECK_FALSE(decode_entry_head(std::string(16, '\1')).has_value());
  base::Bytes bad_type;
  base::put_u64_le(bad_type, 1);
  base::put_u64_le(bad_type, 1);
  base::put_u8(bad_type, 9);
  CHECK_FALSE(decode_entry_head(bad_type).has_value());
  const raft::HardState hs{5, 3, 99};
  CHECK(decode_hard_state(encode_hard_state(hs)) == hs);
}

}  // namespace
}  // namespace wal
