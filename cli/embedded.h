// The embedded store: a whole single-node raftkv replica (node::Node with an in-memory WAL) in
// the calling process, behind the client library's Connector interface, so an application's
// tests get the same cli::Client API as against a cluster without starting any process (the
// role of Deno's `Deno.openKv(":memory:")`). Nothing survives the store.
//
//   auto client = cli::open_embedded().value();     // std::unique_ptr<cli::Client>
//   client->set(key, value);
//
// Several clients may share one store (for example a watcher and a writer):
//
//   auto store = cli::EmbeddedStore::open().value();  // std::shared_ptr<cli::EmbeddedStore>
//   auto writer = store->client();
//   auto watcher = store->client();
//
// Requests go straight to Node::submit: no sockets, no encoding. Answers arrive on the node
// thread; a call() hands its answer to the waiting caller through a per-call slot, and stream
// frames are passed (moved, by value) to the stream's callback on the node thread, which the
// Channel contract (cli/transport.h) allows. Stream callbacks must therefore not block, and must
// not own the last reference to the store (its destructor joins the node thread).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include "base/status.h"
#include "cli/client.h"
#include "cli/transport.h"

namespace node {
class Node;
}

namespace cli {

// The only address the embedded connector accepts; also the node's client address.
inline constexpr std::string_view kEmbeddedAddress = "embedded";

struct EmbeddedOptions {
  // open() fails with kUnavailable when the node does not lead (and serve) within this time.
  std::chrono::milliseconds leader_wait{10000};
  uint64_t seed = 1;  // the node's Raft randomness; fixed for reproducible tests
};

// Owns one started single-voter node (id 1, in-memory WAL, no peers). Thread-safe. Lifetime:
// shared by every connector, channel and client made from it; the node stops when the last
// reference goes (pending requests and open streams are then answered kUnavailable).
class EmbeddedStore : public std::enable_shared_from_this<EmbeddedStore> {
 public:
  // Starts the node and waits until it leads and has applied its first entry as leader, so the
  // first request is served without a retry.
  static base::Result<std::shared_ptr<EmbeddedStore>> open(EmbeddedOptions options = {});
  ~EmbeddedStore();
  EmbeddedStore(const EmbeddedStore&) = delete;
  EmbeddedStore& operator=(const EmbeddedStore&) = delete;

  // A connector for cli::Client (endpoint kEmbeddedAddress); it keeps the store alive.
  std::unique_ptr<Connector> connector();
  // A client of this store (endpoint kEmbeddedAddress); it keeps the store alive.
  std::unique_ptr<Client> client(ClientOptions options = {});

  // The node itself, for status() and tests.
  node::Node& node() { return *node_; }

  // Channels name their streams by a connection id unique within the store.
  uint64_t next_connection_id();

 private:
  class NoPeers;
  EmbeddedStore();

  std::unique_ptr<NoPeers> transport_;  // declared before node_: outlives it
  std::unique_ptr<node::Node> node_;
  std::atomic<uint64_t> next_connection_{1};
};

// A client over a fresh embedded store that it owns: the store stops with the client.
// Fails (kUnavailable) only when the node cannot start or lead in options.leader_wait.
base::Result<std::unique_ptr<Client>> open_embedded(ClientOptions client_options = {},
                                                    EmbeddedOptions options = {});

}  // namespace cli
