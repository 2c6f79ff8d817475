// Decoding half of net/client_codec.h.
#include <flatbuffers/flatbuffers.h>

#include <cstring>

#include "net/client_codec.h"
#include "net/client_generated.h"

namespace net {
namespace fb = raftkv::net::client;
using flatbuffers::Vector;
using namespace kvmodel;  // the data model the schema encodes

namespace {

// Decoding collects the first schema violation in `error` and keeps going with defaults, so each
// field stays one line; the caller turns a set error into a corruption Status.
struct Decoder {
  std::optional<base::Status> error;

  void fail(std::string message) {
    if (!error) error = base::corruption("client frame: {}", message);
  }

  static base::Bytes bytes(const Vector<uint8_t>* v) {
    return v ? base::Bytes(reinterpret_cast<const char*>(v->data()), v->size()) : base::Bytes();
  }
  static std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }
  static Versionstamp vs(const fb::Versionstamp& v) {
    Versionstamp out;
    std::memcpy(out.bytes.data(), v.bytes()->Data(), out.bytes.size());
    return out;
  }
  Versionstamp required_vs(const fb::Versionstamp* v, const char* what) {
    if (v == nullptr) {
      fail(fmt::format("{} without a lease token", what));
      return {};
    }
    return vs(*v);
  }
  static std::optional<Versionstamp> maybe_vs(const fb::Versionstamp* v) {
    if (v == nullptr) return std::nullopt;
    return vs(*v);
  }
  template <class E>
  E enum_in_range(E value, E max, const char* what) {
    if (static_cast<uint8_t>(value) > static_cast<uint8_t>(max)) {
      fail(fmt::format("unknown {} {}", what, static_cast<int>(value)));
      return E{};
    }
    return value;
  }

  Value value(const fb::KvValue* v) {
    if (v == nullptr) {
      fail("missing value");
      return {};
    }
    const auto encoding = static_cast<uint8_t>(v->encoding());
    if (!kvmodel::is_valid_value_encoding(encoding)) {
      fail(fmt::format("unknown value encoding {}", encoding));
      return {};
    }
    return Value{static_cast<ValueEncoding>(encoding), bytes(v->data())};
  }
  std::vector<base::Bytes> keys(const Vector<flatbuffers::Offset<fb::KeyBytes>>* v) {
    std::vector<base::Bytes> out;
    if (v != nullptr) {
      for (const fb::KeyBytes* k : *v) out.push_back(bytes(k->key()));
    }
    return out;
  }
  KvEntry entry(const fb::KvEntry& e) {
    if (e.versionstamp() == nullptr) fail("stored entry without a versionstamp");
    return KvEntry{bytes(e.key()), value(e.value()),
                   e.versionstamp() ? vs(*e.versionstamp()) : Versionstamp{}};
  }
  template <class T, class F>
  auto list(const Vector<flatbuffers::Offset<T>>* v, F&& f) {
    std::vector<decltype(f(*static_cast<const T*>(nullptr)))> out;
    if (v != nullptr) {
      out.reserve(v->size());
      for (const T* x : *v) out.push_back(f(*x));
    }
    return out;
  }
  template <class T>
  static std::vector<T> scalars(const Vector<T>* v) {
    return v ? std::vector<T>(v->begin(), v->end()) : std::vector<T>();
  }

  // ------------------------------------------------------------ requests

  Mutation mutation(const fb::Mutation& m) {
    Mutation x;
    const auto kind = static_cast<uint8_t>(m.type());
    if (!kvmodel::is_valid_mutation_kind(kind)) {
      fail(fmt::format("unknown mutation type {}", kind));
      return x;
    }
    x.kind = static_cast<MutationKind>(kind);
    x.key = bytes(m.key());
    // A delete has no value (one sent anyway is ignored); every other kind needs one.
    if (x.kind != MutationKind::kDelete) x.value = value(m.value());
    x.expire_at_ms = m.expire_at_ms();
    x.sum_min_v8 = bytes(m.sum_min());
    x.sum_max_v8 = bytes(m.sum_max());
    x.sum_clamp = m.sum_clamp();
    return x;
  }

  AtomicWrite atomic(const fb::AtomicWrite& w) {
    AtomicWrite out;
    out.client_id = w.client_id();
    out.sequence = w.sequence();
    out.checks = list(w.checks(), [&](const fb::Check& c) {
      return Check{bytes(c.key()), maybe_vs(c.versionstamp())};
    });
    out.mutations = list(w.mutations(), [&](const fb::Mutation& m) { return mutation(m); });
    out.enqueues = list(w.enqueues(), [&](const fb::EnqueueMessage& e) {
      return Enqueue{bytes(e.payload()), e.delay_ms(), keys(e.keys_if_undelivered()),
                     scalars(e.backoff_schedule())};
    });
    return out;
  }

  RequestBody request_body(const fb::Request& r) {
    using T = fb::RequestBody;
    switch (r.body_type()) {
      case T::SnapshotRead: {
        const auto* s = r.body_as_SnapshotRead();
        SnapshotRead out;
        out.ranges = list(s->ranges(), [](const fb::ReadRange& x) {
          return ReadRange{bytes(x.start()), bytes(x.end()), x.limit(), x.reverse()};
        });
        out.consistency = static_cast<kvmodel::Consistency>(
            enum_in_range(s->consistency(), fb::Consistency::MAX, "consistency"));
        return out;
      }
      case T::AtomicWrite:
        return atomic(*r.body_as_AtomicWrite());
      case T::Watch: {
        const auto* w = r.body_as_Watch();
        return Watch{keys(w->keys()), maybe_vs(w->min_versionstamp())};
      }
      case T::QueueListen: {
        const auto* q = r.body_as_QueueListen();
        return QueueListen{str(q->consumer()), q->max_in_flight(), q->visibility_ms()};
      }
      case T::QueueAck: {
        const auto* q = r.body_as_QueueAck();
        return QueueAck{bytes(q->message_id()), required_vs(q->lease_token(), "queue ack")};
      }
      case T::QueueNack: {
        const auto* q = r.body_as_QueueNack();
        return QueueNack{bytes(q->message_id()), required_vs(q->lease_token(), "queue nack"), 0};
      }
      case T::QueueExtend: {
        const auto* q = r.body_as_QueueExtend();
        return QueueExtend{bytes(q->message_id()), required_vs(q->lease_token(), "queue extend"), 0,
                           q->visibility_ms()};
      }
      case T::StatusRequest:
        return StatusRequest{r.body_as_StatusRequest()->local_only()};
      case T::MemberList:
        return MemberList{};
      case T::MemberAdd: {
        const auto* m = r.body_as_MemberAdd();
        return MemberAdd{m->id(), str(m->peer_addr()), str(m->client_addr())};
      }
      case T::MemberRemove:
        return MemberRemove{r.body_as_MemberRemove()->id()};
      case T::LeaderTransfer:
        return LeaderTransfer{r.body_as_LeaderTransfer()->to()};
      case T::Cancel:
        return Cancel{r.body_as_Cancel()->stream_id()};
      case T::NONE:
        break;
    }
    fail(fmt::format("unknown request body type {}", static_cast<int>(r.body_type())));
    return MemberList{};
  }

  // ------------------------------------------------------------ responses

  WatchEvent watch_event(const fb::WatchEvent& w) {
    WatchEvent out;
    out.entries = list(w.entries(), [&](const fb::WatchEntry& e) {
      WatchEntry x{bytes(e.key()), std::nullopt};
      if ((e.value() == nullptr) != (e.versionstamp() == nullptr)) {
        fail("watch entry with only one of value and versionstamp");
      } else if (e.value() != nullptr) {
        x.entry = KvEntry{x.key, value(e.value()), vs(*e.versionstamp())};
      }
      return x;
    });
    return out;
  }

  NodeStatus node_status(const fb::NodeStatus& n) {
    // The role and learner flag follow from the wire's role below.
    NodeStatus out{n.id(),
                   raft::Role::kFollower,
                   false,
                   n.term(),
                   n.leader(),
                   n.commit(),
                   n.applied(),
                   n.last_index(),
                   n.log_bytes(),
                   n.last_snapshot_index(),
                   str(n.address()),
                   str(n.error())};
    switch (enum_in_range(n.role(), fb::Role::MAX, "role")) {
      case fb::Role::Unknown:
        if (out.error.empty()) fail("node status with role unknown and no error");
        break;
      case fb::Role::Follower:
        out.role = raft::Role::kFollower;
        break;
      case fb::Role::PreCandidate:
        out.role = raft::Role::kPreCandidate;
        break;
      case fb::Role::Candidate:
        out.role = raft::Role::kCandidate;
        break;
      case fb::Role::Leader:
        out.role = raft::Role::kLeader;
        break;
      case fb::Role::Learner:
        out.learner = true;
        break;
    }
    return out;
  }

  Error error_body(const fb::Error& e) {
    Error out;
    out.code = static_cast<base::Code>(enum_in_range(e.code(), fb::ErrorCode::MAX, "error code"));
    if (out.code == base::Code::kOk) fail("error response with code ok");
    out.message = str(e.message());
    if (const auto* h = e.leader_hint()) out.leader_hint = LeaderHint{h->id(), str(h->address())};
    return out;
  }

  ResponseBody response_body(const fb::Response& r);
};

ResponseBody Decoder::response_body(const fb::Response& r) {
  using T = fb::ResponseBody;
  switch (r.body_type()) {
    case T::SnapshotReadResult: {
      const auto* s = r.body_as_SnapshotReadResult();
      SnapshotReadResult out;
      out.ranges = list(s->ranges(), [&](const fb::RangeResult& range) {
        return list(range.entries(), [&](const fb::KvEntry& e) { return entry(e); });
      });
      out.strongly_consistent = s->strongly_consistent();
      return out;
    }
    case T::AtomicWriteResult: {
      const auto* a = r.body_as_AtomicWriteResult();
      if (a->ok() != (a->versionstamp() != nullptr)) {
        fail("atomic write result: a versionstamp must come with ok and only then");
      }
      return AtomicWriteResult{a->ok(), maybe_vs(a->versionstamp()), scalars(a->failed_checks())};
    }
    case T::WatchEvent:
      return watch_event(*r.body_as_WatchEvent());
    case T::QueueDelivery: {
      const auto* d = r.body_as_QueueDelivery();
      return QueueDelivery{bytes(d->message_id()), required_vs(d->lease_token(), "queue delivery"),
                           bytes(d->payload()), d->attempt()};
    }
    case T::StatusResult: {
      StatusResult out;
      out.nodes = list(r.body_as_StatusResult()->nodes(),
                       [&](const fb::NodeStatus& n) { return node_status(n); });
      return out;
    }
    case T::MemberListResult: {
      MemberListResult out;
      out.members = list(r.body_as_MemberListResult()->members(), [&](const fb::Member& m) {
        auto role = enum_in_range(m.role(), fb::MemberRole::MAX, "member role");
        return Member{m.id(), static_cast<MemberRole>(role), str(m.peer_addr()),
                      str(m.client_addr())};
      });
      return out;
    }
    case T::Ok:
      return Ok{};
    case T::StreamEnd:
      return StreamEnd{};
    case T::Error:
      return error_body(*r.body_as_Error());
    case T::NONE:
      break;
  }
  fail(fmt::format("unknown response body type {}", static_cast<int>(r.body_type())));
  return Ok{};
}

}  // namespace

base::Result<Request> decode_request(base::BytesView payload) {
  if (!verify_request(payload)) return base::corruption("client frame: malformed request");
  const auto* r = flatbuffers::GetRoot<fb::Request>(payload.data());
  // The Verifier accepts a union type whose table is absent: reject that here.
  if (r->body() == nullptr) return base::corruption("client frame: request without a body");
  Decoder d;
  Request out{r->id(), d.request_body(*r)};
  if (d.error) return *d.error;
  return out;
}

base::Result<Response> decode_response(base::BytesView payload) {
  if (!verify_response(payload)) return base::corruption("client frame: malformed response");
  const auto* r = flatbuffers::GetRoot<fb::Response>(payload.data());
  if (r->body() == nullptr) return base::corruption("client frame: response without a body");
  Decoder d;
  Response out{r->id(), d.response_body(*r)};
  if (d.error) return *d.error;
  return out;
}

}  // namespace net
