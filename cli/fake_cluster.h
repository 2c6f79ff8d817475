// Test double for cli::Client tests: an in-process "cluster" of nodes behind the Connector /
// Channel interfaces, with one leader, a tiny store with exactly-once sessions, watch streams,
// queue deliveries, member list/remove and scripted faults (nodes down, answers lost after
// applying). Test-only.
#pragma once

#include <map>
#include <mutex>
#include <set>

#include "cli/transport.h"

namespace cli::testing {

class FakeCluster : public std::enable_shared_from_this<FakeCluster> {
 public:
  explicit FakeCluster(size_t nodes);

  std::unique_ptr<Connector> connector();
  std::string address(size_t node) const { return "node" + std::to_string(node); }
  size_t size() const { return nodes_; }

  // ---- knobs (thread-safe)
  void set_leader(size_t node);
  void set_down(size_t node, bool down);  // down: connects fail, open channels break
  // Apply the next n writes (or member removals), then report a lost answer.
  void lose_next_answers(int n);
  void give_hints(bool hints);
  // Queue: pushes a delivery to every listener on the leader.
  void deliver(net::QueueDelivery delivery);
  // Breaks every open stream (as a leader crash would).
  void break_streams();

  // ---- observations
  int applied_writes();
  std::vector<kvmodel::AtomicWrite> writes_received();
  std::vector<net::RequestBody> queue_requests();  // acks, nacks, extends in order
  std::vector<net::Watch> watches_opened();
  size_t listeners();

  // Called by channels.
  base::Result<net::ResponseBody> handle(size_t node, const net::RequestBody& body);
  uint64_t open(size_t node, const net::RequestBody& body, Channel::StreamCallback cb);
  void cancel(uint64_t stream_id);
  bool is_down(size_t node);

 private:
  struct Stream {
    size_t node = 0;
    net::RequestBody body;
    Channel::StreamCallback callback;
  };
  net::ResponseBody not_leader_locked() const;
  net::AtomicWriteResult apply_locked(const kvmodel::AtomicWrite& write);
  net::WatchEvent watch_event_locked(const net::Watch& watch) const;

  std::mutex mu_;
  size_t nodes_;
  size_t leader_ = 0;
  std::set<size_t> down_;
  bool hints_ = true;
  int lose_answers_ = 0;
  std::set<uint64_t> members_;
  std::map<base::Bytes, kvmodel::KvEntry> data_;
  uint64_t version_ = 0;
  std::map<std::pair<uint64_t, uint64_t>, net::AtomicWriteResult> sessions_;
  int applied_ = 0;
  std::vector<kvmodel::AtomicWrite> writes_;
  std::vector<net::RequestBody> queue_requests_;
  std::vector<net::Watch> watches_;
  std::map<uint64_t, Stream> streams_;
  uint64_t next_stream_ = 1;
};

}  // namespace cli::testing
