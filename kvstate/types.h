// Plain records the state machine stores and returns (what a read returns is kvmodel::KvEntry).
// No behaviour here.
#pragma once

#include <cstdint>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "kvmodel/value.h"
#include "kvmodel/versionstamp.h"

namespace kvstate {

// One key's stored state. expire_at_ms == 0 means it never expires.
struct Entry {
  kvmodel::Value value;
  kvmodel::Versionstamp versionstamp;
  uint64_t expire_at_ms = 0;
  friend bool operator==(const Entry&, const Entry&) = default;
};

// A queued message. Ready while !leased (deliverable once ready_at_ms <= now); leased while a
// consumer holds it until lease_deadline_ms; the lease_token names the lease.
struct QueueMessage {
  base::Bytes payload;
  uint64_t ready_at_ms = 0;
  std::vector<uint32_t> backoff_ms;  // remaining retry delays, consumed from the front
  std::vector<base::Bytes> keys_if_undelivered;
  uint32_t deliveries = 0;  // leases granted so far
  bool leased = false;
  uint64_t consumer_id = 0;
  uint64_t lease_deadline_ms = 0;
  kvmodel::Versionstamp lease_token;
  friend bool operator==(const QueueMessage&, const QueueMessage&) = default;
};

// What an atomic write (or any other command) decided. Stored in client sessions, so a retried
// write gets exactly the same answer.
struct WriteOutcome {
  enum class Kind : uint8_t { kCommitted = 0, kCheckFailed = 1, kError = 2 };
  Kind kind = Kind::kCommitted;
  kvmodel::Versionstamp versionstamp;   // kCommitted
  std::vector<uint32_t> failed_checks;  // kCheckFailed: indexes into the write's checks
  base::Status error;                   // kError
  friend bool operator==(const WriteOutcome& a, const WriteOutcome& b) {
    return a.kind == b.kind && a.versionstamp == b.versionstamp &&
           a.failed_checks == b.failed_checks && a.error.code() == b.error.code() &&
           a.error.message() == b.error.message();
  }
};

struct Session {
  uint64_t last_sequence = 0;
  kvmodel::Versionstamp last_used;  // versionstamp of the last write in this session (LRU order)
  uint64_t last_used_ms = 0;        // replicated clock at that write (idle expiry)
  // (sequence, outcome) of the latest writes, oldest first, at most kSessionResultsKept.
  std::vector<std::pair<uint64_t, WriteOutcome>> recent;
  friend bool operator==(const Session&, const Session&) = default;
};

struct LeasedMessage {
  base::Bytes message_id;
  base::Bytes payload;
  kvmodel::Versionstamp lease_token;
  uint64_t lease_deadline_ms = 0;
  uint32_t delivery = 0;  // 1 for the first delivery
  friend bool operator==(const LeasedMessage&, const LeasedMessage&) = default;
};

struct CommandResult {
  WriteOutcome outcome;
  bool replayed = false;  // answered from the client's session without applying again
  // Keys whose entry changed (set, deleted, dead-lettered, expired), each once, for watchers.
  std::vector<base::Bytes> changed_keys;
  std::vector<LeasedMessage> leased;  // QueueLease only
  bool queue_changed = false;         // messages were added, leased, retried or removed
};

}  // namespace kvstate
