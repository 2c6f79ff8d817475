// Byte coding helpers shared by every on-disk and on-wire format.
// Bytes are held in std::string: its comparison is memcmp, i.e. unsigned byte order, which is
// exactly the key order of the Deno KV tuple encoding.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace base {

using Bytes = std::string;
using BytesView = std::string_view;

inline void put_u8(Bytes& out, uint8_t v) { out.push_back(static_cast<char>(v)); }

inline void put_u16_be(Bytes& out, uint16_t v) {
  put_u8(out, static_cast<uint8_t>(v >> 8));
  put_u8(out, static_cast<uint8_t>(v));
}
inline void put_u32_le(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) put_u8(out, static_cast<uint8_t>(v >> (8 * i)));
}
inline void put_u64_le(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) put_u8(out, static_cast<uint8_t>(v >> (8 * i)));
}
inline void put_u64_be(Bytes& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) put_u8(out, static_cast<uint8_t>(v >> (8 * i)));
}

inline uint32_t get_u32_le(const void* p) {
  const auto* b = static_cast<const unsigned char*>(p);
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}
inline uint64_t get_u64_le(const void* p) {
  const auto* b = static_cast<const unsigned char*>(p);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}
inline uint64_t get_u64_be(const void* p) {
  const auto* b = static_cast<const unsigned char*>(p);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | b[i];
  return v;
}
inline uint16_t get_u16_be(const void* p) {
  const auto* b = static_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(b[0] << 8 | b[1]);
}

// LEB128 unsigned varint.
inline void put_varint(Bytes& out, uint64_t v) {
  while (v >= 0x80) {
    put_u8(out, static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  put_u8(out, static_cast<uint8_t>(v));
}
inline void put_length_prefixed(Bytes& out, BytesView s) {
  put_varint(out, s.size());
  out.append(s);
}

// Reads from a byte range with bounds checks. Every getter returns false (and consumes
// nothing further) once the input is exhausted or malformed; callers check ok() at the end.
class Reader {
 public:
  explicit Reader(BytesView in) : in_(in) {}

  bool ok() const { return ok_; }
  bool empty() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }
  size_t position() const { return pos_; }

  bool u8(uint8_t& v) {
    if (!need(1)) return false;
    v = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool u16_be(uint16_t& v) {
    if (!need(2)) return false;
    v = get_u16_be(in_.data() + pos_);
    pos_ += 2;
    return true;
  }
  bool u32_le(uint32_t& v) {
    if (!need(4)) return false;
    v = get_u32_le(in_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool u64_le(uint64_t& v) {
    if (!need(8)) return false;
    v = get_u64_le(in_.data() + pos_);
    pos_ += 8;
    return true;
  }
  bool u64_be(uint64_t& v) {
    if (!need(8)) return false;
    v = get_u64_be(in_.data() + pos_);
    pos_ += 8;
    return true;
  }
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b;
      if (!u8(b)) return false;
      v |= uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) return true;
    }
    ok_ = false;
    return false;
  }
  bool bytes(size_t n, BytesView& v) {
    if (!need(n)) return false;
    v = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool length_prefixed(BytesView& v) {
    uint64_t n;
    if (!varint(n)) return false;
    if (n > remaining()) {
      ok_ = false;
      return false;
    }
    return bytes(static_cast<size_t>(n), v);
  }

 private:
  bool need(size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  BytesView in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Lowercase hex of bytes, and back (nullopt on odd length or a non-hex digit).
std::string to_hex(BytesView bytes);
std::optional<Bytes> from_hex(std::string_view hex);

// Standard base64 (RFC 4648 §4, '=' padding) and base64url (§5, '=' padding, used by cursors).
std::string base64_encode(BytesView bytes, bool url = false);
std::optional<Bytes> base64_decode(std::string_view text, bool url = false);

}  // namespace base
