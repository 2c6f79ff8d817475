// A full disk is not a crash (issue 12): every call of wal::Log that writes returns
// kResourceExhausted, leaves the log exactly as it was, and succeeds once space is back; and a
// small disk gets small segments (FORMAT.md, "Segment size").
#include <cerrno>
#include <functional>

#include "doctest/doctest.h"
#include "wal/format.h"
#include "wal/test_util.h"

namespace wal {
namespace {

using testing::LogState;
using testing::make_entries;
using testing::observe;

base::Status take_snapshot(Log& log, raft::Index index) {
  base::Result<std::unique_ptr<SnapshotWriter>> writer =
      log.snapshots().begin({index, log.term(index), {{1}, {}}});
  if (!writer.is_ok()) return writer.status();
  (*writer)->append("state@" + std::to_string(index));
  RETURN_IF_ERROR((*writer)->finish());
  log.compact(index);
  return base::Status::ok();
}

using Step = std::function<base::Status(Log&)>;

// Appends across several rolls, hard states, syncs, a conflicting suffix, an installed snapshot
// that empties the log, and an own snapshot with compaction: every kind of write wal/ makes.
std::vector<Step> workload() {
  auto snapshot = std::make_shared<const std::string>("leader's state");
  return {
      [](Log& log) { return log.append(make_entries(1, 30, 1, 100)); },
      [](Log& log) {
        return log.set_hard_state({1, 1, 20});
      },
      [](Log& log) { return log.sync(); },
      [](Log& log) { return log.append(make_entries(31, 120, 1, 100)); },
      [](Log& log) { return log.append(make_entries(121, 200, 1, 100)); },
      [](Log& log) { return log.sync(); },
      [](Log& log) { return log.append(make_entries(150, 160, 2, 100)); },
      [](Log& log) {
        return log.set_hard_state({2, 2, 150});
      },
      [](Log& log) { return log.sync(); },
      [](Log& log) { return take_snapshot(log, 155); },
      [=](Log& log) {
        return log.install_snapshot(raft::Snapshot{{300, 3, {{1}, {}}}, snapshot});
      },
      [](Log& log) { return log.append(make_entries(301, 340, 3, 100)); },
      [](Log& log) {
        return log.set_hard_state({3, 3, 330});
      },
      [](Log& log) { return log.sync(); },
  };
}

// Small segments roll often; a small cache makes reads check the files.
LogOptions small_segments() {
  LogOptions options;
  options.segment_bytes = 4096;
  options.cache_bytes = 1000;
  return options;
}

TEST_CASE(
    "wal disk full: ENOSPC at every write of a workload fails that call only, changes nothing, "
    "and the same call then succeeds") {
  LogState expected;
  {
    FaultEnv env(1);
    auto log = testing::open_ok(env, small_segments());
    for (const Step& step : workload()) REQUIRE_OK(step(*log));
    expected = observe(*log);
  }
  int failed_calls = 0;
  for (int n = 0;; ++n) {
    FaultEnv env(static_cast<uint64_t>(n));
    env.inject_error(FaultOp::kWrite, ENOSPC, n, /*partial=*/true);
    base::Result<std::unique_ptr<Log>> opened = Log::open(env, testing::kDir, small_segments());
    if (!opened.is_ok()) {
      REQUIRE(opened.status().code() == base::Code::kResourceExhausted);
      opened = Log::open(env, testing::kDir, small_segments());
      ++failed_calls;
    }
    REQUIRE_MESSAGE(opened.is_ok(), opened.status().to_string());
    std::unique_ptr<Log> log = std::move(opened).value();
    size_t step_index = 0;
    for (const Step& step : workload()) {
      const LogState before = observe(*log);
      const base::Status status = step(*log);
      if (!status.is_ok()) {
        REQUIRE_MESSAGE(status.code() == base::Code::kResourceExhausted, status.to_string());
        CHECK(status.message().find(testing::kDir) != std::string::npos);
        REQUIRE_MESSAGE(observe(*log) == before, "write ", n, ", step ", step_index);
        REQUIRE_OK(step(*log));
        ++failed_calls;
      }
      ++step_index;
    }
    if (env.pending_injections() > 0) break;  // the workload has fewer than n writes
    REQUIRE(observe(*log) == expected);
    log.reset();
    env.power_loss(PowerLossMode::kTear);
    auto reopened = testing::open_ok(env, small_segments());
    CHECK_MESSAGE(observe(*reopened) == expected, "write ", n);
    CHECK(reopened->recovery_report().possible_loss == StorageLoss::kNone);
    CHECK_FALSE(reopened->identity().needs_repair());
  }
  MESSAGE("calls failed with ENOSPC: ", failed_calls);
  CHECK(failed_calls > 30);
}

TEST_CASE(
    "wal disk full: a roll that cannot preallocate keeps the old segment active, and a crash "
    "then loses nothing synced") {
  FaultEnv env(2);
  auto log = testing::open_ok(env, small_segments());
  REQUIRE_OK(log->append(make_entries(1, 25, 1, 100)));
  REQUIRE_OK(log->sync());
  const LogState synced = observe(*log);
  env.set_capacity(env.used_bytes() + 1000);  // less than a segment
  const base::Status full = log->append(make_entries(26, 80, 1, 100));
  CHECK(full.code() == base::Code::kResourceExhausted);
  CHECK(full.message().find("preallocating") != std::string::npos);
  CHECK(observe(*log) == synced);
  CHECK_FALSE(env.contents(testing::segment_path(2)).has_value());
  REQUIRE_OK(log->set_hard_state({1, 1, 25}));  // fits in the old segment
  REQUIRE_OK(log->sync());
  log.reset();
  env.power_loss(PowerLossMode::kTear);
  log = testing::open_ok(env, small_segments());
  CHECK(observe(*log).entries == synced.entries);
  CHECK(log->initial_hard_state() == raft::HardState{1, 1, 25});
  CHECK(log->recovery_report().possible_loss == StorageLoss::kNone);
  env.set_capacity(std::nullopt);  // space is back
  REQUIRE_OK(log->append(make_entries(26, 80, 1, 100)));
  REQUIRE_OK(log->sync());
  CHECK(log->last_index() == 80);
}

TEST_CASE(
    "wal disk full: a 16 MiB data directory works: 2 MiB segments, ENOSPC when the log fills it, "
    "and writes resume after compaction frees space") {
  FaultEnv env(3);
  env.set_capacity(16 << 20);
  REQUIRE(env.create_dir(testing::kDir).is_ok());
  auto log = testing::open_ok(env, LogOptions{});  // 64 MiB configured
  CHECK(env.contents(testing::segment_path(1))->size() == (16 << 20) / 8);
  raft::Index next = 1;
  base::Status status;
  while (status.is_ok()) {  // fill the disk: no snapshot, nothing compacted
    status = log->append(make_entries(next, next + 63, 1, 4000));
    if (status.is_ok()) status = log->sync();
    if (status.is_ok()) next += 64;
  }
  CHECK(status.code() == base::Code::kResourceExhausted);
  CHECK(next > 2000);  // most of the 16 MiB held entries
  uint64_t smallest = UINT64_MAX;
  const std::vector<std::string> names = *env.list_dir(testing::kDir);
  for (const std::string& name : names) {
    if (parse_segment_file_name(name))
      smallest = std::min<uint64_t>(smallest, env.contents(join_path(testing::kDir, name))->size());
  }
  CHECK(smallest == format::kMinSegmentBytes);  // segments shrank as the disk filled
  REQUIRE_OK(take_snapshot(*log, next - 1));    // frees the log's segments
  for (int round = 0; round < 3; ++round) {     // and the log goes on, compacting as it goes
    for (int batch = 0; batch < 20; ++batch, next += 64) {
      REQUIRE_OK(log->append(make_entries(next, next + 63, 1, 4000)));
      REQUIRE_OK(log->sync());
    }
    REQUIRE_OK(take_snapshot(*log, next - 1));
  }
  log.reset();
  env.power_loss(PowerLossMode::kDrop);
  log = testing::open_ok(env, LogOptions{});
  CHECK(log->snapshot_meta().index == next - 1);
  CHECK(log->recovery_report().possible_loss == StorageLoss::kNone);
}

}  // namespace
}  // namespace wal
