// Integration tests with three real kvd processes on loopback (issue 5): failover after
// kill -9, catch-up after restart and by snapshot, whole-cluster crash, exactly-once retries,
// and hostile frames. Every wait is on a condition with a generous deadline.
#include <doctest/doctest.h>

#include <asio.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "base/bytes.h"
#include "cli/client.h"
#include "kvmodel/key.h"
#include "net/client_codec.h"
#include "net/client_connection.h"
#include "net/frame.h"
#include "tests/client_helpers.h"
#include "tests/process_cluster.h"

using namespace std::chrono_literals;
using cli::split_endpoints;
using testing_support::bytes_value;
using testing_support::key;
using testing_support::patient;
using testing_support::ProcessCluster;

namespace {

// Eventual read of `k` on one node only.
std::optional<std::string> read_on(ProcessCluster& c, int id, const base::Bytes& k) {
  cli::Client one({c.client_addr(id)});
  auto r = one.get(k, kvmodel::Consistency::kEventual);
  if (!r.is_ok() || !r->has_value()) return std::nullopt;
  return (*r)->value.data;
}

bool wait_until(const std::function<bool()>& done, std::chrono::seconds deadline = 30s) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

}  // namespace

TEST_CASE("cluster: after kill -9 of the leader, writes succeed again within 3 seconds") {
  ProcessCluster c;
  c.start_all();
  int leader = c.wait_leader();
  REQUIRE(leader != 0);
  cli::Client client(split_endpoints(c.endpoints()), patient());
  REQUIRE(client.set(key("before"), bytes_value("1"))->ok);

  auto killed_at = std::chrono::steady_clock::now();
  c.kill9(leader);
  auto r = client.set(key("after"), bytes_value("2"));
  auto recovered_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - killed_at)
                          .count();
  REQUIRE(r.is_ok());
  CHECK(r->ok);
  MESSAGE("first write after the leader's kill -9 took " << recovered_ms << " ms");
  CHECK(recovered_ms < 3000);

  SUBCASE("the restarted node catches up") {
    c.start(leader);
    CHECK(wait_until([&] { return read_on(c, leader, key("after")) == "2"; }));
    CHECK(read_on(c, leader, key("before")) == "1");
  }
}

TEST_CASE("cluster: a follower behind the compacted log catches up by snapshot") {
  testing_support::ProcessClusterOptions options;
  options.extra_flags = {"--snapshot-entries", "50"};
  ProcessCluster c(options);
  c.start_all();
  int leader = c.wait_leader();
  REQUIRE(leader != 0);
  int follower = leader % 3 + 1;
  c.kill9(follower);
  cli::Client client(split_endpoints(c.endpoints()), patient());
  for (int i = 0; i < 300; ++i) {
    auto r = client.set(key("k" + std::to_string(i)), bytes_value(std::to_string(i)));
    REQUIRE(r.is_ok());
    REQUIRE(r->ok);
  }
  auto leader_status = c.status(leader);
  REQUIRE(leader_status.has_value());
  CHECK(leader_status->last_snapshot_index > 0);
  c.start(follower);
  CHECK(wait_until([&] { return read_on(c, follower, key("k299")) == "299"; }));
  for (int i = 0; i < 300; i += 23)
    CHECK(read_on(c, follower, key("k" + std::to_string(i))) == std::to_string(i));
  auto st = c.status(follower);
  REQUIRE(st.has_value());
  CHECK(st->last_snapshot_index > 0);  // it installed the leader's snapshot
}

TEST_CASE("cluster: kill -9 of all three nodes at once loses no acknowledged write") {
  ProcessCluster c;
  c.start_all();
  REQUIRE(c.wait_leader() != 0);
  std::vector<std::string> acknowledged;
  {
    cli::Client client(split_endpoints(c.endpoints()), patient());
    // Concurrent writers so that the crash lands in the middle of group commits.
    std::vector<std::thread> writers;
    std::mutex mu;
    std::atomic<bool> stop{false};
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; !stop; ++i) {
          std::string name = "w" + std::to_string(w) + "-" + std::to_string(i);
          auto r = client.set(key(name), bytes_value(name));
          if (r.is_ok() && r->ok) {
            std::lock_guard lock(mu);
            acknowledged.push_back(name);
          }
        }
      });
    }
    wait_until([&] {
      std::lock_guard lock(mu);
      return acknowledged.size() >= 200;
    });
    for (int id = 1; id <= 3; ++id) c.kill9(id);
    stop = true;
    for (auto& t : writers) t.join();
  }
  REQUIRE(acknowledged.size() >= 200);
  c.start_all();
  REQUIRE(c.wait_leader() != 0);
  cli::Client client(split_endpoints(c.endpoints()), patient());
  size_t missing = 0;
  for (const auto& name : acknowledged) {
    auto r = client.get(key(name));
    REQUIRE(r.is_ok());
    if (!r->has_value() || (*r)->value.data != name) ++missing;
  }
  CHECK(missing == 0);
}

TEST_CASE("cluster: a write retried after its connection was cut applies exactly once") {
  ProcessCluster c;
  c.start_all();
  int leader = c.wait_leader();
  REQUIRE(leader != 0);
  std::string le(8, '\0');
  le[0] = 7;
  kvmodel::AtomicWrite sum;
  sum.client_id = 0xfeedbeef;
  sum.sequence = 1;
  sum.mutations.push_back(kvmodel::Mutation{kvmodel::MutationKind::kSum, key("counter"),
                                            kvmodel::Value{kvmodel::ValueEncoding::kLe64, le}});
  {
    // Send, then cut the connection before reading the answer.
    net::BlockingClient raw;
    REQUIRE(raw.connect(c.client_addr(leader)).is_ok());
    auto pending = raw.call_async(sum);
    raw.close();
  }
  // The retry carries the same (client_id, sequence): whatever happened to the first attempt,
  // the sum is applied once.
  net::AtomicWriteResult first_answer;
  REQUIRE(wait_until([&] {
    net::BlockingClient raw;
    if (!raw.connect(c.client_addr(leader)).is_ok()) return false;
    auto r = raw.call(sum, 5s);
    if (!r.is_ok()) return false;
    auto* w = std::get_if<net::AtomicWriteResult>(&r->body);
    if (w == nullptr) return false;
    first_answer = *w;
    return true;
  }));
  CHECK(first_answer.ok);
  net::BlockingClient raw;
  REQUIRE(raw.connect(c.client_addr(leader)).is_ok());
  auto again = raw.call(sum, 5s);
  REQUIRE(again.is_ok());
  auto* w = std::get_if<net::AtomicWriteResult>(&again->body);
  REQUIRE(w != nullptr);
  CHECK(w->versionstamp == first_answer.versionstamp);
  cli::Client client(split_endpoints(c.endpoints()), patient());
  auto value = client.get(key("counter"));
  REQUIRE(value.is_ok());
  REQUIRE(value->has_value());
  CHECK(static_cast<uint8_t>((*value)->value.data[0]) == 7);
}

TEST_CASE("cluster: garbage, truncated and oversized frames close only their connection") {
  ProcessCluster c;
  c.start_all();
  int leader = c.wait_leader();
  REQUIRE(leader != 0);
  asio::io_context io;
  auto endpoint = asio::ip::tcp::endpoint(
      asio::ip::make_address("127.0.0.1"),
      static_cast<unsigned short>(std::stoi(c.client_addr(leader).substr(10))));
  auto send_raw = [&](const base::Bytes& bytes, bool half_close) {
    asio::ip::tcp::socket s(io);
    s.connect(endpoint);
    asio::write(s, asio::buffer(bytes));
    if (half_close) s.shutdown(asio::ip::tcp::socket::shutdown_send);
    // The node must close the connection (EOF or reset), not hang and not crash.
    char buf[64];
    asio::error_code ec;
    s.read_some(asio::buffer(buf), ec);
    return ec;
  };
  base::Bytes garbage(100, '\x5a');
  CHECK(send_raw(garbage, false));  // bad checksum / length
  base::Bytes oversized;
  base::put_u32_le(oversized, 64u << 20);  // 64 MiB > the 16 MiB limit
  base::put_u64_le(oversized, 0);
  CHECK(send_raw(oversized, false));
  base::Bytes valid_request =
      net::encode_frame(net::encode_request(net::Request{1, net::StatusRequest{true}}));
  CHECK(send_raw(valid_request.substr(0, valid_request.size() / 2), true));  // truncated
  base::Bytes wrong_checksum = valid_request;
  wrong_checksum.back() ^= 1;
  CHECK(send_raw(wrong_checksum, false));
  base::Bytes not_flatbuffer = net::encode_frame("this is not a flatbuffer at all");
  CHECK(send_raw(not_flatbuffer, false));
  // Every node is still up and serving.
  cli::Client client(split_endpoints(c.endpoints()), patient());
  auto r = client.set(key("still-serving"), bytes_value("yes"));
  REQUIRE(r.is_ok());
  CHECK(r->ok);
  for (int id = 1; id <= 3; ++id) CHECK(c.running(id));
  CHECK(c.status(leader).has_value());
}

TEST_CASE("cluster: SIGTERM on the leader hands leadership over and exits cleanly") {
  ProcessCluster c;
  c.start_all();
  int leader = c.wait_leader();
  REQUIRE(leader != 0);
  cli::Client client(split_endpoints(c.endpoints()), patient());
  REQUIRE(client.set(key("x"), bytes_value("1"))->ok);
  c.terminate(leader);
  auto log = testing_support::run_command("cat " + c.log_path(leader));
  CHECK(log.out.find("transferring leadership") != std::string::npos);
  CHECK(log.out.find("kvd stopped cleanly") != std::string::npos);
  int next = c.wait_leader();
  CHECK(next != 0);
  CHECK(next != leader);
  auto r = client.get(key("x"));
  REQUIRE(r.is_ok());
  REQUIRE(r->has_value());
  CHECK((*r)->value.data == "1");
}

TEST_CASE("cluster: every kv command works against a real cluster") {
  ProcessCluster c;
  c.start_all();
  REQUIRE(c.wait_leader() != 0);
  const std::string kv = testing_support::binary_path("KV") + " --endpoints " + c.endpoints() + " ";
  auto run = [&](const std::string& args) { return testing_support::run_command(kv + args); };

  auto set = run("--json set '[\"users\",1]' '{\"name\":\"ada\",\"langs\":[\"en\",\"fr\"]}'");
  REQUIRE(set.exit_code == 0);
  CHECK(set.out.find("{\"ok\":true,\"versionstamp\":\"") == 0);
  std::string versionstamp =
      set.out.substr(std::string("{\"ok\":true,\"versionstamp\":\"").size(), 20);

  auto get = run("--json get '[\"users\",1]'");
  CHECK(get.exit_code == 0);
  CHECK(get.out ==
        "{\"key\":[\"users\",1],\"value\":{\"name\":\"ada\",\"langs\":[\"en\",\"fr\"]},"
        "\"versionstamp\":\"" +
            versionstamp + "\"}\n");
  auto eventual = run("--json get '[\"users\",1]' --consistency eventual");
  CHECK(eventual.exit_code == 0);
  CHECK(eventual.out.find("\"value\":{\"name\":\"ada\"") != std::string::npos);
  CHECK(run("--json get '[\"users\",404]'").out ==
        "{\"key\":[\"users\",404],\"value\":null,\"versionstamp\":null}\n");

  REQUIRE(run("set '[\"users\",2]' '\"bob\"'").exit_code == 0);
  REQUIRE(run("set '[\"users\",3]' --u64 7").exit_code == 0);
  REQUIRE(run("set '[\"blob\"]' --bytes AAEC").exit_code == 0);
  CHECK(run("--json get '[\"users\",3]'").out.find("\"value\":{\"u64\":\"7\"}") !=
        std::string::npos);
  CHECK(run("--json get '[\"blob\"]'").out.find("\"value\":{\"bytes\":\"AAEC\"}") !=
        std::string::npos);

  auto list = run("--json list --prefix '[\"users\"]'");
  CHECK(list.exit_code == 0);
  CHECK(std::count(list.out.begin(), list.out.end(), '\n') == 3);
  CHECK(list.out.find("[\"users\",1]") < list.out.find("[\"users\",2]"));
  auto reversed = run("--json list --prefix '[\"users\"]' --reverse --limit 1");
  CHECK(std::count(reversed.out.begin(), reversed.out.end(), '\n') == 1);
  CHECK(reversed.out.find("[\"users\",3]") != std::string::npos);
  auto range = run("--json list --start '[\"users\",2]' --end '[\"users\",3]'");
  CHECK(range.out.find("[\"users\",2]") != std::string::npos);
  CHECK(range.out.find("[\"users\",3]") == std::string::npos);

  // A check on a versionstamp that is no longer current fails with exit code 3, changes nothing.
  std::string doc =
      "{\"checks\":[{\"key\":[\"users\",1],\"versionstamp\":\"00000000000000010000\"}],"
      "\"mutations\":[{\"type\":\"delete\",\"key\":[\"users\",1]}]}";
  auto write_doc = [&](const std::string& text) {
    std::string path = c.data_dir(1) + "-doc.json";
    std::ofstream(path) << text;
    return path;
  };
  auto failed = run("--json atomic " + write_doc(doc));
  CHECK(failed.exit_code == 3);
  CHECK(failed.out == "{\"ok\":false,\"failed_checks\":[0]}\n");
  std::string good =
      "{\"checks\":[{\"key\":[\"users\",1],\"versionstamp\":\"" + versionstamp +
      "\"}],"
      "\"mutations\":[{\"type\":\"sum\",\"key\":[\"users\",3],\"value\":{\"u64\":\"5\"}},"
      "{\"type\":\"set\",\"key\":[\"tmp\"],\"value\":1,\"expire_in\":60000}]}";
  auto ok = run("--json atomic - < " + write_doc(good));
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("{\"ok\":true") == 0);
  CHECK(run("--json get '[\"users\",3]'").out.find("{\"u64\":\"12\"}") != std::string::npos);

  CHECK(run("delete '[\"users\",2]'").exit_code == 0);
  CHECK(run("--json get '[\"users\",2]'").out.find("\"value\":null") != std::string::npos);

  auto status = run("--json status");
  CHECK(status.exit_code == 0);
  CHECK(status.out.find("\"leader\":") != std::string::npos);
  CHECK(std::count(status.out.begin(), status.out.end(), '{') == 4);  // outer + 3 nodes
  CHECK(run("status").out.find("leader") != std::string::npos);

  CHECK(run("key encode '[\"hello\"]'").out == "0268656c6c6f00\n");
  CHECK(run("key decode 0268656c6c6f00").out == "[\"hello\"]\n");

  // Bad input: a clear message on stderr, a non-zero exit, and nothing written.
  auto bad_key = run("get 'not json'");
  CHECK(bad_key.exit_code == 2);
  CHECK(bad_key.err.find("bad key") != std::string::npos);
  CHECK(run("frobnicate").exit_code == 2);
  CHECK(run("get '[\"x\"]' --no-such-flag").exit_code == 2);
  auto big = run("set '[\"big\"]' --bytes " + base::base64_encode(std::string(70000, 'x')));
  CHECK(big.exit_code != 0);
  CHECK(big.err.find("Value too large") != std::string::npos);
  CHECK(run("--json get '[\"big\"]'").out.find("\"value\":null") != std::string::npos);
  auto unreachable = testing_support::run_command(
      testing_support::binary_path("KV") + " --endpoints 127.0.0.1:1 --timeout 500 get '[\"x\"]'");
  CHECK(unreachable.exit_code == 1);
  CHECK(unreachable.err.find("127.0.0.1:1") != std::string::npos);
}
