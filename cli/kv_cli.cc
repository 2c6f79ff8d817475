#include "cli/kv_cli.h"

#include <iostream>
#include <span>

#include "base/flags.h"
#include "cli/bench_command.h"
#include "cli/command_context.h"
#include "cli/key_commands.h"

namespace cli {
namespace {

void print_help(std::ostream& out) {
  out << "kv: command-line client for raftkv (Deno KV's data model on a Raft cluster)\n\n"
         "usage: kv [--endpoints HOST:PORT,...] [--json] [--timeout MS] <command> [args]\n\n"
         "global options:\n"
         "  --endpoints A,B,C   client addresses of some or all nodes (default: $KV_ENDPOINTS,\n"
         "                      else "
      << kDefaultEndpoints
      << ")\n"
         "  --json              print one JSON object per line\n"
         "  --timeout MS        give up on an operation after MS (default 10000)\n\n"
         "commands:\n";
  for (auto group : {data_commands(), stream_commands(), admin_commands()}) {
    for (const Command& c : group) out << fmt::format("  kv {:<60} {}\n", c.usage, c.summary);
  }
  out << *&kKeyCommandHelp << kBenchCommandHelp
      << "\nKeys are JSON arrays: '[\"users\", 42, true, {\"bigint\":\"7\"}, "
         "{\"bytes\":\"AAE=\"}]'.\n"
         "Values are JSON, stored V8-serialized as Deno stores them; {\"u64\":\"<decimal>\"} is a\n"
         "KvU64 and {\"bytes\":\"<base64>\"} a byte value. `kv <command> --help` for details.\n"
         "Exit codes: 0 ok, 1 error, 2 bad arguments, 3 a check failed, 4 outcome unknown.\n";
}

}  // namespace

int run_kv(const std::vector<std::string>& args, const std::string& env_endpoints,
           const ClientFactory& make_client, std::istream& in, std::ostream& out,
           std::ostream& err) {
  std::string endpoints = env_endpoints.empty() ? kDefaultEndpoints : env_endpoints;
  bool json = false;
  uint64_t timeout_ms = 10000;
  size_t i = 0;
  // Global options come before the command name.
  for (; i < args.size() && args[i].starts_with("--"); ++i) {
    std::string_view arg = args[i];
    auto value = [&](std::string_view name) -> std::optional<std::string> {
      if (arg.starts_with(std::string(name) + "=")) return std::string(arg.substr(name.size() + 1));
      if (arg == name && i + 1 < args.size()) return args[++i];
      return std::nullopt;
    };
    if (arg == "--help") {
      print_help(out);
      return kExitOk;
    } else if (arg == "--json") {
      json = true;
    } else if (auto e = value("--endpoints")) {
      endpoints = *e;
    } else if (auto t = value("--timeout")) {
      auto ms = base::parse_uint(*t);
      if (!ms.is_ok() || *ms == 0) {
        err << "kv: --timeout must be a positive number of milliseconds\n";
        return kExitUsage;
      }
      timeout_ms = *ms;
    } else {
      err << "kv: unknown option '" << arg << "' (see kv --help)\n";
      return kExitUsage;
    }
  }
  if (i == args.size()) {
    print_help(err);
    return kExitUsage;
  }
  const std::string& name = args[i];
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
  if (name == "key") {
    std::vector<std::string_view> views(rest.begin(), rest.end());
    return run_key_command(views, out, err);
  }
  if (name == "bench") {  // the global endpoints first: a later --endpoints of its own wins
    std::vector<std::string_view> views{"--endpoints", endpoints};
    views.insert(views.end(), rest.begin(), rest.end());
    return run_bench_command(views, out, err);
  }
  std::vector<std::string> endpoint_list = split_endpoints(endpoints);
  if (endpoint_list.empty()) {
    err << "kv: no endpoints given (--endpoints HOST:PORT,... or KV_ENDPOINTS)\n";
    return kExitUsage;
  }
  CommandContext ctx;
  ctx.json = json;
  ctx.input = &in;
  ctx.out = &out;
  ctx.err = &err;
  ctx.client = [&] {
    ClientOptions options;
    options.deadline = std::chrono::milliseconds(timeout_ms);
    return make_client(endpoint_list, options);
  };
  for (auto group : {data_commands(), stream_commands(), admin_commands()}) {
    for (const Command& c : group) {
      if (c.name == name) return c.run(ctx, rest);
    }
  }
  err << "kv: unknown command '" << name << "' (see kv --help)\n";
  return kExitUsage;
}

}  // namespace cli
