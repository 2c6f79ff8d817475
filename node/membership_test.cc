// Membership and leadership in an in-process cluster (test_cluster.h), with a client writing
// all along: add a fourth node (joins empty, catches up, promoted), remove a follower, remove
// the leader, transfer leadership.
#include "node/test_cluster.h"

using namespace node_test;

namespace {

net::MemberListResult members_of(Cluster& c, raft::NodeId id) {
  auto body = c.call(id, net::MemberList{});
  auto* r = std::get_if<net::MemberListResult>(&body);
  REQUIRE(r != nullptr);
  return *r;
}

std::optional<net::Member> find_member(const net::MemberListResult& list, uint64_t id) {
  for (const auto& m : list.members)
    if (m.id == id) return m;
  return std::nullopt;
}

}  // namespace

TEST_CASE(
    "membership: a fourth node joins empty, catches up by snapshot and becomes a voter "
    "while a client writes") {
  Cluster c(3, /*snapshot_entries=*/40);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  for (int i = 0; i < 100; ++i)
    REQUIRE(write_ok(c, set_write(k("pre" + std::to_string(i)), "v")).ok);
  REQUIRE(c.node(leader).status().last_snapshot_index > 0);  // the log start is compacted away
  BackgroundWriter writer(c);
  c.start_node(4, /*join=*/true);
  auto added = c.call_leader(net::MemberAdd{4, peer_addr_of(4), client_addr_of(4)});
  auto* list = std::get_if<net::MemberListResult>(&added);
  REQUIRE(list != nullptr);
  auto m4 = find_member(*list, 4);
  REQUIRE(m4.has_value());
  CHECK(m4->peer_addr == peer_addr_of(4));
  CHECK(m4->client_addr == client_addr_of(4));
  CHECK(m4->role == net::MemberRole::kVoter);  // the add is answered once it is promoted
  // Promoted automatically once caught up.
  REQUIRE(eventually([&] {
    auto m = find_member(members_of(c, c.wait_leader()), 4);
    return m && m->role == net::MemberRole::kVoter;
  }));
  REQUIRE(eventually([&] { return writer.acknowledged() >= 20; }));
  // The new node holds data written before it joined (from the snapshot) and after.
  REQUIRE(eventually(
      [&] { return read_value(c, 4, k("pre0"), kvmodel::Consistency::kEventual).has_value(); }));
  CHECK(read_value(c, 4, k("pre99")) == std::optional<std::string>("v"));
  writer.stop();
  writer.check_all_readable(4);
  // Every node lists the same four members with their client addresses.
  for (raft::NodeId id = 1; id <= 4; ++id) {
    REQUIRE(eventually([&] { return members_of(c, id).members.size() == 4; }));
    for (const auto& m : members_of(c, id).members) CHECK(m.client_addr == client_addr_of(m.id));
  }
  // A retried add (same peer address) answers the list at once; the same id at another
  // address is refused with a clear error.
  auto retried = c.call_leader(net::MemberAdd{4, peer_addr_of(4), ""});
  REQUIRE(std::holds_alternative<net::MemberListResult>(retried));
  CHECK(std::get<net::MemberListResult>(retried).members.size() == 4);
  auto duplicate = c.call_leader(net::MemberAdd{4, peer_addr_of(5), ""});
  REQUIRE(std::holds_alternative<net::Error>(duplicate));
  CHECK(std::get<net::Error>(duplicate).code == base::Code::kInvalidArgument);
  auto bad_addr = c.call_leader(net::MemberAdd{5, "nowhere", ""});
  REQUIRE(std::holds_alternative<net::Error>(bad_addr));
}

TEST_CASE(
    "membership: an add whose learner does not catch up in time is answered with a clear "
    "timeout; the node is listed as a learner, and a retried add answers once it is promoted") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  // Node 4 is not running yet: it cannot catch up within member_change_timeout_ms (10 s).
  auto added = c.call_leader(net::MemberAdd{4, peer_addr_of(4), client_addr_of(4)});
  REQUIRE(std::holds_alternative<net::Error>(added));
  const auto& error = std::get<net::Error>(added);
  CHECK_MESSAGE(error.code == base::Code::kTimeout, error.message);
  CHECK(error.message.find("node 4 was added as a learner but has not caught up in 10 s; it "
                           "stays a learner and will be promoted when it catches up") == 0);
  auto m4 = find_member(members_of(c, c.wait_leader()), 4);
  REQUIRE(m4.has_value());
  CHECK(m4->role == net::MemberRole::kLearner);
  // Once it runs, it catches up and is promoted; the retried add answers then.
  c.start_node(4, /*join=*/true);
  auto retried = c.call_leader(net::MemberAdd{4, peer_addr_of(4), client_addr_of(4)});
  auto* list = std::get_if<net::MemberListResult>(&retried);
  REQUIRE(list != nullptr);
  m4 = find_member(*list, 4);
  REQUIRE(m4.has_value());
  CHECK(m4->role == net::MemberRole::kVoter);
}

TEST_CASE("membership: removing a follower, then the leader, leaves a working cluster") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  BackgroundWriter writer(c);
  REQUIRE(eventually([&] { return writer.acknowledged() >= 5; }));
  raft::NodeId follower = leader % 3 + 1;
  auto removed = c.call_leader(net::MemberRemove{follower});
  auto* list = std::get_if<net::MemberListResult>(&removed);
  REQUIRE(list != nullptr);
  CHECK(list->members.size() == 2);
  CHECK_FALSE(find_member(*list, follower).has_value());
  auto again = c.call_leader(net::MemberRemove{follower});
  REQUIRE(std::holds_alternative<net::Error>(again));
  CHECK(std::get<net::Error>(again).code == base::Code::kNotFound);
  uint64_t before = writer.acknowledged();
  REQUIRE(eventually([&] { return writer.acknowledged() >= before + 5; }));

  // Remove the leader itself: it applies its removal, answers, and steps down.
  leader = c.wait_leader();
  auto body = c.call(leader, net::MemberRemove{leader});
  auto* after = std::get_if<net::MemberListResult>(&body);
  REQUIRE(after != nullptr);
  REQUIRE(after->members.size() == 1);
  raft::NodeId survivor = after->members[0].id;
  CHECK(survivor != leader);
  CHECK(survivor != follower);
  REQUIRE(eventually([&] { return c.node(survivor).status().role == raft::Role::kLeader; }));
  before = writer.acknowledged();
  REQUIRE(eventually([&] { return writer.acknowledged() >= before + 5; }));
  writer.stop();
  writer.check_all_readable(survivor);
}

TEST_CASE("leadership: transfer moves leadership to the named voter, or to a caught-up one") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  BackgroundWriter writer(c);
  raft::NodeId target = leader % 3 + 1;
  // A follower refuses with a hint; the leader does it.
  auto refused = c.call(target, net::LeaderTransfer{target});
  REQUIRE(std::holds_alternative<net::Error>(refused));
  CHECK(std::get<net::Error>(refused).code == base::Code::kNotLeader);
  // Ok means the target took over (the leader saw it lead a newer term).
  auto moved = c.call(leader, net::LeaderTransfer{target});
  REQUIRE(std::holds_alternative<net::Ok>(moved));
  CHECK(c.node(leader).status().role != raft::Role::kLeader);
  raft::NodeId current = c.wait_leader();
  auto any = c.call(current, net::LeaderTransfer{0});
  REQUIRE(std::holds_alternative<net::Ok>(any));
  CHECK(c.node(current).status().role != raft::Role::kLeader);
  auto not_voter = c.call(c.wait_leader(), net::LeaderTransfer{9});
  REQUIRE(std::holds_alternative<net::Error>(not_voter));
  CHECK(std::get<net::Error>(not_voter).code == base::Code::kInvalidArgument);
  uint64_t before = writer.acknowledged();
  REQUIRE(eventually([&] { return writer.acknowledged() >= before + 5; }));
  writer.stop();
  writer.check_all_readable(c.wait_leader());
}

TEST_CASE("in-memory: a single-node cluster leads at once and serves writes, watch and queues") {
  Router router;
  RouterTransport transport(router, 1);
  node::NodeOptions o;
  o.id = 1;
  o.in_memory = true;
  o.peers[1] = peer_addr_of(1);
  auto created = node::Node::open(o, transport);  // default timings, as `kvd --in-memory`
  REQUIRE(created.is_ok());
  node::Node& n = **created;
  n.start();
  REQUIRE(eventually([&] { return n.status().role == raft::Role::kLeader; }, 5000ms));
  auto call = [&](net::RequestBody request) {
    auto promise = std::make_shared<std::promise<net::ResponseBody>>();
    auto future = promise->get_future();
    n.submit(std::move(request), [promise](net::ResponseBody b) { promise->set_value(b); });
    REQUIRE(future.wait_for(30s) == std::future_status::ready);
    return future.get();
  };
  StreamCollector watch;
  n.submit(net::Watch{{k("a")}, std::nullopt}, watch.reply(), {1, 1});
  auto w = call(set_write(k("a"), "1"));
  REQUIRE(std::holds_alternative<net::AtomicWriteResult>(w));
  bool saw_value = false;
  for (int i = 0; i < 2 && !saw_value; ++i) {
    auto item = watch.next();
    REQUIRE(item.has_value());
    auto& e = std::get<net::WatchEvent>(*item);
    saw_value = e.entries[0].entry.has_value() && e.entries[0].entry->value.data == "1";
  }
  CHECK(saw_value);
  StreamCollector listener;
  n.submit(net::QueueListen{"t", 1, 5000}, listener.reply(), {1, 2});
  kvmodel::AtomicWrite enqueue;
  enqueue.enqueues.push_back(kvmodel::Enqueue{"job", 0, {}, {}});
  REQUIRE(std::holds_alternative<net::AtomicWriteResult>(call(enqueue)));
  auto d = listener.next();
  REQUIRE(d.has_value());
  REQUIRE(std::holds_alternative<net::QueueDelivery>(*d));
  CHECK(std::get<net::QueueDelivery>(*d).payload == "job");
  n.stop(true);
  // Stopping ends the streams with an error clients retry elsewhere.
  bool ended = false;
  while (auto item = watch.next(1000ms)) ended = std::holds_alternative<net::Error>(*item);
  CHECK(ended);
}
