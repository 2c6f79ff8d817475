#include "kvmodel/value.h"

#include <bit>

namespace kvmodel {

namespace {

constexpr uint8_t kV8Header = 0xFF;
constexpr uint8_t kV8Version = 15;
constexpr uint8_t kTagInt32 = 'I';
constexpr uint8_t kTagUint32 = 'U';
constexpr uint8_t kTagDouble = 'N';
constexpr uint8_t kTagBigInt = 'Z';

base::Status v8_error(std::string_view what) {
  return base::invalid_argument("not a V8 number or bigint: {}", what);
}

}  // namespace

Value Value::le64(uint64_t v) {
  Value value{ValueEncoding::kLe64, {}};
  base::put_u64_le(value.data, v);
  return value;
}

base::Status validate_value(const Value& value) {
  if (value.encoding == ValueEncoding::kLe64 && value.data.size() != 8) {
    return base::invalid_argument("Invalid u64 value: expected 8 bytes, got {}", value.data.size());
  }
  return base::Status::ok();
}

uint64_t le64_of(const Value& value) {
  ENSURE(value.encoding == ValueEncoding::kLe64 && value.data.size() == 8);
  return base::get_u64_le(value.data.data());
}

base::Result<V8Number> parse_v8_number(base::BytesView v8) {
  base::Reader in(v8);
  uint8_t header = 0;
  uint64_t version = 0;
  if (!in.u8(header) || header != kV8Header) return v8_error("missing header");
  if (!in.varint(version) || version < 13 || version > 15) return v8_error("unsupported version");
  uint8_t tag = 0;
  do {
    if (!in.u8(tag)) return v8_error("missing value");
  } while (tag == 0);  // padding
  V8Number out;
  switch (tag) {
    case kTagInt32: {
      uint64_t zigzag = 0;
      if (!in.varint(zigzag) || zigzag > UINT32_MAX) return v8_error("bad int32");
      auto u = static_cast<uint32_t>(zigzag);
      out.number = static_cast<double>(static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1)));
      break;
    }
    case kTagUint32: {
      uint64_t u = 0;
      if (!in.varint(u) || u > UINT32_MAX) return v8_error("bad uint32");
      out.number = static_cast<double>(u);
      break;
    }
    case kTagDouble: {
      uint64_t bits = 0;
      if (!in.u64_le(bits)) return v8_error("truncated double");
      out.number = std::bit_cast<double>(bits);
      break;
    }
    case kTagBigInt: {
      uint64_t bitfield = 0;
      base::BytesView digits_le;
      if (!in.varint(bitfield) || bitfield > UINT32_MAX) return v8_error("bad bigint bitfield");
      if (!in.bytes(static_cast<size_t>(bitfield >> 1) & 0x3FFFFFFF, digits_le)) {
        return v8_error("truncated bigint");
      }
      base::Bytes magnitude_be(digits_le.rbegin(), digits_le.rend());
      out.is_bigint = true;
      out.bigint = BigInt::from_magnitude((bitfield & 1) != 0, magnitude_be);
      break;
    }
    default:
      return v8_error("unsupported type");
  }
  if (!in.empty()) return v8_error("trailing bytes");
  return out;
}

base::Bytes write_v8_bigint(const BigInt& v) {
  base::Bytes out;
  base::put_u8(out, kV8Header);
  base::put_u8(out, kV8Version);
  base::put_u8(out, kTagBigInt);
  const base::Bytes& magnitude = v.magnitude_be();
  size_t length = (magnitude.size() + 7) / 8 * 8;  // V8 writes whole 64-bit digits
  base::put_varint(out, (uint64_t{length} << 1) | (v.negative() ? 1 : 0));
  out.append(magnitude.rbegin(), magnitude.rend());
  out.append(length - magnitude.size(), '\0');
  return out;
}

base::Bytes write_v8_number(double v) {
  base::Bytes out;
  base::put_u8(out, kV8Header);
  base::put_u8(out, kV8Version);
  base::put_u8(out, kTagDouble);
  base::put_u64_le(out, std::bit_cast<uint64_t>(v));
  return out;
}

}  // namespace kvmodel
