// sum / min / max with denokv's rules and messages (mutation_math.h).
#include "kvstate/mutation_math.h"

#include <doctest/doctest.h>

using namespace kvmodel;
using kvstate::SumArguments;

namespace {
base::Bytes hex(std::string_view h) { return base::from_hex(h).value(); }
Value v8(std::string_view h) { return Value{ValueEncoding::kV8, hex(h)}; }
Value bigint_value(int64_t v) {
  return Value{ValueEncoding::kV8, kvmodel::write_v8_bigint(BigInt::from_i64(v))};
}
Value number_value(double v) { return Value{ValueEncoding::kV8, kvmodel::write_v8_number(v)}; }
std::string sum_error(const Value* existing, const SumArguments& args) {
  auto r = kvstate::apply_sum(existing, args);
  REQUIRE_FALSE(r.is_ok());
  return r.status().message();
}
}  // namespace

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
