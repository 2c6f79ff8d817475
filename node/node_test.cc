// In-process clusters: real Nodes (in-memory WAL) wired by a message router instead of
// sockets, so the node loop, group commit, ReadIndex and sessions are tested without net/.
#include <filesystem>

#include "kvmodel/kv_limits.h"
#include "node/test_cluster.h"

using namespace node_test;

namespace {

kvmodel::AtomicWrite sum_write(std::string key, uint64_t n, uint64_t client, uint64_t sequence) {
  kvmodel::AtomicWrite w;
  w.client_id = client;
  w.sequence = sequence;
  std::string le(8, '\0');
  for (int i = 0; i < 8; ++i) le[i] = static_cast<char>(n >> (8 * i));
  w.mutations.push_back(kvmodel::Mutation{kvmodel::MutationKind::kSum, std::move(key),
                                          kvmodel::Value{kvmodel::ValueEncoding::kLe64, le}});
  return w;
}

}  // namespace

TEST_CASE("node: a three-node cluster elects a leader and commits writes from any node") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  auto r = write_ok(c, set_write(k("k1"), "v1"));
  CHECK(r.ok);
  REQUIRE(r.versionstamp.has_value());
  // A follower forwards the write to the leader and answers once it has applied it.
  raft::NodeId follower = leader % 3 + 1;
  auto body = c.call(follower, set_write(k("k2"), "v2"));
  auto* fr = std::get_if<net::AtomicWriteResult>(&body);
  REQUIRE(fr != nullptr);
  CHECK(fr->ok);
  CHECK(*fr->versionstamp > *r.versionstamp);
  // Strong reads from every node see both writes.
  for (raft::NodeId id = 1; id <= 3; ++id) {
    CHECK(read_value(c, id, k("k1")) == std::optional<std::string>("v1"));
    CHECK(read_value(c, id, k("k2")) == std::optional<std::string>("v2"));
  }
  CHECK(read_value(c, leader, k("missing")) == std::nullopt);
}

TEST_CASE("node: a retried write with the same session applies once") {
  Cluster c(3);
  REQUIRE(c.wait_leader() != 0);
  auto first = write_ok(c, sum_write(k("n"), 5, 77, 1));
  REQUIRE(first.ok);
  auto retry = write_ok(c, sum_write(k("n"), 5, 77, 1));
  CHECK(retry.ok);
  CHECK(retry.versionstamp == first.versionstamp);
  auto next = write_ok(c, sum_write(k("n"), 5, 77, 2));
  CHECK(next.ok);
  auto v = read_value(c, c.wait_leader(), k("n"));
  REQUIRE(v.has_value());
  CHECK(static_cast<uint8_t>((*v)[0]) == 10);  // 5 + 5, not 15
}

TEST_CASE("node: after the leader is cut off a new leader serves writes and reads") {
  Cluster c(3);
  raft::NodeId old_leader = c.wait_leader();
  REQUIRE(old_leader != 0);
  REQUIRE(write_ok(c, set_write(k("before"), "1")).ok);
  c.router.isolate(old_leader, true);
  raft::NodeId new_leader = c.wait_leader(old_leader);
  REQUIRE(new_leader != 0);
  CHECK(new_leader != old_leader);
  auto body = c.call(new_leader, set_write(k("after"), "2"));
  auto* r = std::get_if<net::AtomicWriteResult>(&body);
  REQUIRE(r != nullptr);
  CHECK(r->ok);
  CHECK(read_value(c, new_leader, k("before")) == std::optional<std::string>("1"));
  // The isolated old leader cannot confirm a strong read: it must not answer from stale state.
  auto stale = c.call(old_leader, get_read(k("after")));
  CHECK(std::holds_alternative<net::Error>(stale));
  c.router.isolate(old_leader, false);
  // Once healed it catches up; an eventual read there eventually shows the new write.
  auto deadline = std::chrono::steady_clock::now() + 20s;
  std::optional<std::string> seen;
  while (std::chrono::steady_clock::now() < deadline && !seen) {
    seen = read_value(c, old_leader, k("after"), kvmodel::Consistency::kEventual);
    if (!seen) std::this_thread::sleep_for(10ms);
  }
  CHECK(seen == std::optional<std::string>("2"));
}

TEST_CASE("node: snapshots and compaction keep every write, and a cut-off follower catches up") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  raft::NodeId lagging = leader % 3 + 1;
  c.router.isolate(lagging, true);
  for (int i = 0; i < 200; ++i) {
    auto r = write_ok(c, set_write(k("k" + std::to_string(i)), std::to_string(i)));
    REQUIRE(r.ok);
  }
  c.router.isolate(lagging, false);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  std::optional<std::string> seen;
  while (std::chrono::steady_clock::now() < deadline && seen != std::optional<std::string>("199")) {
    seen = read_value(c, lagging, k("k199"), kvmodel::Consistency::kEventual);
    if (seen != std::optional<std::string>("199")) std::this_thread::sleep_for(10ms);
  }
  CHECK(seen == std::optional<std::string>("199"));
  net::NodeStatus st = c.node(leader).status();
  CHECK(st.last_snapshot_index > 0);  // 200 writes with a 50-entry threshold
  for (int i = 0; i < 200; i += 37)
    CHECK(read_value(c, lagging, k("k" + std::to_string(i))) ==
          std::optional<std::string>(std::to_string(i)));
}

TEST_CASE(
    "node: a write the replicated command format cannot carry is refused before it is proposed, "
    "and the writes batched beside it commit") {
  Cluster c(3);
  REQUIRE(write_ok(c, set_write(k("warm"), "0")).ok);  // a leader that accepts writes
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  // Times beyond kTimeMaxMs do not decode from a Raft entry: proposed, they would make the
  // whole entry (and every write batched into it) a no-op on every replica.
  kvmodel::AtomicWrite late = set_write(k("late"), "x");
  late.mutations[0].expire_at_ms = kvmodel::kTimeMaxMs + 1;
  kvmodel::AtomicWrite far = set_write(k("far"), "x");
  far.enqueues.push_back(kvmodel::Enqueue{"job", kvmodel::kTimeMaxMs + 1, {}, {}});
  std::vector<std::future<net::ResponseBody>> answers;
  for (kvmodel::AtomicWrite w :
       {set_write(k("before"), "1"), late, far, set_write(k("after"), "2")}) {
    auto promise = std::make_shared<std::promise<net::ResponseBody>>();
    answers.push_back(promise->get_future());
    c.node(leader).submit(std::move(w),
                          [promise](net::ResponseBody b) { promise->set_value(std::move(b)); });
  }
  for (auto& a : answers) REQUIRE(a.wait_for(30s) == std::future_status::ready);
  auto late_answer = answers[1].get(), far_answer = answers[2].get();
  auto* late_error = std::get_if<net::Error>(&late_answer);
  REQUIRE(late_error != nullptr);
  CHECK(late_error->code == base::Code::kInvalidArgument);
  CHECK(late_error->message == "Invalid mutation expire at.");
  auto* far_error = std::get_if<net::Error>(&far_answer);
  REQUIRE(far_error != nullptr);
  CHECK(far_error->code == base::Code::kInvalidArgument);
  CHECK(far_error->message == "Invalid mutation enqueue deadline.");
  for (size_t i : {size_t{0}, size_t{3}}) {
    auto body = answers[i].get();
    auto* r = std::get_if<net::AtomicWriteResult>(&body);
    REQUIRE(r != nullptr);
    CHECK(r->ok);
  }
  CHECK(read_value(c, leader, k("before")) == std::optional<std::string>("1"));
  CHECK(read_value(c, leader, k("after")) == std::optional<std::string>("2"));
  CHECK(read_value(c, leader, k("late")) == std::nullopt);
}

TEST_CASE(
    "node: a data directory that may have lost fsynced data is refused with what to do, until "
    "the node can be repaired from the leader") {
  char pattern[] = "/tmp/raftkv-node-XXXXXX";
  REQUIRE(::mkdtemp(pattern) != nullptr);
  const std::string dir = pattern;
  Router router;
  RouterTransport transport(router, 1);
  node::NodeOptions o;
  o.id = 1;
  o.data_dir = dir;
  o.peers = {{1, peer_addr_of(1)}};
  o.seed = 7;
  {
    auto first = node::Node::open(o, transport);
    REQUIRE_MESSAGE(first.is_ok(), first.status().to_string());
  }
  const std::string segment = dir + "/wal-0000000000000001.log";
  std::filesystem::resize_file(segment, 200);  // truncated: shorter than it was created
  auto second = node::Node::open(o, transport);
  REQUIRE_FALSE(second.is_ok());
  CHECK(second.status().message().find("truncated-segment") != std::string::npos);
  CHECK(second.status().message().find("kv member remove 1") != std::string::npos);
  CHECK(second.status().message().find("kvd --join") != std::string::npos);
  std::filesystem::remove_all(dir);
}
