#include "kvstate/snapshot.h"

#include <doctest/doctest.h>

#include <thread>

#include "kvstate/test_util.h"

using namespace kvmodel;
using namespace kvstate;
using namespace kvstate::testing;

namespace {

// A state with entries (some expiring), ready and leased messages and sessions.
void populate(Driver& d, int keys) {
  for (int i = 0; i < keys; ++i) {
    AtomicWrite w = write_of(
        {set("key" + std::to_string(i), std::string(i % 50, 'v'), i % 3 == 0 ? 5000 + i : 0)});
    w.client_id = 1 + i % 7;
    w.sequence = 1 + i;
    if (i % 10 == 0) w.enqueues.push_back(Enqueue{"msg" + std::to_string(i), 0, {"dl"}, {}});
    d.apply(w);
  }
  d.apply(QueueLease{2000, 9, 3, 1000});
}

}  // namespace

TEST_CASE("snapshot: a loaded snapshot reproduces the state and serializes identically") {
  Driver d;
  populate(d, 300);
  base::Bytes stream = d.sm.snapshot_view().serialize();
  StateMachine copy;
  REQUIRE(copy.load_snapshot(stream).is_ok());
  copy.check_invariants();
  CHECK(copy.snapshot_view().serialize() == stream);
  CHECK(copy.last_applied_index() == d.sm.last_applied_index());
  CHECK(copy.key_count() == 300);
  CHECK(copy.next_expiry() == d.sm.next_expiry());
  CHECK(copy.next_lease_deadline() == d.sm.next_lease_deadline());
  CHECK(copy.next_ready_at() == d.sm.next_ready_at());
  // Both continue identically: same command, same result (sessions included).
  AtomicWrite retry = write_of({set("key1", "x")});
  retry.client_id = 1 + 5 % 7;
  retry.sequence = 1 + 5;
  Versionstamp next = d.next_versionstamp();
  auto a = d.sm.apply(retry, next);
  auto b = copy.apply(retry, next);
  CHECK(a.replayed);
  CHECK(b.replayed);
  CHECK(a.outcome == b.outcome);
}

TEST_CASE("snapshot: a large state is split into checksummed blocks") {
  Driver d;
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<Mutation> ms;
    for (int i = 0; i < 500; ++i)
      ms.push_back(set(fmt::format("k{:05}", batch * 500 + i), std::string(60, 'x')));
    d.apply(write_of(ms));
  }
  std::vector<size_t> chunks;
  d.sm.snapshot_view().write([&](base::BytesView c) { chunks.push_back(c.size()); });
  CHECK(chunks.size() > 3);  // magic, several ~64 KiB blocks, terminator
  CHECK(chunks.back() == 12);
  StateMachine copy;
  REQUIRE(copy.load_snapshot(d.sm.snapshot_view().serialize()).is_ok());
  CHECK(copy.key_count() == 10000);
}

TEST_CASE("snapshot: every single-bit flip and every truncation is detected") {
  Driver d;
  populate(d, 12);
  base::Bytes stream = d.sm.snapshot_view().serialize();
  StateMachine target;
  size_t detected = 0, tried = 0;
  for (size_t byte = 0; byte < stream.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      base::Bytes bad = stream;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      base::Status s = target.load_snapshot(bad);
      ++tried;
      if (!s.is_ok() && s.code() == base::Code::kCorruption) ++detected;
    }
  }
  CHECK(detected == tried);
  for (size_t n = 0; n < stream.size(); ++n) {
    INFO("length " << n);
    CHECK_FALSE(target.load_snapshot(stream.substr(0, n)).is_ok());
  }
  CHECK_FALSE(target.load_snapshot(stream + "x").is_ok());
  CHECK(target.key_count() == 0);  // failed loads leave the state untouched
  CHECK(target.load_snapshot(stream).is_ok());
}

TEST_CASE("snapshot: errors say what is wrong and where") {
  StateMachine sm;
  CHECK(sm.load_snapshot("NOTASNAP").message() ==
        "snapshot corrupt at offset 0: bad magic or version");
  Driver d;
  populate(d, 3);
  base::Bytes stream = d.sm.snapshot_view().serialize();
  base::Bytes bad = stream;
  bad[30] ^= 1;
  CHECK(sm.load_snapshot(bad).message() ==
        "snapshot corrupt at offset 8: checksum mismatch in block 0");
  CHECK(
      sm.load_snapshot(stream.substr(0, stream.size() - 12)).message() ==
      fmt::format("snapshot corrupt at offset {}: truncated (no final block)", stream.size() - 12));
}

TEST_CASE("snapshot: a view stays fixed while apply goes on, and is readable from another thread") {
  Driver d;
  populate(d, 200);
  SnapshotView view = d.sm.snapshot_view();
  base::Bytes before = view.serialize();
  std::string from_thread;
  std::thread writer([&] { from_thread = view.serialize(); });
  for (int i = 0; i < 500; ++i)
    d.apply(write_of({set("key" + std::to_string(i % 250), "changed"), del("key7")}));
  writer.join();
  CHECK(from_thread == before);
  CHECK(view.serialize() == before);
  auto read = view.read({ReadRange{"key7", "key8", 1, false}});
  REQUIRE(read.is_ok());
  REQUIRE((*read)[0].size() == 1);
  CHECK((*read)[0][0].value.data == std::string(7, 'v'));
  CHECK(d.sm.get("key7") == nullptr);
}
