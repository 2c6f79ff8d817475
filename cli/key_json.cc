#include "cli/key_json.h"

#include <cmath>
#include <limits>

namespace cli {

namespace {

base::Status part_error(size_t index, std::string_view what) {
  return base::invalid_argument("key part {}: {}", index, what);
}

// {"bigint": ...}, {"bytes": ...} or {"number": ...}: exactly one member.
base::Result<kvmodel::KeyPart> tagged_part(size_t index, const base::Json& part) {
  const auto& members = part.as_object();
  if (members.size() != 1) {
    return part_error(index,
                      "an object part must have exactly one member: bigint, bytes or number");
  }
  const auto& [tag, value] = members[0];
  if (!value.is_string()) return part_error(index, fmt::format("{} must be a string", tag));
  const std::string& text = value.as_string();
  if (tag == "bigint") {
    auto v = kvmodel::BigInt::from_decimal(text);
    if (!v.is_ok()) return part_error(index, "bigint must be a decimal string");
    return kvmodel::KeyPart::bigint(std::move(*v));
  }
  if (tag == "bytes") {
    auto bytes = base::base64_decode(text);
    if (!bytes) return part_error(index, "bytes must be standard base64");
    return kvmodel::KeyPart::bytes(std::move(*bytes));
  }
  if (tag == "number") {
    constexpr double kInf = std::numeric_limits<double>::infinity();
    if (text == "NaN") return kvmodel::KeyPart::number(std::numeric_limits<double>::quiet_NaN());
    if (text == "Infinity") return kvmodel::KeyPart::number(kInf);
    if (text == "-Infinity") return kvmodel::KeyPart::number(-kInf);
    return part_error(index, "number must be \"NaN\", \"Infinity\" or \"-Infinity\"");
  }
  return part_error(index, fmt::format("unknown part type \"{}\"", tag));
}

base::Result<kvmodel::KeyPart> part_from_json(size_t index, const base::Json& part) {
  switch (part.type()) {
    case base::Json::Type::kString:
      return kvmodel::KeyPart::string(part.as_string());
    case base::Json::Type::kNumber:
      return kvmodel::KeyPart::number(part.number_as_double());
    case base::Json::Type::kBool:
      return kvmodel::KeyPart::boolean(part.as_bool());
    case base::Json::Type::kObject:
      return tagged_part(index, part);
    case base::Json::Type::kNull:
    case base::Json::Type::kArray:
      break;
  }
  return part_error(index,
                    "expected a string, number, boolean, {\"bigint\": ...}, {\"bytes\": ...} "
                    "or {\"number\": ...}");
}

base::Json part_to_json(const kvmodel::KeyPart& part) {
  using Type = kvmodel::KeyPart::Type;
  auto tagged = [](std::string tag, std::string text) {
    base::Json o = base::Json::object();
    o.set(std::move(tag), base::Json::string(std::move(text)));
    return o;
  };
  switch (part.type()) {
    case Type::kBytes:
      return tagged("bytes", base::base64_encode(part.bytes_value()));
    case Type::kString:
      return base::Json::string(part.string_value());
    case Type::kBigInt:
      return tagged("bigint", part.bigint_value().to_decimal());
    case Type::kBool:
      return base::Json::boolean(part.bool_value());
    case Type::kNumber: {
      double d = part.number_value();
      if (std::isnan(d)) return tagged("number", "NaN");
      if (std::isinf(d)) return tagged("number", d > 0 ? "Infinity" : "-Infinity");
      return base::Json::number(d);
    }
  }
  return base::Json();
}

}  // namespace

base::Result<kvmodel::Key> key_from_json(const base::Json& json) {
  if (!json.is_array()) return base::invalid_argument("a key must be a JSON array");
  kvmodel::Key key;
  const auto& parts = json.as_array();
  for (size_t i = 0; i < parts.size(); ++i) {
    auto part = part_from_json(i, parts[i]);
    if (!part.is_ok()) return part.status();
    key.push_back(std::move(*part));
  }
  return key;
}

base::Result<kvmodel::Key> key_from_json_text(std::string_view text) {
  auto json = base::Json::parse(text);
  if (!json.is_ok()) return json.status();
  return key_from_json(*json);
}

base::Json key_to_json(const kvmodel::Key& key) {
  base::Json out = base::Json::array();
  for (const auto& part : key) out.push_back(part_to_json(part));
  return out;
}

}  // namespace cli
