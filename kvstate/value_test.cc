#include <doctest/doctest.h>

#include <cmath>

#include "kvstate/mutation_math.h"
#include "kvstate/value.h"

using base::Bytes;
using kvstate::BigInt;
using kvstate::Value;
using kvstate::ValueEncoding;

namespace {
Bytes hex(std::string_view h) { return base::from_hex(h).value(); }
Value v8(std::string_view h) { return Value{ValueEncoding::kV8, hex(h)}; }
Value bigint_value(int64_t v) {
  return Value{ValueEncoding::kV8, kvstate::write_v8_bigint(BigInt::from_i64(v))};
}
Value number_value(double v) { return Value{ValueEncoding::kV8, kvstate::write_v8_number(v)}; }
std::string sum_error(const Value* existing, const kvstate::SumArguments& args) {
  auto r = kvstate::apply_sum(existing, args);
  REQUIRE_FALSE(r.is_ok());
  return r.status().message();
}
}  // namespace

TEST_CASE("value: the V8 number subset parses the spec's examples") {
  auto five = kvstate::parse_v8_number(hex("ff0f490a"));  // 5 as 'I'
  REQUIRE(five.is_ok());
  CHECK_FALSE(five->is_bigint);
  CHECK(five->number == 5.0);
  auto minus_three = kvstate::parse_v8_number(hex("ff0f4905"));  // zig-zag 5 = -3
  REQUIRE(minus_three.is_ok());
  CHECK(minus_three->number == -3.0);
  auto one_and_half = kvstate::parse_v8_number(hex("ff0f4e000000000000f83f"));
  REQUIRE(one_and_half.is_ok());
  CHECK(one_and_half->number == 1.5);
  auto u = kvstate::parse_v8_number(hex("ff0e0000558001"));  // v14, padding, 'U' 128
  REQUIRE(u.is_ok());
  CHECK(u->number == 128.0);
  auto v8_42n = kvstate::parse_v8_number(hex("ff0f5a102a00000000000000"));
  REQUIRE(v8_42n.is_ok());
  CHECK(v8_42n->is_bigint);
  CHECK(v8_42n->bigint == BigInt::from_i64(42));
  auto minimal_43n = kvstate::parse_v8_number(hex("ff0f5a022b"));
  REQUIRE(minimal_43n.is_ok());
  CHECK(minimal_43n->bigint == BigInt::from_i64(43));
  auto negative = kvstate::parse_v8_number(hex("ff0f5a0307"));
  REQUIRE(negative.is_ok());
  CHECK(negative->bigint == BigInt::from_i64(-7));
}

TEST_CASE("value: V8 numbers are written as V8 writes them") {
  CHECK(base::to_hex(kvstate::write_v8_bigint(BigInt::from_i64(42))) == "ff0f5a102a00000000000000");
  CHECK(base::to_hex(kvstate::write_v8_bigint(BigInt())) == "ff0f5a00");
  CHECK(base::to_hex(kvstate::write_v8_bigint(BigInt::from_i64(-1))) == "ff0f5a110100000000000000");
  CHECK(base::to_hex(kvstate::write_v8_number(1.5)) == "ff0f4e000000000000f83f");
}

TEST_CASE("value: anything outside the V8 number subset is refused") {
  for (const char* bad : {"", "ff", "fe0f4905", "ff0c4905", "ff0f", "ff0f5f", "ff0f490a00",
                          "ff0f4e0000", "ff0f5a10", "ff0f22036162"}) {
    INFO(bad);
    CHECK_FALSE(kvstate::parse_v8_number(hex(bad)).is_ok());
  }
}

TEST_CASE("value: an LE64 value must be exactly 8 bytes") {
  CHECK(kvstate::validate_value(Value::le64(7)).is_ok());
  auto bad = kvstate::validate_value(Value{ValueEncoding::kLe64, "1234"});
  CHECK(bad.message() == "Invalid u64 value: expected 8 bytes, got 4");
}

TEST_CASE("sum: u64 sums wrap around and take the operand when the key is absent") {
  Value max = Value::le64(UINT64_MAX);
  auto r = kvstate::apply_sum(&max, {Value::le64(10), {}, {}, false});
  REQUIRE(r.is_ok());
  CHECK(*r == Value::le64(9));
  auto fresh = kvstate::apply_sum(nullptr, {Value::le64(5), {}, {}, false});
  REQUIRE(fresh.is_ok());
  CHECK(*fresh == Value::le64(5));
  Value bytes{ValueEncoding::kBytes, "x"};
  CHECK(sum_error(&bytes, {Value::le64(1), {}, {}, false}) ==
        "Failed to perform 'sum' mutation on a non-U64 value in the database");
}

TEST_CASE("sum: V8 BigInt and Number sums follow denokv's rules and messages") {
  Value forty_two = bigint_value(42);
  auto r = kvstate::apply_sum(&forty_two, {bigint_value(-50), {}, {}, false});
  REQUIRE(r.is_ok());
  CHECK(*r == bigint_value(-8));
  Value half = number_value(0.5);
  auto n = kvstate::apply_sum(&half, {v8("ff0f490a"), {}, {}, false});
  REQUIRE(n.is_ok());
  CHECK(*n == number_value(5.5));
  // Bounds: error without clamp, clamp with it; absent key ignores bounds.
  Value bound44 = bigint_value(44);
  CHECK(sum_error(&forty_two, {bigint_value(3), {}, bound44.data, false}) ==
        "The result of a Sum operation would exceed its range limit");
  auto clamped = kvstate::apply_sum(&forty_two, {bigint_value(3), {}, bound44.data, true});
  REQUIRE(clamped.is_ok());
  CHECK(*clamped == bound44);
  auto low = kvstate::apply_sum(&half, {number_value(-10), number_value(0).data, {}, true});
  REQUIRE(low.is_ok());
  CHECK(*low == number_value(0));
  auto absent = kvstate::apply_sum(nullptr, {bigint_value(100), {}, bound44.data, false});
  REQUIRE(absent.is_ok());
  CHECK(*absent == bigint_value(100));
}

TEST_CASE("sum: mixed types give denokv's exact errors") {
  Value big = bigint_value(1), num = number_value(1), u64 = Value::le64(1);
  CHECK(sum_error(&big, {num, {}, {}, false}) == "Cannot sum BigInt with Number");
  CHECK(sum_error(&num, {big, {}, {}, false}) == "Cannot sum Number with BigInt");
  CHECK(sum_error(&u64, {num, {}, {}, false}) == "Cannot sum KvU64 with Number");
  CHECK(sum_error(&u64, {bigint_value(-1), {}, {}, false}) == "Cannot sum KvU64 with BigInt");
  CHECK(sum_error(&u64, {big, {}, bigint_value(5).data, false}) ==
        "Cannot use min/max parameters with KvU64 operands");
  CHECK(sum_error(&big, {big, num.data, {}, false}) ==
        "Min/max parameters have different types than the operand");
  CHECK(sum_error(&big, {v8("ff0f22016100"), {}, {}, false}) ==
        "Some of the parameters are not valid V8 values");
  CHECK(sum_error(&big, {big, {}, hex("0102"), false}) ==
        "Some of the parameters are not valid V8 values");
  CHECK(sum_error(&big, {Value{ValueEncoding::kBytes, "1"}, {}, {}, false}) ==
        "Some of the parameters are not valid V8 values");
  Value text = v8("ff0f22016100");
  CHECK(sum_error(&text, {big, {}, {}, false}) == "unsupported value type");
  auto compat = kvstate::apply_sum(&u64, {bigint_value(41), {}, {}, false});
  REQUIRE(compat.is_ok());
  CHECK(*compat == Value::le64(42));
}

TEST_CASE("min/max: unsigned comparison on u64 values only") {
  Value big = Value::le64(UINT64_MAX), small = Value::le64(3);
  auto mn = kvstate::apply_min_max(kvstate::MinMax::kMin, &big, small);
  REQUIRE(mn.is_ok());
  CHECK(*mn == small);
  auto mx = kvstate::apply_min_max(kvstate::MinMax::kMax, &small, big);
  REQUIRE(mx.is_ok());
  CHECK(*mx == big);
  auto absent = kvstate::apply_min_max(kvstate::MinMax::kMax, nullptr, small);
  REQUIRE(absent.is_ok());
  CHECK(*absent == small);
  auto bad_operand = kvstate::apply_min_max(kvstate::MinMax::kMin, &small, number_value(1));
  CHECK(bad_operand.status().message() == "Failed to perform 'min' mutation on a non-U64 operand");
  Value text{ValueEncoding::kBytes, "a"};
  auto bad_existing = kvstate::apply_min_max(kvstate::MinMax::kMax, &text, small);
  CHECK(bad_existing.status().message() ==
        "Failed to perform 'max' mutation on a non-U64 value in the database");
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
