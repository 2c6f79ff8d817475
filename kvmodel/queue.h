// Finishing a queue delivery (spec §6; our queue extension of the protocol): a consumer that
// was delivered message `message_id` under lease `lease_token` acks it (handled: delete),
// nacks it (failed: retry per its backoff, or dead-letter) or extends the lease. The same
// values are the client's request (net/client.fbs) and the replicated command
// (kvstate/command.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "kvmodel/versionstamp.h"

namespace kvmodel {

// A message id is 12 bytes: the enqueuing write's versionstamp ‖ 2-byte enqueue position.
inline constexpr size_t kMessageIdBytes = 12;

// now_ms fields: the proposing node's clock, stamped when the request becomes a replicated
// command (as AtomicWrite::now_ms); clients leave them 0 and the wire does not carry them.
// A lease token is the versionstamp of the command that granted the lease.
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
  // The new lease runs until now + visibility_ms. 0 from a client = its listener's visibility;
  // the node resolves that before proposing.
  uint32_t visibility_ms = 0;
  friend bool operator==(const QueueExtend&, const QueueExtend&) = default;
};

}  // namespace kvmodel
