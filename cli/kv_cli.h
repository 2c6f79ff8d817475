// The whole `kv` command line as a function, so tests can run it against any transport:
//   kv [--endpoints A,B,C] [--json] [--timeout MS] <command> [args...]
// Endpoints come from --endpoints, else the KV_ENDPOINTS environment variable, else the local
// cluster of scripts/cluster.sh (127.0.0.1:4501,4502,4503).
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "cli/client.h"

namespace cli {

inline constexpr const char* kDefaultEndpoints = "127.0.0.1:4501,127.0.0.1:4502,127.0.0.1:4503";

// Makes the client for a command from the global options (endpoints, per-operation deadline).
using ClientFactory =
    std::function<std::unique_ptr<Client>(std::vector<std::string> endpoints, ClientOptions)>;

// args: argv without the program name. env_endpoints: KV_ENDPOINTS (may be empty).
int run_kv(const std::vector<std::string>& args, const std::string& env_endpoints,
           const ClientFactory& make_client, std::istream& in, std::ostream& out,
           std::ostream& err);

}  // namespace cli
