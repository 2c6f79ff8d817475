// The state machine's own bounds: queue leases, expiry sweeps and client sessions. Deno's limits
// on requests are kvmodel/kv_limits.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kvstate {

// Queue leases.
inline constexpr uint32_t kLeaseMessagesMax = 1000;
inline constexpr uint64_t kVisibilityMaxMs = 24ull * 3600 * 1000;
// Expiry sweep: at most this many keys per command, so one entry's apply time stays bounded;
// next_expiry() tells the leader to sweep again.
inline constexpr size_t kSweepKeysMax = 10'000;

// Client sessions (exactly-once writes, Raft thesis ch. 6).
inline constexpr size_t kSessionsMax = 10'000;
inline constexpr uint64_t kSessionIdleMs = 3'600'000;  // expire after an hour without writes
inline constexpr size_t kSessionResultsKept = 16;      // results of the latest sequences

}  // namespace kvstate
