#include "raft/memory_storage.h"

#include <doctest/doctest.h>

using raft::Entry;
using raft::MemoryStorage;

namespace {

std::vector<Entry> make_entries(raft::Index first, std::vector<raft::Term> terms) {
  std::vector<Entry> out;
  for (auto term : terms) out.push_back(Entry{.index = first++, .term = term, .data = "x"});
  return out;
}

}  // namespace

TEST_CASE("memory storage: an empty log has first index 1 and last index 0") {
  MemoryStorage storage;
  CHECK(storage.first_index() == 1);
  CHECK(storage.last_index() == 0);
  CHECK(storage.term(0) == 0);
}

TEST_CASE("memory storage: appending a conflicting suffix truncates the old one") {
  MemoryStorage storage;
  storage.append(make_entries(1, {1, 1, 2, 2}));
  storage.append(make_entries(3, {3}));
  CHECK(storage.last_index() == 3);
  CHECK(storage.term(3) == 3);
  CHECK(storage.term(2) == 1);
  // Re-appending a prefix that is already stored replaces from its first index.
  storage.append(make_entries(2, {1, 3, 3}));
  CHECK(storage.last_index() == 4);
}

TEST_CASE("memory storage: entries honour the byte limit but return at least one entry") {
  MemoryStorage storage;
  storage.append(make_entries(1, {1, 1, 1, 1}));
  CHECK(storage.entries(1, 5, 0).size() == 1);
  CHECK(storage.entries(1, 5, 2).size() == 2);
  CHECK(storage.entries(2, 5, 100).size() == 3);
}

TEST_CASE("memory storage: snapshot then compact keeps the snapshot term at first_index - 1") {
  MemoryStorage storage;
  storage.append(make_entries(1, {1, 2, 2, 3}));
  CHECK_FALSE(storage.compact(2).is_ok());  // no snapshot covers index 2 yet
  REQUIRE(storage
              .create_snapshot(3, raft::ConfState{.voters = {1, 2}},
                               std::make_shared<const std::string>("state"))
              .is_ok());
  REQUIRE(storage.compact(3).is_ok());
  CHECK(storage.first_index() == 4);
  CHECK(storage.term(3) == 2);
  CHECK(storage.snapshot().meta.conf.voters == std::vector<raft::NodeId>{1, 2});
  CHECK(*storage.snapshot().data == "state");
  CHECK_FALSE(storage.compact(3).is_ok());
  CHECK_FALSE(storage.create_snapshot(2, {}, nullptr).is_ok());
  // Entries below the snapshot are skipped on append.
  storage.append(make_entries(2, {1, 2, 3, 4}));
  CHECK(storage.last_index() == 5);
  CHECK(storage.term(5) == 4);
}

TEST_CASE("memory storage: applying a received snapshot replaces the whole log") {
  MemoryStorage storage;
  storage.append(make_entries(1, {1, 1, 1}));
  raft::Snapshot snap;
  snap.meta = raft::SnapshotMeta{.index = 10, .term = 4, .conf = {.voters = {1, 2, 3}}};
  REQUIRE(storage.apply_snapshot(snap).is_ok());
  CHECK(storage.first_index() == 11);
  CHECK(storage.last_index() == 10);
  CHECK(storage.term(10) == 4);
  CHECK_FALSE(storage.apply_snapshot(snap).is_ok());
}
