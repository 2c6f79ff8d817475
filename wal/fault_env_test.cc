#include "wal/fault_env.h"

#include <cerrno>

#include "doctest/doctest.h"

namespace wal {
namespace {

std::unique_ptr<File> create(FaultEnv& env, const std::string& path) {
  auto file = env.open(path, OpenMode::kCreateNew);
  REQUIRE(file.is_ok());
  return std::move(file).value();
}

TEST_CASE("fault env: unsynced bytes and unsynced names vanish at power loss") {
  FaultEnv env(1);
  REQUIRE(env.create_dir("/d").is_ok());
  auto synced = create(env, "/d/a");
  REQUIRE(synced->pwrite(0, "durable").is_ok());
  REQUIRE(synced->sync_data().is_ok());
  REQUIRE(env.sync_dir("/d").is_ok());
  REQUIRE(synced->pwrite(7, "-lost").is_ok());
  auto unnamed = create(env, "/d/b");  // data synced, name not
  REQUIRE(unnamed->pwrite(0, "x").is_ok());
  REQUIRE(unnamed->sync_data().is_ok());
  env.power_loss(PowerLossMode::kDrop);
  CHECK(env.contents("/d/a") == "durable");
  CHECK_FALSE(env.contents("/d/b").has_value());
  CHECK(synced->pwrite(0, "z").code() == base::Code::kIoError);  // handles died with the process
}

TEST_CASE("fault env: renames and removals are durable only after a directory fsync") {
  FaultEnv env(2);
  REQUIRE(env.create_dir("/d").is_ok());
  auto file = create(env, "/d/tmp");
  REQUIRE(file->pwrite(0, "v1").is_ok());
  REQUIRE(file->sync_data().is_ok());
  REQUIRE(env.sync_dir("/d").is_ok());
  REQUIRE(env.rename("/d/tmp", "/d/final").is_ok());
  env.power_loss(PowerLossMode::kDrop);
  CHECK(env.contents("/d/tmp") == "v1");
  CHECK_FALSE(env.contents("/d/final").has_value());
  REQUIRE(env.rename("/d/tmp", "/d/final").is_ok());
  REQUIRE(env.sync_dir("/d").is_ok());
  REQUIRE(env.remove("/d/final").is_ok());
  env.power_loss(PowerLossMode::kDrop);
  CHECK(env.contents("/d/final") == "v1");
}

TEST_CASE("fault env: a torn write keeps the synced bytes and a prefix of the new ones") {
  const std::string synced(100, 's');
  const std::string appended(200, 'n');
  bool saw_partial = false;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    FaultEnv env(seed);
    env.set_durable_contents("/d/f", synced);
    auto file = env.open("/d/f", OpenMode::kExisting);
    REQUIRE(file.is_ok());
    REQUIRE((*file)->pwrite(100, appended).is_ok());
    env.power_loss(PowerLossMode::kTear);
    const std::string after = *env.contents("/d/f");
    REQUIRE(after.size() >= 100);
    CHECK(after.substr(0, 100) == synced);
    size_t kept = 100;
    while (kept < after.size() && after[kept] == 'n') ++kept;
    saw_partial |= kept > 100 && kept < 300;
  }
  CHECK(saw_partial);
}

TEST_CASE("fault env: injected EIO and ENOSPC fail exactly the chosen call and change nothing") {
  FaultEnv env(3);
  REQUIRE(env.create_dir("/d").is_ok());
  auto file = create(env, "/d/f");
  env.inject_error(FaultOp::kWrite, ENOSPC, 1);
  CHECK(file->pwrite(0, "a").is_ok());
  const base::Status failed = file->pwrite(1, "b");
  CHECK(failed.code() == base::Code::kResourceExhausted);
  CHECK(failed.message().find("No space left") != std::string::npos);
  CHECK(env.contents("/d/f") == "a");
  env.inject_error(FaultOp::kSyncData, EIO);
  CHECK(file->sync_data().code() == base::Code::kIoError);
  CHECK(file->sync_data().is_ok());
  env.inject_error(FaultOp::kWrite, EDQUOT);  // over quota is a full disk too
  CHECK(file->preallocate(10).code() == base::Code::kResourceExhausted);
}

TEST_CASE("fault env: a partial write injection writes a strict prefix, then fails") {
  bool saw_some = false;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    FaultEnv env(seed);
    REQUIRE(env.create_dir("/d").is_ok());
    auto file = create(env, "/d/f");
    env.inject_error(FaultOp::kWrite, ENOSPC, 0, /*partial=*/true);
    CHECK(file->pwrite(0, "abcdefgh").code() == base::Code::kResourceExhausted);
    const std::string after = *env.contents("/d/f");
    CHECK(after.size() < 8);
    CHECK(std::string("abcdefgh").starts_with(after));
    saw_some |= !after.empty();
  }
  CHECK(saw_some);
}

TEST_CASE("fault env: disk full after N bytes, and back to normal") {
  FaultEnv env(4);
  REQUIRE(env.create_dir("/d").is_ok());
  auto a = create(env, "/d/a");
  auto b = create(env, "/d/b");
  REQUIRE(a->preallocate(60).is_ok());
  env.set_capacity(100);
  CHECK(*env.free_bytes("/d") == 40);
  CHECK(b->preallocate(41).code() == base::Code::kResourceExhausted);  // all or nothing
  CHECK(env.contents("/d/b")->empty());
  CHECK(a->pwrite(0, std::string(60, 'x')).is_ok());             // inside the file: no new space
  const base::Status full = b->pwrite(0, std::string(50, 'y'));  // writes what fits
  CHECK(full.code() == base::Code::kResourceExhausted);
  CHECK(full.message().find("No space left") != std::string::npos);
  CHECK(*env.contents("/d/b") == std::string(40, 'y'));
  CHECK(env.used_bytes() == 100);
  CHECK(*env.free_bytes("/d") == 0);
  REQUIRE(env.remove("/d/a").is_ok());  // removing a file frees its bytes
  CHECK(b->pwrite(40, std::string(10, 'y')).is_ok());
  env.set_capacity(std::nullopt);
  CHECK(b->preallocate(1 << 20).is_ok());
}

}  // namespace
}  // namespace wal
