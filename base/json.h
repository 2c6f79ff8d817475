// A small, strict JSON value (RFC 8259) for the CLI, the Jepsen harness and the benchmarks.
//
// Strict: no comments, no trailing commas, no NaN/Infinity literals, no duplicate object keys,
// no leading zeros, strings must be valid UTF-8, nothing but whitespace after the value.
// Numbers keep their original text, so integers beyond 2^53 (up to 2^64 - 1 and beyond) and
// exact decimal doubles survive a parse/serialize round trip; number_as_double() /
// number_as_i64() / number_as_u64() convert on demand and never wrap: a value out of the asked
// type's range is nullopt. Objects keep insertion order. Values are plain data: copyable, not
// thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/status.h"

namespace base {

class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;  // null
  static Json null() { return Json(); }
  static Json boolean(bool b);
  // text must be a valid JSON number literal (ENSUREd); see number_text().
  static Json number_text(std::string text);
  static Json number(int64_t v);
  static Json number(uint64_t v);
  // Any other integer type (int, unsigned, size_t, ...), exactly; not bool.
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) static Json number(T v) {
    if constexpr (std::is_signed_v<T>) {
      return number(static_cast<int64_t>(v));
    } else {
      return number(static_cast<uint64_t>(v));
    }
  }
  // Shortest text that parses back to the same double. v must be finite (ENSUREd).
  static Json number(double v);
  static Json string(std::string s);
  static Json array(Array items = {});
  static Json object(Object members = {});

  // Parses exactly one JSON value. Errors are kInvalidArgument with a byte offset:
  // "invalid JSON at offset 7: expected ',' or ']'".
  static Result<Json> parse(std::string_view text);
  // Compact serialization (no spaces); strings escape '"', '\\' and control characters only.
  std::string serialize() const;
  // The same, indented by two spaces per level, one member or item per line, ending in a
  // newline: for files people read (results.json, config.json).
  std::string serialize_pretty() const;

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // Accessors ENSURE the type; check it first.
  bool as_bool() const;
  const std::string& as_string() const;  // the string value (kString) or number text (kNumber)
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  double number_as_double() const;  // ENSUREs a number
  // nullopt when this is not a number or not an integer in range (e.g. "1.5", "1e3", "-1" for
  // u64, "9223372036854775808" for i64): never wraps.
  std::optional<int64_t> number_as_i64() const;
  std::optional<uint64_t> number_as_u64() const;

  // Object lookup: nullptr when absent or when this is not an object, so untrusted documents
  // can be probed without checking the type first.
  const Json* find(std::string_view key) const;
  // Typed member lookup for untrusted documents: nullopt when this is not an object, the
  // member is absent or of another type (an integer outside int64 counts as another type).
  std::optional<int64_t> find_i64(std::string_view key) const;
  std::optional<std::string> find_string(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;
  // Appends to an object (ENSUREs the key is new) or an array.
  Json& set(std::string key, Json value);
  Json& push_back(Json value);

  friend bool operator==(const Json& a, const Json& b);

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string text_;  // string value or number text
  Array array_;
  Object object_;
};

}  // namespace base
