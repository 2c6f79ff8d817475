// Deno KV's limits on atomic writes, reads and watches (spec §5: the denokv server column,
// except checks, where we accept the Deno CLI's 100). write_validation.h checks a request
// against them before anything is applied; the client library checks them before sending.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kvmodel {

inline constexpr size_t kWriteKeyMaxBytes = 2048;  // mutation and undelivered keys
inline constexpr size_t kReadKeyMaxBytes = 2049;   // check keys, range bounds, watched keys
inline constexpr size_t kValueMaxBytes = 65536;    // values and enqueue payloads
inline constexpr size_t kChecksMax = 100;
inline constexpr size_t kMutationsMax = 1000;  // mutations + enqueues
inline constexpr size_t kAtomicWriteMaxBytes = 819200;
inline constexpr size_t kReadRangesMax = 10;
inline constexpr size_t kReadEntriesMax = 1000;  // sum of range limits
inline constexpr size_t kWatchKeysMax = 10;
inline constexpr uint64_t kEnqueueDelayMaxMs = 30ull * 24 * 3600 * 1000;
inline constexpr size_t kBackoffIntervalsMax = 10;
inline constexpr uint32_t kBackoffIntervalMaxMs = 3'600'000;
inline constexpr size_t kUndeliveredKeysMax = 10;
// Timestamps (now, expire-at) above this are refused: it keeps now + delay far from overflow,
// and the replicated command format (kvstate/COMMANDS.md) does not accept them. 2^53 ms is
// about 285,000 years.
inline constexpr uint64_t kTimeMaxMs = uint64_t{1} << 53;
// A versionstamped key gets 02 ‖ 20 hex digits ‖ 00 appended after the size check.
inline constexpr size_t kVersionstampSuffixBytes = 22;

}  // namespace kvmodel
