#include "net/snapshot_assembler.h"

#include <doctest/doctest.h>

namespace {

net::SnapshotChunk chunk(uint64_t offset, std::string data, bool last, raft::Index index = 7) {
  net::SnapshotChunk c{index, 2, offset, std::move(data), last, std::nullopt};
  if (offset == 0) {
    raft::Message m;
    m.type = raft::MessageType::kSnapshot;
    m.snapshot = raft::Snapshot{{index, 2, {{1}, {}}}, nullptr};
    c.message = m;
  }
  return c;
}

}  // namespace

TEST_CASE("snapshot assembler: consecutive chunks yield one message with all the bytes") {
  net::SnapshotAssembler a;
  CHECK_FALSE(a.add(chunk(0, "abc", false))->has_value());
  CHECK(a.in_progress());
  CHECK_FALSE(a.add(chunk(3, "de", false))->has_value());
  auto done = a.add(chunk(5, "f", true));
  REQUIRE(done.is_ok());
  REQUIRE(done->has_value());
  CHECK(*(*done)->snapshot->data == "abcdef");
  CHECK((*done)->snapshot->meta.index == 7);
  CHECK_FALSE(a.in_progress());
}

TEST_CASE("snapshot assembler: a gap, a repeat or a chunk of another snapshot is an error") {
  for (auto bad : {chunk(4, "x", true), chunk(2, "x", true), chunk(3, "x", true, 8)}) {
    net::SnapshotAssembler a;
    REQUIRE(a.add(chunk(0, "abc", false)).is_ok());
    auto r = a.add(bad);
    CHECK_FALSE(r.is_ok());
    CHECK_FALSE(a.in_progress());
  }
  net::SnapshotAssembler a;
  CHECK_FALSE(a.add(chunk(3, "x", true)).is_ok());  // no snapshot in progress
}

TEST_CASE("snapshot assembler: a new snapshot at offset 0 abandons the unfinished one") {
  net::SnapshotAssembler a;
  REQUIRE(a.add(chunk(0, "old", false)).is_ok());
  auto done = a.add(chunk(0, "new", true, 9));
  REQUIRE(done.is_ok());
  REQUIRE(done->has_value());
  CHECK(*(*done)->snapshot->data == "new");
  CHECK((*done)->snapshot->meta.index == 9);
}
