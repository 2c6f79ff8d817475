#include <doctest/doctest.h>

#include "kvstate/test_util.h"

using namespace kvmodel;
using namespace kvstate;
using namespace kvstate::testing;
using Kind = WriteOutcome::Kind;

namespace {

AtomicWrite enqueue_at(uint64_t now_ms, Enqueue e) {
  AtomicWrite w = write_of({}, {}, now_ms);
  w.enqueues.push_back(std::move(e));
  return w;
}

}  // namespace

TEST_CASE("queue: a message is leased only once due, and an ack deletes it") {
  Driver d;
  auto w = d.apply(enqueue_at(1000, Enqueue{"p1", 500, {}, {}}));
  REQUIRE(w.outcome.kind == Kind::kCommitted);
  CHECK(w.queue_changed);
  base::Bytes id = base::Bytes(w.outcome.versionstamp.view()) + std::string("\0\0", 2);
  CHECK(d.sm.find_message(id) != nullptr);
  CHECK(d.sm.next_ready_at() == 1500);
  CHECK(d.apply(QueueLease{1499, 1, 10, 5000}).leased.empty());
  Versionstamp lease_vs = d.next_versionstamp();
  auto lease = d.apply(QueueLease{1500, 1, 10, 5000});
  REQUIRE(lease.leased.size() == 1);
  CHECK(lease.leased[0] == LeasedMessage{id, "p1", lease_vs, 6500, 1});
  CHECK(d.sm.next_ready_at() == std::nullopt);
  CHECK(d.sm.next_lease_deadline() == 6500);
  CHECK(d.apply(QueueLease{1500, 2, 10, 5000}).leased.empty());  // not delivered twice
  auto ack = d.apply(QueueAck{id, lease_vs});
  CHECK(ack.outcome.kind == Kind::kCommitted);
  CHECK(d.sm.queue_size() == 0);
  CHECK(d.sm.next_lease_deadline() == std::nullopt);
  d.sm.check_invariants();
}

TEST_CASE("queue: nack retries after the next backoff interval, then dead-letters as V8") {
  Driver d;
  d.apply(enqueue_at(0, Enqueue{"payload", 0, {"dead1", "dead2"}, {100, 1000}}));
  std::vector<uint64_t> ready_times;
  for (int attempt = 0; attempt < 3; ++attempt) {
    uint64_t now = d.sm.next_ready_at().value();
    ready_times.push_back(now);
    auto lease = d.apply(QueueLease{now, 1, 1, 5000});
    REQUIRE(lease.leased.size() == 1);
    CHECK(lease.leased[0].delivery == static_cast<uint32_t>(attempt + 1));
    auto nack =
        d.apply(QueueNack{lease.leased[0].message_id, lease.leased[0].lease_token, now + 10});
    CHECK(nack.outcome.kind == Kind::kCommitted);
    if (attempt < 2) CHECK(nack.changed_keys.empty());
    if (attempt == 2) {
      CHECK(nack.changed_keys == std::vector<base::Bytes>{"dead1", "dead2"});
      CHECK(d.sm.get("dead1")->value == Value{ValueEncoding::kV8, "payload"});
      CHECK(d.sm.get("dead2")->versionstamp == nack.outcome.versionstamp);
    }
  }
  CHECK(ready_times == std::vector<uint64_t>{0, 110, 1120});
  CHECK(d.sm.queue_size() == 0);
  d.sm.check_invariants();
}

TEST_CASE("queue: the default schedule gives six deliveries, then the message is dropped") {
  Driver d;
  d.apply(enqueue_at(0, Enqueue{"p", 0, {}, {}}));
  int deliveries = 0;
  while (auto ready = d.sm.next_ready_at()) {
    auto lease = d.apply(QueueLease{*ready, 1, 1, 1000});
    REQUIRE(lease.leased.size() == 1);
    ++deliveries;
    d.apply(QueueNack{lease.leased[0].message_id, lease.leased[0].lease_token, *ready});
  }
  CHECK(deliveries == 6);
  CHECK(d.sm.key_count() == 0);
}

TEST_CASE("queue: an expired lease counts as a failure and stale tokens change nothing") {
  Driver d;
  d.apply(enqueue_at(0, Enqueue{"p", 0, {}, {50}}));
  auto first = d.apply(QueueLease{0, 1, 1, 1000});
  REQUIRE(first.leased.size() == 1);
  const LeasedMessage& m = first.leased[0];
  auto extended = d.apply(QueueExtend{m.message_id, m.lease_token, 500, 1000});
  CHECK(extended.outcome.kind == Kind::kCommitted);
  CHECK(d.sm.next_lease_deadline() == 1500);
  CHECK(d.apply(ExpireLeases{1499}).queue_changed == false);
  CHECK(d.apply(ExpireLeases{1500}).queue_changed);
  CHECK(d.sm.next_ready_at() == 1550);
  auto second = d.apply(QueueLease{1550, 2, 1, 1000});
  REQUIRE(second.leased.size() == 1);
  // The first consumer's late ack and nack are no-ops.
  auto stale_ack = d.apply(QueueAck{m.message_id, m.lease_token});
  CHECK(stale_ack.outcome.kind == Kind::kError);
  CHECK(stale_ack.outcome.error.code() == base::Code::kNotFound);
  CHECK(stale_ack.outcome.error.message() == "message " + base::to_hex(m.message_id) +
                                                 " is not leased with token " +
                                                 m.lease_token.hex());
  CHECK(d.apply(QueueNack{m.message_id, m.lease_token, 1600}).outcome.kind == Kind::kError);
  CHECK(d.sm.find_message(m.message_id)->lease_token == second.leased[0].lease_token);
  CHECK(d.apply(QueueAck{m.message_id, second.leased[0].lease_token}).outcome.kind ==
        Kind::kCommitted);
  CHECK(d.sm.queue_size() == 0);
}

TEST_CASE("queue: leases take due messages in ready order up to the maximum") {
  Driver d;
  AtomicWrite w = write_of({}, {}, 0);
  for (uint64_t delay : {30, 10, 20, 40})
    w.enqueues.push_back(Enqueue{std::to_string(delay), delay, {}, {}});
  d.apply(w);
  auto lease = d.apply(QueueLease{35, 1, 2, 100});
  REQUIRE(lease.leased.size() == 2);
  CHECK(lease.leased[0].payload == "10");
  CHECK(lease.leased[1].payload == "20");
  CHECK(d.apply(QueueLease{35, 1, 0, 100}).outcome.error.message() ==
        "max messages must be 1..1000");
  CHECK(d.apply(QueueLease{35, 1, 1, 0}).outcome.error.message() ==
        "visibility must be 1..86400000 ms");
}

TEST_CASE("queue: the replicated clock never goes backwards") {
  Driver d;
  d.apply(enqueue_at(1000, Enqueue{"p", 100, {}, {}}));
  // A new leader with a slow clock proposes now = 500; the queue still uses 1000.
  CHECK(d.apply(QueueLease{500, 1, 1, 100}).leased.empty());
  CHECK(d.sm.clock_ms() == 1000);
  CHECK(d.apply(QueueLease{1100, 1, 1, 100}).leased.size() == 1);
}
