// `kv key ...`: offline conversion between the JSON key syntax (cli/key_json.h) and the tuple
// encoding (kvmodel/key.h).
//   kv key encode '<json tuple>'   prints the encoded key as lowercase hex
//   kv key decode <hex>            prints the key as a JSON tuple
#pragma once

#include <iosfwd>
#include <span>
#include <string_view>

namespace cli {

// args are the words after "key". Returns the process exit code: 0 ok, 1 bad input, 2 usage.
int run_key_command(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
extern const char* const kKeyCommandHelp;

}  // namespace cli
