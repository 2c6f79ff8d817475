#include "cli/key_commands.h"

#include <ostream>

#include "base/bytes.h"
#include "cli/key_json.h"

namespace cli {

const char* const kKeyCommandHelp =
    "  kv key encode '<json tuple>'   print the tuple-encoded key as lowercase hex\n"
    "  kv key decode <hex>            print an encoded key as a JSON tuple\n"
    "\n"
    "  Key syntax: a JSON array of strings, numbers, true/false, {\"bigint\":\"<decimal>\"},\n"
    "  {\"bytes\":\"<base64>\"} and {\"number\":\"NaN\"|\"Infinity\"|\"-Infinity\"}.\n"
    "  Example: kv key encode '[\"users\", 42, {\"bigint\": \"7\"}]'\n";

namespace {

int encode(std::string_view json_text, std::ostream& out, std::ostream& err) {
  auto key = key_from_json_text(json_text);
  if (!key.is_ok()) {
    err << "kv key encode: " << key.status().message() << "\n";
    return 1;
  }
  auto encoded = kvmodel::encode_key(*key);
  if (!encoded.is_ok()) {
    err << "kv key encode: " << encoded.status().message() << "\n";
    return 1;
  }
  out << base::to_hex(*encoded) << "\n";
  return 0;
}

int decode(std::string_view hex, std::ostream& out, std::ostream& err) {
  auto bytes = base::from_hex(hex);
  if (!bytes) {
    err << "kv key decode: not an even-length hex string: '" << hex << "'\n";
    return 1;
  }
  auto key = kvmodel::decode_key(*bytes);
  if (!key.is_ok()) {
    err << "kv key decode: " << key.status().message() << "\n";
    return 1;
  }
  out << key_to_json(*key).serialize() << "\n";
  return 0;
}

}  // namespace

int run_key_command(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  if (args.size() == 2 && args[0] == "encode") return encode(args[1], out, err);
  if (args.size() == 2 && args[0] == "decode") return decode(args[1], out, err);
  err << "usage:\n" << kKeyCommandHelp;
  return 2;
}

}  // namespace cli
