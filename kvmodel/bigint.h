// An arbitrary-precision signed integer, just enough for Deno KV: bigint key parts (tuple
// encoding, magnitudes up to 255 bytes) and V8 BigInt sums. Sign + magnitude; the magnitude is
// big-endian with no leading zero bytes, and zero is never negative, so equal values have equal
// representations. Plain value type.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace kvmodel {

class BigInt {
 public:
  BigInt() = default;  // zero
  // Leading zero bytes are stripped; a zero magnitude is never negative.
  static BigInt from_magnitude(bool negative, base::BytesView magnitude_be);
  static BigInt from_u64(uint64_t v);
  static BigInt from_i64(int64_t v);
  // Optional '-', then decimal digits without leading zeros ("0", "-12"). Anything else is an
  // error naming the text.
  static base::Result<BigInt> from_decimal(std::string_view text);

  bool negative() const { return negative_; }
  bool is_zero() const { return magnitude_.empty(); }
  const base::Bytes& magnitude_be() const { return magnitude_; }
  std::string to_decimal() const;
  // The value when 0 <= v < 2^64.
  std::optional<uint64_t> to_u64() const;

  friend BigInt operator+(const BigInt& a, const BigInt& b);
  friend std::strong_ordering operator<=>(const BigInt& a, const BigInt& b);
  friend bool operator==(const BigInt& a, const BigInt& b) = default;

 private:
  bool negative_ = false;
  base::Bytes magnitude_;
};

}  // namespace kvmodel
