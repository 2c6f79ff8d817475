// The commands replicated through Raft. One Raft entry's data is a batch of commands
// (encode_batch); command i of the entry at index n is applied with versionstamp (n, i).
// The binary format is documented in kvstate/COMMANDS.md. Everything time-based reads the
// leader's clock value carried in the command (now_ms), never a local clock.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "kvstate/value.h"
#include "kvstate/versionstamp.h"

namespace kvstate {

struct Check {
  base::Bytes key;
  std::optional<Versionstamp> versionstamp;  // none = the key must not exist
  friend bool operator==(const Check&, const Check&) = default;
};

// Numbers are Deno's wire enum values (datapath.proto MutationType).
enum class MutationKind : uint8_t {
  kSet = 1,
  kDelete = 2,
  kSum = 3,
  kMax = 4,
  kMin = 5,
  kSetSuffixVersionstampedKey = 9,
};

struct Mutation {
  MutationKind kind = MutationKind::kSet;
  base::Bytes key;
  Value value;                // all kinds but kDelete
  uint64_t expire_at_ms = 0;  // kSet / kSetSuffixVersionstampedKey; 0 = never
  base::Bytes sum_min_v8;     // kSum only; empty = none
  base::Bytes sum_max_v8;
  bool sum_clamp = false;
  friend bool operator==(const Mutation&, const Mutation&) = default;
};

struct Enqueue {
  base::Bytes payload;  // V8-serialized
  uint64_t delay_ms = 0;
  std::vector<base::Bytes> keys_if_undelivered;
  std::vector<uint32_t> backoff_schedule_ms;  // empty = the default schedule
  friend bool operator==(const Enqueue&, const Enqueue&) = default;
};

struct AtomicWrite {
  uint64_t client_id = 0;
  uint64_t sequence = 0;  // 0 = no session (not deduplicated)
  uint64_t now_ms = 0;    // leader's clock at proposal
  std::vector<Check> checks;
  std::vector<Mutation> mutations;
  std::vector<Enqueue> enqueues;
  friend bool operator==(const AtomicWrite&, const AtomicWrite&) = default;
};

// Leases up to max_messages due messages (ready_at <= now) to a consumer until
// now + visibility_ms.
struct QueueLease {
  uint64_t now_ms = 0;
  uint64_t consumer_id = 0;
  uint32_t max_messages = 1;
  uint64_t visibility_ms = 0;
  friend bool operator==(const QueueLease&, const QueueLease&) = default;
};

// Message ids are 12 bytes: the enqueuing write's versionstamp ‖ 2-byte enqueue position.
// A lease token is the versionstamp of the QueueLease command that granted the lease.
struct QueueAck {
  base::Bytes message_id;
  Versionstamp lease_token;
  friend bool operator==(const QueueAck&, const QueueAck&) = default;
};
struct QueueNack {
  base::Bytes message_id;
  Versionstamp lease_token;
  uint64_t now_ms = 0;
  friend bool operator==(const QueueNack&, const QueueNack&) = default;
};
struct QueueExtend {
  base::Bytes message_id;
  Versionstamp lease_token;
  uint64_t now_ms = 0;
  uint64_t visibility_ms = 0;
  friend bool operator==(const QueueExtend&, const QueueExtend&) = default;
};
// Every lease with deadline <= now counts as a failed delivery (retry or dead-letter).
struct ExpireLeases {
  uint64_t now_ms = 0;
  friend bool operator==(const ExpireLeases&, const ExpireLeases&) = default;
};
// Deletes keys whose expire_at <= now, as one versioned write.
struct ExpirySweep {
  uint64_t now_ms = 0;
  friend bool operator==(const ExpirySweep&, const ExpirySweep&) = default;
};
struct Noop {
  friend bool operator==(const Noop&, const Noop&) = default;
};

using Command = std::variant<AtomicWrite, QueueLease, QueueAck, QueueNack, QueueExtend,
                             ExpireLeases, ExpirySweep, Noop>;

inline constexpr size_t kMessageIdBytes = 12;
inline constexpr size_t kBatchCommandsMax = 65536;  // positions are 2 bytes

base::Bytes encode_batch(const std::vector<Command>& commands);
// Validates the whole structure (version, tags, lengths, enum values, booleans, time ranges,
// no trailing bytes). Size limits of spec §5 are checked later by the state machine so that
// they produce Deno's messages as write results. Errors are kCorruption:
// "bad command batch: <what> at offset N".
base::Result<std::vector<Command>> decode_batch(base::BytesView data);

}  // namespace kvstate
