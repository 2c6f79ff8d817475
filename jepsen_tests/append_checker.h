// append workload: Elle-style list-append checking for strict serializability.
//
// Op shape (HISTORY.md): f "txn", value = a list of micro-ops, ["append", key, element] or
// ["r", key, list-or-null]; the invoke has null reads, the ok completion the lists read.
// Elements must be unique per key across the whole history (the generator guarantees it).
//
// Because every append is unique and a read returns the whole list, the longest read of a key
// gives its version order, and from it: ww (consecutive appends), wr (who wrote the last
// element a read saw), rw (the read missed the next append) edges; real-time edges
// (T1 completed before T2 was invoked) are encoded through a chain of completion-time nodes,
// which keeps them O(n) yet preserves exactly the reachability of the full relation.
// Cycles are found per strongly connected component and named by the weakest cycle found:
// G0 (ww only), G1c (ww+wr), G-single (one rw), G2 (more rw); "-realtime" when the cycle needs
// a real-time edge (strict serializability, not plain serializability, is violated).
// Direct anomalies: G1a aborted read, G1b intermediate read, garbage read, duplicate elements,
// incompatible order (two reads of a key that are not prefixes of one another), internal
// (a txn's read contradicts its own earlier read or appends).
#pragma once

#include "base/status.h"
#include "jepsen_tests/check_result.h"
#include "jepsen_tests/history.h"

namespace jepsen {

struct AppendOptions {
  size_t examples_per_anomaly = 3;  // witnesses printed per anomaly type
  size_t g_single_attempts = 2000;  // rw edges tried per component when looking for G-single
};

base::Result<CheckResult> check_append(const std::vector<Operation>& ops,
                                       const AppendOptions& options = {});

}  // namespace jepsen
