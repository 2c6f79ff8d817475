// Client protocol over real loopback sockets: bad frames, pipelining, server push.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <set>

#include "base/bytes.h"
#include "net/client_codec.h"
#include "net/client_connection.h"
#include "net/connection.h"
#include "net/test_util.h"

namespace {

using net::testing::eventually;
using net::testing::Inbox;
using net::testing::IoThread;
using net::testing::server_closes_after;
using namespace std::chrono_literals;

constexpr size_t kLimitBytes = 1 << 20;

// A server answering LeaderTransfer{to} with StatusResult{nodes: [{id: to}]} (so a response
// proves which request it answers) and Watch with `watch_events` WatchEvents then StreamEnd.
struct TestServer {
  IoThread thread;
  std::shared_ptr<net::Server> server;
  size_t watch_events = 0;
  std::atomic<size_t> closes{0};

  TestServer() {
    net::ConnectionHandlers handlers;
    handlers.on_frame = [this](const net::ConnectionPtr& conn, base::Bytes payload) {
      auto request = net::decode_request(payload);
      REQUIRE(request.is_ok());  // the verifier already ran: decoding must succeed
      respond(*conn, *request);
    };
    handlers.on_close = [this](const net::ConnectionPtr&, const base::Status&) { ++closes; };
    server = net::Server::create(thread.io(), {kLimitBytes, net::verify_request, "client"},
                                 std::move(handlers));
    REQUIRE(thread.run([&] { return server->listen("127.0.0.1:0"); }).is_ok());
  }
  ~TestServer() {
    thread.run([&] { server->stop(); });
  }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(server->local_endpoint().port());
  }
  size_t connections() {
    return thread.run([&] { return server->connection_count(); });
  }

  void respond(net::Connection& conn, const net::Request& request) {
    if (const auto* t = std::get_if<net::LeaderTransfer>(&request.body)) {
      net::StatusResult status;
      status.nodes.push_back(net::NodeStatus{.id = t->to});
      conn.send_payload(net::encode_response({request.id, status}));
    } else if (std::holds_alternative<net::Watch>(request.body)) {
      for (size_t i = 0; i < watch_events; ++i) {
        net::WatchEvent event;
        event.entries.push_back({"k" + std::to_string(i), std::nullopt});
        conn.send_payload(net::encode_response({request.id, event}));
      }
      conn.send_payload(net::encode_response({request.id, net::StreamEnd{}}));
    } else {
      conn.send_payload(net::encode_response({request.id, net::Ok{}}));
    }
  }
};

void check_good_client_works(net::BlockingClient& client, uint64_t marker) {
  auto response = client.call(net::LeaderTransfer{marker}, 20s);
  REQUIRE(response.is_ok());
  auto* status = std::get_if<net::StatusResult>(&response->body);
  REQUIRE(status != nullptr);
  REQUIRE(status->nodes.size() == 1);
  CHECK(status->nodes[0].id == marker);
}

}  // namespace

TEST_CASE(
    "transport: garbage, oversized, checksum-failing and malformed frames close only "
    "that connection") {
  TestServer server;
  net::BlockingClient good;
  REQUIRE(good.connect(server.address()).is_ok());
  check_good_client_works(good, 1);

  base::Bytes garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  base::Bytes oversized;
  base::put_u32_le(oversized, kLimitBytes + 1);
  base::put_u64_le(oversized, 0);
  base::Bytes bad_checksum = net::encode_frame(net::encode_request({1, net::MemberList{}}));
  bad_checksum.back() ^= 1;
  base::Bytes not_a_request = net::encode_frame("valid frame, not a flatbuffer request");
  base::Bytes request = net::encode_request({1, net::MemberList{}});
  base::Bytes truncated_flatbuffer = net::encode_frame(request.substr(0, request.size() / 2));

  uint64_t marker = 2;
  for (const auto& bad : {garbage, oversized, bad_checksum, not_a_request, truncated_flatbuffer}) {
    CAPTURE(marker);
    CHECK(server_closes_after(server.address(), bad));
    check_good_client_works(good, marker++);
  }
  // A truncated frame is not an error by itself: the server waits for the rest, and cleans up
  // when that client goes away.
  {
    base::Bytes frame = net::encode_frame(net::encode_request({1, net::MemberList{}}));
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect(*net::resolve_endpoint(server.address()));
    asio::write(socket, asio::buffer(frame.data(), frame.size() - 5));
    CHECK(eventually([&] { return server.connections() == 2; }));
  }
  CHECK(eventually([&] { return server.connections() == 1; }));
  check_good_client_works(good, 100);
}

TEST_CASE("client: a thousand requests in flight on one connection each get their own answer") {
  TestServer server;
  net::BlockingClient client;
  REQUIRE(client.connect(server.address()).is_ok());
  std::vector<std::future<base::Result<net::Response>>> futures;
  std::vector<std::thread> threads;
  std::mutex mu;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; i < 250; ++i) {
        auto f = client.call_async(net::LeaderTransfer{t * 1000 + i});
        std::lock_guard lock(mu);
        futures.push_back(std::move(f));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<uint64_t> answered;
  std::set<uint64_t> ids;
  for (auto& f : futures) {
    REQUIRE(f.wait_for(20s) == std::future_status::ready);
    auto response = f.get();
    REQUIRE(response.is_ok());
    ids.insert(response->id);
    answered.push_back(std::get<net::StatusResult>(response->body).nodes.at(0).id);
  }
  CHECK(ids.size() == 1000);
  std::sort(answered.begin(), answered.end());
  std::vector<uint64_t> expected;
  for (uint64_t t = 0; t < 4; ++t) {
    for (uint64_t i = 0; i < 250; ++i) expected.push_back(t * 1000 + i);
  }
  CHECK(answered == expected);
}

TEST_CASE(
    "client: server-pushed stream frames arrive in order under the stream's id, then "
    "StreamEnd, while other requests still work") {
  TestServer server;
  server.watch_events = 300;
  net::BlockingClient client;
  REQUIRE(client.connect(server.address()).is_ok());
  Inbox<base::Result<net::Response>> frames;
  const uint64_t stream =
      client.open_stream(net::Watch{{"k"}, std::nullopt},
                         [&](base::Result<net::Response> r) { frames.push(std::move(r)); });
  check_good_client_works(client, 7);
  REQUIRE(frames.wait_for(301));
  auto got = frames.items();
  REQUIRE(got.size() == 301);
  for (size_t i = 0; i < 300; ++i) {
    REQUIRE(got[i].is_ok());
    CHECK(got[i]->id == stream);
    auto* event = std::get_if<net::WatchEvent>(&got[i]->body);
    REQUIRE(event != nullptr);
    CHECK(event->entries.at(0).key == "k" + std::to_string(i));
  }
  REQUIRE(got[300].is_ok());
  CHECK(std::holds_alternative<net::StreamEnd>(got[300]->body));
}

TEST_CASE("client: requests pending when the server goes away fail as unavailable") {
  IoThread thread;
  std::shared_ptr<net::Server> server;
  // This server never answers, then closes every connection.
  server = net::Server::create(thread.io(), {kLimitBytes, net::verify_request, "client"}, {});
  REQUIRE(thread.run([&] { return server->listen("127.0.0.1:0"); }).is_ok());
  net::BlockingClient client;
  REQUIRE(client.connect("127.0.0.1:" + std::to_string(server->local_endpoint().port())).is_ok());
  auto pending = client.call_async(net::MemberList{});
  CHECK(eventually([&] { return thread.run([&] { return server->connection_count() == 1; }); }));
  thread.run([&] { server->stop(); });
  REQUIRE(pending.wait_for(20s) == std::future_status::ready);
  auto response = pending.get();
  REQUIRE_FALSE(response.is_ok());
  CHECK(response.status().code() == base::Code::kUnavailable);
  CHECK(eventually([&] { return !client.is_open(); }));
  auto after = client.call(net::MemberList{}, 20s);
  REQUIRE_FALSE(after.is_ok());
  CHECK(after.status().code() == base::Code::kUnavailable);
}

TEST_CASE("client: connecting to a closed port fails with a clear unavailable error") {
  uint16_t port;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }  // closed again: nothing listens there now
  net::BlockingClient client;
  auto status = client.connect("127.0.0.1:" + std::to_string(port));
  CHECK(status.code() == base::Code::kUnavailable);
  CHECK(status.message().find("cannot connect") != std::string::npos);
  CHECK(client.connect("no-port-here").code() == base::Code::kInvalidArgument);
}
