#include "cli/v8_json.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kvmodel/bigint.h"
#include "kvmodel/key.h"

namespace cli {
namespace {

constexpr uint8_t kVersion = 15;

// ------------------------------------------------------------------------------ strings

// Decodes valid UTF-8 (base::Json guarantees it) into code points.
std::u32string code_points(std::string_view utf8) {
  std::u32string out;
  for (size_t i = 0; i < utf8.size();) {
    auto b = static_cast<uint8_t>(utf8[i]);
    int n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (int j = 1; j < n && i + static_cast<size_t>(j) < utf8.size(); ++j) {
      cp = (cp << 6) | (static_cast<uint8_t>(utf8[i + static_cast<size_t>(j)]) & 0x3F);
    }
    out.push_back(cp);
    i += static_cast<size_t>(n);
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void write_string(base::Bytes& out, std::string_view utf8) {
  std::u32string cps = code_points(utf8);
  bool one_byte = true;
  for (char32_t cp : cps) one_byte = one_byte && cp < 0x100;
  if (one_byte) {
    base::put_u8(out, '"');
    base::put_varint(out, cps.size());
    for (char32_t cp : cps) base::put_u8(out, static_cast<uint8_t>(cp));
    return;
  }
  std::u16string units;
  for (char32_t cp : cps) {
    if (cp < 0x10000) {
      units.push_back(static_cast<char16_t>(cp));
    } else {
      units.push_back(static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      units.push_back(static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    }
  }
  uint64_t byte_length = units.size() * 2;
  base::Bytes length_varint;
  base::put_varint(length_varint, byte_length);
  // V8's reader wants the UTF-16 data at an even offset (ValueSerializer::WriteString).
  if ((out.size() + 1 + length_varint.size()) & 1) base::put_u8(out, 0x00);
  base::put_u8(out, 'c');
  out += length_varint;
  for (char16_t u : units) {
    base::put_u8(out, static_cast<uint8_t>(u & 0xFF));
    base::put_u8(out, static_cast<uint8_t>(u >> 8));
  }
}

// ------------------------------------------------------------------------------ numbers

// What V8 stores as a Smi: an integral int32 that is not -0.
bool is_int32(double d) {
  return d >= std::numeric_limits<int32_t>::min() && d <= std::numeric_limits<int32_t>::max() &&
         std::trunc(d) == d && !(d == 0 && std::signbit(d));
}

void write_int32(base::Bytes& out, int32_t v) {
  base::put_u8(out, 'I');
  auto u = static_cast<uint32_t>(v);
  base::put_varint(out, (u << 1) ^ static_cast<uint32_t>(v >> 31));
}

void write_double(base::Bytes& out, double d) {
  base::put_u8(out, 'N');
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  base::put_u64_le(out, bits);
}

void write_number(base::Bytes& out, double d) {
  if (is_int32(d)) {
    write_int32(out, static_cast<int32_t>(d));
  } else {
    write_double(out, d);
  }
}

// A canonical array index: "0" or [1-9][0-9]* below 2^32 - 1 (ECMAScript §6.1.7).
std::optional<uint32_t> array_index(std::string_view key) {
  if (key.empty() || key.size() > 10 || (key.size() > 1 && key[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v >= 0xFFFFFFFFull) return std::nullopt;
  return static_cast<uint32_t>(v);
}

// ------------------------------------------------------------------------------ writer

void write_value(base::Bytes& out, const base::Json& v);

void write_array(base::Bytes& out, const base::Json::Array& items) {
  // JSON.parse gives an all-number array holding a non-Smi PACKED_DOUBLE_ELEMENTS, which V8
  // serializes as doubles throughout.
  bool all_numbers = true;
  bool any_double = false;
  for (const base::Json& item : items) {
    all_numbers = all_numbers && item.is_number();
    any_double = any_double || (item.is_number() && !is_int32(item.number_as_double()));
  }
  base::put_u8(out, 'A');
  base::put_varint(out, items.size());
  for (const base::Json& item : items) {
    if (all_numbers && any_double) {
      write_double(out, item.number_as_double());
    } else {
      write_value(out, item);
    }
  }
  base::put_u8(out, '$');
  base::put_varint(out, 0);
  base::put_varint(out, items.size());
}

void write_object(base::Bytes& out, const base::Json::Object& members) {
  // Property order as V8 enumerates it: integer indices ascending, then insertion order.
  std::vector<std::pair<uint32_t, const base::Json*>> indexed;
  for (const auto& [key, value] : members) {
    if (auto index = array_index(key)) indexed.emplace_back(*index, &value);
  }
  std::sort(indexed.begin(), indexed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  base::put_u8(out, 'o');
  for (const auto& [index, value] : indexed) {
    write_number(out, static_cast<double>(index));
    write_value(out, *value);
  }
  for (const auto& [key, value] : members) {
    if (array_index(key)) continue;
    write_string(out, key);
    write_value(out, value);
  }
  base::put_u8(out, '{');
  base::put_varint(out, members.size());
}

void write_value(base::Bytes& out, const base::Json& v) {
  switch (v.type()) {
    case base::Json::Type::kNull:
      base::put_u8(out, '0');
      return;
    case base::Json::Type::kBool:
      base::put_u8(out, v.as_bool() ? 'T' : 'F');
      return;
    case base::Json::Type::kNumber:
      write_number(out, v.number_as_double());
      return;
    case base::Json::Type::kString:
      write_string(out, v.as_string());
      return;
    case base::Json::Type::kArray:
      write_array(out, v.as_array());
      return;
    case base::Json::Type::kObject:
      write_object(out, v.as_object());
      return;
  }
}

}  // namespace

base::Bytes v8_from_json(const base::Json& value) {
  base::Bytes out;
  base::put_u8(out, 0xFF);
  base::put_u8(out, kVersion);
  write_value(out, value);
  return out;
}

// ------------------------------------------------------------------------------ reader

namespace {

class V8Reader {
 public:
  explicit V8Reader(base::BytesView in) : in_(in) {}

  base::Result<base::Json> read_all() {
    uint8_t tag = 0;
    uint64_t version = 0;
    if (!u8(tag) || tag != 0xFF) return fail("missing the FF header");
    if (!varint(version) || version < 13 || version > 15) {
      return fail(fmt::format("unsupported format version {}", version));
    }
    base::Json value;
    RETURN_IF_ERROR(read_value(value, 0));
    if (pos_ != in_.size()) return fail("trailing bytes after the value");
    return value;
  }

 private:
  base::Status fail(std::string_view what) const {
    return base::invalid_argument("invalid V8 value at offset {}: {}", pos_, what);
  }
  bool u8(uint8_t& v) {
    if (pos_ >= in_.size()) return false;
    v = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = 0;
      if (!u8(b)) return false;
      v |= uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  // A length that must fit in what is left of the input (never allocate beyond it).
  bool length(uint64_t& n, uint64_t unit_bytes = 1) {
    return varint(n) && n <= (in_.size() - pos_) / unit_bytes;
  }

  base::Status read_value(base::Json& out, int depth);
  base::Status read_number_tag(uint8_t tag, double& out);
  base::Status read_string_tag(uint8_t tag, std::string& out);
  base::Status read_bigint(base::Json& out);
  base::Status read_object(base::Json& out, int depth);
  base::Status read_array(base::Json& out, int depth);
  // The next tag, skipping padding bytes.
  bool tag(uint8_t& t) {
    do {
      if (!u8(t)) return false;
    } while (t == 0x00);
    return true;
  }

  base::BytesView in_;
  size_t pos_ = 0;
};

base::Status V8Reader::read_value(base::Json& out, int depth) {
  if (depth > kV8DepthMax) return fail("nesting too deep");
  uint8_t t = 0;
  if (!tag(t)) return fail("truncated: expected a value");
  switch (t) {
    case '0':
      out = base::Json::null();
      return base::Status::ok();
    case 'T':
      out = base::Json::boolean(true);
      return base::Status::ok();
    case 'F':
      out = base::Json::boolean(false);
      return base::Status::ok();
    case 'I':
    case 'U':
    case 'N': {
      double d = 0;
      RETURN_IF_ERROR(read_number_tag(t, d));
      if (!std::isfinite(d)) return fail("NaN and Infinity have no JSON form");
      out = is_int32(d) ? base::Json::number(static_cast<int64_t>(d)) : base::Json::number(d);
      return base::Status::ok();
    }
    case '"':
    case 'c':
    case 'S': {
      std::string s;
      RETURN_IF_ERROR(read_string_tag(t, s));
      out = base::Json::string(std::move(s));
      return base::Status::ok();
    }
    case 'Z':
      return read_bigint(out);
    case 'o':
      return read_object(out, depth);
    case 'A':
      return read_array(out, depth);
    default:
      break;
  }
  --pos_;
  return fail(fmt::format("unsupported tag 0x{:02x} ('{}'): not a JSON-compatible value", t,
                          t >= 0x20 && t < 0x7F ? static_cast<char>(t) : '?'));
}

base::Status V8Reader::read_number_tag(uint8_t t, double& out) {
  uint64_t v = 0;
  if (t == 'N') {
    if (in_.size() - pos_ < 8) return fail("truncated double");
    uint64_t bits = base::get_u64_le(in_.data() + pos_);
    pos_ += 8;
    std::memcpy(&out, &bits, sizeof out);
    return base::Status::ok();
  }
  if (!varint(v) || v > 0xFFFFFFFFull) return fail("bad integer varint");
  if (t == 'U') {
    out = static_cast<double>(v);
  } else {
    auto u = static_cast<uint32_t>(v);
    out = static_cast<double>(static_cast<int32_t>((u >> 1) ^ (0u - (u & 1))));
  }
  return base::Status::ok();
}

base::Status V8Reader::read_string_tag(uint8_t t, std::string& out) {
  uint64_t n = 0;
  if (!length(n)) return fail("bad string length");
  base::BytesView data = in_.substr(pos_, static_cast<size_t>(n));
  pos_ += static_cast<size_t>(n);
  if (t == '"') {
    for (char c : data) append_utf8(out, static_cast<uint8_t>(c));
  } else if (t == 'S') {
    if (!kvmodel::is_valid_utf8(data)) return fail("invalid UTF-8 in a string");
    out.assign(data);
  } else {
    if (n % 2 != 0) return fail("odd UTF-16 byte length");
    for (size_t i = 0; i < data.size(); i += 2) {
      char32_t u = static_cast<uint8_t>(data[i]) | static_cast<uint8_t>(data[i + 1]) << 8;
      bool high = u >= 0xD800 && u < 0xDC00;
      char32_t next = 0;
      if (high && i + 3 < data.size()) {
        next = static_cast<uint8_t>(data[i + 2]) | static_cast<uint8_t>(data[i + 3]) << 8;
      }
      if (high && next >= 0xDC00 && next < 0xE000) {
        append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (next - 0xDC00));
        i += 2;
      } else {
        // A lone surrogate is legal in JavaScript but not in UTF-8: show it as U+FFFD, as
        // TextDecoder does.
        append_utf8(out, u >= 0xD800 && u < 0xE000 ? 0xFFFD : u);
      }
    }
  }
  return base::Status::ok();
}

base::Status V8Reader::read_bigint(base::Json& out) {
  uint64_t bitfield = 0;
  if (!varint(bitfield)) return fail("bad bigint header");
  uint64_t n = bitfield >> 1;
  if (n > in_.size() - pos_) return fail("truncated bigint");
  base::Bytes magnitude_be(in_.substr(pos_, static_cast<size_t>(n)));
  pos_ += static_cast<size_t>(n);
  std::reverse(magnitude_be.begin(), magnitude_be.end());
  auto value = kvmodel::BigInt::from_magnitude((bitfield & 1) != 0, magnitude_be);
  out = base::Json::object();
  out.set("bigint", base::Json::string(value.to_decimal()));
  return base::Status::ok();
}

base::Status V8Reader::read_object(base::Json& out, int depth) {
  out = base::Json::object();
  uint64_t count = 0;
  for (;;) {
    uint8_t t = 0;
    if (!tag(t)) return fail("truncated object");
    if (t == '{') break;
    std::string key;
    if (t == '"' || t == 'c' || t == 'S') {
      RETURN_IF_ERROR(read_string_tag(t, key));
    } else if (t == 'I' || t == 'U' || t == 'N') {
      double d = 0;
      RETURN_IF_ERROR(read_number_tag(t, d));
      if (!(d >= 0 && d < 4294967295.0 && std::trunc(d) == d)) return fail("bad property key");
      key = fmt::format("{}", static_cast<uint64_t>(d));
    } else {
      --pos_;
      return fail("an object key must be a string or an index");
    }
    if (out.find(key) != nullptr) return fail(fmt::format("duplicate property '{}'", key));
    base::Json value;
    RETURN_IF_ERROR(read_value(value, depth + 1));
    out.set(std::move(key), std::move(value));
    ++count;
  }
  uint64_t expected = 0;
  if (!varint(expected) || expected != count) return fail("object property count mismatch");
  return base::Status::ok();
}

base::Status V8Reader::read_array(base::Json& out, int depth) {
  uint64_t n = 0;
  if (!length(n)) return fail("bad array length");
  out = base::Json::array();
  for (uint64_t i = 0; i < n; ++i) {
    base::Json item;
    RETURN_IF_ERROR(read_value(item, depth + 1));
    out.push_back(std::move(item));
  }
  uint8_t t = 0;
  uint64_t properties = 0;
  uint64_t length_again = 0;
  if (!tag(t) || t != '$') return fail("expected the end of a dense array");
  if (!varint(properties) || properties != 0) return fail("arrays with extra properties");
  if (!varint(length_again) || length_again != n) return fail("array length mismatch");
  return base::Status::ok();
}

}  // namespace

base::Result<base::Json> json_from_v8(base::BytesView bytes) { return V8Reader(bytes).read_all(); }

}  // namespace cli
