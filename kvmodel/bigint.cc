#include "kvmodel/bigint.h"

#include <algorithm>

namespace kvmodel {

namespace {

std::strong_ordering compare_magnitudes(base::BytesView a, base::BytesView b) {
  if (a.size() != b.size()) return a.size() <=> b.size();
  return a.compare(b) <=> 0;  // string_view compares bytes as unsigned char
}

base::Bytes add_magnitudes(base::BytesView a, base::BytesView b) {
  base::Bytes out(std::max(a.size(), b.size()) + 1, '\0');
  unsigned carry = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    unsigned sum = carry;
    if (i < a.size()) sum += static_cast<unsigned char>(a[a.size() - 1 - i]);
    if (i < b.size()) sum += static_cast<unsigned char>(b[b.size() - 1 - i]);
    out[out.size() - 1 - i] = static_cast<char>(sum & 0xFF);
    carry = sum >> 8;
  }
  return out;
}

// a - b for |a| >= |b|.
base::Bytes subtract_magnitudes(base::BytesView a, base::BytesView b) {
  base::Bytes out(a.size(), '\0');
  int borrow = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    int diff = static_cast<unsigned char>(a[a.size() - 1 - i]) - borrow;
    if (i < b.size()) diff -= static_cast<unsigned char>(b[b.size() - 1 - i]);
    borrow = diff < 0 ? 1 : 0;
    out[a.size() - 1 - i] = static_cast<char>((diff + 256) & 0xFF);
  }
  ENSURE(borrow == 0);
  return out;
}

}  // namespace

BigInt BigInt::from_magnitude(bool negative, base::BytesView magnitude_be) {
  size_t first = 0;
  while (first < magnitude_be.size() && magnitude_be[first] == '\0') ++first;
  BigInt v;
  v.magnitude_ = base::Bytes(magnitude_be.substr(first));
  v.negative_ = negative && !v.magnitude_.empty();
  return v;
}

BigInt BigInt::from_u64(uint64_t v) {
  base::Bytes be;
  base::put_u64_be(be, v);
  return from_magnitude(false, be);
}

BigInt BigInt::from_i64(int64_t v) {
  // The magnitude of INT64_MIN does not fit in int64_t; compute it in uint64_t.
  uint64_t magnitude = v < 0 ? ~static_cast<uint64_t>(v) + 1 : static_cast<uint64_t>(v);
  base::Bytes be;
  base::put_u64_be(be, magnitude);
  return from_magnitude(v < 0, be);
}

base::Result<BigInt> BigInt::from_decimal(std::string_view text) {
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && digits[0] == '-') {
    negative = true;
    digits.remove_prefix(1);
  }
  bool well_formed =
      !digits.empty() && (digits.size() == 1 || digits[0] != '0') &&
      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!well_formed) return base::invalid_argument("invalid bigint '{}'", text);
  base::Bytes magnitude;  // big-endian, multiplied by 10 per digit
  for (char c : digits) {
    unsigned carry = static_cast<unsigned>(c - '0');
    for (size_t i = magnitude.size(); i-- > 0;) {
      unsigned v = static_cast<unsigned char>(magnitude[i]) * 10u + carry;
      magnitude[i] = static_cast<char>(v & 0xFF);
      carry = v >> 8;
    }
    if (carry != 0) magnitude.insert(magnitude.begin(), static_cast<char>(carry));
  }
  return from_magnitude(negative, magnitude);
}

std::string BigInt::to_decimal() const {
  if (is_zero()) return "0";
  base::Bytes rest = magnitude_;
  std::string digits;
  while (!rest.empty()) {
    unsigned remainder = 0;
    for (char& byte : rest) {
      unsigned v = remainder << 8 | static_cast<unsigned char>(byte);
      byte = static_cast<char>(v / 10);
      remainder = v % 10;
    }
    digits.push_back(static_cast<char>('0' + remainder));
    size_t first = 0;
    while (first < rest.size() && rest[first] == '\0') ++first;
    rest.erase(0, first);
  }
  if (negative_) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::optional<uint64_t> BigInt::to_u64() const {
  if (negative_ || magnitude_.size() > 8) return std::nullopt;
  uint64_t v = 0;
  for (char c : magnitude_) v = v << 8 | static_cast<unsigned char>(c);
  return v;
}

BigInt operator+(const BigInt& a, const BigInt& b) {
  if (a.negative_ == b.negative_) {
    return BigInt::from_magnitude(a.negative_, add_magnitudes(a.magnitude_, b.magnitude_));
  }
  // Opposite signs: the result takes the sign of the larger magnitude.
  if (compare_magnitudes(a.magnitude_, b.magnitude_) >= 0) {
    return BigInt::from_magnitude(a.negative_, subtract_magnitudes(a.magnitude_, b.magnitude_));
  }
  return BigInt::from_magnitude(b.negative_, subtract_magnitudes(b.magnitude_, a.magnitude_));
}

std::strong_ordering operator<=>(const BigInt& a, const BigInt& b) {
  if (a.negative_ != b.negative_)
    return a.negative_ ? std::strong_ordering::less : std::strong_ordering::greater;
  auto by_magnitude = compare_magnitudes(a.magnitude_, b.magnitude_);
  return a.negative_ ? 0 <=> by_magnitude : by_magnitude;
}

}  // namespace kvmodel
