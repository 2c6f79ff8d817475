// The client service over real loopback sockets in front of a single in-memory node: streams
// are named per connection (Cancel), and a closed connection's streams end.
#include <doctest/doctest.h>

#include <asio.hpp>

#include "net/client_connection.h"
#include "node/client_service.h"
#include "node/test_cluster.h"

using namespace node_test;

namespace {

// A single-node cluster (as `kvd --in-memory`) served on 127.0.0.1:<free port>.
struct Server {
  Router router;
  RouterTransport transport{router, 1};
  std::unique_ptr<node::Node> node;
  asio::io_context io;
  std::unique_ptr<node::ClientService> service;
  std::thread io_thread;
  std::string address;

  Server() {
    node::NodeOptions o;
    o.id = 1;
    o.in_memory = true;
    o.peers[1] = peer_addr_of(1);
    auto created = node::Node::open(o, transport);
    REQUIRE(created.is_ok());
    node = std::move(*created);
    node->start();
    service = std::make_unique<node::ClientService>(io, *node);
    REQUIRE(service->listen("127.0.0.1:0").is_ok());
    address = "127.0.0.1:" + std::to_string(service->local_endpoint().port());
    io_thread = std::thread([this] {
      auto guard = asio::make_work_guard(io);
      io.run();
    });
    REQUIRE(eventually([&] { return node->status().role == raft::Role::kLeader; }));
  }
  ~Server() {
    node->stop(false);
    asio::post(io, [this] {
      service->stop();
      io.stop();
    });
    io_thread.join();
  }
};

// Pushes stream frames into a collector.
net::ClientConnection::Callback into(StreamCollector& s) {
  node::Reply reply = s.reply();
  return [reply](base::Result<net::Response> frame) {
    if (frame.is_ok()) {
      reply(std::move(frame->body));
    } else {
      reply(net::Error{frame.status().code(), frame.status().message(), std::nullopt});
    }
  };
}

}  // namespace

TEST_CASE("client service: Cancel ends the stream it names on its own connection only") {
  Server server;
  net::BlockingClient a, b;
  REQUIRE(a.connect(server.address).is_ok());
  REQUIRE(b.connect(server.address).is_ok());
  StreamCollector watch;
  uint64_t stream = a.open_stream(net::Watch{{k("x")}, std::nullopt}, into(watch));
  auto first = watch.next();
  REQUIRE(first.has_value());
  REQUIRE(std::holds_alternative<net::WatchEvent>(*first));
  // Another connection cannot cancel it.
  auto foreign = b.call(net::Cancel{stream}, 10s);
  REQUIRE(foreign.is_ok());
  REQUIRE(std::holds_alternative<net::Error>(foreign->body));
  CHECK(std::get<net::Error>(foreign->body).code == base::Code::kNotFound);
  // A write over the other connection wakes the watcher.
  auto w = b.call(set_write(k("x"), "1"), 10s);
  REQUIRE(w.is_ok());
  auto change = watch.next();
  REQUIRE(change.has_value());
  REQUIRE(std::holds_alternative<net::WatchEvent>(*change));
  CHECK(std::get<net::WatchEvent>(*change).entries[0].entry->value.data == "1");
  auto cancelled = a.call(net::Cancel{stream}, 10s);
  REQUIRE(cancelled.is_ok());
  CHECK(std::holds_alternative<net::Ok>(cancelled->body));
  auto end = watch.next();
  REQUIRE(end.has_value());
  CHECK(std::holds_alternative<net::StreamEnd>(*end));
}

TEST_CASE("client service: a closed connection's queue listener gets no more messages") {
  Server server;
  StreamCollector gone_stream, live_stream;
  {
    net::BlockingClient gone;
    REQUIRE(gone.connect(server.address).is_ok());
    gone.open_stream(net::QueueListen{"gone", 1, 5000}, into(gone_stream));
    // The listener is registered once a request sent after it was answered.
    REQUIRE(gone.call(net::MemberList{}, 10s).is_ok());
  }  // closes the connection
  net::BlockingClient live;
  REQUIRE(live.connect(server.address).is_ok());
  live.open_stream(net::QueueListen{"live", 1, 5000}, into(live_stream));
  REQUIRE(live.call(net::MemberList{}, 10s).is_ok());
  kvmodel::AtomicWrite enqueue;
  enqueue.enqueues.push_back(kvmodel::Enqueue{"job", 0, {}, {}});
  REQUIRE(live.call(enqueue, 10s).is_ok());
  // Had the closed listener still counted, it (the older consumer) would have been leased the
  // message first and this delivery would be a redelivery after its 5 s lease.
  auto d = live_stream.next();
  REQUIRE(d.has_value());
  REQUIRE(std::holds_alternative<net::QueueDelivery>(*d));
  CHECK(std::get<net::QueueDelivery>(*d).payload == "job");
  CHECK(std::get<net::QueueDelivery>(*d).attempt == 1);
}
