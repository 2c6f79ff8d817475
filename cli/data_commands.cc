// `kv get | set | delete | list | atomic | enqueue`.
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/flags.h"
#include "cli/atomic_doc.h"
#include "cli/command_context.h"
#include "cli/value_json.h"

namespace cli {
namespace {

const Command& command(std::string_view name);

// Parses `args` into `flags`; returns an exit code when the command must stop here (--help or
// a usage error), else nullopt. Checks the number of positional arguments.
std::optional<int> parse(CommandContext& ctx, std::string_view name, base::Flags& flags, Args args,
                         size_t positional_min, size_t positional_max) {
  const Command& cmd = command(name);
  flags.add_bool("json", &ctx.json, "print one JSON object per line");
  base::Status parsed = flags.parse(std::vector<std::string>(args.begin(), args.end()));
  if (!parsed.is_ok()) return usage_error(ctx, cmd, parsed.message());
  if (flags.help_requested()) {
    *ctx.out << cmd.summary << "\n\n" << flags.usage();
    return kExitOk;
  }
  size_t n = flags.positional().size();
  if (n < positional_min || n > positional_max) {
    return usage_error(ctx, cmd,
                       fmt::format("expected {} argument{}, got {}", positional_min,
                                   positional_min == 1 ? "" : "s", n));
  }
  return std::nullopt;
}

int run_get(CommandContext& ctx, Args args) {
  std::string consistency = "strong";
  base::Flags flags("kv get KEY [--consistency strong|eventual] [--json]");
  flags.add_string("consistency", &consistency, "strong (default) or eventual");
  if (auto stop = parse(ctx, "get", flags, args, 1, 1)) return *stop;
  auto key = parse_key_argument(flags.positional()[0]);
  if (!key.is_ok()) return usage_error(ctx, command("get"), key.status().message());
  auto level = parse_consistency(consistency);
  if (!level.is_ok()) return usage_error(ctx, command("get"), level.status().message());
  auto entry = ctx.client()->get(*key, *level);
  if (!entry.is_ok()) return fail(ctx, "get", entry.status());
  *ctx.out << (ctx.json ? entry_json(*key, *entry).serialize() : entry_text(*key, *entry)) << "\n";
  return kExitOk;
}

int run_set(CommandContext& ctx, Args args) {
  bool bytes = false;
  bool u64 = false;
  int64_t expire_in_ms = -1;
  base::Flags flags("kv set KEY VALUE [--bytes | --u64] [--expire-in MS] [--json]");
  flags.add_bool("bytes", &bytes, "VALUE is base64: store raw bytes");
  flags.add_bool("u64", &u64, "VALUE is a decimal u64: store a KvU64");
  flags.add_int("expire-in", &expire_in_ms, "delete the key after at least MS milliseconds");
  if (auto stop = parse(ctx, "set", flags, args, 2, 2)) return *stop;
  if (bytes && u64) return usage_error(ctx, command("set"), "--bytes and --u64 exclude each other");
  if (expire_in_ms < -1) return usage_error(ctx, command("set"), "--expire-in must be >= 0");
  auto key = parse_key_argument(flags.positional()[0]);
  if (!key.is_ok()) return usage_error(ctx, command("set"), key.status().message());
  auto value = value_from_argument(flags.positional()[1], bytes ? ValueSyntax::kBytes
                                                          : u64 ? ValueSyntax::kU64
                                                                : ValueSyntax::kJson);
  if (!value.is_ok()) return usage_error(ctx, command("set"), value.status().message());
  std::optional<std::chrono::milliseconds> expire_in;
  if (expire_in_ms >= 0) expire_in = std::chrono::milliseconds(expire_in_ms);
  auto result = ctx.client()->set(*key, *value, expire_in);
  if (!result.is_ok()) return fail(ctx, "set", result.status());
  return print_write_result(ctx, *result);
}

int run_delete(CommandContext& ctx, Args args) {
  base::Flags flags("kv delete KEY [--json]");
  if (auto stop = parse(ctx, "delete", flags, args, 1, 1)) return *stop;
  auto key = parse_key_argument(flags.positional()[0]);
  if (!key.is_ok()) return usage_error(ctx, command("delete"), key.status().message());
  auto result = ctx.client()->remove(*key);
  if (!result.is_ok()) return fail(ctx, "delete", result.status());
  return print_write_result(ctx, *result);
}

int run_list(CommandContext& ctx, Args args) {
  std::string prefix, start, end, cursor, consistency = "strong";
  uint64_t limit = 0, batch_size = 0;
  bool reverse = false;
  base::Flags flags(
      "kv list [--prefix KEY | --start KEY --end KEY | --prefix KEY --start KEY | --prefix KEY "
      "--end KEY] [--limit N] [--reverse] [--cursor C] [--batch-size N] [--consistency C]");
  flags.add_string("prefix", &prefix, "list keys strictly below this key (not the key itself)");
  flags.add_string("start", &start, "first key (inclusive)");
  flags.add_string("end", &end, "end key (exclusive)");
  flags.add_uint("limit", &limit, "at most N entries (0 = all)");
  flags.add_bool("reverse", &reverse, "descending order");
  flags.add_string("cursor", &cursor, "resume after the cursor printed by an earlier list");
  flags.add_uint("batch-size", &batch_size, "entries per read (default min(limit, 500) or 100)");
  flags.add_string("consistency", &consistency, "strong (default) or eventual");
  if (auto stop = parse(ctx, "list", flags, args, 0, 0)) return *stop;
  Selector selector;
  for (auto [text, slot] : {std::pair{&prefix, &selector.prefix},
                            std::pair{&start, &selector.start}, std::pair{&end, &selector.end}}) {
    if (text->empty()) continue;
    auto key = text == &prefix && *text == "[]" ? base::Result<base::Bytes>(base::Bytes())
                                                : parse_key_argument(*text);
    if (!key.is_ok()) return usage_error(ctx, command("list"), key.status().message());
    *slot = *key;
  }
  if (!selector.prefix && !selector.start && !selector.end) selector.prefix = base::Bytes();
  ListOptions options;
  if (limit > 0) options.limit = static_cast<uint32_t>(std::min<uint64_t>(limit, UINT32_MAX));
  if (batch_size > 0)
    options.batch_size = static_cast<uint32_t>(std::min<uint64_t>(batch_size, UINT32_MAX));
  options.reverse = reverse;
  options.cursor = cursor;
  auto level = parse_consistency(consistency);
  if (!level.is_ok()) return usage_error(ctx, command("list"), level.status().message());
  std::unique_ptr<Client> client = ctx.client();
  auto it = client->list(selector, options, *level);
  if (!it.is_ok()) return usage_error(ctx, command("list"), it.status().message());
  uint64_t count = 0;
  for (;;) {
    auto entry = it->next();
    if (!entry.is_ok()) return fail(ctx, "list", entry.status());
    if (!entry->has_value()) break;
    ++count;
    const kvmodel::KvEntry& e = **entry;
    *ctx.out << (ctx.json ? entry_json(e.key, e).serialize() : entry_text(e.key, e)) << "\n";
  }
  // The cursor goes to stderr so stdout stays one entry per line.
  if (options.limit && count == *options.limit && it->cursor()) {
    *ctx.err << "cursor: " << *it->cursor() << "  (continue with --cursor " << *it->cursor()
             << ")\n";
  }
  return kExitOk;
}

int run_atomic(CommandContext& ctx, Args args) {
  base::Flags flags("kv atomic [FILE|-] [--json]   (the document is read from stdin by default)");
  if (auto stop = parse(ctx, "atomic", flags, args, 0, 1)) return *stop;
  std::string path = flags.positional().empty() ? "-" : flags.positional()[0];
  std::stringstream text;
  if (path == "-") {
    text << ctx.input->rdbuf();
  } else {
    std::ifstream file(path);
    if (!file) return fail(ctx, "atomic", base::invalid_argument("cannot open '{}'", path));
    text << file.rdbuf();
  }
  auto write = parse_atomic_document(text.str());
  if (!write.is_ok()) return usage_error(ctx, command("atomic"), write.status().message());
  auto result = ctx.client()->commit(*write);
  if (!result.is_ok()) return fail(ctx, "atomic", result.status());
  return print_write_result(ctx, *result);
}

int run_enqueue(CommandContext& ctx, Args args) {
  uint64_t delay_ms = 0;
  std::vector<std::string> undelivered;
  std::string backoff_text;
  base::Flags flags(
      "kv enqueue VALUE [--delay MS] [--keys-if-undelivered KEY]... [--backoff MS,MS,...]");
  flags.add_uint("delay", &delay_ms, "deliver no earlier than MS milliseconds from now");
  flags.add_list("keys-if-undelivered", &undelivered,
                 "where the value is written if every delivery fails (repeatable)");
  flags.add_string("backoff", &backoff_text,
                   "retry intervals in ms (default 100,1000,5000,30000,60000)");
  if (auto stop = parse(ctx, "enqueue", flags, args, 1, 1)) return *stop;
  auto value = base::Json::parse(flags.positional()[0]);
  if (!value.is_ok()) {
    return usage_error(ctx, command("enqueue"),
                       fmt::format("the value is not JSON ({})", value.status().message()));
  }
  std::vector<base::Bytes> keys;
  for (const std::string& text : undelivered) {
    auto key = parse_key_argument(text);
    if (!key.is_ok()) return usage_error(ctx, command("enqueue"), key.status().message());
    keys.push_back(*key);
  }
  std::vector<uint32_t> backoff;
  std::stringstream items(backoff_text);
  for (std::string item; std::getline(items, item, ',');) {
    auto ms = base::parse_uint(item);
    if (!ms.is_ok() || *ms > UINT32_MAX) {
      return usage_error(ctx, command("enqueue"), fmt::format("bad --backoff entry '{}'", item));
    }
    backoff.push_back(static_cast<uint32_t>(*ms));
  }
  auto message = make_enqueue(*value, delay_ms, keys, backoff);
  if (!message.is_ok()) return usage_error(ctx, command("enqueue"), message.status().message());
  auto result = ctx.client()->enqueue(*message);
  if (!result.is_ok()) return fail(ctx, "enqueue", result.status());
  return print_write_result(ctx, *result);
}

const Command kCommands[] = {
    {"get", "get KEY [--consistency strong|eventual]", "Print the entry of KEY.", run_get},
    {"set", "set KEY VALUE [--bytes | --u64] [--expire-in MS]",
     "Set KEY to VALUE (JSON by default).", run_set},
    {"delete", "delete KEY", "Delete KEY (deleting a missing key succeeds).", run_delete},
    {"list", "list [--prefix KEY | --start KEY --end KEY] [--limit N] [--reverse] [--cursor C]",
     "List entries of a prefix or range, in key order.", run_list},
    {"atomic", "atomic [FILE|-]",
     "Apply a JSON document of checks, mutations and enqueues all or nothing.", run_atomic},
    {"enqueue", "enqueue VALUE [--delay MS] [--keys-if-undelivered KEY]... [--backoff MS,...]",
     "Put a message on the queue.", run_enqueue},
};

const Command& command(std::string_view name) {
  for (const Command& c : kCommands) {
    if (c.name == name) return c;
  }
  FATAL("no command named {}", name);
}

}  // namespace

std::span<const Command> data_commands() { return kCommands; }

}  // namespace cli
