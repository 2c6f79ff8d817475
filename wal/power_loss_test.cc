// roll_back_unsynced on real directories written through SyncJournalEnv, and the crash test
// that matters: a wal::Log over the journaling env loses nothing it synced.
#include "wal/power_loss.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/rng.h"
#include "doctest/doctest.h"
#include "wal/log.h"
#include "wal/no_sync_env.h"
#include "wal/posix_env.h"
#include "wal/sync_journal.h"
#include "wal/test_util.h"

namespace wal {
namespace {

using testing::create;
using testing::open_env;
using testing::TempDir;

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

RollbackReport roll_back(const std::string& dir) {
  RollbackReport report;
  base::Status s = roll_back_unsynced(dir, &report);
  REQUIRE_MESSAGE(s.is_ok(), s.to_string());
  return report;
}

TEST_CASE("power loss: a directory without a sync journal is refused") {
  TempDir dir;
  RollbackReport report;
  base::Status s = roll_back_unsynced(dir.path, &report);
  CHECK(s.code() == base::Code::kNotFound);
  CHECK(s.message().find(std::string(kSyncJournalName)) != std::string::npos);
}

TEST_CASE("power loss: unsynced tail cut, unsynced new file removed, synced files kept") {
  TempDir dir;
  const std::string a = join_path(dir.path, "a"), b = join_path(dir.path, "b"),
                    c = join_path(dir.path, "c");
  {
    auto env = open_env(dir.path);
    auto file_a = create(*env, a);
    REQUIRE(file_a->preallocate(1000).is_ok());
    REQUIRE(file_a->pwrite(0, std::string(100, 'a')).is_ok());
    auto file_c = create(*env, c);
    REQUIRE(file_c->pwrite(0, "ccc").is_ok());
    REQUIRE(file_a->sync_data().is_ok());
    REQUIRE(file_c->sync_data().is_ok());
    REQUIRE(env->sync_dir(dir.path).is_ok());
    REQUIRE(file_a->pwrite(100, std::string(50, 'A')).is_ok());  // never synced
    auto file_b = create(*env, b);
    REQUIRE(file_b->pwrite(0, std::string(20, 'b')).is_ok());
    REQUIRE(file_b->sync_data().is_ok());  // data synced, but its name never was
  }  // "kill -9": the objects go away, nothing is closed cleanly
  RollbackReport report = roll_back(dir.path);
  CHECK(report.files_truncated == 1);
  CHECK(report.files_removed == 1);
  CHECK(report.bytes_dropped == 50 + 20);
  CHECK(contents(a) == std::string(100, 'a') + std::string(900, '\0'));
  CHECK(contents(c) == "ccc");
  CHECK(!std::filesystem::exists(b));
  // A second rollback finds nothing to do.
  report = roll_back(dir.path);
  CHECK(report.files_truncated + report.files_removed + report.bytes_dropped == 0);
  CHECK(contents(a) == std::string(100, 'a') + std::string(900, '\0'));
}

TEST_CASE("power loss: unsynced removals and renames are undone") {
  TempDir dir;
  const std::string keep = join_path(dir.path, "keep"), moved = join_path(dir.path, "moved"),
                    renamed = join_path(dir.path, "renamed"), tmp = join_path(dir.path, "x.tmp");
  {
    auto env = open_env(dir.path);
    for (const std::string& path : {keep, moved}) {
      auto file = create(*env, path);
      REQUIRE(file->pwrite(0, path).is_ok());
      REQUIRE(file->sync_data().is_ok());
    }
    REQUIRE(env->sync_dir(dir.path).is_ok());
    REQUIRE(env->remove(keep).is_ok());
    REQUIRE(env->rename(moved, renamed).is_ok());
    auto file = create(*env, tmp);  // a snapshot-style tmp file renamed over a name
    REQUIRE(file->pwrite(0, "new").is_ok());
    REQUIRE(file->sync_data().is_ok());
    REQUIRE(env->rename(tmp, renamed).is_ok());
  }
  roll_back(dir.path);
  CHECK(contents(keep) == keep);
  CHECK(contents(moved) == moved);
  CHECK(!std::filesystem::exists(renamed));
  CHECK(!std::filesystem::exists(tmp));
  auto names = posix_env().list_dir(dir.path);
  REQUIRE(names.is_ok());
  CHECK(names->size() == 3);  // keep, moved and the journal: no trash left behind
}

TEST_CASE("power loss: a file whose name is durable but whose data never synced is empty") {
  TempDir dir;
  const std::string path = join_path(dir.path, "a");
  {
    auto env = open_env(dir.path);
    auto file = create(*env, path);
    REQUIRE(env->sync_dir(dir.path).is_ok());
    REQUIRE(file->pwrite(0, "unsynced").is_ok());
  }
  RollbackReport report = roll_back(dir.path);
  CHECK(report.bytes_dropped == 8);
  CHECK(contents(path).empty());
}

// The crash test: rounds of open, append + sync, append without sync (sometimes a snapshot and
// a compaction), then drop the Log as kill -9 would, roll back, reopen: every synced entry is
// there, nothing beyond what was appended, and the log keeps working.
TEST_CASE("power loss: a wal::Log over the journaling env keeps every synced entry") {
  TempDir dir;
  base::Rng rng(7);
  LogOptions options = testing::test_options();  // 16 KiB segments: many rolls
  std::vector<raft::Entry> appended;             // what the log holds, synced or not
  raft::Index synced_last = 0;
  raft::Term term = 1;
  uint64_t dropped_total = 0;
  for (int round = 0; round < 40; ++round) {
    auto env = open_env(dir.path);
    auto opened = Log::open(*env, dir.path, options);
    REQUIRE_MESSAGE(opened.is_ok(), opened.status().to_string());
    auto log = std::move(opened).value();
    // A power loss is not a loss of anything synced: nothing is reported.
    REQUIRE_MESSAGE(log->recovery_report().possible_loss == StorageLoss::kNone,
                    log->recovery_report().loss_message);
    REQUIRE_FALSE(log->identity().needs_repair());
    const raft::Index last = log->last_index();
    // Every synced entry survived; anything after it is an unsynced entry a roll made durable.
    REQUIRE(last >= synced_last);
    REQUIRE(last <= appended.size());
    if (last >= log->first_index()) {
      auto stored = log->entries(log->first_index(), last + 1, UINT64_MAX);
      for (const raft::Entry& e : stored) REQUIRE(e == appended[e.index - 1]);
    }
    appended.resize(last);
    synced_last = last;
    if (rng.chance(1, 4)) ++term;
    auto batch =
        testing::make_entries(last + 1, last + rng.range(1, 120), term, rng.range(10, 300));
    REQUIRE_OK(log->append(batch));
    REQUIRE_OK(log->set_hard_state({term, 1, last}));
    REQUIRE_OK(log->sync());
    appended.insert(appended.end(), batch.begin(), batch.end());
    synced_last = appended.size();
    if (rng.chance(1, 5) && synced_last > 10) {
      raft::SnapshotMeta meta{synced_last - 5, appended[synced_last - 6].term, {{1}, {}}};
      auto writer = log->snapshots().begin(meta);
      REQUIRE(writer.is_ok());
      (*writer)->append("state");
      REQUIRE((*writer)->finish().is_ok());
      log->compact(meta.index);
    }
    auto tail = testing::make_entries(synced_last + 1, synced_last + rng.range(1, 80), term,
                                      rng.range(10, 300));
    REQUIRE_OK(log->append(tail));  // never synced (unless a roll syncs part of it)
    appended.insert(appended.end(), tail.begin(), tail.end());
    log.reset();
    env.reset();
    dropped_total += roll_back(dir.path).bytes_dropped;
  }
  CHECK(dropped_total > 0);  // the rollback really lost unsynced entries along the way
}

// The planted bug ack-before-fsync (NoSyncEnv): sync() returns, yet a power loss takes the
// entries; the journal is what lets the harness show it.
TEST_CASE("power loss: over NoSyncEnv, entries the log called synced are lost") {
  TempDir dir;
  {
    auto journal = open_env(dir.path);
    NoSyncEnv env(*journal);
    auto log = Log::open(env, dir.path, testing::test_options());
    REQUIRE(log.is_ok());
    REQUIRE_OK((*log)->append(testing::make_entries(1, 50, 1)));
    REQUIRE_OK((*log)->set_hard_state({1, 1, 50}));
    REQUIRE_OK((*log)->sync());
  }
  RollbackReport report = roll_back(dir.path);
  CHECK(report.files_removed == 2);  // the names of the segment and the identity never were durable
  auto journal = open_env(dir.path);
  auto log = Log::open(*journal, dir.path, testing::test_options());
  REQUIRE(log.is_ok());
  CHECK((*log)->last_index() == 0);
}

}  // namespace
}  // namespace wal
