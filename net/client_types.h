// The client protocol (net/client.fbs) as plain C++ values. node/ and cli/ build and read these;
// only net/client_codec.cc touches flatbuffers. Field meanings are documented in client.fbs.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace net {

// 8 bytes big-endian Raft index, 2 bytes big-endian position in the entry.
using Versionstamp = std::array<uint8_t, 10>;

enum class ValueEncoding : uint8_t { kUnspecified = 0, kV8 = 1, kLe64 = 2, kBytes = 3 };

struct Value {
  ValueEncoding encoding = ValueEncoding::kUnspecified;
  base::Bytes data;
  friend bool operator==(const Value&, const Value&) = default;
};

struct KvEntry {
  base::Bytes key;
  Value value;
  Versionstamp versionstamp{};
  friend bool operator==(const KvEntry&, const KvEntry&) = default;
};

// ---------------------------------------------------------------- requests

enum class Consistency : uint8_t { kStrong = 0, kEventual = 1 };

struct ReadRange {
  base::Bytes start;  // inclusive
  base::Bytes end;    // exclusive
  uint32_t limit = 1;
  bool reverse = false;
  friend bool operator==(const ReadRange&, const ReadRange&) = default;
};

struct SnapshotRead {
  std::vector<ReadRange> ranges;
  Consistency consistency = Consistency::kStrong;
  friend bool operator==(const SnapshotRead&, const SnapshotRead&) = default;
};

struct Check {
  base::Bytes key;
  std::optional<Versionstamp> versionstamp;  // nullopt: the key must not exist
  friend bool operator==(const Check&, const Check&) = default;
};

// Numbers match Deno KV's MutationType.
enum class MutationType : uint8_t {
  kUnspecified = 0,
  kSet = 1,
  kDelete = 2,
  kSum = 3,
  kMax = 4,
  kMin = 5,
  kSetSuffixVersionstampedKey = 9,
};

struct Mutation {
  MutationType type = MutationType::kUnspecified;
  base::Bytes key;
  std::optional<Value> value;  // nullopt for delete
  int64_t expire_at_ms = 0;    // 0 = never
  base::Bytes sum_min;
  base::Bytes sum_max;
  bool sum_clamp = false;
  friend bool operator==(const Mutation&, const Mutation&) = default;
};

struct Enqueue {
  base::Bytes payload;
  uint64_t delay_ms = 0;
  std::vector<base::Bytes> keys_if_undelivered;
  std::vector<uint32_t> backoff_schedule_ms;  // empty = the default schedule
  friend bool operator==(const Enqueue&, const Enqueue&) = default;
};

struct AtomicWrite {
  uint64_t client_id = 0;
  uint64_t sequence = 0;
  std::vector<Check> checks;
  std::vector<Mutation> mutations;
  std::vector<Enqueue> enqueues;
  friend bool operator==(const AtomicWrite&, const AtomicWrite&) = default;
};

struct Watch {
  std::vector<base::Bytes> keys;
  std::optional<Versionstamp> min_versionstamp;
  friend bool operator==(const Watch&, const Watch&) = default;
};

struct QueueListen {
  std::string consumer;
  uint32_t max_in_flight = 1;
  uint32_t visibility_ms = 5000;
  friend bool operator==(const QueueListen&, const QueueListen&) = default;
};

struct QueueAck {
  base::Bytes id;
  uint64_t token = 0;
  friend bool operator==(const QueueAck&, const QueueAck&) = default;
};
struct QueueNack {
  base::Bytes id;
  uint64_t token = 0;
  friend bool operator==(const QueueNack&, const QueueNack&) = default;
};
struct QueueExtend {
  base::Bytes id;
  uint64_t token = 0;
  uint32_t extend_ms = 0;  // 0 = the listener's visibility_ms
  friend bool operator==(const QueueExtend&, const QueueExtend&) = default;
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

using RequestBody =
    std::variant<SnapshotRead, AtomicWrite, Watch, QueueListen, QueueAck, QueueNack, QueueExtend,
                 StatusRequest, MemberList, MemberAdd, MemberRemove, LeaderTransfer, Cancel>;

struct Request {
  uint64_t id = 0;
  RequestBody body;
  friend bool operator==(const Request&, const Request&) = default;
};

// True for requests that open a stream (Watch, QueueListen).
bool opens_stream(const RequestBody& body);

// ---------------------------------------------------------------- responses

struct SnapshotReadResult {
  std::vector<std::vector<KvEntry>> ranges;  // same order as the request's ranges
  bool strongly_consistent = false;
  friend bool operator==(const SnapshotReadResult&, const SnapshotReadResult&) = default;
};

struct AtomicWriteResult {
  bool ok = false;
  std::optional<Versionstamp> versionstamp;  // set iff ok
  std::vector<uint32_t> failed_checks;
  friend bool operator==(const AtomicWriteResult&, const AtomicWriteResult&) = default;
};

struct WatchEntry {
  base::Bytes key;
  std::optional<KvEntry> entry;  // nullopt: the key does not exist; else entry->key == key
  friend bool operator==(const WatchEntry&, const WatchEntry&) = default;
};
struct WatchEvent {
  std::vector<WatchEntry> entries;
  friend bool operator==(const WatchEvent&, const WatchEvent&) = default;
};

struct QueueDelivery {
  base::Bytes id;
  uint64_t token = 0;
  base::Bytes payload;
  uint32_t attempt = 1;
  friend bool operator==(const QueueDelivery&, const QueueDelivery&) = default;
};

enum class Role : uint8_t {
  kUnknown = 0,
  kFollower = 1,
  kPreCandidate = 2,
  kCandidate = 3,
  kLeader = 4,
  kLearner = 5,
};
std::string_view role_name(Role role);

struct NodeStatus {
  uint64_t id = 0;
  Role role = Role::kUnknown;
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
