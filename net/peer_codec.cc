#include "net/peer_codec.h"

#include <flatbuffers/flatbuffers.h>

#include "net/peer_generated.h"

namespace net {
namespace fb = raftkv::net::peer;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

namespace {

constexpr uint8_t kMessageTypeMax = static_cast<uint8_t>(raft::MessageType::kTransferLeader);
constexpr uint8_t kEntryTypeMax = static_cast<uint8_t>(raft::EntryType::kEmpty);
static_assert(static_cast<uint8_t>(fb::MessageType::MAX) == kMessageTypeMax);
static_assert(static_cast<uint8_t>(fb::EntryType::MAX) == kEntryTypeMax);

Offset<flatbuffers::Vector<uint8_t>> bytes_of(FlatBufferBuilder& b, base::BytesView s) {
  return b.CreateVector(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string string_of(const flatbuffers::Vector<uint8_t>* v) {
  if (v == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(v->data()), v->size());
}

Offset<fb::SnapshotMeta> encode_meta(FlatBufferBuilder& b, const raft::SnapshotMeta& meta) {
  auto conf =
      fb::CreateConfState(b, b.CreateVector(meta.conf.voters), b.CreateVector(meta.conf.learners));
  return fb::CreateSnapshotMeta(b, meta.index, meta.term, conf);
}

Offset<fb::Message> encode_message(FlatBufferBuilder& b, const raft::Message& m) {
  std::vector<Offset<fb::Entry>> entries;
  entries.reserve(m.entries.size());
  for (const raft::Entry& e : m.entries) {
    entries.push_back(fb::CreateEntry(b, e.index, e.term, static_cast<fb::EntryType>(e.type),
                                      e.data.empty() ? 0 : bytes_of(b, e.data)));
  }
  auto entries_vec = entries.empty() ? 0 : b.CreateVector(entries);
  auto context = m.context.empty() ? 0 : bytes_of(b, m.context);
  auto snapshot = m.snapshot ? encode_meta(b, m.snapshot->meta) : 0;
  fb::MessageBuilder mb(b);
  mb.add_type(static_cast<fb::MessageType>(m.type));
  mb.add_from(m.from);
  mb.add_to(m.to);
  mb.add_term(m.term);
  mb.add_log_term(m.log_term);
  mb.add_index(m.index);
  mb.add_entries(entries_vec);
  mb.add_commit(m.commit);
  mb.add_reject(m.reject);
  mb.add_reject_hint(m.reject_hint);
  mb.add_reject_hint_term(m.reject_hint_term);
  mb.add_context(context);
  mb.add_snapshot(snapshot);
  return mb.Finish();
}

base::Bytes finish(FlatBufferBuilder& b, fb::PeerBody type, Offset<void> body) {
  b.Finish(fb::CreatePeerFrame(b, type, body));
  return base::Bytes(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

std::vector<uint64_t> ids_of(const flatbuffers::Vector<uint64_t>* v) {
  if (v == nullptr) return {};
  return std::vector<uint64_t>(v->begin(), v->end());
}

base::Result<raft::Message> decode_message(const fb::Message& f) {
  if (static_cast<uint8_t>(f.type()) > kMessageTypeMax) {
    return base::corruption("unknown raft message type {}", static_cast<int>(f.type()));
  }
  raft::Message m;
  m.type = static_cast<raft::MessageType>(f.type());
  m.from = f.from();
  m.to = f.to();
  m.term = f.term();
  m.log_term = f.log_term();
  m.index = f.index();
  m.commit = f.commit();
  m.reject = f.reject();
  m.reject_hint = f.reject_hint();
  m.reject_hint_term = f.reject_hint_term();
  m.context = string_of(f.context());
  if (const auto* entries = f.entries()) {
    m.entries.reserve(entries->size());
    for (const fb::Entry* e : *entries) {
      if (static_cast<uint8_t>(e->type()) > kEntryTypeMax) {
        return base::corruption("unknown raft entry type {}", static_cast<int>(e->type()));
      }
      m.entries.push_back(raft::Entry{
          e->index(), e->term(), static_cast<raft::EntryType>(e->type()), string_of(e->data())});
    }
  }
  if (const fb::SnapshotMeta* s = f.snapshot()) {
    raft::Snapshot snapshot;
    snapshot.meta.index = s->index();
    snapshot.meta.term = s->term();
    if (s->conf() != nullptr) {
      snapshot.meta.conf.voters = ids_of(s->conf()->voters());
      snapshot.meta.conf.learners = ids_of(s->conf()->learners());
    }
    m.snapshot = std::move(snapshot);
  }
  return m;
}

base::Result<PeerFrame> decode_batch(const fb::MessageBatch& batch) {
  std::vector<raft::Message> messages;
  if (const auto* list = batch.messages()) {
    messages.reserve(list->size());
    for (const fb::Message* f : *list) {
      auto m = decode_message(*f);
      if (!m.is_ok()) return m.status();
      messages.push_back(std::move(m).value());
    }
  }
  return PeerFrame(std::move(messages));
}

base::Result<PeerFrame> decode_chunk(const fb::SnapshotChunk& c) {
  SnapshotChunk chunk;
  chunk.index = c.index();
  chunk.term = c.term();
  chunk.offset = c.offset();
  chunk.data = string_of(c.data());
  chunk.last = c.last();
  if ((c.message() != nullptr) != (chunk.offset == 0)) {
    return base::corruption("snapshot chunk at offset {} {} a message", chunk.offset,
                            chunk.offset == 0 ? "lacks" : "carries");
  }
  if (c.message() != nullptr) {
    auto m = decode_message(*c.message());
    if (!m.is_ok()) return m.status();
    if (m->type != raft::MessageType::kSnapshot || !m->snapshot) {
      return base::corruption("first snapshot chunk does not carry a snapshot message");
    }
    chunk.message = std::move(m).value();
  }
  return PeerFrame(std::move(chunk));
}

}  // namespace

base::Bytes encode_hello(const PeerHello& hello) {
  FlatBufferBuilder b(64 + hello.cluster_id.size());
  auto body = fb::CreateHello(b, hello.from, hello.to, b.CreateString(hello.cluster_id));
  return finish(b, fb::PeerBody::Hello, body.Union());
}

base::Bytes encode_message_batch(std::span<const raft::Message> messages) {
  size_t estimate = 64;
  for (const auto& m : messages) estimate += estimated_message_bytes(m);
  FlatBufferBuilder b(estimate);
  std::vector<Offset<fb::Message>> encoded;
  encoded.reserve(messages.size());
  for (const auto& m : messages) encoded.push_back(encode_message(b, m));
  auto body = fb::CreateMessageBatch(b, b.CreateVector(encoded));
  return finish(b, fb::PeerBody::MessageBatch, body.Union());
}

base::Bytes encode_snapshot_chunk(raft::Index index, raft::Term term, uint64_t offset,
                                  base::BytesView data, bool last,
                                  const raft::Message* first_message) {
  ENSURE((first_message != nullptr) == (offset == 0));
  FlatBufferBuilder b(128 + data.size());
  auto message = first_message ? encode_message(b, *first_message) : 0;
  auto body = fb::CreateSnapshotChunk(b, index, term, offset, bytes_of(b, data), last, message);
  return finish(b, fb::PeerBody::SnapshotChunk, body.Union());
}

bool verify_peer_frame(base::BytesView payload) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  return verifier.VerifyBuffer<fb::PeerFrame>(nullptr);
}

base::Result<PeerFrame> decode_peer_frame(base::BytesView payload) {
  if (!verify_peer_frame(payload)) return base::corruption("malformed peer frame");
  const auto* frame = flatbuffers::GetRoot<fb::PeerFrame>(payload.data());
  // The Verifier accepts a union type whose table is absent: reject that here.
  if (frame->body() == nullptr) return base::corruption("peer frame without a body");
  switch (frame->body_type()) {
    case fb::PeerBody::Hello: {
      const fb::Hello* h = frame->body_as_Hello();
      return PeerFrame(
          PeerHello{h->from(), h->to(), h->cluster_id() ? h->cluster_id()->str() : std::string()});
    }
    case fb::PeerBody::MessageBatch:
      return decode_batch(*frame->body_as_MessageBatch());
    case fb::PeerBody::SnapshotChunk:
      return decode_chunk(*frame->body_as_SnapshotChunk());
    case fb::PeerBody::NONE:
      break;
  }
  return base::corruption("peer frame without a known body (type {})",
                          static_cast<int>(frame->body_type()));
}

size_t estimated_message_bytes(const raft::Message& message) {
  size_t bytes = 128 + message.context.size();
  for (const auto& e : message.entries) bytes += 48 + e.data.size();
  if (message.snapshot) {
    bytes += 64 + 8 * (message.snapshot->meta.conf.voters.size() +
                       message.snapshot->meta.conf.learners.size());
  }
  return bytes;
}

}  // namespace net
