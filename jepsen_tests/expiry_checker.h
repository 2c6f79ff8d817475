// expiry workload checker: keys written once with expireIn, then read until they are gone.
//
// Op shapes (HISTORY.md "expiry"):
//   f "write" {"key", "value", "expire_ms"}: set with expireIn = expire_ms; ok / fail / info.
//   f "read"  {"key"} -> ok {"key", "value"}: a strong read; value null when the key is absent.
// Checks (correctness-anchors.md: expiry under clock skew; Deno deletes an expired key at some
// point after its expiry, never before):
//   E1 never back: once a read that began after the write was acknowledged saw the key absent,
//      no read that begins after that read ended sees it present again;
//   E2 not early: a read that began after the acknowledged write and ended before
//      write invoke + expire_ms - tolerance must see the key;
//   E3 nothing invented: a present value was written (ok or info write of that key and value),
//      never by a failed write.
// Keys are unique per write. Reads of keys whose write was info or failed only feed E3.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "jepsen_tests/check_result.h"
#include "jepsen_tests/history.h"

namespace jepsen {

struct ExpiryOptions {
  // Allowed early expiry: clock granularity, and under clock skew the spread of the skews (the
  // expiry instant is computed on one leader's clock and enforced on another's).
  int64_t tolerance_ms = 25;
};

base::Result<CheckResult> check_expiry(const std::vector<Operation>& ops,
                                       const ExpiryOptions& options = {});

}  // namespace jepsen
