// SyncJournalEnv on a real directory: what the journal says was made durable.
#include "wal/sync_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "doctest/doctest.h"
#include "wal/posix_env.h"
#include "wal/test_util.h"

namespace wal {
namespace {

using testing::create;
using testing::open_env;
using testing::TempDir;

uint64_t inode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<uint64_t>(st.st_ino);
}

SyncJournalState journal_of(const std::string& dir) {
  auto state = read_sync_journal(join_path(dir, kSyncJournalName));
  REQUIRE_MESSAGE(state.is_ok(), state.status().to_string());
  return std::move(state).value();
}

TEST_CASE("sync journal: each fdatasync records the data written so far and the file size") {
  TempDir dir;
  auto env = open_env(dir.path);
  const std::string path = join_path(dir.path, "wal-0000000000000001.log");
  auto file = create(*env, path);
  REQUIRE(file->preallocate(4096).is_ok());
  REQUIRE(file->pwrite(0, std::string(100, 'a')).is_ok());
  const uint64_t inode = inode_of(path);
  CHECK(journal_of(dir.path).synced.at(inode).size_bytes == 0);  // created: nothing durable
  REQUIRE(file->sync_data().is_ok());
  auto state = journal_of(dir.path);
  CHECK(state.synced.at(inode).data_end_bytes == 100);
  CHECK(state.synced.at(inode).size_bytes == 4096);

  REQUIRE(file->pwrite(100, std::string(50, 'b')).is_ok());
  CHECK(journal_of(dir.path).synced.at(inode).data_end_bytes == 100);  // not synced yet
  REQUIRE(file->sync_data().is_ok());
  CHECK(journal_of(dir.path).synced.at(inode).data_end_bytes == 150);
  REQUIRE(file->truncate(120).is_ok());
  REQUIRE(file->sync_data().is_ok());
  CHECK(journal_of(dir.path).synced.at(inode).data_end_bytes == 120);
  CHECK(journal_of(dir.path).synced.at(inode).size_bytes == 120);
}

TEST_CASE("sync journal: a created name is durable only after the directory fsync") {
  TempDir dir;
  auto env = open_env(dir.path);
  CHECK(journal_of(dir.path).names.empty());
  auto file = create(*env, join_path(dir.path, "a"));
  REQUIRE(file->sync_data().is_ok());
  CHECK(journal_of(dir.path).names.empty());
  REQUIRE(env->sync_dir(dir.path).is_ok());
  auto names = journal_of(dir.path).names;
  REQUIRE(names.size() == 1);
  CHECK(names.at("a") == inode_of(join_path(dir.path, "a")));
}

TEST_CASE("sync journal: a removal waits in the hidden trash until the directory fsync") {
  TempDir dir;
  auto env = open_env(dir.path);
  auto file = create(*env, join_path(dir.path, "a"));
  file.reset();
  REQUIRE(env->sync_dir(dir.path).is_ok());
  REQUIRE(env->remove(join_path(dir.path, "a")).is_ok());
  auto listed = env->list_dir(dir.path);
  REQUIRE(listed.is_ok());
  CHECK(listed->empty());  // neither the trash nor the journal shows
  auto raw = posix_env().list_dir(dir.path);
  REQUIRE(raw.is_ok());
  CHECK(raw->size() == 2);  // the journal and the trashed file
  CHECK(journal_of(dir.path).names.count("a") == 1);
  REQUIRE(env->sync_dir(dir.path).is_ok());
  raw = posix_env().list_dir(dir.path);
  REQUIRE(raw.is_ok());
  CHECK(*raw == std::vector<std::string>{std::string(kSyncJournalName)});
  CHECK(journal_of(dir.path).names.empty());
}

TEST_CASE("sync journal: files present at open are durable up to their last written byte") {
  TempDir dir;
  const std::string path = join_path(dir.path, "old");
  {
    std::ofstream out(path, std::ios::binary);
    out << "abc" << std::string(1000, '\0');
  }
  auto env = open_env(dir.path);
  auto state = journal_of(dir.path);
  const uint64_t inode = inode_of(path);
  CHECK(state.names.at("old") == inode);
  CHECK(state.synced.at(inode).data_end_bytes == 3);
  CHECK(state.synced.at(inode).size_bytes == 1003);
  // Appending to it and syncing moves the data end past the old bytes.
  auto file = env->open(path, OpenMode::kExisting);
  REQUIRE(file.is_ok());
  REQUIRE((*file)->pwrite(3, "def").is_ok());
  REQUIRE((*file)->sync_data().is_ok());
  CHECK(journal_of(dir.path).synced.at(inode).data_end_bytes == 6);
}

TEST_CASE("sync journal: a torn last line is ignored, a garbled one is refused") {
  TempDir dir;
  { auto env = open_env(dir.path); }
  const std::string journal = join_path(dir.path, kSyncJournalName);
  { std::ofstream(journal, std::ios::app) << "sync\t1\t2"; }
  CHECK(read_sync_journal(journal).is_ok());
  { std::ofstream(journal, std::ios::app) << "\nbogus line\n"; }
  auto bad = read_sync_journal(journal);
  REQUIRE(!bad.is_ok());
  CHECK(bad.status().code() == base::Code::kCorruption);
  CHECK(read_sync_journal(join_path(dir.path, "nope")).status().code() == base::Code::kNotFound);
}

}  // namespace
}  // namespace wal
