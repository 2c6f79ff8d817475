// The only file that converts between JSON text and jepsen::Json (see json_value.h).
#include "jepsen_tests/json_value.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "base/check.h"

namespace jepsen {

bool Json::as_bool() const {
  ENSURE(is_bool());
  return std::get<bool>(v_);
}
int64_t Json::as_int() const {
  ENSURE(is_int());
  return std::get<int64_t>(v_);
}
double Json::as_double() const {
  ENSURE(is_number());
  if (is_int()) return static_cast<double>(std::get<int64_t>(v_));
  return std::get<double>(v_);
}
const std::string& Json::as_string() const {
  ENSURE(is_string());
  return std::get<std::string>(v_);
}
const Json::Array& Json::as_array() const {
  ENSURE(is_array());
  return std::get<Array>(v_);
}
Json::Array& Json::as_array() {
  ENSURE(is_array());
  return std::get<Array>(v_);
}
const Json::Object& Json::as_object() const {
  ENSURE(is_object());
  return std::get<Object>(v_);
}

const Json* Json::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : std::get<Object>(v_)) {
    if (k == key) return &v;
  }
  return nullptr;
}

Json& Json::set(std::string_view key, Json value) {
  if (is_null()) v_ = Object{};
  ENSURE(is_object());
  auto& object = std::get<Object>(v_);
  for (auto& [k, v] : object) {
    if (k == key) {
      v = std::move(value);
      return v;
    }
  }
  object.emplace_back(std::string(key), std::move(value));
  return object.back().second;
}

void Json::push(Json value) {
  if (is_null()) v_ = Array{};
  ENSURE(is_array());
  std::get<Array>(v_).push_back(std::move(value));
}

std::optional<int64_t> Json::get_int(std::string_view key) const {
  const Json* v = find(key);
  if (v == nullptr || !v->is_int()) return std::nullopt;
  return v->as_int();
}
std::optional<std::string> Json::get_string(std::string_view key) const {
  const Json* v = find(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->as_string();
}
std::optional<bool> Json::get_bool(std::string_view key) const {
  const Json* v = find(key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->as_bool();
}

namespace {

constexpr int kMaxDepth = 256;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  base::Result<Json> parse_document() {
    skip_space();
    Json value;
    RETURN_IF_ERROR(parse_value(value, 0));
    skip_space();
    if (pos_ != text_.size()) return error("unexpected trailing characters");
    return value;
  }

 private:
  base::Status error(std::string_view what) const {
    return base::invalid_argument("json: {} at offset {}", what, pos_);
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  base::Status parse_value(Json& out, int depth) {
    if (depth > kMaxDepth) return error("nesting too deep");
    if (pos_ >= text_.size()) return error("unexpected end of input");
    const char c = text_[pos_];
    if (c == '{') return parse_object(out, depth);
    if (c == '[') return parse_array(out, depth);
    if (c == '"') {
      std::string s;
      RETURN_IF_ERROR(parse_string(s));
      out = Json(std::move(s));
      return base::Status::ok();
    }
    if (consume("true")) {
      out = Json(true);
      return base::Status::ok();
    }
    if (consume("false")) {
      out = Json(false);
      return base::Status::ok();
    }
    if (consume("null")) {
      out = Json();
      return base::Status::ok();
    }
    return parse_number(out);
  }

  base::Status parse_object(Json& out, int depth) {
    ++pos_;  // '{'
    Json::Object object;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      out = Json(std::move(object));
      return base::Status::ok();
    }
    while (true) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') return error("expected object key");
      std::string key;
      RETURN_IF_ERROR(parse_string(key));
      for (const auto& member : object) {
        if (member.first == key) return error(fmt::format("duplicate key \"{}\"", key));
      }
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ':') return error("expected ':'");
      ++pos_;
      skip_space();
      Json value;
      RETURN_IF_ERROR(parse_value(value, depth + 1));
      object.emplace_back(std::move(key), std::move(value));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        out = Json(std::move(object));
        return base::Status::ok();
      }
      return error("expected ',' or '}'");
    }
  }

  base::Status parse_array(Json& out, int depth) {
    ++pos_;  // '['
    Json::Array array;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      out = Json(std::move(array));
      return base::Status::ok();
    }
    while (true) {
      skip_space();
      Json value;
      RETURN_IF_ERROR(parse_value(value, depth + 1));
      array.push_back(std::move(value));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        out = Json(std::move(array));
        return base::Status::ok();
      }
      return error("expected ',' or ']'");
    }
  }

  base::Status parse_hex4(uint32_t& out) {
    if (pos_ + 4 > text_.size()) return error("truncated \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      out <<= 4;
      if (h >= '0' && h <= '9')
        out |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f')
        out |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        out |= static_cast<uint32_t>(h - 'A' + 10);
      else
        return error("bad hex digit in \\u escape");
    }
    return base::Status::ok();
  }

  static void append_utf8(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  base::Status parse_escape(std::string& s) {
    if (pos_ >= text_.size()) return error("truncated escape");
    const char e = text_[pos_++];
    switch (e) {
      case '"':
        s.push_back('"');
        return base::Status::ok();
      case '\\':
        s.push_back('\\');
        return base::Status::ok();
      case '/':
        s.push_back('/');
        return base::Status::ok();
      case 'b':
        s.push_back('\b');
        return base::Status::ok();
      case 'f':
        s.push_back('\f');
        return base::Status::ok();
      case 'n':
        s.push_back('\n');
        return base::Status::ok();
      case 'r':
        s.push_back('\r');
        return base::Status::ok();
      case 't':
        s.push_back('\t');
        return base::Status::ok();
      case 'u':
        break;
      default:
        return error("bad escape");
    }
    uint32_t cp = 0;
    RETURN_IF_ERROR(parse_hex4(cp));
    if (cp >= 0xDC00 && cp <= 0xDFFF) return error("lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (!consume("\\u")) return error("high surrogate without low surrogate");
      uint32_t low = 0;
      RETURN_IF_ERROR(parse_hex4(low));
      if (low < 0xDC00 || low > 0xDFFF) return error("bad low surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(s, cp);
    return base::Status::ok();
  }

  base::Status parse_string(std::string& s) {
    ++pos_;  // opening quote
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return base::Status::ok();
      }
      if (static_cast<unsigned char>(c) < 0x20) return error("control character in string");
      if (c == '\\') {
        ++pos_;
        RETURN_IF_ERROR(parse_escape(s));
        continue;
      }
      s.push_back(c);
      ++pos_;
    }
    return error("unterminated string");
  }

  base::Status parse_number(Json& out) {
    const size_t start = pos_;
    bool integral = true;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    if (pos_ >= text_.size() || !is_digit(text_[pos_])) return error("unexpected character");
    if (text_[pos_] == '0' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1])) {
      return error("leading zero in number");
    }
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      integral = false;
      ++pos_;
      if (pos_ >= text_.size() || !is_digit(text_[pos_])) return error("digit expected after '.'");
      while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (pos_ >= text_.size() || !is_digit(text_[pos_]))
        return error("digit expected in exponent");
      while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (integral) {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(first, last, v);
      if (ec == std::errc() && ptr == last) {
        out = Json(v);
        return base::Status::ok();
      }
    }
    double d = 0;
    auto [ptr, ec] = std::from_chars(first, last, d);
    if (ec != std::errc() || ptr != last) return error("number out of range");
    out = Json(d);
    return base::Status::ok();
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  std::string_view text_;
  size_t pos_ = 0;
};

void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
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
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void append_value(std::string& out, const Json& v, int indent, int depth) {
  const auto newline = [&](int d) {
    if (indent <= 0) return;
    out.push_back('\n');
    out.append(static_cast<size_t>(indent * d), ' ');
  };
  if (v.is_null()) {
    out += "null";
  } else if (v.is_bool()) {
    out += v.as_bool() ? "true" : "false";
  } else if (v.is_int()) {
    out += fmt::format("{}", v.as_int());
  } else if (v.is_number()) {
    const double d = v.as_double();
    out += std::isfinite(d) ? fmt::format("{}", d) : "null";
  } else if (v.is_string()) {
    append_string(out, v.as_string());
  } else if (v.is_array()) {
    out.push_back('[');
    bool first = true;
    for (const auto& item : v.as_array()) {
      if (!first) out.push_back(',');
      first = false;
      newline(depth + 1);
      append_value(out, item, indent, depth + 1);
    }
    if (!v.as_array().empty()) newline(depth);
    out.push_back(']');
  } else {
    out.push_back('{');
    bool first = true;
    for (const auto& [key, item] : v.as_object()) {
      if (!first) out.push_back(',');
      first = false;
      newline(depth + 1);
      append_string(out, key);
      out += indent > 0 ? ": " : ":";
      append_value(out, item, indent, depth + 1);
    }
    if (!v.as_object().empty()) newline(depth);
    out.push_back('}');
  }
}

}  // namespace

base::Result<Json> parse_json(std::string_view text) { return Parser(text).parse_document(); }

void append_json(std::string& out, const Json& value) { append_value(out, value, 0, 0); }

std::string to_json(const Json& value) {
  std::string out;
  append_json(out, value);
  return out;
}

std::string to_json_pretty(const Json& value) {
  std::string out;
  append_value(out, value, 2, 0);
  out.push_back('\n');
  return out;
}

}  // namespace jepsen
