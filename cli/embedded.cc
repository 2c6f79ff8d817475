#include "cli/embedded.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "node/node.h"

namespace cli {
namespace {

using Clock = std::chrono::steady_clock;

// The answer slot of one call(): filled once on the node thread, read by the caller. Shared, so
// an answer that arrives after the caller gave up (timeout) lands in a slot nobody reads.
class CallSlot {
 public:
  void fill(net::ResponseBody body) {
    {
      std::lock_guard lock(mu_);
      body_ = std::move(body);
    }
    cv_.notify_one();
  }
  std::optional<net::ResponseBody> wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return body_.has_value(); })) return std::nullopt;
    return std::move(body_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<net::ResponseBody> body_;
};

// One "connection" to the embedded node. Its requests and streams are named by
// (connection id, request id), as a TCP connection's are, so cancel_stream() reaches only this
// channel's streams and dropping the channel ends them (as closing a socket does).
class EmbeddedChannel final : public Channel {
 public:
  explicit EmbeddedChannel(std::shared_ptr<EmbeddedStore> store)
      : store_(std::move(store)), connection_(store_->next_connection_id()) {}
  ~EmbeddedChannel() override { store_->node().close_connection(connection_); }

  base::Result<net::ResponseBody> call(net::RequestBody body,
                                       std::chrono::milliseconds timeout) override {
    if (net::opens_stream(body)) {
      return base::invalid_argument("watch and queue listen requests need open_stream()");
    }
    auto slot = std::make_shared<CallSlot>();
    store_->node().submit(
        std::move(body), [slot](net::ResponseBody answer) { slot->fill(std::move(answer)); },
        node::Origin{connection_, next_request_++});
    std::optional<net::ResponseBody> answer = slot->wait(timeout);
    if (!answer) {
      return base::Status(
          base::Code::kTimeout,
          fmt::format("the embedded node did not answer within {} ms", timeout.count()));
    }
    return std::move(*answer);
  }

  uint64_t open_stream(net::RequestBody body, StreamCallback on_frame) override {
    uint64_t stream_id = next_request_++;
    // The callback owns nothing of the store (see embedded.h), so it may outlive the channel.
    store_->node().submit(
        std::move(body),
        [on_frame = std::move(on_frame)](net::ResponseBody frame) { on_frame(std::move(frame)); },
        node::Origin{connection_, stream_id});
    return stream_id;
  }

  void cancel_stream(uint64_t stream_id) override {
    // The stream's own callback receives its StreamEnd; the Cancel's answer is not needed.
    store_->node().submit(
        net::Cancel{stream_id}, [](net::ResponseBody) {},
        node::Origin{connection_, next_request_++});
  }

  // The node runs as long as any channel holds the store.
  bool is_open() const override { return true; }

 private:
  std::shared_ptr<EmbeddedStore> store_;
  const uint64_t connection_;
  std::atomic<uint64_t> next_request_{1};
};

class EmbeddedConnector final : public Connector {
 public:
  explicit EmbeddedConnector(std::shared_ptr<EmbeddedStore> store) : store_(std::move(store)) {}

  base::Result<std::shared_ptr<Channel>> connect(const std::string& address) override {
    if (address != kEmbeddedAddress) {
      return base::Status(base::Code::kUnavailable,
                          fmt::format("the embedded store has only the address '{}', not '{}'",
                                      kEmbeddedAddress, address));
    }
    return std::shared_ptr<Channel>(std::make_shared<EmbeddedChannel>(store_));
  }

 private:
  std::shared_ptr<EmbeddedStore> store_;
};

// True once the node leads and has applied everything it logged, including the empty entry
// that opens its term: from then on it serves reads and writes without "not leader" answers.
bool serving(const net::NodeStatus& status) {
  return status.role == raft::Role::kLeader && status.last_index > 0 &&
         status.applied >= status.last_index;
}

}  // namespace

// A single voter sends no Raft messages; membership changes have nowhere to go.
class EmbeddedStore::NoPeers final : public node::PeerTransport {
 public:
  void send(raft::Message) override {}
  void set_peer(raft::NodeId, const std::string&) override {}
  void remove_peer(raft::NodeId) override {}
};

EmbeddedStore::EmbeddedStore() : transport_(std::make_unique<NoPeers>()) {}

EmbeddedStore::~EmbeddedStore() {
  if (node_) node_->stop(false);
}

base::Result<std::shared_ptr<EmbeddedStore>> EmbeddedStore::open(EmbeddedOptions options) {
  std::shared_ptr<EmbeddedStore> store(new EmbeddedStore());
  node::NodeOptions node_options;
  node_options.id = 1;
  node_options.in_memory = true;
  node_options.client_addr = std::string(kEmbeddedAddress);
  node_options.peer_addr = std::string(kEmbeddedAddress);
  node_options.peers = {{1, std::string(kEmbeddedAddress)}};
  node_options.seed = options.seed;
  auto opened = node::Node::open(std::move(node_options), *store->transport_);
  if (!opened.is_ok()) {
    return base::Status(
        base::Code::kUnavailable,
        fmt::format("the embedded node could not start: {}", opened.status().message()));
  }
  store->node_ = std::move(*opened);
  store->node_->start();

  // A single voter campaigns at once; wait (polling its status, bounded) until it serves.
  const auto deadline = Clock::now() + options.leader_wait;
  auto pause = std::chrono::milliseconds(1);
  net::NodeStatus status = store->node_->status();
  while (!serving(status)) {
    if (Clock::now() >= deadline) {
      return base::Status(
          base::Code::kUnavailable,
          fmt::format("the embedded node did not become leader within {} ms (role {}, "
                      "applied {} of {})",
                      options.leader_wait.count(), net::role_name(status), status.applied,
                      status.last_index));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
    status = store->node_->status();
  }
  return store;
}

uint64_t EmbeddedStore::next_connection_id() { return next_connection_++; }

std::unique_ptr<Connector> EmbeddedStore::connector() {
  return std::make_unique<EmbeddedConnector>(shared_from_this());
}

std::unique_ptr<Client> EmbeddedStore::client(ClientOptions options) {
  return std::make_unique<Client>(std::vector<std::string>{std::string(kEmbeddedAddress)}, options,
                                  connector());
}

base::Result<std::unique_ptr<Client>> open_embedded(ClientOptions client_options,
                                                    EmbeddedOptions options) {
  auto store = EmbeddedStore::open(options);
  if (!store.is_ok()) return store.status();
  // The client's connector holds the only reference left: the store stops with the client.
  return (*store)->client(client_options);
}

}  // namespace cli
