#include "wal/snapshot_store.h"

#include "base/hash.h"
#include "doctest/doctest.h"
#include "wal/fault_env.h"

namespace wal {
namespace {

const std::string kDir = "/snaps";

std::unique_ptr<SnapshotStore> open_store(Env& env) {
  auto store = SnapshotStore::open(env, kDir);
  REQUIRE_MESSAGE(store.is_ok(), store.status().to_string());
  return std::move(store).value();
}

std::string state_of(size_t bytes, uint64_t seed) {
  base::Rng rng(seed);
  std::string state(bytes, '\0');
  for (char& c : state) c = static_cast<char>(rng.next());
  return state;
}

void write(SnapshotStore& store, const raft::SnapshotMeta& meta, const std::string& state,
           size_t chunk_bytes) {
  auto writer = store.begin(meta);
  REQUIRE(writer.is_ok());
  for (size_t at = 0; at < state.size(); at += chunk_bytes)
    (*writer)->append(std::string_view(state).substr(at, chunk_bytes));
  REQUIRE((*writer)->finish(base::xxh3(state)).is_ok());
}

TEST_CASE("wal snapshots: streamed in chunks, read back in chunks, identical after a power loss") {
  FaultEnv env(1);
  const std::string state = state_of(3 << 20, 1);
  const raft::SnapshotMeta meta{100, 7, {{1, 2, 3}, {4}}};
  write(*open_store(env), meta, state, 65536 + 3);
  env.power_loss(PowerLossMode::kTear);
  auto store = open_store(env);
  CHECK(store->latest_meta() == meta);
  auto reader = store->open_latest();
  REQUIRE(reader.is_ok());
  CHECK((*reader)->state_bytes() == state.size());
  std::string back;
  for (;;) {
    auto chunk = (*reader)->read(100000);
    REQUIRE(chunk.is_ok());
    if (chunk->empty()) break;
    back += *chunk;
  }
  CHECK(back == state);
}

TEST_CASE(
    "wal snapshots: a chunk stream whose checksum differs from the sender's is not installed") {
  FaultEnv env(2);
  auto store = open_store(env);
  auto writer = store->begin({5, 1, {}});
  REQUIRE(writer.is_ok());
  (*writer)->append("abc");
  const base::Status status = (*writer)->finish(base::xxh3("abd"));
  CHECK(status.code() == base::Code::kCorruption);
  writer->reset();
  CHECK(store->latest_meta().index == 0);
  CHECK(env.list_dir(kDir)->empty());  // the tmp file went away with the writer
}

TEST_CASE("wal snapshots: a crash at any point leaves the old or the new snapshot, never neither") {
  for (uint64_t seed = 0; seed < 60; ++seed) {
    FaultEnv env(seed);
    write(*open_store(env), {10, 1, {}}, "old", 2);
    auto store = open_store(env);
    auto writer = store->begin({20, 2, {}});
    REQUIRE(writer.is_ok());
    (*writer)->append("new state");
    // Crash after a random number of the finish() steps' directory fsyncs reached the disk.
    const int stop = static_cast<int>(seed % 3);
    if (stop > 0) env.inject_error(FaultOp::kSyncDir, 5, stop);
    if (stop == 0) {
      writer->reset();
    } else {
      base::set_fatal_hook(
          [](std::string_view, const char*, int) { throw std::runtime_error("fatal"); });
      try {
        (void)(*writer)->finish();
      } catch (const std::runtime_error&) {
      }
      base::set_fatal_hook(nullptr);
    }
    writer->reset();  // a writer never outlives its store
    store.reset();
    env.power_loss(seed % 2 ? PowerLossMode::kTear : PowerLossMode::kDrop);
    auto reopened = open_store(env);
    const raft::Index index = reopened->latest_meta().index;
    REQUIRE((index == 10 || index == 20));
    CHECK(*reopened->read_latest() == (index == 10 ? "old" : "new state"));
  }
}

TEST_CASE("wal snapshots: only a newer snapshot is accepted, and it replaces the older file") {
  FaultEnv env(3);
  auto store = open_store(env);
  write(*store, {10, 1, {}}, "a", 1);
  write(*store, {20, 1, {}}, "b", 1);
  CHECK(store->begin({20, 1, {}}).status().code() == base::Code::kInvalidArgument);
  CHECK(*env.list_dir(kDir) == std::vector<std::string>{snapshot_file_name(20, 1)});
}

TEST_CASE(
    "wal snapshots: a truncated or damaged newest snapshot is not used, but reported by name") {
  FaultEnv setup(4);
  write(*open_store(setup), {10, 1, {{1}, {}}}, state_of(5000, 4), 777);
  const std::string path = join_path(kDir, snapshot_file_name(10, 1));
  const std::string image = *setup.contents(path);
  base::Rng rng(4);
  for (int trial = 0; trial < 100; ++trial) {
    std::string damaged = image;
    if (trial % 2) {
      damaged.resize(rng.uniform(image.size()));
    } else {
      damaged[rng.uniform(image.size())] ^= static_cast<char>(1 << rng.uniform(8));
    }
    FaultEnv env(trial);
    env.set_durable_contents(path, damaged);
    auto store = open_store(env);
    CHECK(store->latest_meta().index == 0);
    REQUIRE(store->corrupt_newest().has_value());
    CHECK(store->corrupt_newest()->path == path);
    CHECK(store->corrupt_newest()->index == 10);
    CHECK(store->corrupt_newest()->why.find(path) != std::string::npos);
  }
}

TEST_CASE("wal snapshots: a corrupt newest snapshot is set aside, and one .corrupt file kept") {
  FaultEnv env(5);
  for (raft::Index index : {10, 20}) {
    write(*open_store(env), {index, 1, {}}, "state", 2);
    const std::string path = join_path(kDir, snapshot_file_name(index, 1));
    std::string bytes = *env.contents(path);
    bytes[3] ^= 1;
    env.set_durable_contents(path, bytes);
    auto store = open_store(env);
    REQUIRE(store->corrupt_newest().has_value());
    store->set_aside_corrupt();
    CHECK_FALSE(store->corrupt_newest().has_value());
    env.power_loss(PowerLossMode::kDrop);  // durable
    CHECK(*env.list_dir(kDir) ==
          std::vector<std::string>{snapshot_file_name(index, 1) + ".corrupt"});
    CHECK(open_store(env)->latest_meta().index == 0);
  }
}

TEST_CASE(
    "wal snapshots: a full disk fails finish() with kResourceExhausted, and nothing changes") {
  FaultEnv env(6);
  auto store = open_store(env);
  write(*store, {10, 1, {}}, "old", 1);
  const uint64_t used = env.used_bytes();
  env.set_capacity(used + 100);
  {
    auto writer = store->begin({20, 1, {}});
    REQUIRE(writer.is_ok());
    (*writer)->append(std::string(500, 's'));
    const base::Status finished = (*writer)->finish();
    CHECK(finished.code() == base::Code::kResourceExhausted);
    CHECK(finished.message().find(kDir) != std::string::npos);
  }
  CHECK(store->latest_meta().index == 10);
  CHECK(*env.list_dir(kDir) == std::vector<std::string>{snapshot_file_name(10, 1)});
  env.set_capacity(std::nullopt);  // space is back: the same snapshot goes in
  write(*store, {20, 1, {}}, std::string(500, 's'), 7);
  CHECK(store->latest_meta().index == 20);
}

}  // namespace
}  // namespace wal
