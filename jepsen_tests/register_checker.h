// register workload: per-key read / write / cas, checked for linearizability key by key
// (linearizability is local, Herlihy & Wing), each key by the WGL search in wgl.h.
//
// Op shapes (HISTORY.md): f "read" {"key"} -> ok {"key","value"}; f "write" {"key","value"};
// f "cas" {"key","expected","new"}: ok = swapped, fail = the check did not hold (no effect).
// A null value means the key is absent (null written = delete). Failed ops and indeterminate
// reads are dropped (no effect, nothing observed). Indeterminate writes or cas whose new value
// nothing kept depends on are dropped too (no ok read returns it, no ok cas and no kept info cas
// expects it; computed to a fixpoint): leaving them out of a linearization never breaks it.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "jepsen_tests/check_result.h"
#include "jepsen_tests/history.h"

namespace jepsen {

struct RegisterOptions {
  int64_t time_budget_ms_per_key = 10'000;  // per-key search time; over it the key is unknown
  int64_t max_configurations_per_key = 4'000'000;
  int threads = 0;                 // 0: min(hardware threads, 4)
  size_t counterexample_ops = 12;  // pending ops shown around the failure
  size_t counterexample_keys = 3;  // invalid keys described in the counterexample
};

// Errors only on malformed ops (missing key, read ok without a value, unknown f).
base::Result<CheckResult> check_register(const std::vector<Operation>& ops,
                                         const RegisterOptions& options = {});

}  // namespace jepsen
