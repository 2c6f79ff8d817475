#include "cli/command_context.h"

#include <ostream>

#include "cli/key_json.h"
#include "cli/value_json.h"
#include "kvmodel/key.h"

namespace cli {

int usage_error(CommandContext& ctx, const Command& command, std::string_view message) {
  *ctx.err << "kv " << command.name << ": " << message << "\nusage: kv " << command.usage
           << "\n(see kv " << command.name << " --help)\n";
  return kExitUsage;
}

int fail(CommandContext& ctx, std::string_view command, const base::Status& status) {
  *ctx.err << "kv " << command << ": " << status.message() << "\n";
  return status.code() == base::Code::kUnknownOutcome ? kExitUnknownOutcome : kExitError;
}

namespace {

base::Json key_json(const base::Bytes& key) {
  base::Result<kvmodel::Key> decoded = kvmodel::decode_key(key);
  if (decoded.is_ok()) return key_to_json(*decoded);
  // Not a tuple key (written by a raw client): show the bytes.
  base::Json raw = base::Json::object();
  raw.set("raw_key_hex", base::Json::string(base::to_hex(key)));
  return raw;
}

}  // namespace

base::Json entry_json(const base::Bytes& key, const std::optional<kvmodel::KvEntry>& entry) {
  base::Json out = base::Json::object();
  out.set("key", key_json(key));
  out.set("value", entry ? value_to_json(entry->value) : base::Json::null());
  out.set("versionstamp",
          entry ? base::Json::string(entry->versionstamp.hex()) : base::Json::null());
  return out;
}

std::string entry_text(const base::Bytes& key, const std::optional<kvmodel::KvEntry>& entry) {
  if (!entry) return key_json(key).serialize() + ": not found";
  return fmt::format("{} = {}  @{}", key_json(key).serialize(),
                     value_to_json(entry->value).serialize(), entry->versionstamp.hex());
}

base::Result<base::Bytes> parse_key_argument(std::string_view json_text) {
  base::Result<kvmodel::Key> key = key_from_json_text(json_text);
  if (!key.is_ok()) {
    return base::invalid_argument("bad key '{}': {} (keys are JSON arrays, e.g. '[\"users\", 42]')",
                                  json_text, key.status().message());
  }
  return kvmodel::encode_key(*key);
}

base::Result<kvmodel::Consistency> parse_consistency(std::string_view text) {
  if (text == "strong") return kvmodel::Consistency::kStrong;
  if (text == "eventual") return kvmodel::Consistency::kEventual;
  return base::invalid_argument("--consistency must be strong or eventual, not '{}'", text);
}

int print_write_result(CommandContext& ctx, const net::AtomicWriteResult& result) {
  base::Json out = base::Json::object();
  out.set("ok", base::Json::boolean(result.ok));
  if (result.ok) {
    out.set("versionstamp", base::Json::string(result.versionstamp->hex()));
  } else {
    base::Json failed = base::Json::array();
    for (uint32_t index : result.failed_checks)
      failed.push_back(base::Json::number(uint64_t{index}));
    out.set("failed_checks", failed);
  }
  if (ctx.json) {
    *ctx.out << out.serialize() << "\n";
  } else if (result.ok) {
    *ctx.out << "OK @" << result.versionstamp->hex() << "\n";
  } else {
    *ctx.out << "check failed (checks " << out.find("failed_checks")->serialize()
             << "); nothing was written\n";
  }
  return result.ok ? kExitOk : kExitCheckFailed;
}

}  // namespace cli
