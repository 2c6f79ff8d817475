// `kv watch` and `kv listen`.
#include <sys/wait.h>
#include <csignal>
#include <cstdio>
#include <ostream>

#include "base/flags.h"
#include "cli/command_context.h"
#include "cli/v8_json.h"
#include "cli/value_json.h"
#include "cli/watch.h"

namespace cli {
namespace {

const Command& command(std::string_view name);

std::optional<int> parse(CommandContext& ctx, std::string_view name, base::Flags& flags,
                         Args args) {
  flags.add_bool("json", &ctx.json, "print one JSON value per line");
  base::Status parsed = flags.parse(std::vector<std::string>(args.begin(), args.end()));
  if (!parsed.is_ok()) return usage_error(ctx, command(name), parsed.message());
  if (flags.help_requested()) {
    *ctx.out << command(name).summary << "\n\n" << flags.usage();
    return kExitOk;
  }
  return std::nullopt;
}

int run_watch(CommandContext& ctx, Args args) {
  uint64_t count = 0;
  base::Flags flags("kv watch KEY... [--count N] [--json]");
  flags.add_uint("count", &count, "stop after N snapshots (0 = never)");
  if (auto stop = parse(ctx, "watch", flags, args)) return *stop;
  if (flags.positional().empty()) return usage_error(ctx, command("watch"), "no key given");
  std::vector<base::Bytes> keys;
  for (const std::string& text : flags.positional()) {
    auto key = parse_key_argument(text);
    if (!key.is_ok()) return usage_error(ctx, command("watch"), key.status().message());
    keys.push_back(*key);
  }
  std::unique_ptr<Client> client = ctx.client();
  auto stream = client->watch(keys);
  if (!stream.is_ok()) return fail(ctx, "watch", stream.status());
  for (uint64_t n = 0; count == 0 || n < count; ++n) {
    auto snapshot = stream->next();
    if (!snapshot.is_ok()) return fail(ctx, "watch", snapshot.status());
    base::Json line = base::Json::array();
    std::string text;
    for (size_t i = 0; i < keys.size(); ++i) {
      line.push_back(entry_json(keys[i], (*snapshot)[i]));
      text += (i ? "\n  " : "") + entry_text(keys[i], (*snapshot)[i]);
    }
    *ctx.out << (ctx.json ? line.serialize() : "- " + text) << std::endl;
  }
  return kExitOk;
}

// Runs `command` with the message on stdin; true when it exits 0. A command that exits without
// reading its stdin must not kill kv with SIGPIPE: the write then just fails (EPIPE). SIGPIPE is
// ignored only after the fork, so CMD itself keeps the default disposition.
bool run_exec(const std::string& command_line, const std::string& message) {
  FILE* pipe = popen(command_line.c_str(), "w");
  if (pipe == nullptr) return false;
  auto previous = std::signal(SIGPIPE, SIG_IGN);
  std::fwrite(message.data(), 1, message.size(), pipe);
  int status = pclose(pipe);
  std::signal(SIGPIPE, previous);
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int run_listen(CommandContext& ctx, Args args) {
  std::string exec;
  uint64_t count = 0;
  uint64_t visibility_ms = 5000;
  base::Flags flags("kv listen [--exec CMD] [--count N] [--visibility MS] [--json]");
  flags.add_string("exec", &exec,
                   "run CMD (with sh) per message, the value as JSON on stdin; a non-zero exit "
                   "is a failed delivery, retried after the message's backoff");
  flags.add_uint("count", &count, "stop after N messages (0 = never)");
  flags.add_uint("visibility", &visibility_ms, "lease per delivery, extended while CMD runs");
  if (auto stop = parse(ctx, "listen", flags, args)) return *stop;
  if (!flags.positional().empty())
    return usage_error(ctx, command("listen"), "unexpected argument");
  if (visibility_ms == 0 || visibility_ms > UINT32_MAX) {
    return usage_error(ctx, command("listen"), "--visibility must be a positive number of ms");
  }
  QueueListenOptions options;
  options.max_messages = count;
  options.visibility_ms = static_cast<uint32_t>(visibility_ms);
  std::unique_ptr<Client> client = ctx.client();
  base::Status status = client->listen_queue(
      [&](const net::QueueDelivery& delivery) {
        auto value = json_from_v8(delivery.payload);
        base::Json shown =
            value.is_ok() ? *value : value_to_json({kvmodel::ValueEncoding::kV8, delivery.payload});
        bool ok = exec.empty() || run_exec(exec, shown.serialize() + "\n");
        base::Json line = base::Json::object();
        line.set("id", base::Json::string(base::to_hex(delivery.message_id)));
        line.set("attempt", base::Json::number(uint64_t{delivery.attempt}));
        line.set("value", shown);
        if (!exec.empty()) line.set("ok", base::Json::boolean(ok));
        if (ctx.json) {
          *ctx.out << line.serialize() << std::endl;
        } else {
          *ctx.out << "message " << base::to_hex(delivery.message_id) << " (attempt "
                   << delivery.attempt << "): " << shown.serialize()
                   << (ok ? "" : "  [handler failed]") << std::endl;
        }
        return ok;
      },
      options);
  if (!status.is_ok()) return fail(ctx, "listen", status);
  return kExitOk;
}

const Command kCommands[] = {
    {"watch", "watch KEY... [--count N]",
     "Print the entries of up to 10 keys, then again whenever any of them changes.", run_watch},
    {"listen", "listen [--exec CMD] [--count N]",
     "Receive queue messages (at least once); with --exec, hand each to CMD.", run_listen},
};

const Command& command(std::string_view name) {
  for (const Command& c : kCommands) {
    if (c.name == name) return c;
  }
  FATAL("no command named {}", name);
}

}  // namespace

std::span<const Command> stream_commands() { return kCommands; }

}  // namespace cli
