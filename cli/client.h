// The C++ client library for raftkv, mirroring Deno KV's API (get, getMany, list, atomic, set,
// delete, watch, enqueue, listenQueue) over a list of endpoints.
//
// Leader finding and retries: requests go to the node believed to lead (at first the first
// endpoint). "not leader" answers with a hint switch to the hinted node at once; connection
// failures, timeouts and "unavailable" answers move to the next endpoint after an exponential
// backoff (with jitter), until the operation's total deadline. Reads are safe to repeat; writes
// carry (client_id, sequence) so the cluster applies a retried write once (Raft thesis ch. 6):
// a retry resends the SAME pair. A write that was possibly delivered but whose answer never came
// is reported as kUnknownOutcome, never as a failure; one that provably never reached a node
// (every attempt failed to connect or was refused as "not leader") is kUnavailable.
//
// Keys are tuple-encoded bytes (kvmodel::encode_key); values are kvmodel::Value (encoding + bytes;
// cli/value_json.h converts JSON). Thread-safety: every method may be called from many threads
// at once; watch streams and queue listeners are used by one thread each.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/rng.h"
#include "base/status.h"
#include "cli/atomic.h"
#include "cli/selectors.h"
#include "cli/transport.h"
#include "net/client_types.h"

namespace cli {

struct ClientOptions {
  std::chrono::milliseconds attempt_timeout{3000};  // one request to one node
  std::chrono::milliseconds deadline{10000};        // all attempts of one operation
  // A MemberAdd waits for the new node's promotion to voter (the leader gives up after its
  // member_change_timeout_ms, 10 s): its attempts are not cut at attempt_timeout, and it has
  // at least this long in all.
  std::chrono::milliseconds member_add_deadline{15000};
  std::chrono::milliseconds backoff_initial{25};
  std::chrono::milliseconds backoff_max{1000};
  uint64_t client_id = 0;  // 0: a random id
  uint64_t seed = 0;       // jitter; 0: derived from the client id
};

class ListIterator;
class WatchStream;

struct QueueListenOptions {
  std::string consumer = "kv";
  uint32_t visibility_ms = 5000;      // the lease; extended every visibility_ms / 3 while handling
  uint64_t max_messages = 0;          // return after this many handled deliveries; 0 = never
  std::function<bool()> should_stop;  // polled between deliveries; may be empty
};

// "127.0.0.1:4501,127.0.0.1:4502" -> one address each; empty items are dropped.
std::vector<std::string> split_endpoints(std::string_view text);

class Client {
 public:
  // endpoints: "host:port" client addresses of some or all nodes (ENSUREs at least one).
  // connector: nullptr = TCP.
  explicit Client(std::vector<std::string> endpoints, ClientOptions options = {},
                  std::unique_ptr<Connector> connector = nullptr);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  uint64_t client_id() const { return client_id_; }

  // ---- reads
  // nullopt when the key does not exist.
  base::Result<std::optional<kvmodel::KvEntry>> get(
      const base::Bytes& key, kvmodel::Consistency consistency = kvmodel::Consistency::kStrong);
  // One snapshot read; at most 10 keys ("Too many ranges (max 10)"); results in key order.
  base::Result<std::vector<std::optional<kvmodel::KvEntry>>> get_many(
      const std::vector<base::Bytes>& keys,
      kvmodel::Consistency consistency = kvmodel::Consistency::kStrong);
  // One snapshot read of several ranges, with retries (the primitive under get/list).
  base::Result<net::SnapshotReadResult> snapshot_read(const kvmodel::SnapshotRead& read);
  // Selector and option errors are reported here, before any read.
  base::Result<ListIterator> list(const Selector& selector, const ListOptions& options = {},
                                  kvmodel::Consistency consistency = kvmodel::Consistency::kStrong);

  // ---- writes
  Atomic atomic() { return Atomic(this); }
  base::Result<net::AtomicWriteResult> set(
      base::Bytes key, kvmodel::Value value,
      std::optional<std::chrono::milliseconds> expire_in = std::nullopt);
  base::Result<net::AtomicWriteResult> remove(base::Bytes key);
  base::Result<net::AtomicWriteResult> enqueue(kvmodel::Enqueue message);
  // Validates, stamps (client_id, next sequence) and sends with retries. Used by Atomic.
  base::Result<net::AtomicWriteResult> commit(kvmodel::AtomicWrite write);

  // ---- streams
  // At most 10 keys. The stream follows leader changes (see WatchStream).
  base::Result<WatchStream> watch(std::vector<base::Bytes> keys);
  // Listens for queue messages: for each delivery runs `handler` (true = success) on another
  // thread while extending the lease, then acks (success) or nacks (failure or exception).
  // Reconnects to the new leader when the stream breaks. Returns when max_messages were
  // handled or should_stop() says so; an error when no leader could be reached in a deadline.
  base::Status listen_queue(const std::function<bool(const net::QueueDelivery&)>& handler,
                            const QueueListenOptions& options = {});

  // ---- operations
  // Every endpoint's own view (StatusRequest{local_only}); an unreachable node gets a row with
  // `error` set and `address` filled in.
  std::vector<net::NodeStatus> status_all(std::chrono::milliseconds timeout);
  // Any other request (membership, leader transfer), sent to the leader with retries. Error
  // bodies become a failed Result; when the deadline passes while the leader keeps answering
  // a transient error, that error is returned. Not for writes that need exactly-once.
  base::Result<net::ResponseBody> call_leader(const net::RequestBody& body);

  // The building block of streams: opens `body` as a stream on the node believed to lead
  // (connecting and following hints as a request would). Returns the channel and stream id.
  struct OpenStream {
    std::shared_ptr<Channel> channel;
    uint64_t stream_id = 0;
    std::string address;
  };
  base::Result<OpenStream> open_stream(const net::RequestBody& body,
                                       Channel::StreamCallback on_frame);
  // Learns a leader from a stream's error (a not-leader answer with a hint).
  void note_error(const net::Error& error);
  // Stops preferring `address` (if it is still the preferred node): the next request tries the
  // next endpoint.
  void skip_endpoint(const std::string& address) { advance_target(address); }
  // Sleeps the backoff for retry number `attempt` (0-based).
  void backoff(int attempt);
  const ClientOptions& options() const { return options_; }

 private:
  enum class Kind { kRead, kWrite, kAdmin };  // kAdmin: call_leader, otherwise like a read
  base::Result<net::ResponseBody> request(const net::RequestBody& body, Kind kind);
  base::Result<std::shared_ptr<Channel>> channel_to(const std::string& address);
  void drop_channel(const std::string& address, const std::shared_ptr<Channel>& channel);
  std::string current_target();
  void advance_target(const std::string& failed);
  void follow_hint(const net::LeaderHint& hint);
  base::Status unreachable(const std::vector<std::string>& failures) const;

  ClientOptions options_;
  std::unique_ptr<Connector> connector_;
  uint64_t client_id_ = 0;
  std::atomic<uint64_t> next_sequence_{1};

  std::mutex mu_;  // guards everything below
  std::vector<std::string> endpoints_;
  size_t target_ = 0;  // index into endpoints_ of the node believed to lead
  std::vector<std::pair<std::string, std::shared_ptr<Channel>>> channels_;
  base::Rng rng_;
};

// A listing in progress (Deno's KvListIterator): next() reads batch by batch. Not thread-safe.
class ListIterator {
 public:
  // The next entry, nullopt at the end. A failed read can be retried by calling next() again.
  base::Result<std::optional<kvmodel::KvEntry>> next();
  // Resume point after the last entry returned (see ListPager::cursor()).
  std::optional<std::string> cursor() const { return pager_.cursor(); }

 private:
  friend class Client;
  ListIterator(Client* client, ListPager pager, kvmodel::Consistency consistency)
      : client_(client), pager_(std::move(pager)), consistency_(consistency) {}

  Client* client_;
  ListPager pager_;
  kvmodel::Consistency consistency_;
  std::vector<kvmodel::KvEntry> buffer_;  // reversed: next entry at the back
};

}  // namespace cli
