// Limits of an atomic write, a read and the queue (spec §5: the denokv server column, except
// checks, where we accept the Deno CLI's 100). Validation happens before anything is applied.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kvstate {

inline constexpr size_t kWriteKeyMaxBytes = 2048;  // mutation and undelivered keys
inline constexpr size_t kReadKeyMaxBytes = 2049;   // check keys and range bounds
inline constexpr size_t kValueMaxBytes = 65536;    // values and enqueue payloads
inline constexpr size_t kChecksMax = 100;
inline constexpr size_t kMutationsMax = 1000;  // mutations + enqueues
inline constexpr size_t kAtomicWriteMaxBytes = 819200;
inline constexpr size_t kReadRangesMax = 10;
inline constexpr size_t kReadEntriesMax = 1000;  // sum of range limits
inline constexpr uint64_t kEnqueueDelayMaxMs = 30ull * 24 * 3600 * 1000;
inline constexpr size_t kBackoffIntervalsMax = 10;
inline constexpr uint32_t kBackoffIntervalMaxMs = 3'600'000;
inline constexpr size_t kUndeliveredKeysMax = 10;
// Timestamps (now, expire-at) above this are refused at decode: it keeps now + delay far from
// overflow. 2^53 ms is about 285,000 years.
inline constexpr uint64_t kTimeMaxMs = uint64_t{1} << 53;
// A versionstamped key gets 02 ‖ 20 hex digits ‖ 00 appended after the size check.
inline constexpr size_t kVersionstampSuffixBytes = 22;

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
