#include "base/json.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace base {

namespace {

// Nesting limit: deep enough for any document we produce, shallow enough to keep the
// recursive parser far from the stack limit on hostile input.
constexpr int kMaxDepth = 256;

bool is_valid_number(std::string_view s) {
  size_t i = 0;
  auto digit = [&](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digit(i)) return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == s.size();
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid (overlong,
// surrogate, out of range or truncated).
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<Json> parse_document() {
    Json value;
    RETURN_IF_ERROR(parse_value(value, 0));
    skip_ws();
    if (pos_ != s_.size()) return error("unexpected data after the JSON value");
    return value;
  }

 private:
  Status error(std::string_view what) const {
    return invalid_argument("invalid JSON at offset {}: {}", pos_, what);
  }
  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool consume(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Status parse_value(Json& out, int depth) {
    if (depth > kMaxDepth) return error("nesting too deep");
    skip_ws();
    if (pos_ >= s_.size()) return error("unexpected end of input");
    char c = s_[pos_];
    if (c == '{') return parse_object(out, depth);
    if (c == '[') return parse_array(out, depth);
    if (c == '"') {
      std::string str;
      RETURN_IF_ERROR(parse_string(str));
      out = Json::string(std::move(str));
      return Status::ok();
    }
    if (consume("true")) {
      out = Json::boolean(true);
      return Status::ok();
    }
    if (consume("false")) {
      out = Json::boolean(false);
      return Status::ok();
    }
    if (consume("null")) {
      out = Json::null();
      return Status::ok();
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(out);
    return error("expected a value");
  }

  Status parse_number(Json& out) {
    size_t start = pos_;
    while (pos_ < s_.size() &&
           std::string_view("+-0123456789.eE").find(s_[pos_]) != std::string_view::npos) {
      ++pos_;
    }
    std::string_view text = s_.substr(start, pos_ - start);
    if (!is_valid_number(text)) {
      pos_ = start;
      return error("invalid number");
    }
    out = Json::number_text(std::string(text));
    return Status::ok();
  }

  Status parse_hex4(uint32_t& cp) {
    if (pos_ + 4 > s_.size()) return error("truncated \\u escape");
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      char h = s_[pos_++];
      int v = (h >= '0' && h <= '9')   ? h - '0'
              : (h >= 'a' && h <= 'f') ? h - 'a' + 10
              : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                       : -1;
      if (v < 0) return error("invalid \\u escape");
      cp = cp << 4 | static_cast<uint32_t>(v);
    }
    return Status::ok();
  }

  Status parse_escape(std::string& out) {
    if (pos_ >= s_.size()) return error("unterminated string");
    char e = s_[pos_++];
    switch (e) {
      case '"':
        out += '"';
        return Status::ok();
      case '\\':
        out += '\\';
        return Status::ok();
      case '/':
        out += '/';
        return Status::ok();
      case 'b':
        out += '\b';
        return Status::ok();
      case 'f':
        out += '\f';
        return Status::ok();
      case 'n':
        out += '\n';
        return Status::ok();
      case 'r':
        out += '\r';
        return Status::ok();
      case 't':
        out += '\t';
        return Status::ok();
      case 'u':
        break;
      default:
        --pos_;
        return error("invalid escape");
    }
    uint32_t cp = 0;
    RETURN_IF_ERROR(parse_hex4(cp));
    if (cp >= 0xDC00 && cp <= 0xDFFF) return error("unpaired low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t low = 0;
      if (!consume("\\u")) return error("unpaired high surrogate");
      RETURN_IF_ERROR(parse_hex4(low));
      if (low < 0xDC00 || low > 0xDFFF) return error("unpaired high surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, cp);
    return Status::ok();
  }

  Status parse_string(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= s_.size()) return error("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return Status::ok();
      }
      if (c == '\\') {
        ++pos_;
        RETURN_IF_ERROR(parse_escape(out));
      } else if (c < 0x20) {
        return error("control character in string");
      } else {
        size_t n = utf8_sequence_length(s_, pos_);
        if (n == 0) return error("invalid UTF-8 in string");
        out.append(s_.substr(pos_, n));
        pos_ += n;
      }
    }
  }

  Status parse_array(Json& out, int depth) {
    ++pos_;
    out = Json::array();
    skip_ws();
    if (consume("]")) return Status::ok();
    while (true) {
      Json item;
      RETURN_IF_ERROR(parse_value(item, depth + 1));
      out.push_back(std::move(item));
      skip_ws();
      if (consume("]")) return Status::ok();
      if (!consume(",")) return error("expected ',' or ']'");
    }
  }

  Status parse_object(Json& out, int depth) {
    ++pos_;
    out = Json::object();
    skip_ws();
    if (consume("}")) return Status::ok();
    while (true) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') return error("expected a string key");
      size_t key_pos = pos_;
      std::string key;
      RETURN_IF_ERROR(parse_string(key));
      if (out.find(key) != nullptr) {
        pos_ = key_pos;
        return error(fmt::format("duplicate key \"{}\"", key));
      }
      skip_ws();
      if (!consume(":")) return error("expected ':'");
      Json value;
      RETURN_IF_ERROR(parse_value(value, depth + 1));
      out.set(std::move(key), std::move(value));
      skip_ws();
      if (consume("}")) return Status::ok();
      if (!consume(",")) return error("expected ',' or '}'");
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

void serialize_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

// indent 0: compact. Otherwise every item and member starts a line indented by `indent`
// spaces per level; empty arrays and objects stay "[]" and "{}".
void serialize_to(std::string& out, const Json& v, int indent, int depth) {
  const auto newline = [&](int level) {
    if (indent == 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent * level), ' ');
  };
  switch (v.type()) {
    case Json::Type::kNull:
      out += "null";
      break;
    case Json::Type::kBool:
      out += v.as_bool() ? "true" : "false";
      break;
    case Json::Type::kNumber:
      out += v.as_string();
      break;
    case Json::Type::kString:
      serialize_string(out, v.as_string());
      break;
    case Json::Type::kArray: {
      out += '[';
      bool first = true;
      for (const Json& item : v.as_array()) {
        if (!first) out += ',';
        first = false;
        newline(depth + 1);
        serialize_to(out, item, indent, depth + 1);
      }
      if (!first) newline(depth);
      out += ']';
      break;
    }
    case Json::Type::kObject: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.as_object()) {
        if (!first) out += ',';
        first = false;
        newline(depth + 1);
        serialize_string(out, key);
        out += indent == 0 ? ":" : ": ";
        serialize_to(out, item, indent, depth + 1);
      }
      if (!first) newline(depth);
      out += '}';
      break;
    }
  }
}

}  // namespace

Json Json::boolean(bool b) {
  Json j;
  j.type_ = Type::kBool;
  j.bool_ = b;
  return j;
}

Json Json::number_text(std::string text) {
  ENSURE_MSG(is_valid_number(text), "not a JSON number: '{}'", text);
  Json j;
  j.type_ = Type::kNumber;
  j.text_ = std::move(text);
  return j;
}

Json Json::number(int64_t v) { return number_text(fmt::format("{}", v)); }
Json Json::number(uint64_t v) { return number_text(fmt::format("{}", v)); }

Json Json::number(double v) {
  ENSURE_MSG(std::isfinite(v), "JSON cannot represent {}", v);
  // fmt prints the shortest representation that round-trips ("42", "0.1", "1e+21").
  return number_text(fmt::format("{}", v));
}

Json Json::string(std::string s) {
  Json j;
  j.type_ = Type::kString;
  j.text_ = std::move(s);
  return j;
}

Json Json::array(Array items) {
  Json j;
  j.type_ = Type::kArray;
  j.array_ = std::move(items);
  return j;
}

Json Json::object(Object members) {
  Json j;
  j.type_ = Type::kObject;
  j.object_ = std::move(members);
  return j;
}

Result<Json> Json::parse(std::string_view text) { return Parser(text).parse_document(); }

std::string Json::serialize() const {
  std::string out;
  serialize_to(out, *this, 0, 0);
  return out;
}

std::string Json::serialize_pretty() const {
  std::string out;
  serialize_to(out, *this, 2, 0);
  out += '\n';
  return out;
}

bool Json::as_bool() const {
  ENSURE(type_ == Type::kBool);
  return bool_;
}
const std::string& Json::as_string() const {
  ENSURE(type_ == Type::kString || type_ == Type::kNumber);
  return text_;
}
const Json::Array& Json::as_array() const {
  ENSURE(type_ == Type::kArray);
  return array_;
}
Json::Array& Json::as_array() {
  ENSURE(type_ == Type::kArray);
  return array_;
}
const Json::Object& Json::as_object() const {
  ENSURE(type_ == Type::kObject);
  return object_;
}
Json::Object& Json::as_object() {
  ENSURE(type_ == Type::kObject);
  return object_;
}

double Json::number_as_double() const {
  ENSURE(type_ == Type::kNumber);
  // strtod rounds correctly; out-of-range magnitudes become +-inf or 0, as in JavaScript.
  return std::strtod(text_.c_str(), nullptr);
}

std::optional<int64_t> Json::number_as_i64() const {
  if (type_ != Type::kNumber) return std::nullopt;
  int64_t v;
  auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), v);
  if (ec != std::errc() || end != text_.data() + text_.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> Json::number_as_u64() const {
  if (type_ != Type::kNumber) return std::nullopt;
  uint64_t v;
  auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), v);
  if (ec != std::errc() || end != text_.data() + text_.size()) return std::nullopt;
  return v;
}

const Json* Json::find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const auto& [k, v] : object_) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::optional<int64_t> Json::find_i64(std::string_view key) const {
  const Json* v = find(key);
  return v == nullptr ? std::nullopt : v->number_as_i64();
}

std::optional<std::string> Json::find_string(std::string_view key) const {
  const Json* v = find(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->as_string();
}

std::optional<bool> Json::find_bool(std::string_view key) const {
  const Json* v = find(key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->as_bool();
}

Json& Json::set(std::string key, Json value) {
  ENSURE(type_ == Type::kObject);
  ENSURE_MSG(find(key) == nullptr, "duplicate JSON key '{}'", key);
  object_.emplace_back(std::move(key), std::move(value));
  return object_.back().second;
}

Json& Json::push_back(Json value) {
  ENSURE(type_ == Type::kArray);
  array_.push_back(std::move(value));
  return array_.back();
}

bool operator==(const Json& a, const Json& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case Json::Type::kNull:
      return true;
    case Json::Type::kBool:
      return a.bool_ == b.bool_;
    case Json::Type::kNumber:
    case Json::Type::kString:
      return a.text_ == b.text_;
    case Json::Type::kArray:
      return a.array_ == b.array_;
    case Json::Type::kObject:
      return a.object_ == b.object_;
  }
  return false;
}

}  // namespace base
