// What every networked `kv` command shares: global options, how to get a client, output
// helpers and exit codes. Commands take the words after their name and return the exit code.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "cli/client.h"

namespace cli {

// Exit codes of `kv`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;           // the operation failed (message on stderr)
inline constexpr int kExitUsage = 2;           // bad arguments
inline constexpr int kExitCheckFailed = 3;     // an atomic write's check failed: nothing applied
inline constexpr int kExitUnknownOutcome = 4;  // a write may or may not have been applied

struct CommandContext {
  bool json = false;                                // --json: one JSON object per line
  std::function<std::unique_ptr<Client>()> client;  // connects lazily (after argument checks)
  std::istream* input = nullptr;                    // stdin, for `kv atomic -`
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
};

using Args = std::span<const std::string>;

struct Command {
  std::string_view name;
  std::string_view usage;  // "get KEY [--consistency strong|eventual]"
  std::string_view summary;
  int (*run)(CommandContext& ctx, Args args);
};

// Every networked command (data_commands.cc, stream_commands.cc, admin_commands.cc).
std::span<const Command> data_commands();
std::span<const Command> stream_commands();
std::span<const Command> admin_commands();

// Helpers for command implementations.
int usage_error(CommandContext& ctx, const Command& command, std::string_view message);
// Prints "kv <command>: <message>" (plus a hint for unknown outcomes) and maps the code.
int fail(CommandContext& ctx, std::string_view command, const base::Status& status);
// {"key":[...],"value":...,"versionstamp":"<hex>"} for an entry (key decoded when possible).
base::Json entry_json(const base::Bytes& key, const std::optional<kvmodel::KvEntry>& entry);
// Readable: `["a","b"] = "value"  @00000000000000050000` or `["a"]: not found`.
std::string entry_text(const base::Bytes& key, const std::optional<kvmodel::KvEntry>& entry);
base::Result<base::Bytes> parse_key_argument(std::string_view json_text);
base::Result<kvmodel::Consistency> parse_consistency(std::string_view text);
// Prints a write result; returns the exit code (3 when a check failed).
int print_write_result(CommandContext& ctx, const net::AtomicWriteResult& result);

}  // namespace cli
