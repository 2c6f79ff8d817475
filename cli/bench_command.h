// `kv bench`: a load generator for a raftkv cluster (issue 8), and two helpers the comparison
// script (bench/compare.sh) uses: `kv bench leader` and `kv bench probe`.
//
// Load model: --concurrency requests in flight, spread round-robin over --connections
// connections (net::ClientConnection, callback API, one io thread). A slot whose answer arrives
// sends its next request at once (closed loop), or at its scheduled time under --rate (then
// latency counts from the scheduled time, so a stalled server cannot hide queueing delay).
// Writes, strong reads and scans go to the leader; eventual reads to every endpoint in turn.
// No retries: an error answer counts as an error and the slot moves on.
//
// Reported: throughput, latency p50/p90/p99/p99.9/max (base::Histogram, microseconds) over the
// measured window and per second, errors, failed checks (cas), and the client's own CPU use
// (getrusage over the window), as text or one JSON object (--json). Keys are Deno KV keys
// ["bench", "k00000042"]; read workloads first write every key once (skip with --no-preload).
#pragma once

#include <ostream>
#include <span>
#include <string_view>

namespace cli {

extern const char* const kBenchCommandHelp;

// args: the words after "bench". Returns the process exit code (0 ok, 1 failure, 2 usage).
int run_bench_command(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace cli
