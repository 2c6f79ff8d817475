#include "cli/client.h"

#include <doctest/doctest.h>

#include <thread>

#include "cli/fake_cluster.h"
#include "cli/watch.h"
#include "kvmodel/key.h"

using base::Bytes;
using cli::testing::FakeCluster;

namespace {

Bytes k(const char* a, const char* b = nullptr) {
  kvmodel::Key key{kvmodel::KeyPart::string(a)};
  if (b) key.push_back(kvmodel::KeyPart::string(b));
  return kvmodel::encode_key(key).value();
}

kvmodel::Value v(const std::string& bytes) {
  return kvmodel::Value{kvmodel::ValueEncoding::kBytes, bytes};
}

cli::ClientOptions fast() {
  cli::ClientOptions o;
  o.deadline = std::chrono::milliseconds(300);
  o.backoff_initial = std::chrono::milliseconds(1);
  o.backoff_max = std::chrono::milliseconds(4);
  o.client_id = 77;
  return o;
}

struct Fixture {
  std::shared_ptr<FakeCluster> cluster = std::make_shared<FakeCluster>(3);
  cli::Client client{{"node0", "node1", "node2"}, fast(), cluster->connector()};
};

}  // namespace

TEST_CASE("client: finds the leader through hints and reads what it wrote") {
  Fixture f;
  f.cluster->set_leader(2);
  auto set = f.client.set(k("a"), v("1"));
  REQUIRE(set.is_ok());
  CHECK(set->ok);
  auto got = f.client.get(k("a"));
  REQUIRE(got.is_ok());
  REQUIRE(got->has_value());
  CHECK((*got)->value == v("1"));
  CHECK((*got)->versionstamp == *set->versionstamp);
  CHECK_FALSE(f.client.get(k("missing"))->has_value());
  auto many = f.client.get_many({k("missing"), k("a")}).value();
  CHECK_FALSE(many[0].has_value());
  CHECK(many[1]->value == v("1"));
}

TEST_CASE("client: without hints it tries every endpoint until one leads") {
  Fixture f;
  f.cluster->give_hints(false);
  f.cluster->set_leader(1);
  CHECK(f.client.set(k("a"), v("1"))->ok);
}

TEST_CASE(
    "client: a write whose answer was lost is retried with the same (client_id, sequence) "
    "and applied once") {
  Fixture f;
  f.cluster->lose_next_answers(2);
  auto result = f.client.set(k("a"), v("1"));
  REQUIRE(result.is_ok());
  CHECK(result->ok);
  CHECK(f.cluster->applied_writes() == 1);
  auto writes = f.cluster->writes_received();
  REQUIRE(writes.size() == 3);
  CHECK(writes[0].client_id == 77);
  CHECK(writes[1].client_id == 77);
  CHECK(writes[0].sequence == writes[2].sequence);
  // The next write gets the next sequence number.
  CHECK(f.client.set(k("b"), v("2"))->ok);
  CHECK(f.cluster->writes_received().back().sequence == writes[0].sequence + 1);
}

TEST_CASE("client: a write sent but never answered is an unknown outcome, not a failure") {
  Fixture f;
  f.cluster->lose_next_answers(1000);
  auto result = f.client.set(k("a"), v("1"));
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == base::Code::kUnknownOutcome);
  CHECK(f.cluster->applied_writes() == 1);
}

TEST_CASE("client: a member removal whose answer was lost is not reported as 'not a member'") {
  Fixture f;
  f.cluster->lose_next_answers(1);  // the removal applies, its answer is lost, the retry sees
  auto removed = f.client.call_leader(net::MemberRemove{3});  // "not a member" (kNotFound)
  REQUIRE(removed.is_ok());
  auto* list = std::get_if<net::MemberListResult>(&*removed);
  REQUIRE(list != nullptr);
  CHECK(list->members.size() == 2);
  // Without a lost answer, removing a non-member is a definite refusal.
  auto again = f.client.call_leader(net::MemberRemove{3});
  REQUIRE_FALSE(again.is_ok());
  CHECK(again.status().code() == base::Code::kNotFound);
}

TEST_CASE("client: nothing reachable is 'unavailable' with every endpoint's reason") {
  Fixture f;
  for (size_t n = 0; n < 3; ++n) f.cluster->set_down(n, true);
  auto result = f.client.set(k("a"), v("1"));
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == base::Code::kUnavailable);
  CHECK(result.status().message().find("node0: connection refused") != std::string::npos);
  CHECK(result.status().message().find("scripts/cluster.sh") != std::string::npos);
  CHECK(f.cluster->applied_writes() == 0);
}

TEST_CASE("client: after the leader dies the client moves to the new leader") {
  Fixture f;
  CHECK(f.client.set(k("a"), v("1"))->ok);
  f.cluster->set_down(0, true);
  f.cluster->set_leader(1);
  auto result = f.client.set(k("a"), v("2"));
  REQUIRE(result.is_ok());
  CHECK(f.client.get(k("a"))->value().value == v("2"));
}

TEST_CASE("client: a refusal from the node is returned at once, not retried") {
  Fixture f;
  auto result = f.client.set("refuse", v("1"));
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == base::Code::kInvalidArgument);
  CHECK(f.cluster->writes_received().size() == 1);
}

TEST_CASE("client: checks fail as {ok: false, failed_checks}") {
  Fixture f;
  auto first = f.client.set(k("a"), v("1")).value();
  auto ok = f.client.atomic().check(k("a"), first.versionstamp).set(k("a"), v("2")).commit();
  CHECK(ok->ok);
  auto stale = f.client.atomic()
                   .check(k("b"), std::nullopt)
                   .check(k("a"), first.versionstamp)
                   .set(k("a"), v("3"))
                   .commit();
  REQUIRE(stale.is_ok());
  CHECK_FALSE(stale->ok);
  CHECK(stale->failed_checks == std::vector<uint32_t>{1});
}

TEST_CASE("client: invalid writes are refused before anything is sent") {
  Fixture f;
  auto msg = [&](cli::Atomic a) { return a.commit().status().message(); };
  CHECK(msg(f.client.atomic().set("", v("1"))) == "key cannot be empty");
  CHECK(msg(f.client.atomic().set(Bytes(2049, 'k'), v("1"))) ==
        "Key too large for write (max 2048 bytes)");
  CHECK(msg(f.client.atomic().set(k("a"), v(std::string(65537, 'x')))) ==
        "Value too large (max 65536 bytes)");
  auto many = f.client.atomic();
  for (int i = 0; i < 101; ++i) many.check(k("a"), std::nullopt);
  CHECK(msg(many) == "Too many checks (max 100)");
  CHECK(msg(f.client.atomic().mutate(
            kvmodel::Mutation{kvmodel::MutationKind::kMin, k("a"), v("x")})) ==
        "Failed to perform 'min' mutation on a non-U64 operand");
  CHECK(msg(f.client.atomic().enqueue(kvmodel::Enqueue{"p", 31ull * 24 * 3600 * 1000, {}, {}})) ==
        "delay cannot be greater than 30 days");
  CHECK(f.client.get_many(std::vector<Bytes>(11, k("a"))).status().message() ==
        "Too many ranges (max 10)");
  CHECK(f.cluster->writes_received().empty());
}

TEST_CASE("client: list pages through batches and returns a resumable cursor") {
  Fixture f;
  for (const char* p : {"a", "b", "c", "d", "e"}) CHECK(f.client.set(k("x", p), v(p))->ok);
  auto it = f.client.list({.prefix = k("x")}, {.limit = 3, .batch_size = 2}).value();
  std::string seen;
  while (auto e = it.next().value()) seen += e->value.data;
  CHECK(seen == "abc");
  auto rest = f.client.list({.prefix = k("x")}, {.cursor = *it.cursor()}).value();
  while (auto e = rest.next().value()) seen += e->value.data;
  CHECK(seen == "abcde");
  CHECK_FALSE(f.client.list({.prefix = k("x"), .start = k("y", "a")}).is_ok());
}

TEST_CASE(
    "client: a watch yields the current state, then changes, and resumes on the new "
    "leader without going back") {
  Fixture f;
  CHECK(f.client.set(k("w"), v("1"))->ok);
  auto watch = f.client.watch({k("w"), k("none")}).value();
  auto first = watch.next(std::chrono::seconds(5)).value();
  REQUIRE(first.size() == 2);
  CHECK(first[0]->value == v("1"));
  CHECK_FALSE(first[1].has_value());
  auto second_write = f.client.set(k("w"), v("2")).value();
  auto second = watch.next(std::chrono::seconds(5)).value();
  CHECK(second[0]->value == v("2"));
  // The leader dies; a new one takes over. The reopened stream asks for at least the newest
  // versionstamp seen, and the repeated current state is not yielded twice.
  f.cluster->set_leader(1);
  f.cluster->set_down(0, true);
  CHECK(watch.next(std::chrono::milliseconds(50)).status().code() == base::Code::kTimeout);
  auto watches = f.cluster->watches_opened();
  REQUIRE(watches.size() == 2);
  CHECK(watches[1].min_versionstamp == second_write.versionstamp);
  CHECK(f.client.set(k("w"), v("3"))->ok);
  auto third = watch.next(std::chrono::seconds(5)).value();
  CHECK(third[0]->value == v("3"));
  CHECK(third[0]->versionstamp > second[0]->versionstamp);
}

TEST_CASE("client: listen_queue acks handled messages, nacks failures and extends slow ones") {
  Fixture f;
  std::atomic<int> calls{0};
  std::thread feeder([&] {
    // Wait (with a generous deadline) until the listener is connected, then deliver.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (f.cluster->listeners() == 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::yield();
    }
    f.cluster->deliver(net::QueueDelivery{"m1", kvmodel::Versionstamp::of(1, 0), "ok", 1});
    f.cluster->deliver(net::QueueDelivery{"m2", kvmodel::Versionstamp::of(2, 0), "fail", 1});
    f.cluster->deliver(net::QueueDelivery{"m3", kvmodel::Versionstamp::of(3, 0), "slow", 1});
  });
  cli::QueueListenOptions options;
  options.visibility_ms = 30;
  options.max_messages = 3;
  auto status = f.client.listen_queue(
      [&](const net::QueueDelivery& d) {
        ++calls;
        if (d.payload == "slow") {
          // Slow until the listener has extended the lease at least once.
          auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
          while (std::chrono::steady_clock::now() < until) {
            auto requests = f.cluster->queue_requests();
            if (!requests.empty() && std::holds_alternative<kvmodel::QueueExtend>(requests.back()))
              break;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
        }
        return d.payload != "fail";
      },
      options);
  feeder.join();
  CHECK(status.is_ok());
  CHECK(calls == 3);
  auto requests = f.cluster->queue_requests();
  REQUIRE(requests.size() >= 4);
  CHECK(std::get<kvmodel::QueueAck>(requests[0]).message_id == "m1");
  CHECK(std::get<kvmodel::QueueNack>(requests[1]).message_id == "m2");
  CHECK(std::holds_alternative<kvmodel::QueueExtend>(requests[2]));
  CHECK(std::get<kvmodel::QueueAck>(requests.back()).message_id == "m3");
}
