// The client library over the embedded store: the same operations as client_test.cc, but
// against a real single-node replica (node::Node, in-memory WAL) in this process.
#include "cli/embedded.h"

#include <doctest/doctest.h>

#include <thread>

#include "cli/watch.h"
#include "kvmodel/key.h"
#include "node/node.h"

using base::Bytes;
using namespace std::chrono_literals;

namespace {

Bytes k(const char* a, const char* b = nullptr) {
  kvmodel::Key key{kvmodel::KeyPart::string(a)};
  if (b) key.push_back(kvmodel::KeyPart::string(b));
  return kvmodel::encode_key(key).value();
}

kvmodel::Value v(const std::string& bytes) {
  return kvmodel::Value{kvmodel::ValueEncoding::kBytes, bytes};
}

// Waits (bounded) until `key` exists; nullopt when it never appears.
std::optional<kvmodel::KvEntry> wait_for_key(cli::Client& client, const Bytes& key) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto got = client.get(key);
    REQUIRE(got.is_ok());
    if (got->has_value()) return **got;
    std::this_thread::sleep_for(5ms);
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("embedded: a fresh store serves at once: set, get, get_many and remove") {
  auto client = cli::open_embedded().value();
  auto set = client->set(k("a"), v("1"));
  REQUIRE(set.is_ok());
  CHECK(set->ok);
  REQUIRE(set->versionstamp.has_value());
  auto got = client->get(k("a")).value();
  REQUIRE(got.has_value());
  CHECK(got->value == v("1"));
  CHECK(got->versionstamp == *set->versionstamp);

  auto second = client->set(k("b"), v("2")).value();
  CHECK(*second.versionstamp > *set->versionstamp);
  auto many = client->get_many({k("missing"), k("b"), k("a")}).value();
  REQUIRE(many.size() == 3);
  CHECK_FALSE(many[0].has_value());
  CHECK(many[1]->value == v("2"));
  CHECK(many[2]->value == v("1"));
  CHECK(client->get(k("b"), kvmodel::Consistency::kEventual).value()->value == v("2"));

  CHECK(client->remove(k("a")).value().ok);
  CHECK_FALSE(client->get(k("a")).value().has_value());
  // Bad input is refused with a clear error, and the store keeps serving.
  CHECK(client->set(Bytes(), v("x")).status().code() == base::Code::kInvalidArgument);
  CHECK(client->get(k("b")).value()->value == v("2"));
}

TEST_CASE("embedded: list pages through batches and resumes from a cursor") {
  auto client = cli::open_embedded().value();
  for (const char* p : {"a", "b", "c", "d", "e"}) CHECK(client->set(k("x", p), v(p))->ok);
  CHECK(client->set(k("y"), v("outside"))->ok);
  auto it = client->list({.prefix = k("x")}, {.limit = 3, .batch_size = 2}).value();
  std::string seen;
  while (auto e = it.next().value()) seen += e->value.data;
  CHECK(seen == "abc");
  REQUIRE(it.cursor().has_value());
  auto rest = client->list({.prefix = k("x")}, {.cursor = *it.cursor()}).value();
  while (auto e = rest.next().value()) seen += e->value.data;
  CHECK(seen == "abcde");
  auto backwards = client->list({.prefix = k("x")}, {.reverse = true, .batch_size = 2}).value();
  std::string reversed;
  while (auto e = backwards.next().value()) reversed += e->value.data;
  CHECK(reversed == "edcba");
}

TEST_CASE("embedded: an atomic write with a failed check applies nothing; sums add up") {
  auto client = cli::open_embedded().value();
  auto first = client->set(k("acct"), v("x")).value();
  auto stale = client->atomic()
                   .check(k("acct"), std::nullopt)  // "must not exist": fails
                   .set(k("acct"), v("y"))
                   .set(k("other"), v("z"))
                   .commit();
  REQUIRE(stale.is_ok());
  CHECK_FALSE(stale->ok);
  CHECK(stale->failed_checks == std::vector<uint32_t>{0});
  CHECK(client->get(k("acct")).value()->value == v("x"));
  CHECK_FALSE(client->get(k("other")).value().has_value());

  auto fresh =
      client->atomic().check(k("acct"), *first.versionstamp).set(k("acct"), v("y")).commit();
  REQUIRE(fresh.is_ok());
  CHECK(fresh->ok);
  CHECK(client->get(k("acct")).value()->value == v("y"));

  for (uint64_t operand : {5u, 7u, 30u}) CHECK(client->atomic().sum(k("n"), operand).commit()->ok);
  auto n = client->get(k("n")).value();
  REQUIRE(n.has_value());
  CHECK(n->value.encoding == kvmodel::ValueEncoding::kLe64);
  REQUIRE(n->value.data.size() == 8);
  CHECK(base::get_u64_le(n->value.data.data()) == 42);
}

TEST_CASE("embedded: a watch yields the current value, then a change made by another client") {
  auto store = cli::EmbeddedStore::open().value();
  auto writer = store->client();
  auto watcher = store->client();
  CHECK(writer->set(k("w"), v("1"))->ok);
  auto watch = watcher->watch({k("w"), k("none")}).value();
  auto first = watch.next(20s).value();
  REQUIRE(first.size() == 2);
  REQUIRE(first[0].has_value());
  CHECK(first[0]->value == v("1"));
  CHECK_FALSE(first[1].has_value());

  auto changed = writer->set(k("w"), v("2")).value();
  auto second = watch.next(20s).value();
  REQUIRE(second[0].has_value());
  CHECK(second[0]->value == v("2"));
  CHECK(second[0]->versionstamp == *changed.versionstamp);
  watch.cancel();
  // The store still serves after the stream was cancelled.
  CHECK(writer->get(k("w")).value()->value == v("2"));
}

TEST_CASE("embedded: an enqueued message reaches listen_queue and is gone once acked") {
  auto store = cli::EmbeddedStore::open().value();
  auto client = store->client();
  kvmodel::Enqueue message;
  message.payload = "hello";
  REQUIRE(client->enqueue(message).value().ok);

  std::vector<net::QueueDelivery> seen;
  cli::QueueListenOptions options;
  options.max_messages = 1;
  auto listened = client->listen_queue(
      [&](const net::QueueDelivery& d) {
        seen.push_back(d);
        return true;
      },
      options);
  CHECK(listened.is_ok());
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].payload == "hello");
  CHECK(seen[0].attempt == 1);
  // The listener's ack removed the message: acking it again finds nothing to ack.
  auto again = client->call_leader(kvmodel::QueueAck{seen[0].message_id, seen[0].lease_token});
  CHECK_FALSE(again.is_ok());
}

TEST_CASE(
    "embedded: a handler that always fails ends in the keys-if-undelivered after every "
    "attempt of the schedule") {
  auto store = cli::EmbeddedStore::open().value();
  auto client = store->client();
  kvmodel::Enqueue message;
  message.payload = "undeliverable";
  message.keys_if_undelivered = {k("dead", "1"), k("dead", "2")};
  message.backoff_schedule_ms = {10, 20};
  REQUIRE(client->enqueue(message).value().ok);

  std::vector<uint32_t> attempts;
  cli::QueueListenOptions options;
  options.max_messages = 3;  // 1 + len(schedule)
  auto listened = client->listen_queue(
      [&](const net::QueueDelivery& d) {
        attempts.push_back(d.attempt);
        return false;
      },
      options);
  CHECK(listened.is_ok());
  CHECK(attempts == std::vector<uint32_t>{1, 2, 3});
  for (const char* which : {"1", "2"}) {
    auto dead = wait_for_key(*client, k("dead", which));
    REQUIRE(dead.has_value());
    CHECK(dead->value.data == "undeliverable");
  }
}

TEST_CASE("embedded: the connector knows only the embedded address; the node reports leading") {
  auto store = cli::EmbeddedStore::open().value();
  auto connector = store->connector();
  auto refused = connector->connect("127.0.0.1:4501");
  CHECK(refused.status().code() == base::Code::kUnavailable);
  auto channel = connector->connect(std::string(cli::kEmbeddedAddress));
  REQUIRE(channel.is_ok());
  CHECK((*channel)->is_open());
  auto status = (*channel)->call(net::StatusRequest{true}, 5s);
  REQUIRE(status.is_ok());
  auto* result = std::get_if<net::StatusResult>(&*status);
  REQUIRE(result != nullptr);
  REQUIRE(result->nodes.size() == 1);
  CHECK(result->nodes[0].role == raft::Role::kLeader);
  CHECK(result->nodes[0].address == cli::kEmbeddedAddress);
  // A stream request through call() is refused, not left hanging.
  CHECK((*channel)->call(net::Watch{{k("a")}, std::nullopt}, 5s).status().code() ==
        base::Code::kInvalidArgument);
  CHECK(store->node().status().role == raft::Role::kLeader);
}
