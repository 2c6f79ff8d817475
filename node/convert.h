// Conversions between the client protocol's values (net/client_types.h) and the state
// machine's (kvstate/). Pure functions; the only place that knows both vocabularies.
#pragma once

#include "kvstate/command.h"
#include "kvstate/types.h"
#include "net/client_types.h"

namespace node {

// now_ms is the proposing node's clock, carried in the command (kvstate never reads a clock).
base::Result<kvstate::AtomicWrite> to_command(const net::AtomicWrite& write, uint64_t now_ms);
std::vector<kvstate::ReadRange> to_ranges(const std::vector<net::ReadRange>& ranges);
net::KvEntry to_net(const kvstate::ReadEntry& entry);
net::Versionstamp to_net(const kvstate::Versionstamp& versionstamp);
// The answer to a write: committed, check failure, or an error (as net::Error).
net::ResponseBody to_response(const kvstate::WriteOutcome& outcome);
net::Error error_of(const base::Status& status);

}  // namespace node
