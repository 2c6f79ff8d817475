// An atomic write in Deno KV's model (spec §3, §4.2): checks, then mutations applied in order,
// then enqueues, all or nothing. The one definition the client library, the wire codecs
// (net/client.fbs) and the replicated command (kvstate/command.h) share. Plain values; the
// limits are checked by validate_atomic_write (write_validation.h).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "kvmodel/value.h"
#include "kvmodel/versionstamp.h"

namespace kvmodel {

// Holds iff `key`'s current versionstamp equals `versionstamp`.
struct Check {
  base::Bytes key;
  std::optional<Versionstamp> versionstamp;  // none = the key must not exist
  friend bool operator==(const Check&, const Check&) = default;
};

// Numbers are Deno's wire enum values (datapath.proto MutationType); the replicated command
// format and net/client.fbs use the same numbers.
enum class MutationKind : uint8_t {
  kSet = 1,
  kDelete = 2,
  kSum = 3,
  kMax = 4,
  kMin = 5,
  kSetSuffixVersionstampedKey = 9,  // key gets 02 ‖ hex20(versionstamp) ‖ 00 appended
};

// True for the numbers above (decoders check a wire byte with it before casting).
inline bool is_valid_mutation_kind(uint8_t kind) { return (kind >= 1 && kind <= 5) || kind == 9; }

struct Mutation {
  MutationKind kind = MutationKind::kSet;
  base::Bytes key;
  Value value;                // the value or operand; unused (and not encoded) for kDelete
  uint64_t expire_at_ms = 0;  // kSet / kSetSuffixVersionstampedKey: Unix ms; 0 = never
  base::Bytes sum_min_v8;     // kSum over V8 values only: bounds, empty = none
  base::Bytes sum_max_v8;
  bool sum_clamp = false;  // kSum: clamp to the bounds instead of failing
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
  // The client session (Raft thesis ch. 6): a retry with the same pair gets the first answer.
  uint64_t client_id = 0;
  uint64_t sequence = 0;  // 0 = no session (not deduplicated)
  // The proposing node's clock (Unix ms), stamped when the write becomes a replicated command;
  // queue delays and session expiry read it, never a local clock. Clients leave it 0: the
  // wire protocols do not carry it.
  uint64_t now_ms = 0;
  std::vector<Check> checks;
  std::vector<Mutation> mutations;
  std::vector<Enqueue> enqueues;
  friend bool operator==(const AtomicWrite&, const AtomicWrite&) = default;
};

}  // namespace kvmodel
