// The commands replicated through Raft. One Raft entry's data is a batch of commands
// (encode_batch); command i of the entry at index n is applied with versionstamp (n, i).
// The binary format is documented in kvstate/COMMANDS.md. Everything time-based reads the
// leader's clock value carried in the command (now_ms), never a local clock.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "kvmodel/atomic_write.h"
#include "kvmodel/queue.h"

namespace kvstate {

// Leases up to max_messages due messages (ready_at <= now) to a consumer until
// now + visibility_ms.
struct QueueLease {
  uint64_t now_ms = 0;
  uint64_t consumer_id = 0;
  uint32_t max_messages = 1;
  uint64_t visibility_ms = 0;
  friend bool operator==(const QueueLease&, const QueueLease&) = default;
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

// A client's atomic write and queue acks are replicated as they are (kvmodel's types), once
// the proposing node stamped its clock (now_ms) and, for a write without a session, the node's
// own session into them. The other commands are the leader's services' own.
using Command =
    std::variant<kvmodel::AtomicWrite, QueueLease, kvmodel::QueueAck, kvmodel::QueueNack,
                 kvmodel::QueueExtend, ExpireLeases, ExpirySweep, Noop>;

inline constexpr size_t kBatchCommandsMax = 65536;  // positions are 2 bytes

base::Bytes encode_batch(const std::vector<Command>& commands);
// Validates the whole structure (version, tags, lengths, enum values, booleans, time ranges,
// no trailing bytes). Size limits of spec §5 are checked later by the state machine so that
// they produce Deno's messages as write results. Errors are kCorruption:
// "bad command batch: <what> at offset N".
base::Result<std::vector<Command>> decode_batch(base::BytesView data);

}  // namespace kvstate
