// Validation of requests (writes, reads, watches) against Deno's limits (kv_limits.h), with Deno's
// messages (denokv's server messages, but 100 checks as the Deno CLI allows). kvd runs it before
// proposing a write, so that a write the replicated command format could not carry (e.g. a time
// beyond kTimeMaxMs) never reaches the log; the state machine runs it again before applying
// anything. Errors are kInvalidArgument.
#pragma once

#include <vector>

#include "base/status.h"
#include "kvmodel/atomic_write.h"
#include "kvmodel/read.h"

namespace kvmodel {

base::Status validate_atomic_write(const AtomicWrite& write);
// Validation of a snapshot read's ranges (spec §9.5).
base::Status validate_read_ranges(const std::vector<ReadRange>& ranges);
// Validation of the keys of a watch (spec §5, §7): 1 to kWatchKeysMax keys, each a valid read
// key.
base::Status validate_watch_keys(const std::vector<base::Bytes>& keys);

}  // namespace kvmodel
