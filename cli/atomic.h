// The atomic() builder of the client library, mirroring Deno's AtomicOperation: checks, then
// mutations applied in order, then enqueues; commit() applies all or nothing.
//
// Keys are tuple-encoded (kvmodel::encode_key); values are (encoding, bytes). Limits are
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
  Atomic& check(base::Bytes key, std::optional<kvmodel::Versionstamp> versionstamp);
  // expire_in: the earliest time the key may disappear, from now (client clock).
  Atomic& set(base::Bytes key, kvmodel::Value value,
              std::optional<std::chrono::milliseconds> expire_in = std::nullopt);
  Atomic& remove(base::Bytes key);
  // KvU64 read-modify-write: wrapping sum, unsigned min, unsigned max.
  Atomic& sum(base::Bytes key, uint64_t operand);
  Atomic& min(base::Bytes key, uint64_t operand);
  Atomic& max(base::Bytes key, uint64_t operand);
  Atomic& mutate(kvmodel::Mutation mutation);
  Atomic& enqueue(kvmodel::Enqueue message);

  // {ok, versionstamp} | {ok=false, failed_checks}; errors: invalid argument (nothing sent),
  // kUnavailable (nothing applied), kUnknownOutcome (sent, outcome never learned).
  base::Result<net::AtomicWriteResult> commit();

  const kvmodel::AtomicWrite& write() const { return write_; }

 private:
  Client* client_;
  kvmodel::AtomicWrite write_;
};

// The limits of spec §5 (kvmodel/kv_limits.h), checked before sending: what the Deno CLI checks
// itself with its messages ("delay cannot be greater than 30 days", "Failed to perform 'min'
// mutation on a non-U64 operand", ...), then kvmodel::validate_atomic_write, the validation every
// node runs ("key cannot be empty", "Key too large for write (max 2048 bytes)", "Value too large
// (max 65536 bytes)", "Too many checks (max 100)", ...).
base::Status validate_atomic_write(const kvmodel::AtomicWrite& write);

// now + expire_in as Unix ms, never below 1 (0 means "no expiry"); UINT64_MAX when it would
// overflow (validation refuses that).
uint64_t expire_at_from_now(std::chrono::milliseconds expire_in);

}  // namespace cli
