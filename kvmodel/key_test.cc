#include "kvmodel/key.h"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <limits>

#include "base/rng.h"

using base::Bytes;
using kvmodel::BigInt;
using kvmodel::Key;
using kvmodel::KeyPart;

namespace {

std::string hex_of(const Key& key) {
  auto encoded = kvmodel::encode_key(key);
  REQUIRE(encoded.is_ok());
  return base::to_hex(*encoded);
}

BigInt big(std::string_view decimal) { return BigInt::from_decimal(decimal).value(); }

std::string decode_error(std::string_view hex) {
  auto bytes = base::from_hex(hex);
  REQUIRE(bytes.has_value());
  auto key = kvmodel::decode_key(*bytes);
  REQUIRE_FALSE(key.is_ok());
  return key.status().message();
}

// An independent statement of spec §1.3: type rank, then the natural order within the type.
int type_rank(const KeyPart& p) {
  switch (p.type()) {
    case KeyPart::Type::kBytes:
      return 0;
    case KeyPart::Type::kString:
      return 1;
    case KeyPart::Type::kBigInt:
      return 2;
    case KeyPart::Type::kNumber:
      return 3;
    case KeyPart::Type::kBool:
      return p.bool_value() ? 5 : 4;
  }
  return -1;
}

int compare_numbers(double a, double b) {
  // -NaN < -Inf < ... < -0 < +0 < ... < +Inf < +NaN
  auto cls = [](double d) { return std::isnan(d) ? (std::signbit(d) ? 0 : 2) : 1; };
  if (cls(a) != cls(b)) return cls(a) < cls(b) ? -1 : 1;
  if (cls(a) != 1) return 0;
  if (a < b) return -1;
  if (a > b) return 1;
  if (std::signbit(a) != std::signbit(b)) return std::signbit(a) ? -1 : 1;
  return 0;
}

int compare_parts(const KeyPart& a, const KeyPart& b) {
  if (type_rank(a) != type_rank(b)) return type_rank(a) < type_rank(b) ? -1 : 1;
  switch (a.type()) {
    case KeyPart::Type::kBytes: {
      int c = a.bytes_value().compare(b.bytes_value());
      return c < 0 ? -1 : c > 0;
    }
    case KeyPart::Type::kString: {
      int c = a.string_value().compare(b.string_value());
      return c < 0 ? -1 : c > 0;
    }
    case KeyPart::Type::kBigInt: {
      auto c = a.bigint_value() <=> b.bigint_value();
      return c < 0 ? -1 : c > 0;
    }
    case KeyPart::Type::kNumber:
      return compare_numbers(a.number_value(), b.number_value());
    case KeyPart::Type::kBool:
      return 0;
  }
  return 0;
}

int compare_keys(const Key& a, const Key& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (int c = compare_parts(a[i], b[i]); c != 0) return c;
  }
  return a.size() < b.size() ? -1 : a.size() > b.size();
}

KeyPart random_part(base::Rng& rng) {
  auto random_bytes = [&](size_t max_len, bool utf8_safe) {
    Bytes out;
    size_t n = rng.uniform(max_len + 1);
    // Small alphabet with 0x00 and 0xFF so that escapes and prefixes collide often.
    static constexpr char kAlphabet[] = {'\0', '\x01', 'a', 'b', '\x7f', '\xff'};
    for (size_t i = 0; i < n; ++i) {
      char c = kAlphabet[rng.uniform(utf8_safe ? 5 : 6)];
      out.push_back(c);
    }
    return out;
  };
  switch (rng.uniform(6)) {
    case 0:
      return KeyPart::bytes(random_bytes(4, false));
    case 1:
      return KeyPart::string(random_bytes(4, true));
    case 2: {
      Bytes magnitude;
      size_t n = rng.chance(1, 4) ? rng.uniform(20) : rng.uniform(3);
      for (size_t i = 0; i < n; ++i) magnitude.push_back(static_cast<char>(rng.uniform(256)));
      return KeyPart::bigint(BigInt::from_magnitude(rng.chance(1, 2), magnitude));
    }
    case 3: {
      static const double kSpecial[] = {0.0,
                                        -0.0,
                                        1.0,
                                        -1.0,
                                        std::numeric_limits<double>::infinity(),
                                        -std::numeric_limits<double>::infinity(),
                                        std::numeric_limits<double>::quiet_NaN(),
                                        -std::numeric_limits<double>::quiet_NaN(),
                                        std::numeric_limits<double>::denorm_min(),
                                        -std::numeric_limits<double>::max()};
      if (rng.chance(1, 2)) return KeyPart::number(kSpecial[rng.uniform(10)]);
      return KeyPart::number(std::bit_cast<double>(rng.next()));  // includes odd NaN payloads
    }
    case 4:
      return KeyPart::boolean(false);
    default:
      return KeyPart::boolean(true);
  }
}

Key random_key(base::Rng& rng) {
  Key key;
  size_t n = rng.uniform(4);
  for (size_t i = 0; i < n; ++i) key.push_back(random_part(rng));
  return key;
}

}  // namespace

TEST_CASE("key: every worked example of spec §1.4 encodes byte for byte") {
  CHECK(hex_of({KeyPart::string("hello")}) == "0268656c6c6f00");
  CHECK(hex_of({KeyPart::string("users"), KeyPart::number(42)}) ==
        "02757365727300"
        "21c045000000000000");
  CHECK(hex_of({KeyPart::number(-1.5)}) == "214007ffffffffffff");
  CHECK(hex_of({KeyPart::number(0.0)}) == "218000000000000000");
  CHECK(hex_of({KeyPart::number(-0.0)}) == "217fffffffffffffff");
  CHECK(hex_of({KeyPart::number(std::nan(""))}) == "21fff8000000000000");
  CHECK(hex_of({KeyPart::number(std::numeric_limits<double>::infinity())}) == "21fff0000000000000");
  CHECK(hex_of({KeyPart::bigint(big("0"))}) == "14");
  CHECK(hex_of({KeyPart::bigint(big("1"))}) == "1501");
  CHECK(hex_of({KeyPart::bigint(big("255"))}) == "15ff");
  CHECK(hex_of({KeyPart::bigint(big("256"))}) == "160100");
  CHECK(hex_of({KeyPart::bigint(big("-1"))}) == "13fe");
  CHECK(hex_of({KeyPart::bigint(big("-255"))}) == "1300");
  CHECK(hex_of({KeyPart::bigint(big("-256"))}) == "12feff");
  CHECK(hex_of({KeyPart::bigint(big("18446744073709551616"))}) == "1d09010000000000000000");
  CHECK(hex_of({KeyPart::bigint(big("-18446744073709551616"))}) == "0bf6feffffffffffffffff");
  CHECK(hex_of({KeyPart::bytes(Bytes("\x00\x01\xff", 3))}) == "0100ff01ff00");
  CHECK(hex_of({KeyPart::string(std::string("a\0b", 3))}) == "026100ff6200");
  CHECK(hex_of({KeyPart::boolean(true), KeyPart::boolean(false)}) == "2726");
  CHECK(hex_of({KeyPart::string("a"), KeyPart::string("b")}) == "026100026200");
  CHECK(hex_of({KeyPart::number(123.456)}) == "21c05edd2f1a9fbe77");
  CHECK(hex_of({KeyPart::bigint(big("-200"))}) == "1337");
  CHECK(hex_of({}) == "");
}

TEST_CASE("key: NaN payloads and signs collapse to the two canonical NaNs") {
  double odd_nan = std::bit_cast<double>(uint64_t{0x7FF0'0000'0000'0001});
  double negative_odd_nan = std::bit_cast<double>(uint64_t{0xFFF0'0000'0000'1234});
  CHECK(hex_of({KeyPart::number(odd_nan)}) == "21fff8000000000000");
  CHECK(hex_of({KeyPart::number(negative_odd_nan)}) == "210007ffffffffffff");
}

TEST_CASE("key: bigints up to 255 bytes of magnitude encode; 256 bytes are refused") {
  Bytes max_magnitude(255, '\xff');
  auto positive =
      kvmodel::encode_key({KeyPart::bigint(BigInt::from_magnitude(false, max_magnitude))});
  REQUIRE(positive.is_ok());
  CHECK(positive->size() == 257);
  CHECK(base::to_hex(positive->substr(0, 3)) == "1dffff");
  auto negative =
      kvmodel::encode_key({KeyPart::bigint(BigInt::from_magnitude(true, max_magnitude))});
  REQUIRE(negative.is_ok());
  CHECK(base::to_hex(negative->substr(0, 3)) == "0b0000");
  auto too_big =
      kvmodel::encode_key({KeyPart::bigint(BigInt::from_magnitude(false, Bytes(256, '\x01')))});
  REQUIRE_FALSE(too_big.is_ok());
  CHECK(too_big.status().message() == "bigint key part too large (max 255 bytes of magnitude)");
}

TEST_CASE("key: a string part must be valid UTF-8 to encode") {
  auto r = kvmodel::encode_key({KeyPart::string("\xc3")});
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message() == "key string part is not valid UTF-8");
}

TEST_CASE("key: random keys round-trip and byte order equals the logical order of spec §1.3") {
  base::Rng rng(20240601);
  std::vector<std::pair<Key, Bytes>> keys;
  for (int i = 0; i < 3000; ++i) {
    Key key = random_key(rng);
    auto encoded = kvmodel::encode_key(key);
    REQUIRE(encoded.is_ok());
    auto decoded = kvmodel::decode_key(*encoded);
    REQUIRE(decoded.is_ok());
    auto reencoded = kvmodel::encode_key(*decoded);
    REQUIRE(reencoded.is_ok());
    CHECK(*reencoded == *encoded);
    CHECK(compare_keys(*decoded, key) == 0);
    keys.emplace_back(std::move(key), std::move(*encoded));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    for (size_t j = i + 1; j < keys.size() && j < i + 40; ++j) {
      int logical = compare_keys(keys[i].first, keys[j].first);
      int bytewise = keys[i].second.compare(keys[j].second);
      bytewise = bytewise < 0 ? -1 : bytewise > 0;
      INFO("a=" << base::to_hex(keys[i].second) << " b=" << base::to_hex(keys[j].second));
      CHECK(logical == bytewise);
    }
  }
}

TEST_CASE("key: a shorter key sorts before every key it is a part-wise prefix of") {
  Bytes a = kvmodel::encode_key({KeyPart::string("a")}).value();
  Bytes ab = kvmodel::encode_key({KeyPart::string("a"), KeyPart::bytes("")}).value();
  Bytes a_nul = kvmodel::encode_key({KeyPart::string(std::string("a\0", 2))}).value();
  CHECK(a < ab);
  CHECK(a < a_nul);
  CHECK(ab < a_nul);  // 02 61 00 01 00  <  02 61 00 FF 00
}

TEST_CASE("key: malformed encodings are rejected with the offset of the bad part") {
  CHECK(decode_error("05") == "invalid key at offset 0: unknown tag 0x05");
  CHECK(decode_error("2600") == "invalid key at offset 1: unknown tag 0x00");
  CHECK(decode_error("026162") == "invalid key at offset 0: unterminated bytes or string part");
  CHECK(decode_error("0100ff") == "invalid key at offset 0: unterminated bytes or string part");
  CHECK(decode_error("02ff00") == "invalid key at offset 0: string part is not valid UTF-8");
  CHECK(decode_error("21c04500") == "invalid key at offset 0: truncated number");
  CHECK(decode_error("160001") == "invalid key at offset 0: non-canonical bigint (leading zero)");
  CHECK(decode_error("12ff01") == "invalid key at offset 0: non-canonical bigint (leading zero)");
  CHECK(decode_error("1d0801") == "invalid key at offset 0: non-canonical bigint length");
  CHECK(decode_error("1d") == "invalid key at offset 0: truncated bigint length");
  CHECK(decode_error("1d0901") == "invalid key at offset 0: truncated bigint");
  CHECK(decode_error("2617") == "invalid key at offset 1: truncated bigint");
  CHECK(decode_error("21fff8000000000001") == "invalid key at offset 0: non-canonical NaN");
}
