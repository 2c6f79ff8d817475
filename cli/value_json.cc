#include "cli/value_json.h"

#include "base/bytes.h"
#include "base/flags.h"
#include "cli/v8_json.h"

namespace cli {
namespace {

// The member of a one-member object whose name is `tag`, else nullptr.
const base::Json* tagged(const base::Json& json, std::string_view tag) {
  if (!json.is_object() || json.as_object().size() != 1) return nullptr;
  return json.find(tag);
}

base::Result<kvmodel::Value> u64_value(std::string_view decimal) {
  base::Result<uint64_t> n = base::parse_uint(decimal);
  if (!n.is_ok()) {
    return base::invalid_argument("u64 must be a decimal integer in [0, 2^64): '{}'", decimal);
  }
  kvmodel::Value value{kvmodel::ValueEncoding::kLe64, {}};
  base::put_u64_le(value.data, *n);
  return value;
}

base::Result<kvmodel::Value> base64_value(std::string_view text, kvmodel::ValueEncoding encoding) {
  std::optional<base::Bytes> bytes = base::base64_decode(text);
  if (!bytes) return base::invalid_argument("not valid base64 (with '=' padding): '{}'", text);
  return kvmodel::Value{encoding, std::move(*bytes)};
}

}  // namespace

base::Result<kvmodel::Value> value_from_json(const base::Json& json) {
  for (auto [tag, encoding] : {std::pair{"u64", kvmodel::ValueEncoding::kLe64},
                               std::pair{"bytes", kvmodel::ValueEncoding::kBytes},
                               std::pair{"v8", kvmodel::ValueEncoding::kV8}}) {
    const base::Json* member = tagged(json, tag);
    if (member == nullptr) continue;
    if (!member->is_string()) return base::invalid_argument("{} must be a string", tag);
    if (encoding == kvmodel::ValueEncoding::kLe64) return u64_value(member->as_string());
    base::Result<kvmodel::Value> value = base64_value(member->as_string(), encoding);
    if (value.is_ok() && encoding == kvmodel::ValueEncoding::kV8) {
      // Raw V8 bytes must at least carry the header; Deno would fail to read anything else.
      if (value->data.size() < 2 || static_cast<uint8_t>(value->data[0]) != 0xFF) {
        return base::invalid_argument("v8 bytes must start with the FF header");
      }
    }
    return value;
  }
  return kvmodel::Value{kvmodel::ValueEncoding::kV8, v8_from_json(json)};
}

base::Json value_to_json(const kvmodel::Value& value) {
  base::Json out = base::Json::object();
  switch (value.encoding) {
    case kvmodel::ValueEncoding::kLe64:
      if (value.data.size() == 8) {
        out.set("u64", base::Json::string(std::to_string(base::get_u64_le(value.data.data()))));
        return out;
      }
      break;
    case kvmodel::ValueEncoding::kBytes:
      out.set("bytes", base::Json::string(base::base64_encode(value.data)));
      return out;
    case kvmodel::ValueEncoding::kV8:
      if (base::Result<base::Json> json = json_from_v8(value.data); json.is_ok()) return *json;
      out.set("v8", base::Json::string(base::base64_encode(value.data)));
      return out;
  }
  // An LE64 value that is not 8 bytes (the node never stores one): show the bytes, not fail.
  out.set("bytes", base::Json::string(base::base64_encode(value.data)));
  return out;
}

base::Result<kvmodel::Versionstamp> versionstamp_from_hex(std::string_view hex) {
  std::optional<base::Bytes> bytes = base::from_hex(hex);
  if (hex.size() != 20 || !bytes) {
    return base::invalid_argument("invalid versionstamp '{}': expected 20 hex digits", hex);
  }
  return kvmodel::Versionstamp::from_bytes(*bytes);
}

base::Result<kvmodel::Value> value_from_argument(std::string_view text, ValueSyntax syntax) {
  switch (syntax) {
    case ValueSyntax::kBytes:
      return base64_value(text, kvmodel::ValueEncoding::kBytes);
    case ValueSyntax::kU64:
      return u64_value(text);
    case ValueSyntax::kJson:
      break;
  }
  base::Result<base::Json> json = base::Json::parse(text);
  if (!json.is_ok()) {
    return base::invalid_argument(
        "the value is not JSON ({}); a string needs quotes, e.g. '\"hello\"', or use --bytes "
        "or --u64",
        json.status().message());
  }
  return value_from_json(*json);
}

}  // namespace cli
