// kvd's test-only hooks (test_hooks.h): the skewed clock's arithmetic and file, the planted
// bugs' names, and each planted bug or the skew observed on a real in-process cluster, against
// the correct behaviour.
#include "node/test_hooks.h"

#include <filesystem>
#include <fstream>

#include "node/test_cluster.h"

using namespace node_test;

namespace {

// test_cluster.h's three in-memory nodes, each given `make_hooks(id)`.
class HookedCluster : public Cluster {
 public:
  using MakeHooks = std::function<std::shared_ptr<node::TestHooks>(raft::NodeId)>;
  explicit HookedCluster(MakeHooks make_hooks)
      : Cluster(3, /*snapshot_entries=*/20000, [make_hooks](raft::NodeId id, node::NodeOptions& o) {
          o.seed = 200 + id;
          o.read_timeout_ms = 1500;
          o.test_hooks = make_hooks(id);
        }) {}
  // A write through `id` that must succeed.
  net::AtomicWriteResult write(raft::NodeId id, kvmodel::AtomicWrite w) {
    auto body = call(id, std::move(w));
    auto* r = std::get_if<net::AtomicWriteResult>(&body);
    REQUIRE(r != nullptr);
    REQUIRE(r->ok);
    return *r;
  }
};

std::shared_ptr<node::TestHooks> with_bug(node::PlantedBug bug) {
  auto hooks = std::make_shared<node::TestHooks>();
  hooks->bugs.add(bug);
  return hooks;
}

std::optional<std::string> value_in(const net::ResponseBody& body) {
  auto* r = std::get_if<net::SnapshotReadResult>(&body);
  REQUIRE(r != nullptr);
  if (r->ranges.at(0).empty()) return std::nullopt;
  return r->ranges[0][0].value.data;
}

}  // namespace

TEST_CASE("test hooks: clock file lines parse; anything else is refused") {
  auto s = node::parse_clock_setting("offset_ms=-2500 rate=1.0\n");
  REQUIRE(s.is_ok());
  CHECK(s->offset_ms == -2500);
  CHECK(s->rate == 1.0);
  s = node::parse_clock_setting("offset_ms=40 rate=2");
  REQUIRE(s.is_ok());
  CHECK(s->offset_ms == 40);
  CHECK(s->rate == 2.0);
  for (const char* bad : {"", "offset_ms=1", "rate=1 offset_ms=1", "offset_ms=x rate=1",
                          "offset_ms=1 rate=1.0abc", "offset_ms=1 rate=-1", "offset_ms=1 rate=nan",
                          "offset_ms=1 rate=1 extra", "offset_ms=99999999999999999999 rate=1"})
    CHECK_MESSAGE(!node::parse_clock_setting(bad).is_ok(), bad);
}

TEST_CASE("test hooks: the skewed clock adds the offset, scales by the rate, re-anchors") {
  node::SkewArithmetic clock(1000);
  CHECK(clock.skewed_ms(1500) == 1500);  // no setting: the real clock
  clock.set({-200, 1.0}, 1500);
  CHECK(clock.skewed_ms(1500) == 1300);
  CHECK(clock.skewed_ms(2500) == 2300);
  clock.set({0, 2.0}, 2500);  // the offset goes, time now runs twice as fast from 2500
  CHECK(clock.skewed_ms(2500) == 2500);
  CHECK(clock.skewed_ms(3000) == 3500);
  clock.set({100, 0.5}, 3000);  // continuous at 3500 apart from the +100 jump
  CHECK(clock.skewed_ms(3000) == 3600);
  CHECK(clock.skewed_ms(5000) == 4600);
  clock.set({-1'000'000, 1.0}, 5000);
  CHECK(clock.skewed_ms(5000) == 0);  // never below zero
}

TEST_CASE("test hooks: the clock follows its file; a malformed file keeps the last setting") {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("raftkv-clock-" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove(path);
  node::SkewedClock clock(path);
  const uint64_t real = wall_ms();
  CHECK(clock.now_ms(real) == real);  // a missing file: no skew
  { std::ofstream(path) << "offset_ms=5000 rate=1.0\n"; }
  CHECK(eventually(
      [&] {
        return clock.setting() == node::ClockSetting{5000, 1.0} || (clock.now_ms(wall_ms()), false);
      },
      5000ms));
  const uint64_t now = wall_ms();
  const uint64_t skewed = clock.now_ms(now);
  CHECK(skewed >= now + 4990);
  CHECK(skewed <= now + 5010);
  { std::ofstream(path) << "garbage\n"; }
  // Let at least one re-read happen; the setting stays.
  const auto until = std::chrono::steady_clock::now() + 300ms;
  while (std::chrono::steady_clock::now() < until) clock.now_ms(wall_ms());
  CHECK(clock.setting() == node::ClockSetting{5000, 1.0});
  std::filesystem::remove(path);
  CHECK(eventually(
      [&] {
        clock.now_ms(wall_ms());
        return clock.setting() == node::ClockSetting{};
      },
      5000ms));
}

TEST_CASE("test hooks: bug names parse, comma-separated; an unknown name is a clear error") {
  node::PlantedBugs bugs;
  CHECK(!bugs.any());
  REQUIRE(bugs.add_names("local-reads,stale-watch").is_ok());
  CHECK(bugs.has(node::PlantedBug::kLocalReads));
  CHECK(bugs.has(node::PlantedBug::kStaleWatch));
  CHECK(!bugs.has(node::PlantedBug::kAckBeforeFsync));
  REQUIRE(bugs.add_names("drop-queue-acks").is_ok());
  CHECK(bugs.has(node::PlantedBug::kDropQueueAcks));
  auto s = bugs.add_names("local-reads,nope");
  REQUIRE(!s.is_ok());
  CHECK(s.code() == base::Code::kInvalidArgument);
  CHECK(s.message().find("'nope'") != std::string::npos);
  CHECK(s.message().find("ack-before-fsync") != std::string::npos);
}

TEST_CASE("test hooks: an expireIn key on a leader skewed forward expires early by the offset") {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("raftkv-skew-" + std::to_string(::getpid())))
          .string();
  { std::ofstream(path) << "offset_ms=120000 rate=1.0\n"; }
  // Every node skewed: whichever leads sweeps with a clock two minutes ahead.
  HookedCluster c([&](raft::NodeId) {
    auto h = std::make_shared<node::TestHooks>();
    h->clock = std::make_unique<node::SkewedClock>(path);
    return h;
  });
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  const auto started = std::chrono::steady_clock::now();
  kvmodel::AtomicWrite w = set_write(k("exp"), "v");
  w.mutations[0].expire_at_ms = wall_ms() + 60000;  // a minute away
  c.write(leader, w);
  CHECK(eventually([&] { return !value_in(c.call(leader, get_read(k("exp")))).has_value(); },
                   30000ms));
  CHECK(std::chrono::steady_clock::now() - started < 60s);  // gone long before its real expiry
  std::filesystem::remove(path);
}

TEST_CASE("test hooks: local-reads lets a partitioned old leader answer a strong read stale") {
  for (bool planted : {false, true}) {
    CAPTURE(planted);
    HookedCluster c(
        [&](raft::NodeId) { return planted ? with_bug(node::PlantedBug::kLocalReads) : nullptr; });
    raft::NodeId old_leader = c.wait_leader();
    REQUIRE(old_leader != 0);
    c.write(old_leader, set_write(k("x"), "1"));
    c.router.isolate(old_leader, true);
    raft::NodeId new_leader = c.wait_leader(old_leader);
    REQUIRE(new_leader != 0);
    c.write(new_leader, set_write(k("x"), "2"));
    auto body = c.call(old_leader, get_read(k("x")));
    if (planted) {
      CHECK(value_in(body) == std::optional<std::string>("1"));  // stale, yet "strong"
    } else {
      REQUIRE(std::holds_alternative<net::Error>(body));  // refused: no quorum confirms it
    }
    c.router.isolate(old_leader, false);
  }
}

TEST_CASE("test hooks: stale-watch serves a lagging follower's old value past min_versionstamp") {
  for (bool planted : {false, true}) {
    CAPTURE(planted);
    HookedCluster c(
        [&](raft::NodeId) { return planted ? with_bug(node::PlantedBug::kStaleWatch) : nullptr; });
    raft::NodeId leader = c.wait_leader();
    REQUIRE(leader != 0);
    c.write(leader, set_write(k("w"), "old"));
    const raft::NodeId lagging = leader % 3 + 1;
    // The follower has "old" applied before it is cut off.
    REQUIRE(eventually([&] {
      return value_in(c.call(lagging, get_read(k("w"), kvmodel::Consistency::kEventual))) ==
             std::optional<std::string>("old");
    }));
    c.router.isolate(lagging, true);
    auto newer = c.write(leader, set_write(k("w"), "new"));
    REQUIRE(newer.versionstamp.has_value());
    StreamCollector s;
    c.node(lagging).submit(net::Watch{{k("w")}, *newer.versionstamp}, s.reply(), {7, 1});
    auto first = s.next();
    REQUIRE(first.has_value());
    if (planted) {
      auto* event = std::get_if<net::WatchEvent>(&*first);
      REQUIRE(event != nullptr);
      REQUIRE(event->entries.at(0).entry.has_value());
      CHECK(event->entries[0].entry->value.data == "old");
      CHECK(event->entries[0].entry->versionstamp < *newer.versionstamp);  // back in time
    } else {
      auto* error = std::get_if<net::Error>(&*first);
      REQUIRE(error != nullptr);
      CHECK(error->code == base::Code::kNotLeader);
    }
    c.router.isolate(lagging, false);
  }
}

TEST_CASE("test hooks: drop-queue-acks answers the ack but the message comes back") {
  HookedCluster c([](raft::NodeId) { return with_bug(node::PlantedBug::kDropQueueAcks); });
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  StreamCollector s;
  c.node(leader).submit(net::QueueListen{"t", 1, 300}, s.reply(), {1, 1});
  kvmodel::AtomicWrite w;
  w.enqueues.push_back(kvmodel::Enqueue{"job", 0, {}, {}});
  c.write(leader, w);
  auto delivery = [&] {
    auto item = s.next();
    REQUIRE(item.has_value());
    auto* d = std::get_if<net::QueueDelivery>(&*item);
    REQUIRE(d != nullptr);
    return *d;
  };
  net::QueueDelivery first = delivery();
  CHECK(first.attempt == 1);
  CHECK(std::holds_alternative<net::Ok>(
      c.call(leader, kvmodel::QueueAck{first.message_id, first.lease_token})));
  // Correctly, an acked message is gone (queue_test.cc); here its lease runs out and it returns.
  net::QueueDelivery again = delivery();
  CHECK(again.message_id == first.message_id);
  CHECK(again.attempt == 2);
}
