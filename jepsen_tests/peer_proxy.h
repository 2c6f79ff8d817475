// A fault-injecting TCP proxy in front of every node's peer port: the network nemesis.
//
// raftkv peer links are one-way (net/peer_links.h): node A dials B and sends only A->B
// messages on that connection, opening it with a Hello frame naming A. The proxy listens on one
// loopback port per node, reads the Hello to learn the sender, and pipes bytes to the node's
// real peer port. A blocked direction (from, to) closes that link's connections and closes any
// new one right after its Hello, so the sender sees a dead link and drops messages (Raft
// retransmits once healed). Blocking per direction gives one-way partitions for free. No root,
// no firewall, no qdisc: nothing outside this process changes, and everything stops with it.
//
// Thread-safety: every public method is thread-safe. One internal thread runs poll().
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"

namespace jepsen {

class PeerProxy {
 public:
  PeerProxy();
  ~PeerProxy();
  PeerProxy(const PeerProxy&) = delete;
  PeerProxy& operator=(const PeerProxy&) = delete;

  // Listens on `listen_addr` ("127.0.0.1:Q"; port 0: one the kernel picks) for node `id` and
  // forwards to `target` ("127.0.0.1:P"). Returns the address it listens on. Call before
  // start() or while running.
  base::Result<std::string> add_node(uint64_t id, const std::string& listen_addr,
                                     const std::string& target);
  void start();
  void stop();

  // Replaces the set of blocked directions (from, to).
  void set_blocked(std::set<std::pair<uint64_t, uint64_t>> blocked);
  void heal() { set_blocked({}); }
  std::set<std::pair<uint64_t, uint64_t>> blocked() const;

  // Counters for tests and the report.
  uint64_t connections_accepted() const { return accepted_.load(); }
  uint64_t connections_cut() const { return cut_.load(); }
  uint64_t bytes_forwarded() const { return forwarded_.load(); }

 private:
  struct Listener {
    uint64_t id = 0;
    int fd = -1;
    std::string target;
  };
  struct Link;
  void run();
  void accept_from(const Listener& listener);
  bool pump(Link& link, bool upstream);
  bool read_hello(Link& link);
  bool is_blocked(uint64_t from, uint64_t to) const;

  mutable std::mutex mu_;  // guards listeners_ (additions) and blocked_
  std::vector<Listener> listeners_;
  std::set<std::pair<uint64_t, uint64_t>> blocked_;
  std::vector<std::unique_ptr<Link>> links_;  // proxy thread only
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::atomic<uint64_t> accepted_{0}, cut_{0}, forwarded_{0};
};

// Parses the sender id out of the first frame of a peer connection (u32 length | u64 xxh3 |
// Hello flatbuffer). nullopt-like 0 with kOk means "need more bytes"; an error for garbage.
base::Result<uint64_t> parse_hello_sender(const std::string& buffered, bool& complete);

}  // namespace jepsen
