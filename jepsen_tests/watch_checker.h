// watch workload: watchers (one process each) stream the entries of a few keys while writers
// update them; after healing, a final read gives the final values.
//
// Op shapes (HISTORY.md):
//   f "write"      {"key","value"} -> ok {"key","value","versionstamp"}
//   f "watch-open" {"keys": [...]}: recorded when a watcher opens its stream (optional)
//   f "yield"      ok {"entries": [{"key","value","versionstamp"}...]}: one yielded snapshot,
//                  recorded as an invoke and an ok at the same time by the watcher's process
//   f "watch-end"  {"error"}: the watcher's stream broke for good (the harness then opens a new
//                  one under a new process); such a watcher is exempt from W5
//   f "read"       ok {"entries": [...]}: the final read after healing (the last ok read counts)
// Versionstamps are 20 hex digits (null when the key is absent); they compare as strings.
// Checks (correctness-anchors.md §6): W1 per watcher and key the versionstamp never goes back;
// W2 every yielded entry was written by an ok write with that versionstamp and value, or by an
// info write with that value (never a failed write); W4 the first yield after watch-open is at
// least as new as every write acknowledged before it opened; W5 every watcher's last yield
// equals the final read for the keys it watched; W6 consecutive yields differ (no spurious
// yields). No final read: W5 cannot be checked and a history otherwise clean is unknown.
#pragma once

#include <vector>

#include "base/status.h"
#include "jepsen_tests/check_result.h"
#include "jepsen_tests/history.h"

namespace jepsen {

base::Result<CheckResult> check_watch(const std::vector<Operation>& ops);

}  // namespace jepsen
