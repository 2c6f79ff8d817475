// Peer links: how Raft messages travel between nodes.
//
// Each node keeps one outbound connection per peer (dialed by this node, reconnected with
// exponential backoff and jitter) and sends only on it; the peer's messages arrive on the inbound
// connections its PeerLinks dialed to our listening address, each opened by a Hello frame.
// Messages are batched into frames; a message for a peer whose link is down is dropped, never
// queued or blocked on (Raft retransmits). A Snapshot message's data is streamed in chunks
// (snapshot_chunk_bytes each), produced only as the socket drains, and reassembled by the
// receiver into one complete raft::Message.
//
// Threading: runs on a caller-supplied io_context that exactly one thread runs. Methods marked
// thread-safe post to it; callbacks run on it.
#pragma once

#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/rng.h"
#include "base/status.h"
#include "net/connection.h"
#include "net/snapshot_assembler.h"
#include "raft/types.h"

namespace net {

struct PeerLinksOptions {
  raft::NodeId self_id = raft::kNoNode;
  std::string cluster_id = "raftkv";
  size_t payload_max_bytes = kFramePayloadMaxBytes;
  size_t snapshot_chunk_bytes = 1u << 20;  // clamped below payload_max_bytes
  std::chrono::milliseconds backoff_min{10};
  std::chrono::milliseconds backoff_max{1000};
  std::chrono::milliseconds connect_timeout{1000};
  // A stalled write closes the link (it then redials); meanwhile messages beyond
  // queue_max_bytes of unsent frames are dropped instead of piling up in memory.
  std::chrono::milliseconds write_timeout{5000};
  size_t queue_max_bytes = 4 * kFramePayloadMaxBytes;
  uint64_t jitter_seed = 1;
};

struct PeerLinksStats {
  uint64_t messages_sent = 0;      // handed to a connection
  uint64_t messages_dropped = 0;   // link down, unknown peer, or too large for a frame
  uint64_t messages_received = 0;  // delivered to on_message
  uint64_t connects = 0;           // outbound connections established
};

class PeerLinks : public std::enable_shared_from_this<PeerLinks> {
 public:
  // Called on the io thread for every received message, in order per sending peer. A snapshot
  // message arrives once, complete, with snapshot->data set.
  using MessageHandler = std::function<void(raft::Message)>;
  // Called on the io thread when a snapshot for `peer` was fully handed to the socket (true) or
  // abandoned because the link went down or a newer snapshot replaced it (false); the node
  // reports this to Raft so the follower's progress leaves the snapshot state.
  using SnapshotStatusHandler = std::function<void(raft::NodeId peer, bool sent)>;

  static std::shared_ptr<PeerLinks> create(asio::io_context& io, PeerLinksOptions options,
                                           MessageHandler on_message,
                                           SnapshotStatusHandler on_snapshot_status = {});

  // io thread (or before run): starts accepting inbound peer connections.
  base::Status listen(std::string_view host_port);
  asio::ip::tcp::endpoint local_endpoint() const;

  // thread-safe: adds a peer (or changes its address, reconnecting) and starts dialing it.
  void set_peer(raft::NodeId id, std::string address);
  // thread-safe: forgets a peer and closes its link.
  void remove_peer(raft::NodeId id);
  // thread-safe: sends to message.to; dropped if that link is down.
  void send(raft::Message message);
  void send(std::vector<raft::Message> messages);
  // thread-safe: closes every link and the listener; no callback runs afterwards.
  void stop();

  // io thread.
  bool connected(raft::NodeId id) const;
  const PeerLinksStats& stats() const { return stats_; }

 private:
  struct Link;
  struct Inbound {
    raft::NodeId from = raft::kNoNode;  // set by the Hello
    SnapshotAssembler assembler;
  };

  PeerLinks(asio::io_context& io, PeerLinksOptions options, MessageHandler on_message,
            SnapshotStatusHandler on_snapshot_status);
  asio::awaitable<void> dial_loop(std::shared_ptr<Link> link);
  asio::awaitable<bool> dial_once(const std::shared_ptr<Link>& link);
  void enqueue(raft::Message message);
  void flush(Link& link);
  void send_batch(Link& link, std::span<const raft::Message> batch);
  void start_snapshot(Link& link, raft::Message message);
  void pump_snapshot(Link& link);
  void finish_snapshot(Link& link, bool sent);
  void on_inbound_frame(const ConnectionPtr& conn, base::Bytes payload);
  base::Status handle_inbound(Inbound& inbound, PeerFrame frame);
  void close_link(Link& link);

  asio::io_context& io_;
  PeerLinksOptions options_;
  MessageHandler on_message_;
  SnapshotStatusHandler on_snapshot_status_;
  std::shared_ptr<Server> server_;
  std::map<raft::NodeId, std::shared_ptr<Link>> links_;
  std::map<uint64_t, Inbound> inbound_;  // by Connection::id()
  base::Rng rng_;
  PeerLinksStats stats_;
  bool stopped_ = false;
};

}  // namespace net
