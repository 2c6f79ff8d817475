// A small JSON value for histories, check results and reports.
//
// Every place that turns text into JSON or JSON into text lives in json_value.cc, so when
// base/json.h lands only that file changes. The parser is strict (RFC 8259): no trailing
// commas, no comments, no duplicate object keys, no trailing garbage, nesting depth <= 256.
// Integers that fit int64 stay integers; every other number is a double.
// Objects keep insertion order (so the files we write are stable and readable).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"

namespace jepsen {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;  // null
  Json(std::nullptr_t) {}
  Json(bool b) : v_(b) {}
  Json(int v) : v_(static_cast<int64_t>(v)) {}
  Json(int64_t v) : v_(v) {}
  Json(uint64_t v) : v_(static_cast<int64_t>(v)) {}
  Json(double v) : v_(v) {}
  Json(const char* s) : v_(std::string(s)) {}
  Json(std::string s) : v_(std::move(s)) {}
  Json(std::string_view s) : v_(std::string(s)) {}
  Json(Array a) : v_(std::move(a)) {}
  Json(Object o) : v_(std::move(o)) {}

  static Json array() { return Json(Array{}); }
  static Json object() { return Json(Object{}); }

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_number() const { return is_int() || std::holds_alternative<double>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }
  bool is_object() const { return std::holds_alternative<Object>(v_); }

  // Accessors ENSURE the kind: check it first (is_*) or use the optional getters below.
  bool as_bool() const;
  int64_t as_int() const;
  double as_double() const;  // ints convert
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;

  // Member lookup: nullptr when this is not an object or has no such key.
  const Json* find(std::string_view key) const;
  // Sets (replacing) a member; this must be an object (or null, which becomes an object).
  Json& set(std::string_view key, Json value);
  // Appends to an array (or null, which becomes an array).
  void push(Json value);

  // Optional getters for untrusted input: nullopt when absent or of another kind.
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;

  friend bool operator==(const Json& a, const Json& b) { return a.v_ == b.v_; }

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, Array, Object> v_;
};

// Parses exactly one JSON value (surrounding whitespace allowed).
base::Result<Json> parse_json(std::string_view text);
// Compact serialization (no spaces, no newline). Non-finite doubles become null.
std::string to_json(const Json& value);
void append_json(std::string& out, const Json& value);
// Indented serialization for files people read (results.json).
std::string to_json_pretty(const Json& value);

}  // namespace jepsen
