// The JSON syntax of values in `kv` arguments, atomic documents and --json output:
//   {"u64": "<decimal>"}    a KvU64 (encoding LE64, 8 bytes little-endian), 0 <= n < 2^64
//   {"bytes": "<base64>"}   a byte value (a top-level Uint8Array in Deno)
//   {"v8": "<base64>"}      raw V8 bytes; printed for values that have no JSON form (Dates,
//                           Maps, NaN, ...) so they can be copied back unchanged
//   anything else           stored V8-serialized (cli/v8_json.h), as Deno stores it
// The three tagged forms are recognised only at the top level and only with exactly one
// member; nested objects are always plain data.
//
// Versionstamps print as 20 lowercase hex digits (Deno's form: kvmodel::Versionstamp::hex()).
#pragma once

#include <optional>
#include <string_view>

#include "base/json.h"
#include "base/status.h"
#include "net/client_types.h"

namespace cli {

base::Result<kvmodel::Value> value_from_json(const base::Json& json);
base::Json value_to_json(const kvmodel::Value& value);

// Exactly 20 hex digits, else "invalid versionstamp '<text>': expected 20 hex digits".
base::Result<kvmodel::Versionstamp> versionstamp_from_hex(std::string_view hex);

// `kv set KEY VALUE` value arguments: JSON by default, or --bytes (base64) / --u64 (decimal).
enum class ValueSyntax { kJson, kBytes, kU64 };
base::Result<kvmodel::Value> value_from_argument(std::string_view text, ValueSyntax syntax);

}  // namespace cli
