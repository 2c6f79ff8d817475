#include "net/client_codec.h"

#include <flatbuffers/flatbuffers.h>

#include <cstring>

#include "base/check.h"
#include "net/client_generated.h"

namespace net {
namespace fb = raftkv::net::client;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;
using flatbuffers::Vector;
using namespace kvmodel;  // the data model the schema encodes

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

static_assert(static_cast<int>(fb::ErrorCode::MAX) == static_cast<int>(base::kLastCode));
// The schema's enums carry kvmodel's numbers (casts in both directions rely on it).
static_assert(static_cast<int>(fb::MutationType::SetSuffixVersionstampedKey) ==
              static_cast<int>(MutationKind::kSetSuffixVersionstampedKey));
static_assert(static_cast<int>(fb::MutationType::Min) == static_cast<int>(MutationKind::kMin));
static_assert(static_cast<int>(fb::ValueEncoding::MAX) ==
              static_cast<int>(kvmodel::ValueEncoding::kBytes));
static_assert(static_cast<int>(fb::Consistency::Eventual) ==
              static_cast<int>(kvmodel::Consistency::kEventual));

// ---------------------------------------------------------------- encoding helpers

Offset<Vector<uint8_t>> bytes_of(FlatBufferBuilder& b, base::BytesView s) {
  return b.CreateVector(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
Offset<Vector<uint8_t>> bytes_or_absent(FlatBufferBuilder& b, base::BytesView s) {
  return s.empty() ? 0 : bytes_of(b, s);
}
fb::Versionstamp vs_of(const Versionstamp& v) {
  return fb::Versionstamp(flatbuffers::span<const uint8_t, 10>(v.bytes.data(), 10));
}
Offset<fb::KvValue> value_of(FlatBufferBuilder& b, const Value& v) {
  return fb::CreateKvValue(b, static_cast<fb::ValueEncoding>(v.encoding), bytes_of(b, v.data));
}
Offset<Vector<Offset<fb::KeyBytes>>> keys_of(FlatBufferBuilder& b,
                                             const std::vector<base::Bytes>& keys) {
  std::vector<Offset<fb::KeyBytes>> out;
  out.reserve(keys.size());
  for (const auto& k : keys) out.push_back(fb::CreateKeyBytes(b, bytes_of(b, k)));
  return b.CreateVector(out);
}
Offset<fb::KvEntry> entry_of(FlatBufferBuilder& b, const KvEntry& e) {
  auto key = bytes_of(b, e.key);
  auto value = value_of(b, e.value);
  auto vs = vs_of(e.versionstamp);
  return fb::CreateKvEntry(b, key, value, &vs);
}

// The wire's Role numbers: Unknown for a node that could not be asked, Learner for a
// non-voting member, else the Raft role.
fb::Role wire_role(const NodeStatus& n) {
  if (!n.error.empty()) return fb::Role::Unknown;
  if (n.learner) return fb::Role::Learner;
  switch (n.role) {
    case raft::Role::kFollower:
      return fb::Role::Follower;
    case raft::Role::kPreCandidate:
      return fb::Role::PreCandidate;
    case raft::Role::kCandidate:
      return fb::Role::Candidate;
    case raft::Role::kLeader:
      return fb::Role::Leader;
  }
  FATAL("unknown raft role {}", static_cast<int>(n.role));
}

// ---------------------------------------------------------------- request bodies

Offset<fb::AtomicWrite> encode_atomic(FlatBufferBuilder& b, const AtomicWrite& w) {
  std::vector<Offset<fb::Check>> checks;
  for (const Check& c : w.checks) {
    auto key = bytes_of(b, c.key);
    std::optional<fb::Versionstamp> vs;
    if (c.versionstamp) vs = vs_of(*c.versionstamp);
    checks.push_back(fb::CreateCheck(b, key, vs ? &*vs : nullptr));
  }
  std::vector<Offset<fb::Mutation>> mutations;
  for (const Mutation& m : w.mutations) {
    auto key = bytes_of(b, m.key);
    auto value = m.kind == MutationKind::kDelete ? 0 : value_of(b, m.value);
    mutations.push_back(fb::CreateMutation(b, static_cast<fb::MutationType>(m.kind), key, value,
                                           m.expire_at_ms, bytes_or_absent(b, m.sum_min_v8),
                                           bytes_or_absent(b, m.sum_max_v8), m.sum_clamp));
  }
  std::vector<Offset<fb::EnqueueMessage>> enqueues;
  for (const Enqueue& e : w.enqueues) {
    auto payload = bytes_of(b, e.payload);
    auto keys = keys_of(b, e.keys_if_undelivered);
    auto backoff = b.CreateVector(e.backoff_schedule_ms);
    enqueues.push_back(fb::CreateEnqueueMessage(b, payload, e.delay_ms, keys, backoff));
  }
  return fb::CreateAtomicWrite(b, w.client_id, w.sequence, b.CreateVector(checks),
                               b.CreateVector(mutations), b.CreateVector(enqueues));
}

struct RequestEncoder {
  FlatBufferBuilder& b;
  using Out = std::pair<fb::RequestBody, Offset<void>>;

  Out operator()(const SnapshotRead& r) {
    std::vector<Offset<fb::ReadRange>> ranges;
    for (const ReadRange& range : r.ranges) {
      ranges.push_back(fb::CreateReadRange(b, bytes_of(b, range.start), bytes_of(b, range.end),
                                           range.limit, range.reverse));
    }
    return {fb::RequestBody::SnapshotRead,
            fb::CreateSnapshotRead(b, b.CreateVector(ranges),
                                   static_cast<fb::Consistency>(r.consistency))
                .Union()};
  }
  Out operator()(const AtomicWrite& w) {
    return {fb::RequestBody::AtomicWrite, encode_atomic(b, w).Union()};
  }
  Out operator()(const Watch& w) {
    auto keys = keys_of(b, w.keys);
    std::optional<fb::Versionstamp> vs;
    if (w.min_versionstamp) vs = vs_of(*w.min_versionstamp);
    return {fb::RequestBody::Watch, fb::CreateWatch(b, keys, vs ? &*vs : nullptr).Union()};
  }
  Out operator()(const QueueListen& q) {
    return {fb::RequestBody::QueueListen,
            fb::CreateQueueListen(b, b.CreateString(q.consumer), q.max_in_flight, q.visibility_ms)
                .Union()};
  }
  // now_ms is the node's stamp, not the client's: it is not on the wire.
  Out operator()(const QueueAck& q) {
    auto id = bytes_of(b, q.message_id);
    auto token = vs_of(q.lease_token);
    return {fb::RequestBody::QueueAck, fb::CreateQueueAck(b, id, &token).Union()};
  }
  Out operator()(const QueueNack& q) {
    auto id = bytes_of(b, q.message_id);
    auto token = vs_of(q.lease_token);
    return {fb::RequestBody::QueueNack, fb::CreateQueueNack(b, id, &token).Union()};
  }
  Out operator()(const QueueExtend& q) {
    auto id = bytes_of(b, q.message_id);
    auto token = vs_of(q.lease_token);
    return {fb::RequestBody::QueueExtend,
            fb::CreateQueueExtend(b, id, &token, q.visibility_ms).Union()};
  }
  Out operator()(const StatusRequest& s) {
    return {fb::RequestBody::StatusRequest, fb::CreateStatusRequest(b, s.local_only).Union()};
  }
  Out operator()(const MemberList&) {
    return {fb::RequestBody::MemberList, fb::CreateMemberList(b).Union()};
  }
  Out operator()(const MemberAdd& m) {
    return {fb::RequestBody::MemberAdd,
            fb::CreateMemberAdd(b, m.id, b.CreateString(m.peer_addr), b.CreateString(m.client_addr))
                .Union()};
  }
  Out operator()(const MemberRemove& m) {
    return {fb::RequestBody::MemberRemove, fb::CreateMemberRemove(b, m.id).Union()};
  }
  Out operator()(const LeaderTransfer& t) {
    return {fb::RequestBody::LeaderTransfer, fb::CreateLeaderTransfer(b, t.to).Union()};
  }
  Out operator()(const Cancel& c) {
    return {fb::RequestBody::Cancel, fb::CreateCancel(b, c.stream_id).Union()};
  }
};

// ---------------------------------------------------------------- response bodies

struct ResponseEncoder {
  FlatBufferBuilder& b;
  using Out = std::pair<fb::ResponseBody, Offset<void>>;

  Out operator()(const SnapshotReadResult& r) {
    std::vector<Offset<fb::RangeResult>> ranges;
    for (const auto& range : r.ranges) {
      std::vector<Offset<fb::KvEntry>> entries;
      entries.reserve(range.size());
      for (const KvEntry& e : range) entries.push_back(entry_of(b, e));
      ranges.push_back(fb::CreateRangeResult(b, b.CreateVector(entries)));
    }
    return {fb::ResponseBody::SnapshotReadResult,
            fb::CreateSnapshotReadResult(b, b.CreateVector(ranges), r.strongly_consistent).Union()};
  }
  Out operator()(const AtomicWriteResult& r) {
    std::optional<fb::Versionstamp> vs;
    if (r.versionstamp) vs = vs_of(*r.versionstamp);
    auto failed = b.CreateVector(r.failed_checks);
    return {fb::ResponseBody::AtomicWriteResult,
            fb::CreateAtomicWriteResult(b, r.ok, vs ? &*vs : nullptr, failed).Union()};
  }
  Out operator()(const WatchEvent& w) {
    std::vector<Offset<fb::WatchEntry>> entries;
    for (const WatchEntry& e : w.entries) {
      auto key = bytes_of(b, e.key);
      auto value = e.entry ? value_of(b, e.entry->value) : 0;
      std::optional<fb::Versionstamp> vs;
      if (e.entry) vs = vs_of(e.entry->versionstamp);
      entries.push_back(fb::CreateWatchEntry(b, key, value, vs ? &*vs : nullptr));
    }
    return {fb::ResponseBody::WatchEvent, fb::CreateWatchEvent(b, b.CreateVector(entries)).Union()};
  }
  Out operator()(const QueueDelivery& d) {
    auto id = bytes_of(b, d.message_id);
    auto token = vs_of(d.lease_token);
    auto payload = bytes_of(b, d.payload);
    return {fb::ResponseBody::QueueDelivery,
            fb::CreateQueueDelivery(b, id, &token, payload, d.attempt).Union()};
  }
  Out operator()(const StatusResult& s) {
    std::vector<Offset<fb::NodeStatus>> nodes;
    for (const NodeStatus& n : s.nodes) {
      nodes.push_back(fb::CreateNodeStatus(
          b, n.id, wire_role(n), n.term, n.leader, n.commit, n.applied, n.last_index, n.log_bytes,
          n.last_snapshot_index, b.CreateString(n.address), b.CreateString(n.error)));
    }
    return {fb::ResponseBody::StatusResult,
            fb::CreateStatusResult(b, b.CreateVector(nodes)).Union()};
  }
  Out operator()(const MemberListResult& m) {
    std::vector<Offset<fb::Member>> members;
    for (const Member& x : m.members) {
      members.push_back(fb::CreateMember(b, x.id, static_cast<fb::MemberRole>(x.role),
                                         b.CreateString(x.peer_addr),
                                         b.CreateString(x.client_addr)));
    }
    return {fb::ResponseBody::MemberListResult,
            fb::CreateMemberListResult(b, b.CreateVector(members)).Union()};
  }
  Out operator()(const Ok&) { return {fb::ResponseBody::Ok, fb::CreateOk(b).Union()}; }
  Out operator()(const StreamEnd&) {
    return {fb::ResponseBody::StreamEnd, fb::CreateStreamEnd(b).Union()};
  }
  Out operator()(const Error& e) {
    auto message = b.CreateString(e.message);
    auto hint = e.leader_hint ? fb::CreateLeaderHint(b, e.leader_hint->id,
                                                     b.CreateString(e.leader_hint->address))
                              : 0;
    return {fb::ResponseBody::Error,
            fb::CreateError(b, static_cast<fb::ErrorCode>(e.code), message, hint).Union()};
  }
};

base::Bytes take(FlatBufferBuilder& b) {
  return base::Bytes(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

template <class Root>
bool verify_root(base::BytesView payload) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  return verifier.VerifyBuffer<Root>(nullptr);
}

}  // namespace

base::Bytes encode_request(const Request& request) {
  FlatBufferBuilder b(1024);
  auto [type, body] = std::visit(RequestEncoder{b}, request.body);
  b.Finish(fb::CreateRequest(b, request.id, type, body));
  return take(b);
}

base::Bytes encode_response(const Response& response) {
  FlatBufferBuilder b(1024);
  auto [type, body] = std::visit(ResponseEncoder{b}, response.body);
  b.Finish(fb::CreateResponse(b, response.id, type, body));
  return take(b);
}

bool verify_request(base::BytesView payload) { return verify_root<fb::Request>(payload); }
bool verify_response(base::BytesView payload) { return verify_root<fb::Response>(payload); }

}  // namespace net
