// The client protocol (net/client.fbs) as plain C++ values. node/ and cli/ build and read these;
// only net/client_codec.cc and client_decode.cc touch flatbuffers. Field meanings are documented
// in client.fbs. The Deno KV data model inside requests and responses (keys, values,
// versionstamps, reads, atomic writes, queue acks) is kvmodel's; what is defined here is only
// this protocol's own: the request/response variants, watch and queue streams, status,
// membership, errors and leader hints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "kvmodel/atomic_write.h"
#include "kvmodel/queue.h"
#include "kvmodel/read.h"
#include "raft/types.h"

namespace net {

// ---------------------------------------------------------------- requests

struct Watch {
  std::vector<base::Bytes> keys;
  std::optional<kvmodel::Versionstamp> min_versionstamp;
  friend bool operator==(const Watch&, const Watch&) = default;
};

struct QueueListen {
  std::string consumer;
  uint32_t max_in_flight = 1;
  uint32_t visibility_ms = 5000;
  friend bool operator==(const QueueListen&, const QueueListen&) = default;
};

struct StatusRequest {
  bool local_only = false;
  friend bool operator==(const StatusRequest&, const StatusRequest&) = default;
};
struct MemberList {
  friend bool operator==(const MemberList&, const MemberList&) = default;
};
struct MemberAdd {
  uint64_t id = 0;
  std::string peer_addr;
  std::string client_addr;
  friend bool operator==(const MemberAdd&, const MemberAdd&) = default;
};
struct MemberRemove {
  uint64_t id = 0;
  friend bool operator==(const MemberRemove&, const MemberRemove&) = default;
};
struct LeaderTransfer {
  uint64_t to = 0;
  friend bool operator==(const LeaderTransfer&, const LeaderTransfer&) = default;
};
struct Cancel {
  uint64_t stream_id = 0;
  friend bool operator==(const Cancel&, const Cancel&) = default;
};

// The data-path requests are kvmodel's types; the rest is this protocol's own.
using RequestBody =
    std::variant<kvmodel::SnapshotRead, kvmodel::AtomicWrite, Watch, QueueListen, kvmodel::QueueAck,
                 kvmodel::QueueNack, kvmodel::QueueExtend, StatusRequest, MemberList, MemberAdd,
                 MemberRemove, LeaderTransfer, Cancel>;

struct Request {
  uint64_t id = 0;
  RequestBody body;
  friend bool operator==(const Request&, const Request&) = default;
};

// True for requests that open a stream (Watch, QueueListen).
bool opens_stream(const RequestBody& body);

// ---------------------------------------------------------------- responses

struct SnapshotReadResult {
  std::vector<std::vector<kvmodel::KvEntry>> ranges;  // same order as the request's ranges
  bool strongly_consistent = false;
  friend bool operator==(const SnapshotReadResult&, const SnapshotReadResult&) = default;
};

struct AtomicWriteResult {
  bool ok = false;
  std::optional<kvmodel::Versionstamp> versionstamp;  // set iff ok
  std::vector<uint32_t> failed_checks;
  friend bool operator==(const AtomicWriteResult&, const AtomicWriteResult&) = default;
};

struct WatchEntry {
  base::Bytes key;
  std::optional<kvmodel::KvEntry> entry;  // nullopt: the key does not exist; else entry->key == key
  friend bool operator==(const WatchEntry&, const WatchEntry&) = default;
};
struct WatchEvent {
  std::vector<WatchEntry> entries;
  friend bool operator==(const WatchEvent&, const WatchEvent&) = default;
};

// The consumer finishes it with a kvmodel::QueueAck / QueueNack / QueueExtend quoting
// message_id and lease_token.
struct QueueDelivery {
  base::Bytes message_id;
  kvmodel::Versionstamp lease_token;
  base::Bytes payload;
  uint32_t attempt = 1;
  friend bool operator==(const QueueDelivery&, const QueueDelivery&) = default;
};

// One node's view of itself. A node that could not be asked has `error` set and nothing else
// but id and address.
struct NodeStatus {
  uint64_t id = 0;
  raft::Role role = raft::Role::kFollower;
  bool learner = false;  // a non-voting member (its role is then kFollower)
  uint64_t term = 0;
  uint64_t leader = 0;
  uint64_t commit = 0;
  uint64_t applied = 0;
  uint64_t last_index = 0;
  uint64_t log_bytes = 0;
  uint64_t last_snapshot_index = 0;
  std::string address;
  std::string error;  // why the node could not be asked; empty when it answered
  friend bool operator==(const NodeStatus&, const NodeStatus&) = default;
};
// "leader", "follower", "pre-candidate", "candidate" or "learner" (as `kv status` prints them).
std::string_view role_name(const NodeStatus& status);

struct StatusResult {
  std::vector<NodeStatus> nodes;
  friend bool operator==(const StatusResult&, const StatusResult&) = default;
};

enum class MemberRole : uint8_t { kVoter = 0, kLearner = 1 };
struct Member {
  uint64_t id = 0;
  MemberRole role = MemberRole::kVoter;
  std::string peer_addr;
  std::string client_addr;
  friend bool operator==(const Member&, const Member&) = default;
};
struct MemberListResult {
  std::vector<Member> members;
  friend bool operator==(const MemberListResult&, const MemberListResult&) = default;
};

struct Ok {
  friend bool operator==(const Ok&, const Ok&) = default;
};
struct StreamEnd {
  friend bool operator==(const StreamEnd&, const StreamEnd&) = default;
};

struct LeaderHint {
  uint64_t id = 0;
  std::string address;  // the leader's client address
  friend bool operator==(const LeaderHint&, const LeaderHint&) = default;
};
struct Error {
  base::Code code = base::Code::kInternal;  // never kOk
  std::string message;
  std::optional<LeaderHint> leader_hint;
  friend bool operator==(const Error&, const Error&) = default;

  static Error of(const base::Status& status) {
    return Error{status.code(), status.message(), std::nullopt};
  }
  base::Status to_status() const { return base::Status(code, message); }
};

using ResponseBody = std::variant<SnapshotReadResult, AtomicWriteResult, WatchEvent, QueueDelivery,
                                  StatusResult, MemberListResult, Ok, StreamEnd, Error>;

struct Response {
  uint64_t id = 0;
  ResponseBody body;
  friend bool operator==(const Response&, const Response&) = default;
};

// True for bodies that end a request: everything but WatchEvent and QueueDelivery.
bool is_final(const ResponseBody& body);

}  // namespace net
