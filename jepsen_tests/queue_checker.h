// queue workload (Deno KV enqueue / listenQueue semantics; correctness-anchors.md §6).
//
// Op shapes (HISTORY.md):
//   f "enqueue"  {"id", "delay_ms"?, "backoff_ms"?: [..], "dlq_keys"?: n, "atomic"?: bool}
//                ok = committed, fail = definitely not (check failed), info = unknown.
//                backoff_ms absent = Deno's default [100, 1000, 5000, 30000, 60000].
//   f "deliver"  {"id"}: invoked when the handler starts; ok = handler succeeded, fail = the
//                handler threw (deliberately), info = the listener died during the handler.
//   f "dlq-read" ok [{"id", "keys_present", "keys_total", "value_matches"}...]: final read of
//                every message's keysIfUndelivered after the drain (absent id = none present).
//   f "marker-read" ok [ids]: final read of the marker keys written in atomic enqueues' batches.
// Checks (Q-numbers of correctness-anchors.md): Q1 no acknowledged enqueue lost (a successful
// delivery or all its dead-letter keys), Q2 nothing delivered that was never enqueued or whose
// enqueue failed, Q3 deliveries per message <= 1 + len(backoff) + allowance, Q4 first delivery
// >= enqueue invoke + delay - tolerance, Q5 attempt i+1 starts >= schedule[i] - tolerance after
// a failed attempt i, Q6 dead-letter keys written iff the schedule was exhausted (all keys, the
// original value, never after a success), Q7 atomic enqueues delivered only with their marker.
// Without a dlq-read the loss checks cannot conclude: messages neither delivered nor read are
// then "undetermined" and the verdict is unknown.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "jepsen_tests/check_result.h"
#include "jepsen_tests/history.h"

namespace jepsen {

struct QueueOptions {
  int64_t clock_tolerance_ms = 25;  // allowed early delivery (clock granularity, skew)
  int64_t duplicate_allowance = 1;  // extra deliveries per message beyond 1 + len(backoff)
  // Attempts a message may use without the history seeing them. A lease is an attempt (a lease
  // that runs out counts as a failed delivery), and under faults a lease can be granted and
  // expire unseen: the listener's node is killed or cut off between the lease and the push.
  // 0 for hand-made histories; the harness sets it for faulted runs.
  int64_t unobserved_attempt_allowance = 0;
};

base::Result<CheckResult> check_queue(const std::vector<Operation>& ops,
                                      const QueueOptions& options = {});

}  // namespace jepsen
