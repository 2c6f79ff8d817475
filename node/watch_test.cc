// The leader's watch hub and expiry service in an in-process cluster (test_cluster.h).
#include "node/test_cluster.h"

using namespace node_test;

namespace {

net::WatchEvent next_event(StreamCollector& s) {
  auto item = s.next();
  REQUIRE(item.has_value());
  auto* event = std::get_if<net::WatchEvent>(&*item);
  REQUIRE_MESSAGE(event != nullptr, "expected a WatchEvent, got variant index " << item->index());
  return *event;
}

std::optional<std::string> value_of(const net::WatchEvent& e, size_t i) {
  REQUIRE(i < e.entries.size());
  if (!e.entries[i].entry) return std::nullopt;
  return e.entries[i].entry->value.data;
}

kvmodel::Versionstamp max_stamp(const net::WatchEvent& e) {
  kvmodel::Versionstamp out{};
  for (const auto& w : e.entries)
    if (w.entry && w.entry->versionstamp > out) out = w.entry->versionstamp;
  return out;
}

}  // namespace

TEST_CASE("watch: the first array holds the current entries, then a fresh array per change") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  REQUIRE(write_ok(c, set_write(k("a"), "1")).ok);
  StreamCollector s;
  c.node(leader).submit(net::Watch{{k("a"), k("b")}, std::nullopt}, s.reply(), {7, 1});
  net::WatchEvent first = next_event(s);
  REQUIRE(first.entries.size() == 2);
  CHECK(first.entries[0].key == k("a"));
  CHECK(value_of(first, 0) == std::optional<std::string>("1"));
  CHECK(first.entries[1].key == k("b"));
  CHECK_FALSE(first.entries[1].entry.has_value());

  auto wb = write_ok(c, set_write(k("b"), "2"));
  net::WatchEvent second = next_event(s);
  CHECK(value_of(second, 0) == std::optional<std::string>("1"));
  CHECK(value_of(second, 1) == std::optional<std::string>("2"));
  CHECK(second.entries[1].entry->versionstamp == *wb.versionstamp);

  // A write to an unwatched key sends nothing; the next watched change does.
  REQUIRE(write_ok(c, set_write(k("other"), "x")).ok);
  kvmodel::AtomicWrite del;
  del.mutations.push_back(kvmodel::Mutation{kvmodel::MutationKind::kDelete, k("a"), {}});
  REQUIRE(write_ok(c, del).ok);
  net::WatchEvent third = next_event(s);
  CHECK_FALSE(third.entries[0].entry.has_value());
  CHECK(value_of(third, 1) == std::optional<std::string>("2"));

  // Cancel ends the stream with StreamEnd and is answered Ok; a second cancel finds nothing.
  auto cancelled = c.call(leader, net::Cancel{1}, {7, 2});
  CHECK(std::holds_alternative<net::Ok>(cancelled));
  auto end = s.next();
  REQUIRE(end.has_value());
  CHECK(std::holds_alternative<net::StreamEnd>(*end));
  auto again = c.call(leader, net::Cancel{1}, {7, 3});
  REQUIRE(std::holds_alternative<net::Error>(again));
  CHECK(std::get<net::Error>(again).code == base::Code::kNotFound);
}

TEST_CASE("watch: a follower sends the client to the leader; bad requests are refused") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  REQUIRE(write_ok(c, set_write(k("x"), "1")).ok);  // every node has learned the leader
  raft::NodeId follower = leader % 3 + 1;
  REQUIRE(eventually([&] { return c.node(follower).status().leader == leader; }));
  auto body = c.call(follower, net::Watch{{k("x")}, std::nullopt}, {1, 1});
  auto* e = std::get_if<net::Error>(&body);
  REQUIRE(e != nullptr);
  CHECK(e->code == base::Code::kNotLeader);
  REQUIRE(e->leader_hint.has_value());
  CHECK(e->leader_hint->id == leader);
  CHECK(e->leader_hint->address == client_addr_of(leader));

  std::vector<base::Bytes> eleven;
  for (int i = 0; i < 11; ++i) eleven.push_back(k("k" + std::to_string(i)));
  auto too_many = c.call(leader, net::Watch{eleven, std::nullopt}, {1, 2});
  REQUIRE(std::holds_alternative<net::Error>(too_many));
  CHECK(std::get<net::Error>(too_many).code == base::Code::kInvalidArgument);
  auto empty = c.call(leader, net::Watch{{}, std::nullopt}, {1, 3});
  REQUIRE(std::holds_alternative<net::Error>(empty));
}

TEST_CASE("watch: every array is a consistent snapshot of keys written together") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  StreamCollector s;
  c.node(leader).submit(net::Watch{{k("p"), k("q")}, std::nullopt}, s.reply(), {3, 1});
  net::WatchEvent first = next_event(s);
  CHECK_FALSE(first.entries[0].entry.has_value());
  // Writers in parallel (so several writes share entries and get coalesced): p and q always
  // change together, so no array may show them different.
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&c, t] {
      for (int i = 0; i < 20; ++i) {
        kvmodel::AtomicWrite w = set_write(k("p"), std::to_string(t * 100 + i));
        w.mutations.push_back(kvmodel::Mutation{
            kvmodel::MutationKind::kSet, k("q"),
            kvmodel::Value{kvmodel::ValueEncoding::kBytes, std::to_string(t * 100 + i)}});
        c.call_leader(w);
      }
    });
  }
  for (auto& w : writers) w.join();
  kvmodel::Versionstamp last{};
  size_t events = 0;
  while (true) {
    auto item = s.next(events == 0 ? 30000ms : 300ms);
    if (!item) break;
    auto* e = std::get_if<net::WatchEvent>(&*item);
    REQUIRE(e != nullptr);
    ++events;
    REQUIRE(e->entries[0].entry.has_value());
    REQUIRE(e->entries[1].entry.has_value());
    CHECK(e->entries[0].entry->value == e->entries[1].entry->value);
    CHECK(e->entries[0].entry->versionstamp == e->entries[1].entry->versionstamp);
    CHECK(e->entries[0].entry->versionstamp > last);  // strictly newer, never back
    last = e->entries[0].entry->versionstamp;
  }
  CHECK(events >= 1);
  // The last array shows the final state.
  auto final_value = read_value(c, c.wait_leader(), k("p"));
  kvmodel::SnapshotRead r = get_read(k("p"));
  auto body = c.call(c.wait_leader(), r);
  CHECK(std::get<net::SnapshotReadResult>(body).ranges[0][0].versionstamp == last);
  CHECK(final_value.has_value());
}

TEST_CASE("watch: min_versionstamp holds the first array back until that entry has applied") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  auto w0 = write_ok(c, set_write(k("w"), "0"));
  // Ask for a state at least 10 entries newer than anything written so far.
  kvmodel::Versionstamp min = *w0.versionstamp;
  uint64_t min_index = min.raft_index() + 10;
  min = kvmodel::Versionstamp::of(min_index, 0);
  StreamCollector s;
  c.node(leader).submit(net::Watch{{k("w")}, min}, s.reply(), {4, 1});
  // Every following entry writes w (one write per entry: the calls are sequential), so the
  // first array must show a w written at or after min_index.
  for (int i = 1; i <= 15; ++i) REQUIRE(write_ok(c, set_write(k("w"), std::to_string(i))).ok);
  net::WatchEvent first = next_event(s);
  REQUIRE(first.entries[0].entry.has_value());
  CHECK(first.entries[0].entry->versionstamp.raft_index() >= min_index);
}

TEST_CASE("watch: across a leader change the stream ends and the resumed watch never goes back") {
  Cluster c(3);
  raft::NodeId old_leader = c.wait_leader();
  REQUIRE(old_leader != 0);
  StreamCollector s;
  c.node(old_leader).submit(net::Watch{{k("m"), k("n")}, std::nullopt}, s.reply(), {5, 1});
  next_event(s);
  net::WatchEvent seen;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(write_ok(c, set_write(k(i % 2 ? "m" : "n"), std::to_string(i))).ok);
    seen = next_event(s);
  }
  const kvmodel::Versionstamp newest = max_stamp(seen);
  c.router.isolate(old_leader, true);
  // The cut-off leader steps down (check quorum) and ends the stream so the client reconnects.
  while (true) {
    auto item = s.next();
    REQUIRE(item.has_value());
    if (std::holds_alternative<net::WatchEvent>(*item)) continue;
    REQUIRE(std::holds_alternative<net::Error>(*item));
    CHECK(std::get<net::Error>(*item).code == base::Code::kNotLeader);
    break;
  }
  raft::NodeId new_leader = c.wait_leader(old_leader);
  REQUIRE(new_leader != 0);
  StreamCollector resumed;
  c.node(new_leader).submit(net::Watch{{k("m"), k("n")}, newest}, resumed.reply(), {6, 1});
  net::WatchEvent first = next_event(resumed);
  for (size_t i = 0; i < 2; ++i) {
    REQUIRE(first.entries[i].entry.has_value());
    REQUIRE(seen.entries[i].entry.has_value());
    CHECK(first.entries[i].entry->versionstamp >= seen.entries[i].entry->versionstamp);
  }
  auto after = c.call(new_leader, set_write(k("m"), "after"));
  REQUIRE(std::holds_alternative<net::AtomicWriteResult>(after));
  net::WatchEvent next = next_event(resumed);
  CHECK(value_of(next, 0) == std::optional<std::string>("after"));
  CHECK(max_stamp(next) > newest);
  c.router.isolate(old_leader, false);
}

TEST_CASE("watch: a leader cut off from its quorum never opens a watch with a stale first array") {
  // Without check quorum the cut-off leader keeps believing it leads: the case a real leader is
  // in until it notices. A watch opened there after a newer write was acknowledged elsewhere
  // must not start from the old value: its read barrier never confirms, so the stream fails.
  Cluster c(3, 50, [](raft::NodeId, node::NodeOptions& o) {
    o.check_quorum = false;
    o.read_timeout_ms = 1500;
  });
  raft::NodeId old_leader = c.wait_leader();
  REQUIRE(old_leader != 0);
  REQUIRE(write_ok(c, set_write(k("s"), "old")).ok);
  c.router.isolate(old_leader, true);
  raft::NodeId new_leader = c.wait_leader(old_leader);
  REQUIRE(new_leader != 0);
  auto newer = c.call(new_leader, set_write(k("s"), "new"));
  REQUIRE(std::holds_alternative<net::AtomicWriteResult>(newer));
  REQUIRE(c.node(old_leader).status().role == raft::Role::kLeader);  // it has not noticed
  StreamCollector s;
  c.node(old_leader).submit(net::Watch{{k("s")}, std::nullopt}, s.reply(), {8, 1});
  auto first = s.next();
  REQUIRE(first.has_value());
  if (auto* event = std::get_if<net::WatchEvent>(&*first))
    FAIL("the cut-off leader sent a first array: " << value_of(*event, 0).value_or("<none>"));
  REQUIRE(std::holds_alternative<net::Error>(*first));
  CHECK(std::get<net::Error>(*first).code == base::Code::kUnavailable);
  c.router.isolate(old_leader, false);
}

TEST_CASE("expiry: the leader deletes an expired key and its watcher sees it go") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  const uint64_t start_ms = wall_ms();
  kvmodel::AtomicWrite w = set_write(k("temp"), "soon gone");
  w.mutations[0].expire_at_ms = start_ms + 300;
  REQUIRE(write_ok(c, w).ok);
  REQUIRE(write_ok(c, set_write(k("stays"), "here")).ok);
  StreamCollector s;
  c.node(leader).submit(net::Watch{{k("temp"), k("stays")}, std::nullopt}, s.reply(), {8, 1});
  net::WatchEvent first = next_event(s);
  net::WatchEvent gone;
  if (first.entries[0].entry.has_value()) {
    CHECK(value_of(first, 0) == std::optional<std::string>("soon gone"));
    gone = next_event(s);
  } else {
    gone = first;  // already swept on a slow machine
  }
  CHECK(wall_ms() >= start_ms + 300);  // never before its time
  CHECK_FALSE(gone.entries[0].entry.has_value());
  CHECK(value_of(gone, 1) == std::optional<std::string>("here"));
  for (raft::NodeId id = 1; id <= 3; ++id) CHECK(read_value(c, id, k("temp")) == std::nullopt);
}
