// The storage identity file (identity.h, FORMAT.md "Storage identity"): creation, reload,
// damage, a crash at every point of its atomic replacement, and a full disk.
#include "wal/identity.h"

#include <cerrno>
#include <set>
#include <stdexcept>

#include "doctest/doctest.h"
#include "wal/fault_env.h"
#include "wal/test_util.h"

namespace wal {
namespace {

const std::string kDir = "/data";
const std::string kPath = "/data/identity";

StorageIdentity create_ok(Env& env, uint64_t seed, StorageLoss reason = StorageLoss::kNone,
                          std::string message = {}) {
  base::Rng random(seed);
  base::Result<StorageIdentity> created =
      StorageIdentity::create(env, kDir, random, reason, std::move(message));
  REQUIRE_MESSAGE(created.is_ok(), created.status().to_string());
  return std::move(created).value();
}

StorageIdentity load_ok(Env& env) {
  base::Result<StorageIdentity> loaded = StorageIdentity::load(env, kDir);
  REQUIRE_MESSAGE(loaded.is_ok(), loaded.status().to_string());
  return std::move(loaded).value();
}

struct Crash : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST_CASE("wal identity: created with a random id, it reloads identically after a power loss") {
  FaultEnv env(1);
  REQUIRE(env.create_dir(kDir).is_ok());
  CHECK(StorageIdentity::load(env, kDir).status().code() == base::Code::kNotFound);
  const StorageIdentity created = create_ok(env, 7);
  CHECK_FALSE(created.id().is_zero());
  CHECK(created.id().to_string().size() == 32);
  CHECK_FALSE(created.needs_repair());
  env.power_loss(PowerLossMode::kDrop);
  const StorageIdentity loaded = load_ok(env);
  CHECK(loaded.id() == created.id());
  CHECK_FALSE(loaded.needs_repair());
  CHECK_FALSE(loaded.predecessor().has_value());
  std::set<std::string> ids;  // different random states give different ids
  base::Rng random(8);
  for (int i = 0; i < 100; ++i) ids.insert(StorageId::random(random).to_string());
  CHECK(ids.size() == 100);
}

TEST_CASE("wal identity: needs_repair, its reason, message and predecessor are durable") {
  FaultEnv env(2);
  REQUIRE(env.create_dir(kDir).is_ok());
  StorageIdentity identity = create_ok(env, 2);
  base::Rng random(3);
  const StorageId old_id = StorageId::random(random);
  REQUIRE_OK(
      identity.mark_needs_repair(StorageLoss::kReplacedStorage, "peer 2 knew another id", old_id));
  REQUIRE_OK(identity.mark_needs_repair(StorageLoss::kTruncatedSegment, "wal-1 truncated"));
  env.power_loss(PowerLossMode::kTear);
  StorageIdentity loaded = load_ok(env);
  CHECK(loaded.id() == identity.id());
  CHECK(loaded.needs_repair());
  CHECK(loaded.reason() == StorageLoss::kTruncatedSegment);
  CHECK(loaded.message() == "wal-1 truncated");
  CHECK(loaded.predecessor() == old_id);  // kept when not given again
  REQUIRE_OK(loaded.mark_repaired());
  env.power_loss(PowerLossMode::kTear);
  loaded = load_ok(env);
  CHECK_FALSE(loaded.needs_repair());
  CHECK(loaded.message().empty());
  CHECK_FALSE(loaded.predecessor().has_value());
  REQUIRE_OK(loaded.mark_needs_repair(StorageLoss::kLostIdentity,
                                      std::string(format::kIdentityMessageMaxBytes + 10, 'm')));
  CHECK(load_ok(env).message().size() == format::kIdentityMessageMaxBytes);
}

TEST_CASE("wal identity: every truncation and every bit flip of the file is refused by name") {
  FaultEnv setup(4);
  REQUIRE(setup.create_dir(kDir).is_ok());
  StorageIdentity identity = create_ok(setup, 4);
  base::Rng random(5);
  REQUIRE_OK(
      identity.mark_needs_repair(StorageLoss::kMissingSegment, "why", StorageId::random(random)));
  const std::string image = *setup.contents(kPath);
  for (size_t cut = 0; cut < image.size(); ++cut) {
    FaultEnv env(cut);
    env.set_durable_contents(kPath, image.substr(0, cut));
    const base::Status status = StorageIdentity::load(env, kDir).status();
    CHECK(status.code() == base::Code::kCorruption);
    CHECK(status.message().find(kPath) != std::string::npos);
  }
  for (size_t bit = 0; bit < image.size() * 8; ++bit) {
    std::string damaged = image;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    FaultEnv env(bit);
    env.set_durable_contents(kPath, damaged);
    CHECK_MESSAGE(StorageIdentity::load(env, kDir).status().code() == base::Code::kCorruption,
                  "bit ", bit);
  }
}

TEST_CASE("wal identity: a crash at any point of a change leaves the old or the new file") {
  const std::vector<std::pair<FaultOp, bool>> crash_points = {
      {FaultOp::kWrite, true}, {FaultOp::kSyncData, false}, {FaultOp::kSyncDir, false}};
  int saw_old = 0, saw_new = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    for (const auto& [op, partial] : crash_points) {
      FaultEnv env(seed);
      REQUIRE(env.create_dir(kDir).is_ok());
      StorageIdentity identity = create_ok(env, seed + 1);
      env.inject_error(op, EIO, 0, partial);
      base::set_fatal_hook(
          [](std::string_view m, const char*, int) { throw Crash(std::string(m)); });
      CHECK_THROWS_AS((void)identity.mark_needs_repair(StorageLoss::kCorruptSyncedRecord, "x"),
                      Crash);
      base::set_fatal_hook(nullptr);
      env.power_loss(seed % 2 ? PowerLossMode::kTear : PowerLossMode::kDrop);
      const StorageIdentity loaded = load_ok(env);  // never torn, never missing
      CHECK(loaded.id() == identity.id());
      (loaded.needs_repair() ? saw_new : saw_old)++;
    }
    {  // and a power loss right after the change returned: the new file
      FaultEnv env(seed);
      REQUIRE(env.create_dir(kDir).is_ok());
      StorageIdentity identity = create_ok(env, seed + 1);
      REQUIRE_OK(identity.mark_needs_repair(StorageLoss::kCorruptSyncedRecord, "x"));
      env.power_loss(PowerLossMode::kTear);
      CHECK(load_ok(env).needs_repair());
    }
    // The very first creation: afterwards the file is either whole or absent.
    FaultEnv env(seed);
    REQUIRE(env.create_dir(kDir).is_ok());
    env.inject_error(FaultOp::kSyncDir, EIO);
    base::set_fatal_hook([](std::string_view m, const char*, int) { throw Crash(std::string(m)); });
    base::Rng random(seed);
    CHECK_THROWS_AS((void)StorageIdentity::create(env, kDir, random), Crash);
    base::set_fatal_hook(nullptr);
    env.power_loss(PowerLossMode::kTear);
    const base::Status status = StorageIdentity::load(env, kDir).status();
    CHECK((status.is_ok() || status.code() == base::Code::kNotFound));
  }
  CHECK(saw_old == 40 * 3);  // a crash before the directory fsync: the change was never durable
  CHECK(saw_new == 0);
}

TEST_CASE("wal identity: a full disk fails a change with kResourceExhausted and changes nothing") {
  FaultEnv env(6);
  REQUIRE(env.create_dir(kDir).is_ok());
  StorageIdentity identity = create_ok(env, 6);
  const std::string before = *env.contents(kPath);
  env.set_capacity(env.used_bytes() + 10);
  const base::Status status = identity.mark_needs_repair(StorageLoss::kMissingHardState, "gone");
  CHECK(status.code() == base::Code::kResourceExhausted);
  CHECK(status.message().find(kDir) != std::string::npos);
  CHECK_FALSE(identity.needs_repair());
  CHECK(*env.contents(kPath) == before);
  CHECK(*env.list_dir(kDir) == std::vector<std::string>{"identity"});  // no tmp file left
  env.set_capacity(std::nullopt);
  REQUIRE_OK(identity.mark_needs_repair(StorageLoss::kMissingHardState, "gone"));
  CHECK(load_ok(env).needs_repair());
}

}  // namespace
}  // namespace wal
