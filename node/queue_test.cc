// The leader's queue service in an in-process cluster (test_cluster.h): delivery, ack, retry
// with backoff, dead-letter, delays, failed atomics, lease expiry and leader changes.
#include <map>

#include "node/test_cluster.h"

using namespace node_test;

namespace {

kvmodel::AtomicWrite enqueue_write(std::string payload, uint64_t delay_ms = 0,
                                   std::vector<uint32_t> backoff = {},
                                   std::vector<base::Bytes> keys_if_undelivered = {}) {
  kvmodel::AtomicWrite w;
  w.enqueues.push_back(kvmodel::Enqueue{std::move(payload), delay_ms,
                                        std::move(keys_if_undelivered), std::move(backoff)});
  return w;
}

net::QueueDelivery next_delivery(StreamCollector& s) {
  auto item = s.next();
  REQUIRE(item.has_value());
  auto* d = std::get_if<net::QueueDelivery>(&*item);
  REQUIRE_MESSAGE(d != nullptr, "expected a QueueDelivery, got variant index " << item->index());
  return *d;
}

bool is_ok(const net::ResponseBody& body) { return std::holds_alternative<net::Ok>(body); }

}  // namespace

TEST_CASE("queue: a message is delivered to a listener, acked once, and not delivered again") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  StreamCollector s;
  c.node(leader).submit(net::QueueListen{"t", 1, 5000}, s.reply(), {1, 1});
  REQUIRE(write_ok(c, enqueue_write("first")).ok);
  net::QueueDelivery d = next_delivery(s);
  CHECK(d.payload == "first");
  CHECK(d.attempt == 1);
  CHECK(d.message_id.size() == 12);
  CHECK(is_ok(c.call(leader, kvmodel::QueueAck{d.message_id, d.lease_token})));
  // A second ack with the same token finds no lease.
  auto again = c.call(leader, kvmodel::QueueAck{d.message_id, d.lease_token});
  REQUIRE(std::holds_alternative<net::Error>(again));
  CHECK(std::get<net::Error>(again).code == base::Code::kNotFound);
  // The next delivery is the next message: the first one is gone.
  REQUIRE(write_ok(c, enqueue_write("second")).ok);
  net::QueueDelivery d2 = next_delivery(s);
  CHECK(d2.payload == "second");
  CHECK(d2.message_id != d.message_id);
  CHECK(is_ok(c.call(leader, kvmodel::QueueAck{d2.message_id, d2.lease_token})));
  // A follower refuses queue requests with a hint to the leader.
  raft::NodeId follower = leader % 3 + 1;
  auto refused = c.call(follower, kvmodel::QueueAck{d2.message_id, d2.lease_token});
  REQUIRE(std::holds_alternative<net::Error>(refused));
  CHECK(std::get<net::Error>(refused).code == base::Code::kNotLeader);
  // Cancel ends the listener.
  CHECK(is_ok(c.call(leader, net::Cancel{1}, {1, 2})));
  auto end = s.next();
  REQUIRE(end.has_value());
  CHECK(std::holds_alternative<net::StreamEnd>(*end));
}

TEST_CASE(
    "queue: a failing handler is retried after each backoff, then dead-lettered after "
    "exactly 1 + len(schedule) attempts") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  StreamCollector s;
  c.node(leader).submit(net::QueueListen{"t", 1, 5000}, s.reply(), {1, 1});
  const std::vector<uint32_t> backoff = {60, 120, 60};
  REQUIRE(write_ok(c, enqueue_write("doomed", 0, backoff, {k("dead1"), k("dead2")})).ok);
  Clock::time_point nacked_at{};
  for (uint32_t attempt = 1; attempt <= 1 + backoff.size(); ++attempt) {
    net::QueueDelivery d = next_delivery(s);
    CHECK(d.payload == "doomed");
    CHECK(d.attempt == attempt);
    if (attempt > 1) {
      // Not before the backoff interval (the ms clocks round: allow 2 ms).
      CHECK(Clock::now() - nacked_at >= std::chrono::milliseconds(backoff[attempt - 2] - 2));
    }
    nacked_at = Clock::now();
    CHECK(is_ok(c.call(leader, kvmodel::QueueNack{d.message_id, d.lease_token})));
  }
  // Dead-lettered: both keys hold the payload (written in one versioned write).
  REQUIRE(eventually([&] { return read_value(c, leader, k("dead1")).has_value(); }));
  CHECK(read_value(c, leader, k("dead1")) == std::optional<std::string>("doomed"));
  CHECK(read_value(c, leader, k("dead2")) == std::optional<std::string>("doomed"));
  // No fifth delivery: the next one is a new message.
  REQUIRE(write_ok(c, enqueue_write("next")).ok);
  CHECK(next_delivery(s).payload == "next");
}

TEST_CASE("queue: a delayed message is not delivered before its delay") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  StreamCollector s;
  c.node(leader).submit(net::QueueListen{"t", 4, 5000}, s.reply(), {1, 1});
  const uint64_t before_ms = wall_ms();
  REQUIRE(write_ok(c, enqueue_write("later", 400)).ok);
  REQUIRE(write_ok(c, enqueue_write("now")).ok);
  // Order is not asserted: on a loaded machine the second write may take longer than the delay.
  std::map<std::string, uint64_t> arrived_ms;
  for (int i = 0; i < 2; ++i) {
    net::QueueDelivery d = next_delivery(s);
    arrived_ms[d.payload] = wall_ms();
  }
  REQUIRE(arrived_ms.count("now") == 1);
  REQUIRE(arrived_ms.count("later") == 1);
  CHECK(arrived_ms["later"] >= before_ms + 400);
}

TEST_CASE("queue: an enqueue inside a failed atomic write is never delivered") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  REQUIRE(write_ok(c, set_write(k("exists"), "1")).ok);
  kvmodel::AtomicWrite failing = enqueue_write("must not arrive");
  failing.checks.push_back(kvmodel::Check{k("exists"), std::nullopt});  // fails: it exists
  auto r = write_ok(c, failing);
  CHECK_FALSE(r.ok);
  CHECK(r.failed_checks == std::vector<uint32_t>{0});
  REQUIRE(write_ok(c, enqueue_write("arrives")).ok);
  StreamCollector s;
  c.node(leader).submit(net::QueueListen{"t", 10, 5000}, s.reply(), {1, 1});
  // Messages are leased in ready order: had the failed one been stored, it would come first.
  net::QueueDelivery d = next_delivery(s);
  CHECK(d.payload == "arrives");
  CHECK(is_ok(c.call(leader, kvmodel::QueueAck{d.message_id, d.lease_token})));
  REQUIRE(write_ok(c, enqueue_write("last")).ok);
  CHECK(next_delivery(s).payload == "last");
}

TEST_CASE(
    "queue: a handler that extends its lease keeps the message past the visibility "
    "timeout") {
  Cluster c(3);
  raft::NodeId leader = c.wait_leader();
  REQUIRE(leader != 0);
  StreamCollector s;
  c.node(leader).submit(net::QueueListen{"t", 1, 1000}, s.reply(), {1, 1});
  REQUIRE(write_ok(c, enqueue_write("slow")).ok);
  net::QueueDelivery d = next_delivery(s);
  // The handler works for 3 visibility timeouts, extending every quarter of one (the client
  // does every third); each extension renews the lease for the listener's 1000 ms.
  auto until = Clock::now() + 3000ms;
  while (Clock::now() < until) {
    auto extended = c.call(leader, kvmodel::QueueExtend{d.message_id, d.lease_token});
    INFO("extend answered " << (std::holds_alternative<net::Error>(extended)
                                    ? std::get<net::Error>(extended).message
                                    : "ok"));
    CHECK(is_ok(extended));
    std::this_thread::sleep_for(250ms);  // the handler's work
  }
  CHECK(is_ok(c.call(leader, kvmodel::QueueAck{d.message_id, d.lease_token})));
  CHECK(s.pending() == 0);  // never redelivered meanwhile
}

TEST_CASE("queue: a message in flight at a leader change is delivered again by the new leader") {
  Cluster c(3);
  raft::NodeId old_leader = c.wait_leader();
  REQUIRE(old_leader != 0);
  StreamCollector s;
  c.node(old_leader).submit(net::QueueListen{"t", 1, 300}, s.reply(), {1, 1});
  REQUIRE(write_ok(c, enqueue_write("in flight", 0, {10})).ok);
  net::QueueDelivery d = next_delivery(s);
  CHECK(d.attempt == 1);
  c.router.isolate(old_leader, true);
  auto end = s.next();  // the old leader steps down and ends the listener
  REQUIRE(end.has_value());
  REQUIRE(std::holds_alternative<net::Error>(*end));
  CHECK(std::get<net::Error>(*end).code == base::Code::kNotLeader);
  raft::NodeId new_leader = c.wait_leader(old_leader);
  REQUIRE(new_leader != 0);
  StreamCollector resumed;
  c.node(new_leader).submit(net::QueueListen{"t", 1, 5000}, resumed.reply(), {2, 1});
  // The lease runs out; the new leader's ExpireLeases makes it deliverable again.
  net::QueueDelivery again = next_delivery(resumed);
  CHECK(again.message_id == d.message_id);
  CHECK(again.payload == "in flight");
  CHECK(again.attempt == 2);
  CHECK(is_ok(c.call(new_leader, kvmodel::QueueAck{again.message_id, again.lease_token})));
  // The first delivery's token no longer names a lease.
  auto stale = c.call(new_leader, kvmodel::QueueAck{d.message_id, d.lease_token});
  REQUIRE(std::holds_alternative<net::Error>(stale));
  c.router.isolate(old_leader, false);
}
