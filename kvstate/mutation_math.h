// The read-modify-write mutations sum / min / max with the exact rules and error messages of
// denokv (spec §2.3). Pure functions of (existing value or none, mutation arguments) -> new
// value or an error that aborts the whole atomic write. The caller writes the result with the
// commit's versionstamp and no expiry.
#pragma once

#include "base/status.h"
#include "kvmodel/value.h"

namespace kvstate {

struct SumArguments {
  kvmodel::Value operand;
  base::Bytes min_v8;  // empty = no lower bound; only for a V8 operand
  base::Bytes max_v8;  // empty = no upper bound; only for a V8 operand
  bool clamp = false;  // out of [min, max]: clamp instead of failing
};

// LE64 operand: wrapping u64 add (bounds ignored). V8 operand: BigInt + BigInt or Number +
// Number with optional bounds; KvU64 + BigInt in [0, 2^64) without bounds adds as u64.
base::Result<kvmodel::Value> apply_sum(const kvmodel::Value* existing, const SumArguments& args);

enum class MinMax { kMin, kMax };
// Both values must be LE64; unsigned comparison.
base::Result<kvmodel::Value> apply_min_max(MinMax which, const kvmodel::Value* existing,
                                           const kvmodel::Value& operand);

}  // namespace kvstate
