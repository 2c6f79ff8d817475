// Validation of an atomic write against the limits of spec §5 (denokv's server limits, but 100
// checks as the Deno CLI allows), with Deno's messages. The state machine runs it before
// applying anything; a node may also run it before proposing, to fail fast.
#pragma once

#include "base/status.h"
#include "kvstate/command.h"
#include "kvstate/types.h"

namespace kvstate {

base::Status validate_atomic_write(const AtomicWrite& write);
// Validation of a snapshot read's ranges (spec §9.5).
base::Status validate_read_ranges(const std::vector<ReadRange>& ranges);

}  // namespace kvstate
