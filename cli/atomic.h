// The atomic() builder of the client library, mirroring Deno's AtomicOperation: checks, then
// mutations applied in order, then enqueues; commit() applies all or nothing.
//
// Keys are tuple-encoded (kvstate::encode_key); values are (encoding, bytes). Limits are
// checked before anything is sent, with Deno's messages (spec §5), so a bad write fails fast
// and never reaches the cluster.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "base/status.h"
#include "net/client_types.h"

namespace cli {

class Client;

class Atomic {
 public:
  // `client` must outlive the builder.
  explicit Atomic(Client* client) : client_(client) {}

  // versionstamp nullopt: the key must not exist.
  Atomic& check(base::Bytes key, std::optional<net::Versionstamp> versionstamp);
  // expire_in: the earliest time the key may disappear, from now (client clock).
  Atomic& set(base::Bytes key, net::Value value,
              std::optional<std::chrono::milliseconds> expire_in = std::nullopt);
  Atomic& remove(base::Bytes key);
  // KvU64 read-modify-write: wrapping sum, unsigned min, unsigned max.
  Atomic& sum(base::Bytes key, uint64_t operand);
  Atomic& min(base::Bytes key, uint64_t operand);
  Atomic& max(base::Bytes key, uint64_t operand);
  Atomic& mutate(net::Mutation mutation);
  Atomic& enqueue(net::Enqueue message);

  // {ok, versionstamp} | {ok=false, failed_checks}; errors: invalid argument (nothing sent),
  // kUnavailable (nothing applied), kUnknownOutcome (sent, outcome never learned).
  base::Result<net::AtomicWriteResult> commit();

  const net::AtomicWrite& write() const { return write_; }

 private:
  Client* client_;
  net::AtomicWrite write_;
};

// The client-side limits of spec §5 (server limits from kvstate/kv_limits.h). Messages:
// "key cannot be empty", "Key too large for write (max 2048 bytes)", "Value too large (max
// 65536 bytes)", "Too many checks (max 100)", "Too many mutations (max 1000)", ...
base::Status validate_atomic_write(const net::AtomicWrite& write);

// now + expire_in as Unix ms, never below 1 (0 means "no expiry" on the wire).
int64_t expire_at_from_now(std::chrono::milliseconds expire_in);

}  // namespace cli
