// Peer links over real loopback sockets: delivery, reconnects, snapshot chunking, refusals.
#include "net/peer_links.h"

#include <doctest/doctest.h>

#include "base/rng.h"
#include "net/peer_codec.h"
#include "net/test_util.h"

namespace {

using net::testing::eventually;
using net::testing::Inbox;
using net::testing::IoThread;
using net::testing::server_closes_after;

// One node's peer links on its own io thread, collecting what it receives.
struct Node {
  IoThread thread;
  std::shared_ptr<net::PeerLinks> links;
  Inbox<raft::Message> received;
  Inbox<std::pair<raft::NodeId, bool>> snapshot_status;

  explicit Node(raft::NodeId id, std::string listen = "127.0.0.1:0",
                net::PeerLinksOptions options = {}) {
    options.self_id = id;
    links = net::PeerLinks::create(
        thread.io(), options, [this](raft::Message m) { received.push(std::move(m)); },
        [this](raft::NodeId peer, bool sent) {
          snapshot_status.push({peer, sent});
        });
    REQUIRE(thread.run([&] { return links->listen(listen); }).is_ok());
  }
  ~Node() {
    links->stop();
    thread.run([] {});  // the stop has run
  }
  std::string address() {
    return "127.0.0.1:" +
           std::to_string(thread.run([&] { return links->local_endpoint(); }).port());
  }
  bool connected(raft::NodeId peer) {
    return thread.run([&] { return links->connected(peer); });
  }
  net::PeerLinksStats stats() {
    return thread.run([&] { return links->stats(); });
  }
};

raft::Message heartbeat(raft::NodeId from, raft::NodeId to, uint64_t commit) {
  raft::Message m;
  m.type = raft::MessageType::kHeartbeat;
  m.from = from;
  m.to = to;
  m.term = 3;
  m.commit = commit;
  return m;
}

base::Bytes random_bytes(uint64_t seed, size_t n) {
  base::Rng rng(seed);
  base::Bytes out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng.uniform(256));
  return out;
}

}  // namespace

TEST_CASE("peer links: messages flow both ways, in order, batched into few frames") {
  Node a(1), b(2);
  a.links->set_peer(2, b.address());
  b.links->set_peer(1, a.address());
  REQUIRE(eventually([&] { return a.connected(2) && b.connected(1); }));

  std::vector<raft::Message> burst;
  for (uint64_t i = 1; i <= 2000; ++i) burst.push_back(heartbeat(1, 2, i));
  a.links->send(std::move(burst));
  for (uint64_t i = 1; i <= 10; ++i) b.links->send(heartbeat(2, 1, i));

  REQUIRE(b.received.wait_for(2000));
  REQUIRE(a.received.wait_for(10));
  auto got = b.received.items();
  REQUIRE(got.size() == 2000);
  for (uint64_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].commit == i + 1);
    CHECK(got[i].from == 1);
  }
  CHECK(a.stats().messages_sent == 2000);
  CHECK(a.stats().messages_dropped == 0);
}

TEST_CASE(
    "peer links: messages to a down peer are dropped; the link reconnects after the peer "
    "restarts on the same address") {
  net::PeerLinksOptions options;
  options.backoff_max = std::chrono::milliseconds(200);
  Node a(1, "127.0.0.1:0", options);
  std::string b_address;
  {
    Node b(2);
    b_address = b.address();
    a.links->set_peer(2, b_address);
    REQUIRE(eventually([&] { return a.connected(2); }));
    a.links->send(heartbeat(1, 2, 1));
    REQUIRE(b.received.wait_for(1));
  }  // node 2 stops: its listener and every connection close
  REQUIRE(eventually([&] { return !a.connected(2); }));
  const auto dropped_before = a.stats().messages_dropped;
  a.links->send(heartbeat(1, 2, 2));  // link down: dropped at once, never queued
  CHECK(eventually([&] { return a.stats().messages_dropped == dropped_before + 1; }));

  Node b(2, b_address);
  REQUIRE(eventually([&] { return a.connected(2); }));
  a.links->send(heartbeat(1, 2, 3));
  REQUIRE(b.received.wait_for(1));
  CHECK(b.received.items()[0].commit == 3);
  CHECK(a.stats().connects >= 2);
}

TEST_CASE("peer links: snapshots stream in chunks and reassemble to the exact bytes") {
  constexpr size_t kChunk = 4096;
  net::PeerLinksOptions options;
  options.snapshot_chunk_bytes = kChunk;
  Node a(1, "127.0.0.1:0", options), b(2);
  a.links->set_peer(2, b.address());
  REQUIRE(eventually([&] { return a.connected(2); }));

  const std::vector<size_t> sizes = {
      0, 1, kChunk - 1, kChunk, kChunk + 1, 3 * kChunk + 17, (3u << 20) + 5};
  for (size_t i = 0; i < sizes.size(); ++i) {
    raft::Message m;
    m.type = raft::MessageType::kSnapshot;
    m.from = 1;
    m.to = 2;
    m.term = 9;
    raft::Snapshot s;
    s.meta = {100 + i, 8, {{1, 2, 3}, {4}}};
    s.data = std::make_shared<const std::string>(random_bytes(i, sizes[i]));
    m.snapshot = s;
    a.links->send(m);
    a.links->send(heartbeat(1, 2, i));  // travels between the chunks
    // Raft sends a follower one snapshot at a time (a newer one replaces an unfinished one).
    REQUIRE(a.snapshot_status.wait_for(i + 1));
  }
  REQUIRE(b.received.wait_for(2 * sizes.size()));
  std::vector<raft::Message> snapshots;
  for (auto& m : b.received.items()) {
    if (m.type == raft::MessageType::kSnapshot) snapshots.push_back(m);
  }
  REQUIRE(snapshots.size() == sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    CAPTURE(sizes[i]);
    REQUIRE(snapshots[i].snapshot.has_value());
    CHECK(snapshots[i].snapshot->meta == raft::SnapshotMeta{100 + i, 8, {{1, 2, 3}, {4}}});
    CHECK(snapshots[i].term == 9);
    REQUIRE(snapshots[i].snapshot->data != nullptr);
    CHECK(*snapshots[i].snapshot->data == random_bytes(i, sizes[i]));
  }
  REQUIRE(a.snapshot_status.wait_for(sizes.size()));
  for (auto [peer, sent] : a.snapshot_status.items()) {
    CHECK(peer == 2);
    CHECK(sent);
  }
}

TEST_CASE("peer links: a newer snapshot replaces an unfinished one, which is reported unsent") {
  net::PeerLinksOptions options;
  options.snapshot_chunk_bytes = 1024;
  Node a(1, "127.0.0.1:0", options), b(2);
  a.links->set_peer(2, b.address());
  REQUIRE(eventually([&] { return a.connected(2); }));
  raft::Message m;
  m.type = raft::MessageType::kSnapshot;
  m.from = 1;
  m.to = 2;
  m.snapshot = raft::Snapshot{{5, 1, {}}, std::make_shared<const std::string>(1 << 20, 'a')};
  std::vector<raft::Message> both = {m, m};
  both[1].snapshot = raft::Snapshot{{6, 1, {}}, std::make_shared<const std::string>(3000, 'b')};
  a.links->send(both);  // one post: the second replaces the first before it can finish
  REQUIRE(a.snapshot_status.wait_for(2));
  CHECK(a.snapshot_status.items() ==
        std::vector<std::pair<raft::NodeId, bool>>{{2, false}, {2, true}});
  REQUIRE(b.received.wait_for(1));
  auto got = b.received.items();
  REQUIRE(got.size() == 1);
  CHECK(got[0].snapshot->meta.index == 6);
  CHECK(*got[0].snapshot->data == std::string(3000, 'b'));
}

TEST_CASE("peer links: a snapshot for a down peer is reported unsent at once") {
  Node a(1);
  a.links->set_peer(2, "127.0.0.1:1");  // nothing listens on port 1
  raft::Message m;
  m.type = raft::MessageType::kSnapshot;
  m.from = 1;
  m.to = 2;
  m.snapshot = raft::Snapshot{{5, 1, {}}, std::make_shared<const std::string>("x")};
  a.links->send(m);
  REQUIRE(a.snapshot_status.wait_for(1));
  CHECK(a.snapshot_status.items()[0] == std::pair<raft::NodeId, bool>{2, false});
}

TEST_CASE("peer links: a peer from another cluster, or dialing the wrong node id, is refused") {
  net::PeerLinksOptions other;
  other.cluster_id = "other";
  Node a(1), b(2), stranger(3, "127.0.0.1:0", other);
  stranger.links->set_peer(1, a.address());  // wrong cluster
  b.links->set_peer(5, a.address());         // a is node 1, not 5
  // Both dial successfully and send, but a closes both connections and delivers nothing; a
  // well-behaved peer sent afterwards gets through.
  REQUIRE(eventually([&] { return stranger.stats().connects >= 2 && b.stats().connects >= 2; }));
  stranger.links->send(heartbeat(3, 1, 1));
  b.links->set_peer(1, a.address());
  REQUIRE(eventually([&] { return b.connected(1); }));
  b.links->send(heartbeat(2, 1, 2));
  REQUIRE(a.received.wait_for(1));
  auto got = a.received.items();
  REQUIRE(got.size() == 1);
  CHECK(got[0].from == 2);
}

TEST_CASE(
    "peer links: inbound frames before a hello, or speaking for another node, close the "
    "connection") {
  Node a(1);
  const std::vector<raft::Message> from_2 = {heartbeat(2, 1, 1)};
  CHECK(server_closes_after(a.address(), net::encode_frame(net::encode_message_batch(from_2))));
  base::Bytes spoofed = net::encode_frame(net::encode_hello({3, 1, "raftkv"}));
  net::append_frame(spoofed, net::encode_message_batch(from_2));  // hello says 3, message says 2
  CHECK(server_closes_after(a.address(), spoofed));
  base::Bytes twice = net::encode_frame(net::encode_hello({3, 1, "raftkv"}));
  net::append_frame(twice, net::encode_hello({3, 1, "raftkv"}));
  CHECK(server_closes_after(a.address(), twice));
  CHECK(a.received.size() == 0);
}

TEST_CASE(
    "peer links: batches over the frame limit are split; a message that can never fit is "
    "dropped and later ones still arrive") {
  net::PeerLinksOptions options;
  options.payload_max_bytes = 64 * 1024;
  Node a(1, "127.0.0.1:0", options), b(2, "127.0.0.1:0", options);
  a.links->set_peer(2, b.address());
  REQUIRE(eventually([&] { return a.connected(2); }));
  std::vector<raft::Message> burst;
  for (uint64_t i = 1; i <= 100; ++i) {
    raft::Message m = heartbeat(1, 2, i);
    m.type = raft::MessageType::kAppend;
    m.entries.push_back({i, 3, raft::EntryType::kNormal, std::string(2000, 'e')});
    burst.push_back(std::move(m));
  }
  raft::Message huge = heartbeat(1, 2, 101);
  huge.type = raft::MessageType::kAppend;
  huge.entries.push_back({101, 3, raft::EntryType::kNormal, std::string(70 * 1024, 'h')});
  burst.push_back(huge);
  burst.push_back(heartbeat(1, 2, 102));
  a.links->send(std::move(burst));
  REQUIRE(b.received.wait_for(101));
  auto got = b.received.items();
  REQUIRE(got.size() == 101);
  for (uint64_t i = 0; i < 100; ++i) CHECK(got[i].commit == i + 1);
  CHECK(got[100].commit == 102);
  CHECK(a.stats().messages_dropped == 1);
  CHECK(a.connected(2));  // the receiver never saw an oversized frame
}

TEST_CASE(
    "peer links: a peer that stops reading is detected by the write timeout; messages "
    "are dropped, not piled up, and the link redials") {
  // A "peer" that accepts connections (via the kernel backlog) but never reads a byte.
  asio::io_context black_hole_io;
  asio::ip::tcp::acceptor black_hole(black_hole_io, {asio::ip::make_address("127.0.0.1"), 0});
  net::PeerLinksOptions options;
  options.payload_max_bytes = 1 << 20;
  options.queue_max_bytes = 2 << 20;
  options.write_timeout = std::chrono::milliseconds(300);
  Node a(1, "127.0.0.1:0", options);
  a.links->set_peer(2, "127.0.0.1:" + std::to_string(black_hole.local_endpoint().port()));
  REQUIRE(eventually([&] { return a.connected(2); }));
  // Keep sending 256 KiB appends until the stalled socket was closed and dialed again.
  uint64_t sent = 0;
  const bool redialed = eventually([&] {
    raft::Message m = heartbeat(1, 2, ++sent);
    m.type = raft::MessageType::kAppend;
    m.entries.push_back({sent, 3, raft::EntryType::kNormal, std::string(256 << 10, 'x')});
    a.links->send(std::move(m));
    return a.stats().connects >= 2;
  });
  CHECK(redialed);
  const auto stats = a.stats();
  CHECK(stats.messages_dropped > 0);
  // Far less than everything was handed to sockets: the queue cap held.
  CHECK(stats.messages_sent < sent);
}
