// wal::Log through its public API on FaultEnv: what raft relies on.
#include "wal/log.h"

#include "doctest/doctest.h"
#include "wal/test_util.h"

namespace wal {
namespace {

using testing::all_entries;
using testing::kDir;
using testing::make_entries;
using testing::make_entry;
using testing::open_ok;

TEST_CASE("wal log: a fresh log is empty and answers term(0)") {
  FaultEnv env(1);
  auto log = open_ok(env);
  CHECK(log->first_index() == 1);
  CHECK(log->last_index() == 0);
  CHECK(log->term(0) == 0);
  CHECK(log->initial_hard_state() == raft::HardState{});
  CHECK(log->snapshot().meta.index == 0);
}

TEST_CASE("wal log: appended entries and hard state survive a clean reopen") {
  FaultEnv env(2);
  const auto entries = make_entries(1, 50, 3, 100);
  {
    auto log = open_ok(env);
    REQUIRE_OK(log->append(entries));
    REQUIRE_OK(log->set_hard_state({3, 2, 40}));
    REQUIRE_OK(log->sync());
    CHECK(all_entries(*log) == entries);
  }
  env.power_loss(PowerLossMode::kDrop);
  auto log = open_ok(env);
  CHECK(all_entries(*log) == entries);
  CHECK(log->term(50) == 3);
  CHECK(log->initial_hard_state() == raft::HardState{3, 2, 40});
}

TEST_CASE("wal log: one sync covers many appends (group commit)") {
  FaultEnv env(3);
  auto log = open_ok(env);
  const uint64_t before = env.sync_data_calls();
  for (raft::Index i = 1; i <= 64; ++i) REQUIRE_OK(log->append(make_entries(i, i, 1)));
  REQUIRE_OK(log->set_hard_state({1, 1, 64}));
  REQUIRE_OK(log->sync());
  CHECK(env.sync_data_calls() == before + 1);
  REQUIRE_OK(log->sync());  // nothing new: no fdatasync
  CHECK(env.sync_data_calls() == before + 1);
}

TEST_CASE("wal log: a conflicting append replaces the suffix, in memory and after reopen") {
  FaultEnv env(4);
  {
    auto log = open_ok(env);
    REQUIRE_OK(log->append(make_entries(1, 10, 1)));
    REQUIRE_OK(log->append(make_entries(6, 8, 2)));
    CHECK(log->last_index() == 8);
    CHECK(log->term(5) == 1);
    CHECK(log->term(6) == 2);
    REQUIRE_OK(log->sync());
  }
  env.power_loss(PowerLossMode::kDrop);
  auto log = open_ok(env);
  auto expected = make_entries(1, 5, 1);
  for (const auto& e : make_entries(6, 8, 2)) expected.push_back(e);
  CHECK(all_entries(*log) == expected);
}

TEST_CASE("wal log: segments roll, and reads beyond the cache come from disk intact") {
  FaultEnv env(5);
  LogOptions options;
  options.segment_bytes = 4096;
  options.cache_bytes = 1000;
  const auto entries = make_entries(1, 400, 1, 90);
  auto log = open_ok(env, options);
  for (size_t at = 0; at < 200; at += 10)
    REQUIRE_OK(log->append(std::span(entries).subspan(at, 10)));
  CHECK(env.contents(testing::segment_path(5)).has_value());
  // The records of one call share a segment, one bigger than segment_bytes if need be.
  REQUIRE_OK(log->append(std::span(entries).subspan(200)));
  const std::vector<std::string> names = *env.list_dir(kDir);  // sorted: the newest segment last
  CHECK(env.contents(join_path(kDir, names.back()))->size() > 200 * 90);
  CHECK(all_entries(*log) == entries);
  CHECK(log->entries(37, 39, UINT64_MAX) ==
        std::vector<raft::Entry>(entries.begin() + 36, entries.begin() + 38));
  // max_bytes stops early but always returns one entry.
  CHECK(log->entries(10, 20, 200).size() == 2);
  CHECK(log->entries(10, 20, 0).size() == 1);
}

TEST_CASE("wal log: compaction after a snapshot drops old segments and keeps the rest") {
  FaultEnv env(6);
  LogOptions options;
  options.segment_bytes = 2048;
  const auto entries = make_entries(1, 300, 4, 60);
  {
    auto log = open_ok(env, options);
    REQUIRE_OK(log->append(entries));
    REQUIRE_OK(log->set_hard_state({4, 1, 250}));
    auto writer = log->snapshots().begin({250, 4, {{1, 2, 3}, {}}});
    REQUIRE(writer.is_ok());
    (*writer)->append("state-at-250");
    REQUIRE((*writer)->finish().is_ok());
    log->compact(250);
    CHECK(log->first_index() == 251);
    CHECK(log->term(250) == 4);
    CHECK(log->snapshot().meta.index == 250);
    CHECK(*log->snapshot().data == "state-at-250");
    CHECK_FALSE(env.contents(testing::segment_path(1)).has_value());
    REQUIRE_OK(log->sync());
  }
  env.power_loss(PowerLossMode::kDrop);
  auto log = open_ok(env, options);
  CHECK(log->first_index() == 251);
  CHECK(all_entries(*log) == std::vector<raft::Entry>(entries.begin() + 250, entries.end()));
  CHECK(log->initial_hard_state() == raft::HardState{4, 1, 250});  // survives segment removal
  CHECK(log->snapshot_meta().conf.voters == std::vector<raft::NodeId>{1, 2, 3});
}

TEST_CASE(
    "wal log: installing a snapshot keeps a matching log tail and discards a conflicting one") {
  FaultEnv env(7);
  auto log = open_ok(env);
  REQUIRE_OK(log->append(make_entries(1, 20, 2)));
  auto data = std::make_shared<const std::string>("snap");
  REQUIRE_OK(log->install_snapshot(raft::Snapshot{{10, 2, {{1}, {}}}, data}));
  CHECK(log->first_index() == 11);
  CHECK(log->last_index() == 20);
  REQUIRE_OK(
      log->install_snapshot(raft::Snapshot{{30, 5, {{1}, {}}}, data}));  // beyond the log: discard
  CHECK(log->first_index() == 31);
  CHECK(log->last_index() == 30);
  CHECK(log->term(30) == 5);
  REQUIRE_OK(log->append(make_entries(31, 35, 5)));
  REQUIRE_OK(log->sync());
  log.reset();
  env.power_loss(PowerLossMode::kDrop);
  log = open_ok(env);
  CHECK(log->first_index() == 31);
  CHECK(all_entries(*log) == make_entries(31, 35, 5));
  CHECK(*log->snapshot().data == "snap");
}

TEST_CASE("wal log: an installed snapshot with another term at its index discards the log") {
  FaultEnv env(8);
  auto log = open_ok(env);
  REQUIRE_OK(log->append(make_entries(1, 20, 2)));
  REQUIRE_OK(log->install_snapshot(
      raft::Snapshot{{10, 3, {{1}, {}}}, std::make_shared<const std::string>("s")}));
  CHECK(log->first_index() == 11);
  CHECK(log->last_index() == 10);
  log.reset();
  env.power_loss(PowerLossMode::kDrop);
  log = open_ok(env);
  CHECK(log->last_index() == 10);
  CHECK(log->term(10) == 3);
}

}  // namespace
}  // namespace wal
