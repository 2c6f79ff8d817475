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
  base::Bytes header, hard_state, entry;
  append_record(header, RecordType::kSegmentHeader, encode_segment_header({1, 1, 1}));
  append_record(hard_state, RecordType::kHardState, encode_hard_state({}));
  append_entry_record(entry, raft::Entry{1, 2, raft::EntryType::kNormal, "hi"});
  CHECK(base::to_hex(example_bytes(doc, "segment header")) == base::to_hex(header));
  CHECK(base::to_hex(example_bytes(doc, "hard state")) == base::to_hex(hard_state));
  CHECK(base::to_hex(example_bytes(doc, "entry")) == base::to_hex(entry));
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
