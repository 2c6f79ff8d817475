#include "net/peer_codec.h"

#include <doctest/doctest.h>
#include <flatbuffers/flatbuffers.h>

#include "net/peer_generated.h"

namespace {

// raft::Message has no operator== (Snapshot holds a pointer): compare every field here.
void check_same(const raft::Message& a, const raft::Message& b) {
  CHECK(a.type == b.type);
  CHECK(a.from == b.from);
  CHECK(a.to == b.to);
  CHECK(a.term == b.term);
  CHECK(a.log_term == b.log_term);
  CHECK(a.index == b.index);
  CHECK(a.entries == b.entries);
  CHECK(a.commit == b.commit);
  CHECK(a.reject == b.reject);
  CHECK(a.reject_hint == b.reject_hint);
  CHECK(a.reject_hint_term == b.reject_hint_term);
  CHECK(a.context == b.context);
  REQUIRE(a.snapshot.has_value() == b.snapshot.has_value());
  if (a.snapshot) CHECK(a.snapshot->meta == b.snapshot->meta);
}

// A message of `type` with every field set to a distinct non-default value.
raft::Message full_message(raft::MessageType type) {
  raft::Message m;
  m.type = type;
  m.from = 3;
  m.to = 0xFFFF'FFFF'FFFF'FFF0ull;
  m.term = 42;
  m.log_term = 41;
  m.index = 1ull << 40;
  m.entries = {{7, 40, raft::EntryType::kNormal, std::string("set\0a=1", 7)},
               {8, 41, raft::EntryType::kConfChange, "conf"},
               {9, 42, raft::EntryType::kEmpty, ""}};
  m.commit = 6;
  m.reject = true;
  m.reject_hint = 5;
  m.reject_hint_term = 39;
  m.context = std::string("\x00\x01read-7", 8);
  raft::Snapshot s;
  s.meta = {100, 38, {{1, 2, 3}, {4}}};
  m.snapshot = s;
  return m;
}

}  // namespace

TEST_CASE("peer codec: every message type round-trips with every field set") {
  std::vector<raft::Message> all;
  for (int t = 0; t <= static_cast<int>(raft::MessageType::kTransferLeader); ++t) {
    all.push_back(full_message(static_cast<raft::MessageType>(t)));
  }
  raft::Message defaults;  // and one with every field at its default
  all.push_back(defaults);

  auto decoded = net::decode_peer_frame(net::encode_message_batch(all));
  REQUIRE(decoded.is_ok());
  auto* messages = std::get_if<std::vector<raft::Message>>(&*decoded);
  REQUIRE(messages != nullptr);
  REQUIRE(messages->size() == all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    CAPTURE(i);
    check_same((*messages)[i], all[i]);
  }
  // A decoded snapshot carries metadata only: its data travels in chunks.
  REQUIRE((*messages)[0].snapshot.has_value());
  CHECK((*messages)[0].snapshot->data == nullptr);
}

TEST_CASE("peer codec: hello round-trips") {
  net::PeerHello hello{1, 2, "cluster-a"};
  auto decoded = net::decode_peer_frame(net::encode_hello(hello));
  REQUIRE(decoded.is_ok());
  REQUIRE(std::holds_alternative<net::PeerHello>(*decoded));
  CHECK(std::get<net::PeerHello>(*decoded) == hello);
}

TEST_CASE("peer codec: snapshot chunks round-trip; only the first carries the message") {
  raft::Message m = full_message(raft::MessageType::kSnapshot);
  auto first = net::decode_peer_frame(net::encode_snapshot_chunk(100, 38, 0, "abc", false, &m));
  REQUIRE(first.is_ok());
  const auto& c0 = std::get<net::SnapshotChunk>(*first);
  CHECK(c0.index == 100);
  CHECK(c0.term == 38);
  CHECK(c0.offset == 0);
  CHECK(c0.data == "abc");
  CHECK_FALSE(c0.last);
  REQUIRE(c0.message.has_value());
  check_same(*c0.message, m);

  auto last = net::decode_peer_frame(net::encode_snapshot_chunk(100, 38, 3, "de", true, nullptr));
  REQUIRE(last.is_ok());
  const auto& c1 = std::get<net::SnapshotChunk>(*last);
  CHECK(c1.offset == 3);
  CHECK(c1.data == "de");
  CHECK(c1.last);
  CHECK_FALSE(c1.message.has_value());
}

TEST_CASE("peer codec: garbage, truncated payloads and unknown enum values are corruption") {
  CHECK_FALSE(net::decode_peer_frame("").is_ok());
  CHECK_FALSE(net::decode_peer_frame("definitely not a flatbuffer").is_ok());
  base::Bytes good =
      net::encode_message_batch(std::vector{full_message(raft::MessageType::kAppend)});
  CHECK_FALSE(net::decode_peer_frame(base::BytesView(good).substr(0, good.size() / 2)).is_ok());

  namespace fb = raftkv::net::peer;
  flatbuffers::FlatBufferBuilder b;
  auto message = fb::CreateMessage(b, static_cast<fb::MessageType>(99));
  auto batch = fb::CreateMessageBatch(b, b.CreateVector(std::vector{message}));
  b.Finish(fb::CreatePeerFrame(b, fb::PeerBody::MessageBatch, batch.Union()));
  auto decoded = net::decode_peer_frame(
      base::BytesView(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize()));
  REQUIRE_FALSE(decoded.is_ok());
  CHECK(decoded.status().message().find("unknown raft message type 99") != std::string::npos);
}

TEST_CASE("peer codec: a union type without its table is rejected, not dereferenced") {
  namespace fb = raftkv::net::peer;
  flatbuffers::FlatBufferBuilder b;
  fb::PeerFrameBuilder frame(b);
  frame.add_body_type(fb::PeerBody::Hello);
  b.Finish(frame.Finish());
  auto decoded = net::decode_peer_frame(
      base::BytesView(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize()));
  CHECK_FALSE(decoded.is_ok());
}
