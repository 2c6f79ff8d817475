#include <doctest/doctest.h>

#include "kvmodel/value.h"

using base::Bytes;
using kvmodel::BigInt;
using kvmodel::Value;
using kvmodel::ValueEncoding;

namespace {
Bytes hex(std::string_view h) { return base::from_hex(h).value(); }
}  // namespace

TEST_CASE("value: the V8 number subset parses the spec's examples") {
  auto five = kvmodel::parse_v8_number(hex("ff0f490a"));  // 5 as 'I'
  REQUIRE(five.is_ok());
  CHECK_FALSE(five->is_bigint);
  CHECK(five->number == 5.0);
  auto minus_three = kvmodel::parse_v8_number(hex("ff0f4905"));  // zig-zag 5 = -3
  REQUIRE(minus_three.is_ok());
  CHECK(minus_three->number == -3.0);
  auto one_and_half = kvmodel::parse_v8_number(hex("ff0f4e000000000000f83f"));
  REQUIRE(one_and_half.is_ok());
  CHECK(one_and_half->number == 1.5);
  auto u = kvmodel::parse_v8_number(hex("ff0e0000558001"));  // v14, padding, 'U' 128
  REQUIRE(u.is_ok());
  CHECK(u->number == 128.0);
  auto v8_42n = kvmodel::parse_v8_number(hex("ff0f5a102a00000000000000"));
  REQUIRE(v8_42n.is_ok());
  CHECK(v8_42n->is_bigint);
  CHECK(v8_42n->bigint == BigInt::from_i64(42));
  auto minimal_43n = kvmodel::parse_v8_number(hex("ff0f5a022b"));
  REQUIRE(minimal_43n.is_ok());
  CHECK(minimal_43n->bigint == BigInt::from_i64(43));
  auto negative = kvmodel::parse_v8_number(hex("ff0f5a0307"));
  REQUIRE(negative.is_ok());
  CHECK(negative->bigint == BigInt::from_i64(-7));
}

TEST_CASE("value: V8 numbers are written as V8 writes them") {
  CHECK(base::to_hex(kvmodel::write_v8_bigint(BigInt::from_i64(42))) == "ff0f5a102a00000000000000");
  CHECK(base::to_hex(kvmodel::write_v8_bigint(BigInt())) == "ff0f5a00");
  CHECK(base::to_hex(kvmodel::write_v8_bigint(BigInt::from_i64(-1))) == "ff0f5a110100000000000000");
  CHECK(base::to_hex(kvmodel::write_v8_number(1.5)) == "ff0f4e000000000000f83f");
}

TEST_CASE("value: anything outside the V8 number subset is refused") {
  for (const char* bad : {"", "ff", "fe0f4905", "ff0c4905", "ff0f", "ff0f5f", "ff0f490a00",
                          "ff0f4e0000", "ff0f5a10", "ff0f22036162"}) {
    INFO(bad);
    CHECK_FALSE(kvmodel::parse_v8_number(hex(bad)).is_ok());
  }
}

TEST_CASE("value: an LE64 value must be exactly 8 bytes") {
  CHECK(kvmodel::validate_value(Value::le64(7)).is_ok());
  auto bad = kvmodel::validate_value(Value{ValueEncoding::kLe64, "1234"});
  CHECK(bad.message() == "Invalid u64 value: expected 8 bytes, got 4");
}

TEST_CASE("bigint: decimal conversion and addition across signs") {
  auto a = BigInt::from_decimal("-123456789012345678901234567890").value();
  CHECK(a.to_decimal() == "-123456789012345678901234567890");
  auto b = BigInt::from_decimal("123456789012345678901234567891").value();
  CHECK((a + b).to_decimal() == "1");
  CHECK((b + a) == BigInt::from_i64(1));
  CHECK((a + a).to_decimal() == "-246913578024691357802469135780");
  CHECK(BigInt::from_i64(INT64_MIN).to_decimal() == "-9223372036854775808");
  CHECK((BigInt::from_i64(-5) + BigInt::from_i64(5)).is_zero());
  CHECK_FALSE((BigInt::from_i64(-5) + BigInt::from_i64(5)).negative());
  CHECK(BigInt::from_i64(-2) < BigInt::from_i64(-1));
  CHECK(BigInt::from_u64(UINT64_MAX).to_u64() == UINT64_MAX);
  for (const char* bad : {"", "-", "01", "-0x1", "1.0", " 1"}) {
    INFO(bad);
    CHECK_FALSE(BigInt::from_decimal(bad).is_ok());
  }
}
