#include "kvmodel/key.h"

#include <bit>
#include <cstring>

namespace kvmodel {

namespace {

constexpr uint8_t kTagBytes = 0x01;
constexpr uint8_t kTagString = 0x02;
constexpr uint8_t kTagNegativeLong = 0x0B;
constexpr uint8_t kTagIntZero = 0x14;
constexpr uint8_t kTagPositiveLong = 0x1D;
constexpr uint8_t kTagNumber = 0x21;
constexpr uint8_t kTagFalse = 0x26;
constexpr uint8_t kTagTrue = 0x27;

constexpr uint64_t kSignBit = 0x8000'0000'0000'0000ull;
constexpr uint64_t kCanonicalNaN = 0x7FF8'0000'0000'0000ull;

void encode_escaped(base::Bytes& out, uint8_t tag, base::BytesView data) {
  base::put_u8(out, tag);
  for (char c : data) {
    out.push_back(c);
    if (c == '\0') out.push_back('\xFF');
  }
  out.push_back('\0');
}

void encode_bigint(base::Bytes& out, const BigInt& v) {
  const base::Bytes& magnitude = v.magnitude_be();
  size_t n = magnitude.size();
  if (n == 0) {
    base::put_u8(out, kTagIntZero);
    return;
  }
  if (!v.negative()) {
    if (n <= 8) {
      base::put_u8(out, static_cast<uint8_t>(kTagIntZero + n));
    } else {
      base::put_u8(out, kTagPositiveLong);
      base::put_u8(out, static_cast<uint8_t>(n));
    }
    out.append(magnitude);
    return;
  }
  if (n <= 8) {
    base::put_u8(out, static_cast<uint8_t>(kTagIntZero - n));
  } else {
    base::put_u8(out, kTagNegativeLong);
    base::put_u8(out, static_cast<uint8_t>(n ^ 0xFF));
  }
  for (char c : magnitude) out.push_back(static_cast<char>(~static_cast<unsigned char>(c)));
}

uint64_t double_to_ordered_bits(double d) {
  uint64_t u = std::bit_cast<uint64_t>(d);
  if (d != d) u = (u & kSignBit) | kCanonicalNaN;
  return (u & kSignBit) ? ~u : (u ^ kSignBit);
}

class KeyDecoder {
 public:
  explicit KeyDecoder(base::BytesView in) : in_(in) {}

  base::Result<Key> decode() {
    Key key;
    while (pos_ < in_.size()) {
      KeyPart part = KeyPart::boolean(false);
      RETURN_IF_ERROR(decode_part(part));
      key.push_back(std::move(part));
    }
    return key;
  }

 private:
  base::Status error(size_t at, std::string_view what) const {
    return base::invalid_argument("invalid key at offset {}: {}", at, what);
  }
  uint8_t byte(size_t at) const { return static_cast<uint8_t>(in_[at]); }

  base::Status decode_part(KeyPart& part) {
    size_t start = pos_;
    uint8_t tag = byte(pos_++);
    if (tag == kTagBytes || tag == kTagString) {
      base::Bytes data;
      RETURN_IF_ERROR(decode_escaped(start, data));
      if (tag == kTagBytes) {
        part = KeyPart::bytes(std::move(data));
      } else {
        if (!is_valid_utf8(data)) return error(start, "string part is not valid UTF-8");
        part = KeyPart::string(std::move(data));
      }
      return base::Status::ok();
    }
    if (tag >= kTagNegativeLong && tag <= kTagPositiveLong) return decode_bigint(start, tag, part);
    if (tag == kTagNumber) return decode_number(start, part);
    if (tag == kTagFalse || tag == kTagTrue) {
      part = KeyPart::boolean(tag == kTagTrue);
      return base::Status::ok();
    }
    return error(start, fmt::format("unknown tag 0x{:02x}", tag));
  }

  base::Status decode_escaped(size_t start, base::Bytes& data) {
    while (true) {
      if (pos_ >= in_.size()) return error(start, "unterminated bytes or string part");
      char c = in_[pos_++];
      if (c != '\0') {
        data.push_back(c);
      } else if (pos_ < in_.size() && byte(pos_) == 0xFF) {
        data.push_back('\0');
        ++pos_;
      } else {
        return base::Status::ok();
      }
    }
  }

  base::Status decode_bigint(size_t start, uint8_t tag, KeyPart& part) {
    bool negative = tag < kTagIntZero;
    size_t n;
    if (tag == kTagNegativeLong || tag == kTagPositiveLong) {
      if (pos_ >= in_.size()) return error(start, "truncated bigint length");
      n = negative ? (byte(pos_) ^ 0xFFu) : byte(pos_);
      ++pos_;
      if (n <= 8) return error(start, "non-canonical bigint length");
    } else {
      n = negative ? kTagIntZero - tag : tag - kTagIntZero;
    }
    if (in_.size() - pos_ < n) return error(start, "truncated bigint");
    base::Bytes magnitude(in_.substr(pos_, n));
    pos_ += n;
    if (negative) {
      for (char& c : magnitude) c = static_cast<char>(~static_cast<unsigned char>(c));
    }
    if (n > 0 && magnitude[0] == '\0') return error(start, "non-canonical bigint (leading zero)");
    part = KeyPart::bigint(BigInt::from_magnitude(negative, magnitude));
    return base::Status::ok();
  }

  base::Status decode_number(size_t start, KeyPart& part) {
    if (in_.size() - pos_ < 8) return error(start, "truncated number");
    uint64_t u = base::get_u64_be(in_.data() + pos_);
    pos_ += 8;
    u = (u & kSignBit) ? (u ^ kSignBit) : ~u;
    double d = std::bit_cast<double>(u);
    if (d != d && (u & ~kSignBit) != kCanonicalNaN) return error(start, "non-canonical NaN");
    part = KeyPart::number(d);
    return base::Status::ok();
  }

  base::BytesView in_;
  size_t pos_ = 0;
};

}  // namespace

KeyPart KeyPart::bytes(base::Bytes data) {
  KeyPart p;
  p.type_ = Type::kBytes;
  p.data_ = std::move(data);
  return p;
}
KeyPart KeyPart::string(std::string utf8) {
  KeyPart p;
  p.type_ = Type::kString;
  p.data_ = std::move(utf8);
  return p;
}
KeyPart KeyPart::bigint(BigInt value) {
  KeyPart p;
  p.type_ = Type::kBigInt;
  p.bigint_ = std::move(value);
  return p;
}
KeyPart KeyPart::number(double value) {
  KeyPart p;
  p.type_ = Type::kNumber;
  p.number_ = value;
  return p;
}
KeyPart KeyPart::boolean(bool value) {
  KeyPart p;
  p.type_ = Type::kBool;
  p.bool_ = value;
  return p;
}

const base::Bytes& KeyPart::bytes_value() const {
  ENSURE(type_ == Type::kBytes);
  return data_;
}
const std::string& KeyPart::string_value() const {
  ENSURE(type_ == Type::kString);
  return data_;
}
const BigInt& KeyPart::bigint_value() const {
  ENSURE(type_ == Type::kBigInt);
  return bigint_;
}
double KeyPart::number_value() const {
  ENSURE(type_ == Type::kNumber);
  return number_;
}
bool KeyPart::bool_value() const {
  ENSURE(type_ == Type::kBool);
  return bool_;
}

base::Status encode_key_part(base::Bytes& out, const KeyPart& part) {
  switch (part.type()) {
    case KeyPart::Type::kBytes:
      encode_escaped(out, kTagBytes, part.bytes_value());
      break;
    case KeyPart::Type::kString:
      if (!is_valid_utf8(part.string_value())) {
        return base::invalid_argument("key string part is not valid UTF-8");
      }
      encode_escaped(out, kTagString, part.string_value());
      break;
    case KeyPart::Type::kBigInt:
      if (part.bigint_value().magnitude_be().size() > kKeyBigIntMaxBytes) {
        return base::invalid_argument("bigint key part too large (max {} bytes of magnitude)",
                                      kKeyBigIntMaxBytes);
      }
      encode_bigint(out, part.bigint_value());
      break;
    case KeyPart::Type::kNumber:
      base::put_u8(out, kTagNumber);
      base::put_u64_be(out, double_to_ordered_bits(part.number_value()));
      break;
    case KeyPart::Type::kBool:
      base::put_u8(out, part.bool_value() ? kTagTrue : kTagFalse);
      break;
  }
  return base::Status::ok();
}

base::Result<base::Bytes> encode_key(const Key& key) {
  base::Bytes out;
  for (const KeyPart& part : key) RETURN_IF_ERROR(encode_key_part(out, part));
  return out;
}

base::Result<Key> decode_key(base::BytesView encoded) { return KeyDecoder(encoded).decode(); }

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2, cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3, cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4, cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3Fu);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

}  // namespace kvmodel
