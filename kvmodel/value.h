// Values are (encoding, bytes) with Deno's encodings (spec §2.1). The server stores them
// verbatim; it looks inside only for sum/min/max (kvstate/mutation_math.h) and writes V8 bytes
// only for dead-lettered queue payloads (which are V8 already). The V8 number subset below is
// what sum understands.
#pragma once

#include <cstdint>
#include <optional>

#include "base/bytes.h"
#include "base/status.h"
#include "kvmodel/bigint.h"

namespace kvmodel {

enum class ValueEncoding : uint8_t {
  kV8 = 1,     // V8 ValueSerializer output
  kLe64 = 2,   // Deno.KvU64: exactly 8 bytes, little-endian
  kBytes = 3,  // a top-level Uint8Array
};

inline bool is_valid_value_encoding(uint8_t e) { return e >= 1 && e <= 3; }

struct Value {
  ValueEncoding encoding = ValueEncoding::kBytes;
  base::Bytes data;

  static Value le64(uint64_t v);
  friend bool operator==(const Value&, const Value&) = default;
};

// An LE64 value that is not exactly 8 bytes is refused (denokv would panic on it, spec §2.2).
base::Status validate_value(const Value& value);
// The u64 of a valid LE64 value.
uint64_t le64_of(const Value& value);

// The V8 number subset that `sum` understands (spec §2.4): header FF + version varint (13..15),
// optional 00 padding, then exactly one of 'I' (zig-zag i32), 'U' (u32), 'N' (f64 LE) -> Number
// or 'Z' (sign+length bitfield, little-endian magnitude) -> BigInt, and nothing after it.
struct V8Number {
  bool is_bigint = false;
  BigInt bigint;      // when is_bigint
  double number = 0;  // otherwise
};
base::Result<V8Number> parse_v8_number(base::BytesView v8);
// Written as V8 itself writes them: FF 0F, then 'Z' with 8-byte digit groups, or 'N'.
base::Bytes write_v8_bigint(const BigInt& v);
base::Bytes write_v8_number(double v);

}  // namespace kvmodel
