#include "kvstate/mutation_math.h"

#include <algorithm>

namespace kvstate {

using namespace kvmodel;  // the data model this state machine stores

namespace {

// What a stored value or an operand is, for the V8 sum rules.
struct SumNumber {
  enum class Kind { kBigInt, kNumber, kKvU64 } kind = Kind::kNumber;
  BigInt bigint;
  double number = 0;
  uint64_t u64 = 0;

  const char* name() const {
    switch (kind) {
      case Kind::kBigInt:
        return "BigInt";
      case Kind::kNumber:
        return "Number";
      case Kind::kKvU64:
        return "KvU64";
    }
    return "?";
  }
};

std::optional<SumNumber> parse_sum_number(const Value& value) {
  SumNumber out;
  if (value.encoding == ValueEncoding::kLe64) {
    out.kind = SumNumber::Kind::kKvU64;
    out.u64 = le64_of(value);
    return out;
  }
  if (value.encoding != ValueEncoding::kV8) return std::nullopt;
  auto parsed = parse_v8_number(value.data);
  if (!parsed.is_ok()) return std::nullopt;
  if (parsed->is_bigint) {
    out.kind = SumNumber::Kind::kBigInt;
    out.bigint = std::move(parsed->bigint);
  } else {
    out.number = parsed->number;
  }
  return out;
}

base::Status invalid_parameters() {
  return base::invalid_argument("Some of the parameters are not valid V8 values");
}
base::Status out_of_range() {
  return base::invalid_argument("The result of a Sum operation would exceed its range limit");
}

// Applies [min, max] to a BigInt or Number result, clamping or failing.
template <typename T>
base::Status bound(T& result, const std::optional<T>& min, const std::optional<T>& max,
                   bool clamp) {
  if (min && result < *min) {
    if (!clamp) return out_of_range();
    result = *min;
  }
  if (max && result > *max) {
    if (!clamp) return out_of_range();
    result = *max;
  }
  return base::Status::ok();
}

base::Result<Value> sum_le64(const Value* existing, const Value& operand) {
  if (existing == nullptr) return operand;
  if (existing->encoding != ValueEncoding::kLe64) {
    return base::invalid_argument(
        "Failed to perform 'sum' mutation on a non-U64 value in the database");
  }
  return Value::le64(le64_of(*existing) + le64_of(operand));  // wraps mod 2^64
}

base::Result<Value> sum_v8(const Value& existing, const SumNumber& operand,
                           const std::optional<SumNumber>& min, const std::optional<SumNumber>& max,
                           bool clamp) {
  auto old = parse_sum_number(existing);
  if (!old) return base::invalid_argument("unsupported value type");
  using Kind = SumNumber::Kind;
  if (old->kind == Kind::kBigInt && operand.kind == Kind::kBigInt) {
    BigInt result = old->bigint + operand.bigint;
    std::optional<BigInt> lo, hi;
    if (min) lo = min->bigint;
    if (max) hi = max->bigint;
    RETURN_IF_ERROR(bound(result, lo, hi, clamp));
    return Value{ValueEncoding::kV8, write_v8_bigint(result)};
  }
  if (old->kind == Kind::kNumber && operand.kind == Kind::kNumber) {
    double result = old->number + operand.number;
    std::optional<double> lo, hi;
    if (min) lo = min->number;
    if (max) hi = max->number;
    RETURN_IF_ERROR(bound(result, lo, hi, clamp));
    return Value{ValueEncoding::kV8, write_v8_number(result)};
  }
  if (old->kind == Kind::kKvU64 && operand.kind == Kind::kBigInt) {
    // Backward compatibility: a BigInt operand on a KvU64 adds as u64 (spec §2.3).
    if (min || max || clamp) {
      return base::invalid_argument("Cannot use min/max parameters with KvU64 operands");
    }
    if (auto u = operand.bigint.to_u64()) return Value::le64(old->u64 + *u);
  }
  return base::invalid_argument("Cannot sum {} with {}", old->name(), operand.name());
}

}  // namespace

base::Result<Value> apply_sum(const Value* existing, const SumArguments& args) {
  if (args.operand.encoding == ValueEncoding::kLe64) return sum_le64(existing, args.operand);
  if (args.operand.encoding != ValueEncoding::kV8 || args.operand.data.empty()) {
    return invalid_parameters();
  }
  auto operand = parse_sum_number(args.operand);
  if (!operand) return invalid_parameters();
  std::optional<SumNumber> min, max;
  for (auto [bytes, slot] : {std::pair{&args.min_v8, &min}, std::pair{&args.max_v8, &max}}) {
    if (bytes->empty()) continue;
    *slot = parse_sum_number(Value{ValueEncoding::kV8, *bytes});
    if (!*slot) return invalid_parameters();
    if ((*slot)->kind != operand->kind) {
      return base::invalid_argument("Min/max parameters have different types than the operand");
    }
  }
  // An absent key takes the operand as is; bounds are not applied (denokv behaviour).
  if (existing == nullptr) return args.operand;
  return sum_v8(*existing, *operand, min, max, args.clamp);
}

base::Result<Value> apply_min_max(MinMax which, const Value* existing, const Value& operand) {
  const char* name = which == MinMax::kMin ? "min" : "max";
  if (operand.encoding != ValueEncoding::kLe64) {
    return base::invalid_argument("Failed to perform '{}' mutation on a non-U64 operand", name);
  }
  if (existing == nullptr) return operand;
  if (existing->encoding != ValueEncoding::kLe64) {
    return base::invalid_argument(
        "Failed to perform '{}' mutation on a non-U64 value in the database", name);
  }
  uint64_t a = le64_of(*existing), b = le64_of(operand);
  return Value::le64(which == MinMax::kMin ? std::min(a, b) : std::max(a, b));
}

}  // namespace kvstate
