// Test helpers for in-process clusters: real Nodes (in-memory WAL) wired by a message router
// instead of sockets, plus stream collectors and background writers. Header-only; included by
// the node/ tests only.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "node/node.h"

namespace node_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class Router {
 public:
  void attach(raft::NodeId id, node::Node* n) {
    std::lock_guard lock(mutex_);
    nodes_[id] = n;
  }
  void detach(raft::NodeId id) {
    std::lock_guard lock(mutex_);
    nodes_.erase(id);
  }
  void isolate(raft::NodeId id, bool on) {
    std::lock_guard lock(mutex_);
    if (on)
      isolated_.insert(id);
    else
      isolated_.erase(id);
  }
  void route(raft::Message m) {
    std::lock_guard lock(mutex_);
    if (isolated_.count(m.from) || isolated_.count(m.to)) return;
    auto it = nodes_.find(m.to);
    if (it != nodes_.end()) it->second->deliver(std::move(m));
  }

 private:
  std::mutex mutex_;
  std::map<raft::NodeId, node::Node*> nodes_;
  std::set<raft::NodeId> isolated_;
};

class RouterTransport final : public node::PeerTransport {
 public:
  RouterTransport(Router& router, raft::NodeId self) : router_(router), self_(self) {}
  void send(raft::Message message) override {
    message.from = self_;
    router_.route(std::move(message));
  }
  void set_peer(raft::NodeId, const std::string&) override {}
  void remove_peer(raft::NodeId) override {}

 private:
  Router& router_;
  raft::NodeId self_;
};

inline std::string peer_addr_of(raft::NodeId id) {
  return "127.0.0.1:" + std::to_string(4600 + id);
}
inline std::string client_addr_of(raft::NodeId id) {
  return "127.0.0.1:" + std::to_string(4500 + id);
}

// A cluster of `count` initial voters (ids 1..count); more nodes can join later. Node access
// is thread-safe (background writers run while the test adds nodes).
class Cluster {
 public:
  // `adjust` may change each node's options before it starts.
  using Adjust = std::function<void(raft::NodeId, node::NodeOptions&)>;
  explicit Cluster(int count, uint64_t snapshot_entries = 50, Adjust adjust = {})
      : snapshot_entries_(snapshot_entries), adjust_(std::move(adjust)) {
    for (int i = 1; i <= count; ++i) initial_peers_[i] = peer_addr_of(i);
    for (int i = 1; i <= count; ++i) start_node(i, false);
  }
  ~Cluster() {
    std::map<raft::NodeId, node::Node*> all = nodes();
    for (auto& [id, n] : all) router.detach(id);
    for (auto& [id, n] : all) n->stop(false);
  }

  // Starts node `id`; with join it starts empty and waits to be added (kvd --join).
  void start_node(raft::NodeId id, bool join) {
    node::NodeOptions o;
    o.id = id;
    o.in_memory = true;
    o.peers = initial_peers_;
    o.join = join;
    o.client_addr = client_addr_of(id);
    o.peer_addr = peer_addr_of(id);
    for (const auto& [peer, addr] : initial_peers_) o.client_addrs[peer] = client_addr_of(peer);
    // Elections in 200..400 ms: fast tests, yet no spurious elections on a loaded machine.
    o.tick_ms = 10;
    o.election_ticks = 20;
    o.seed = 100 + id;
    o.snapshot_entries = snapshot_entries_;
    if (adjust_) adjust_(id, o);
    auto transport = std::make_unique<RouterTransport>(router, id);
    auto created = node::Node::open(o, *transport);
    REQUIRE(created.is_ok());
    node::Node* n = created->get();
    {
      std::lock_guard lock(mutex_);
      transports_[id] = std::move(transport);
      nodes_[id] = std::move(*created);
    }
    router.attach(id, n);
    n->start();
  }

  node::Node& node(raft::NodeId id) {
    std::lock_guard lock(mutex_);
    return *nodes_.at(id);
  }
  std::map<raft::NodeId, node::Node*> nodes() {
    std::lock_guard lock(mutex_);
    std::map<raft::NodeId, node::Node*> out;
    for (auto& [id, n] : nodes_) out[id] = n.get();
    return out;
  }

  // Waits (generously) until some node reports itself leader.
  raft::NodeId wait_leader(raft::NodeId excluding = 0) {
    auto deadline = Clock::now() + 30s;
    while (Clock::now() < deadline) {
      for (auto& [id, n] : nodes()) {
        if (id == excluding) continue;
        if (n->status().role == raft::Role::kLeader) return id;
      }
      std::this_thread::sleep_for(5ms);
    }
    return 0;
  }

  net::ResponseBody call(raft::NodeId id, net::RequestBody request, node::Origin origin = {}) {
    auto promise = std::make_shared<std::promise<net::ResponseBody>>();
    auto future = promise->get_future();
    node(id).submit(
        std::move(request),
        [promise](net::ResponseBody body) { promise->set_value(std::move(body)); }, origin);
    REQUIRE(future.wait_for(30s) == std::future_status::ready);
    return future.get();
  }

  // Sends `request` to the leader until it is not refused as "not leader" / "unavailable".
  net::ResponseBody call_leader(const net::RequestBody& request) {
    auto deadline = Clock::now() + 30s;
    net::ResponseBody body;
    while (Clock::now() < deadline) {
      raft::NodeId leader = wait_leader();
      REQUIRE(leader != 0);
      body = call(leader, request);
      auto* e = std::get_if<net::Error>(&body);
      if (e == nullptr ||
          (e->code != base::Code::kNotLeader && e->code != base::Code::kUnavailable))
        return body;
      std::this_thread::sleep_for(10ms);
    }
    return body;
  }

  Router router;

 private:
  uint64_t snapshot_entries_;
  Adjust adjust_;
  std::map<raft::NodeId, std::string> initial_peers_;
  std::mutex mutex_;
  std::map<raft::NodeId, std::unique_ptr<RouterTransport>> transports_;
  std::map<raft::NodeId, std::unique_ptr<node::Node>> nodes_;
};

// Collects what a stream pushes; the test thread waits on it with generous deadlines. The
// replies share the collector's state, so a node may outlive the collector.
class StreamCollector {
 public:
  node::Reply reply() {
    return [state = state_](net::ResponseBody body) {
      std::lock_guard lock(state->mutex);
      state->items.push_back(std::move(body));
      state->changed.notify_all();
    };
  }
  // The next item, or nullopt when none arrived within `timeout`.
  std::optional<net::ResponseBody> next(std::chrono::milliseconds timeout = 30000ms) {
    std::unique_lock lock(state_->mutex);
    if (!state_->changed.wait_for(lock, timeout, [&] { return !state_->items.empty(); }))
      return std::nullopt;
    net::ResponseBody body = std::move(state_->items.front());
    state_->items.pop_front();
    return body;
  }
  size_t pending() {
    std::lock_guard lock(state_->mutex);
    return state_->items.size();
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<net::ResponseBody> items;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// This machine's wall clock in ms since the epoch (what a node stamps entries with).
inline uint64_t wall_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// A one-part string key in the tuple encoding: 0x02 name 0x00.
inline std::string k(const std::string& name) {
  return std::string(1, '\x02') + name + std::string(1, '\0');
}

inline kvmodel::AtomicWrite set_write(std::string key, std::string value, uint64_t client = 0,
                                      uint64_t sequence = 0) {
  kvmodel::AtomicWrite w;
  w.client_id = client;
  w.sequence = sequence;
  w.mutations.push_back(
      kvmodel::Mutation{kvmodel::MutationKind::kSet, std::move(key),
                        kvmodel::Value{kvmodel::ValueEncoding::kBytes, std::move(value)}});
  return w;
}

inline kvmodel::SnapshotRead get_read(std::string key,
                                      kvmodel::Consistency c = kvmodel::Consistency::kStrong) {
  kvmodel::SnapshotRead r;
  r.consistency = c;
  r.ranges.push_back(kvmodel::ReadRange{key, key + std::string(1, '\0'), 1, false});
  return r;
}

// Writes through the leader, retrying on refusals until a leader accepts it. A write whose
// outcome is unknown (the leader changed) is retried: the tests' writes are idempotent.
inline net::AtomicWriteResult write_ok(Cluster& c, kvmodel::AtomicWrite w) {
  net::ResponseBody body;
  for (int attempt = 0; attempt < 10; ++attempt) {
    body = c.call_leader(w);
    auto* e = std::get_if<net::Error>(&body);
    if (e == nullptr || e->code != base::Code::kUnknownOutcome) break;
  }
  auto* r = std::get_if<net::AtomicWriteResult>(&body);
  if (r == nullptr && std::holds_alternative<net::Error>(body))
    FAIL("write refused: " << std::get<net::Error>(body).message);
  REQUIRE(r != nullptr);
  return *r;
}

inline std::optional<std::string> read_value(
    Cluster& c, raft::NodeId id, const std::string& key,
    kvmodel::Consistency consistency = kvmodel::Consistency::kStrong) {
  auto body = c.call(id, get_read(key, consistency));
  auto* r = std::get_if<net::SnapshotReadResult>(&body);
  REQUIRE(r != nullptr);
  REQUIRE(r->ranges.size() == 1);
  if (r->ranges[0].empty()) return std::nullopt;
  return r->ranges[0][0].value.data;
}

// Waits until `pred()` holds, polling every few ms; false after `timeout`.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 30000ms) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

// Writes keys bg/0, bg/1, ... in a loop (each retried with its session until acknowledged)
// while a test changes the cluster; remembers which writes were acknowledged.
class BackgroundWriter {
 public:
  explicit BackgroundWriter(Cluster& c) : cluster_(c), thread_([this] { run(); }) {}
  ~BackgroundWriter() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t acknowledged() const { return acknowledged_.load(); }
  // Every acknowledged write is readable with its value.
  void check_all_readable(raft::NodeId via) {
    for (uint64_t i = 0; i < acknowledged_.load(); ++i)
      CHECK(read_value(cluster_, via, k("bg" + std::to_string(i))) ==
            std::optional<std::string>(std::to_string(i)));
  }

 private:
  void run() {
    const uint64_t client = 0xb9u;
    while (!stop_) {
      uint64_t i = acknowledged_.load();
      auto deadline = Clock::now() + 30s;
      bool done = false;
      while (!done && !stop_ && Clock::now() < deadline) {
        raft::NodeId leader = 0;
        for (auto& [id, n] : cluster_.nodes())
          if (n->status().role == raft::Role::kLeader) leader = id;
        if (leader == 0) {
          std::this_thread::sleep_for(5ms);
          continue;
        }
        auto body = cluster_.call(
            leader, set_write(k("bg" + std::to_string(i)), std::to_string(i), client, i + 1));
        auto* r = std::get_if<net::AtomicWriteResult>(&body);
        done = r != nullptr && r->ok;
        if (!done) std::this_thread::sleep_for(5ms);
      }
      if (done) ++acknowledged_;
    }
  }

  Cluster& cluster_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> acknowledged_{0};
  std::thread thread_;
};

}  // namespace node_test
