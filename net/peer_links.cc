#include "net/peer_links.h"

#include <asio/experimental/as_tuple.hpp>

#include <algorithm>

#include "base/log.h"
#include "net/peer_codec.h"

namespace net {
namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr size_t kFrameSlackBytes = 4096;  // flatbuffer overhead allowance around a chunk
}  // namespace

struct PeerLinks::Link {
  Link(asio::io_context& io, raft::NodeId id_in, std::string address_in)
      : id(id_in),
        address(std::move(address_in)),
        wakeup(io, asio::steady_timer::time_point::max()) {}

  struct OutgoingSnapshot {
    raft::Message message;  // the Snapshot message, data stripped
    std::shared_ptr<const std::string> data;
    uint64_t offset = 0;  // bytes handed to the connection so far
  };

  raft::NodeId id;
  std::string address;
  ConnectionPtr conn;                  // the open outbound connection, or null
  std::vector<raft::Message> pending;  // waiting for the posted flush
  bool flush_posted = false;
  std::optional<OutgoingSnapshot> snapshot;
  asio::steady_timer wakeup;  // backoff waits; cancel() wakes the dial loop early
  bool removed = false;
};

std::shared_ptr<PeerLinks> PeerLinks::create(asio::io_context& io, PeerLinksOptions options,
                                             MessageHandler on_message,
                                             SnapshotStatusHandler on_snapshot_status) {
  return std::shared_ptr<PeerLinks>(
      new PeerLinks(io, std::move(options), std::move(on_message), std::move(on_snapshot_status)));
}

PeerLinks::PeerLinks(asio::io_context& io, PeerLinksOptions options, MessageHandler on_message,
                     SnapshotStatusHandler on_snapshot_status)
    : io_(io),
      options_(std::move(options)),
      on_message_(std::move(on_message)),
      on_snapshot_status_(std::move(on_snapshot_status)),
      rng_(options_.jitter_seed) {
  ENSURE(options_.self_id != raft::kNoNode);
  ENSURE(options_.payload_max_bytes > 2 * kFrameSlackBytes);
  options_.snapshot_chunk_bytes = std::clamp<size_t>(options_.snapshot_chunk_bytes, 1,
                                                     options_.payload_max_bytes - kFrameSlackBytes);
  ENSURE(options_.backoff_min.count() > 0 && options_.backoff_min <= options_.backoff_max);
}

// ---------------------------------------------------------------- inbound

base::Status PeerLinks::listen(std::string_view host_port) {
  std::weak_ptr<PeerLinks> weak = shared_from_this();
  ConnectionHandlers handlers;
  handlers.on_frame = [weak](const ConnectionPtr& conn, base::Bytes payload) {
    if (auto self = weak.lock()) self->on_inbound_frame(conn, std::move(payload));
  };
  handlers.on_close = [weak](const ConnectionPtr& conn, const base::Status&) {
    if (auto self = weak.lock()) self->inbound_.erase(conn->id());
  };
  server_ = Server::create(io_, {options_.payload_max_bytes, verify_peer_frame, "peer"},
                           std::move(handlers));
  return server_->listen(host_port);
}

asio::ip::tcp::endpoint PeerLinks::local_endpoint() const {
  return server_ ? server_->local_endpoint() : asio::ip::tcp::endpoint();
}

void PeerLinks::on_inbound_frame(const ConnectionPtr& conn, base::Bytes payload) {
  if (stopped_) return;
  auto frame = decode_peer_frame(payload);
  base::Status status = frame.is_ok()
                            ? handle_inbound(inbound_[conn->id()], std::move(frame).value())
                            : frame.status();
  if (!status.is_ok()) conn->close(status);
}

base::Status PeerLinks::handle_inbound(Inbound& inbound, PeerFrame frame) {
  if (auto* hello = std::get_if<PeerHello>(&frame)) {
    if (inbound.from != raft::kNoNode) return base::corruption("second hello on a peer link");
    if (hello->cluster_id != options_.cluster_id) {
      return base::invalid_argument("peer {} is in cluster '{}', not '{}'", hello->from,
                                    hello->cluster_id, options_.cluster_id);
    }
    if (hello->to != options_.self_id || hello->from == raft::kNoNode) {
      return base::invalid_argument("peer {} dialed node {}, but this is node {}", hello->from,
                                    hello->to, options_.self_id);
    }
    inbound.from = hello->from;
    return base::Status();
  }
  if (inbound.from == raft::kNoNode) return base::corruption("peer frame before hello");
  if (auto* batch = std::get_if<std::vector<raft::Message>>(&frame)) {
    for (raft::Message& m : *batch) {
      // A peer speaks only for itself, to us; snapshots come only in chunks.
      if (m.from != inbound.from || m.to != options_.self_id || m.snapshot) {
        return base::corruption("peer {} sent a message from {} to {}{}", inbound.from, m.from,
                                m.to, m.snapshot ? " with an inline snapshot" : "");
      }
    }
    for (raft::Message& m : *batch) {
      ++stats_.messages_received;
      if (on_message_) on_message_(std::move(m));
      if (stopped_) break;
    }
    return base::Status();
  }
  auto& chunk = std::get<SnapshotChunk>(frame);
  if (chunk.message &&
      (chunk.message->from != inbound.from || chunk.message->to != options_.self_id)) {
    return base::corruption("peer {} sent a snapshot from {}", inbound.from, chunk.message->from);
  }
  auto done = inbound.assembler.add(std::move(chunk));
  if (!done.is_ok()) return done.status();
  if (done->has_value()) {
    ++stats_.messages_received;
    if (on_message_) on_message_(std::move(**done));
  }
  return base::Status();
}

// ---------------------------------------------------------------- outbound

void PeerLinks::set_peer(raft::NodeId id, std::string address) {
  asio::post(io_, [self = shared_from_this(), id, address = std::move(address)]() mutable {
    if (self->stopped_ || id == self->options_.self_id) return;
    auto& link = self->links_[id];
    if (link) {
      if (link->address == address) return;
      link->address = std::move(address);
      if (link->conn) link->conn->close(base::Status());  // the dial loop redials the new one
      link->wakeup.cancel();
      return;
    }
    link = std::make_shared<Link>(self->io_, id, std::move(address));
    asio::co_spawn(self->io_, self->dial_loop(link), asio::detached);
  });
}

void PeerLinks::remove_peer(raft::NodeId id) {
  asio::post(io_, [self = shared_from_this(), id] {
    auto it = self->links_.find(id);
    if (it == self->links_.end()) return;
    auto link = it->second;
    self->links_.erase(it);
    self->close_link(*link);
  });
}

void PeerLinks::close_link(Link& link) {
  link.removed = true;
  if (link.conn) link.conn->close(base::Status());
  link.wakeup.cancel();
}

void PeerLinks::stop() {
  asio::post(io_, [self = shared_from_this()] {
    if (self->stopped_) return;
    self->stopped_ = true;  // first: no callback runs from here on
    if (self->server_) self->server_->stop();
    auto links = std::move(self->links_);
    self->links_.clear();
    for (auto& [id, link] : links) self->close_link(*link);
    self->inbound_.clear();
  });
}

bool PeerLinks::connected(raft::NodeId id) const {
  auto it = links_.find(id);
  return it != links_.end() && it->second->conn && it->second->conn->is_open();
}

asio::awaitable<void> PeerLinks::dial_loop(std::shared_ptr<Link> link) {
  auto self = shared_from_this();
  auto backoff = options_.backoff_min;
  while (!link->removed && !stopped_) {
    const auto started = std::chrono::steady_clock::now();
    if (co_await dial_once(link)) {
      while (link->conn && !link->removed && !stopped_) {
        co_await link->wakeup.async_wait(use_tuple);  // cancelled when the connection closes
      }
      // Only a connection that stayed up resets the backoff: a peer that accepts and then
      // rejects us (wrong cluster) must not be redialed at the minimum interval forever.
      if (std::chrono::steady_clock::now() - started >= options_.backoff_max) {
        backoff = options_.backoff_min;
      }
    }
    if (link->removed || stopped_) break;
    // Jitter: wait uniformly in [backoff/2, backoff] so restarted nodes do not dial in lockstep.
    const auto half = backoff.count() / 2;
    const auto wait = std::chrono::milliseconds(
        half +
        static_cast<int64_t>(rng_.uniform(static_cast<uint64_t>(backoff.count() - half) + 1)));
    link->wakeup.expires_after(wait);
    co_await link->wakeup.async_wait(use_tuple);
    link->wakeup.expires_at(asio::steady_timer::time_point::max());
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

asio::awaitable<bool> PeerLinks::dial_once(const std::shared_ptr<Link>& link) {
  auto socket = co_await connect_to(io_, link->address, options_.connect_timeout);
  if (!socket.is_ok()) {
    LOG(kDebug, "peer dial failed", "peer_id={} error={}", link->id,
        base::log_quote(socket.status().message()));
    co_return false;
  }
  if (link->removed || stopped_) co_return false;

  std::weak_ptr<PeerLinks> weak_self = shared_from_this();
  std::weak_ptr<Link> weak_link = link;
  ConnectionHandlers handlers;
  handlers.on_frame = [](const ConnectionPtr& conn, base::Bytes) {
    conn->close(base::corruption("peer sent a frame on our outbound link"));
  };
  handlers.on_close = [weak_self, weak_link](const ConnectionPtr& conn, const base::Status&) {
    auto self = weak_self.lock();
    auto l = weak_link.lock();
    if (!self || !l || l->conn != conn) return;
    l->conn.reset();
    self->stats_.messages_dropped += l->pending.size();
    l->pending.clear();
    if (l->snapshot) self->finish_snapshot(*l, false);
    l->wakeup.cancel();
  };
  handlers.on_written = [weak_self, weak_link](const ConnectionPtr&) {
    auto self = weak_self.lock();
    auto l = weak_link.lock();
    if (self && l) self->pump_snapshot(*l);
  };
  link->conn = Connection::create(
      std::move(socket).value(),
      {options_.payload_max_bytes, verify_peer_frame, "peer", options_.write_timeout},
      std::move(handlers));
  link->conn->start();
  link->conn->send_payload(encode_hello({options_.self_id, link->id, options_.cluster_id}));
  ++stats_.connects;
  LOG(kInfo, "peer link up", "peer_id={} peer={}", link->id, link->address);
  co_return true;
}

// ---------------------------------------------------------------- sending

void PeerLinks::send(raft::Message message) {
  asio::post(io_, [self = shared_from_this(), m = std::move(message)]() mutable {
    self->enqueue(std::move(m));
  });
}

void PeerLinks::send(std::vector<raft::Message> messages) {
  asio::post(io_, [self = shared_from_this(), ms = std::move(messages)]() mutable {
    for (auto& m : ms) self->enqueue(std::move(m));
  });
}

void PeerLinks::enqueue(raft::Message message) {
  auto it = links_.find(message.to);
  Link* link = (stopped_ || it == links_.end()) ? nullptr : it->second.get();
  const bool is_snapshot = message.type == raft::MessageType::kSnapshot && message.snapshot;
  if (link == nullptr || !link->conn) {
    ++stats_.messages_dropped;  // the link is down: Raft retransmits, we never block
    if (is_snapshot && !stopped_ && on_snapshot_status_) on_snapshot_status_(message.to, false);
    return;
  }
  if (is_snapshot) {
    start_snapshot(*link, std::move(message));
    return;
  }
  link->pending.push_back(std::move(message));
  if (!link->flush_posted) {
    // Flushing later lets every message posted in the same burst share one frame.
    link->flush_posted = true;
    asio::post(io_, [self = shared_from_this(), l = it->second] { self->flush(*l); });
  }
}

void PeerLinks::flush(Link& link) {
  link.flush_posted = false;
  if (!link.conn) {
    stats_.messages_dropped += link.pending.size();
    link.pending.clear();
    return;
  }
  if (link.conn->queued_bytes() > options_.queue_max_bytes) {
    // The peer is not reading (or the network is not delivering): dropping is what Raft
    // expects of a lossy link; the write timeout will close this connection if it stays stuck.
    stats_.messages_dropped += link.pending.size();
    link.pending.clear();
    return;
  }
  // Cut the queue into frames of about half the limit by estimate; send_batch() splits further
  // if an estimate was too low.
  const size_t budget = options_.payload_max_bytes / 2;
  std::span<const raft::Message> all(link.pending);
  size_t begin = 0, bytes = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const size_t size = estimated_message_bytes(all[i]);
    if (i > begin && bytes + size > budget) {
      send_batch(link, all.subspan(begin, i - begin));
      begin = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (begin < all.size()) send_batch(link, all.subspan(begin));
  link.pending.clear();
}

void PeerLinks::send_batch(Link& link, std::span<const raft::Message> batch) {
  base::Bytes payload = encode_message_batch(batch);
  if (payload.size() <= options_.payload_max_bytes) {
    link.conn->send_payload(payload);
    stats_.messages_sent += batch.size();
  } else if (batch.size() == 1) {
    LOG(kWarn, "dropping oversized raft message", "peer_id={} bytes={} limit={}", link.id,
        payload.size(), options_.payload_max_bytes);
    ++stats_.messages_dropped;
  } else {
    send_batch(link, batch.first(batch.size() / 2));
    send_batch(link, batch.subspan(batch.size() / 2));
  }
}

void PeerLinks::start_snapshot(Link& link, raft::Message message) {
  if (link.snapshot) finish_snapshot(link, false);  // replaced by a newer snapshot
  auto data =
      message.snapshot->data ? message.snapshot->data : std::make_shared<const std::string>();
  message.snapshot->data = nullptr;
  link.snapshot = Link::OutgoingSnapshot{std::move(message), std::move(data), 0};
  pump_snapshot(link);
}

// Hands out chunks only while little is queued, so a large snapshot never sits in memory twice
// and heartbeats queued meanwhile are not stuck behind all of it.
void PeerLinks::pump_snapshot(Link& link) {
  const size_t chunk_bytes = options_.snapshot_chunk_bytes;
  while (link.snapshot && link.conn && link.conn->queued_bytes() < 2 * chunk_bytes) {
    auto& s = *link.snapshot;
    const base::BytesView data(*s.data);
    const size_t n = std::min<size_t>(chunk_bytes, data.size() - s.offset);
    const bool last = s.offset + n == data.size();
    const raft::SnapshotMeta& meta = s.message.snapshot->meta;
    link.conn->send_payload(encode_snapshot_chunk(meta.index, meta.term, s.offset,
                                                  data.substr(s.offset, n), last,
                                                  s.offset == 0 ? &s.message : nullptr));
    s.offset += n;
    if (last) {
      ++stats_.messages_sent;
      finish_snapshot(link, true);
    }
  }
}

void PeerLinks::finish_snapshot(Link& link, bool sent) {
  link.snapshot.reset();
  if (!sent) ++stats_.messages_dropped;
  if (!stopped_ && on_snapshot_status_) on_snapshot_status_(link.id, sent);
}

}  // namespace net
