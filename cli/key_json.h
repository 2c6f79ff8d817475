// The JSON key syntax every `kv` command uses, converted to and from kvmodel::Key.
//
// A key is a JSON array whose parts are:
//   "text"                      string
//   42, -1.5, 1e3               number (a JavaScript double; 1 and 1.0 are the same key)
//   true / false                boolean
//   {"bigint": "-123"}          bigint (decimal text, any length up to 255 bytes of magnitude)
//   {"bytes": "AAH/"}           bytes (standard base64 with padding)
//   {"number": "NaN"}           the numbers JSON cannot write: "NaN", "Infinity", "-Infinity"
// Example: ["users", 42, {"bigint": "18446744073709551616"}, {"bytes": "AAE="}, true]
#pragma once

#include <string_view>

#include "base/json.h"
#include "base/status.h"
#include "kvmodel/key.h"

namespace cli {

// Errors are kInvalidArgument and name the part: "key part 2: bigint must be a decimal string".
base::Result<kvmodel::Key> key_from_json(const base::Json& json);
base::Result<kvmodel::Key> key_from_json_text(std::string_view text);
base::Json key_to_json(const kvmodel::Key& key);

}  // namespace cli
