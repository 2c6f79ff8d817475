// The JSON document of `kv atomic [FILE|-]`:
//   {"checks":    [{"key": K, "versionstamp": "<20 hex>" | null}],
//    "mutations": [{"type": "set|delete|sum|min|max", "key": K, "value": V, "expire_in": MS}],
//    "enqueues":  [{"value": V, "delay": MS, "keys_if_undelivered": [K...], "backoff": [MS...]}]}
// K is the JSON key syntax (cli/key_json.h), V the value syntax (cli/value_json.h); enqueue
// values are always V8-serialized (Deno's queue payloads are). Every member is optional;
// unknown members are errors (a typo must not silently drop a check).
#pragma once

#include <string_view>

#include "base/json.h"
#include "base/status.h"
#include "net/client_types.h"

namespace cli {

// Errors name the place: "mutations[2]: type must be one of set, delete, sum, min, max".
base::Result<kvmodel::AtomicWrite> parse_atomic_document(std::string_view text);

// One enqueue from its parts (shared with `kv enqueue`).
base::Result<kvmodel::Enqueue> make_enqueue(const base::Json& value, uint64_t delay_ms,
                                            const std::vector<base::Bytes>& keys_if_undelivered,
                                            std::vector<uint32_t> backoff_ms);

}  // namespace cli
