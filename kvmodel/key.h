// Deno KV keys: a tuple of parts and its binary encoding (the FoundationDB tuple-layer subset
// Deno uses, spec §1.2), byte-identical to Deno's. Byte order of encodings == key order, so the
// store only ever compares bytes; the server never needs to decode a key (the CLI does).
//
// Encoding table (a key is the plain concatenation of its encoded parts):
//
//   tag        part                       payload
//   0x01       bytes (Uint8Array)         raw bytes, each 0x00 written as 00 FF, then 00
//   0x02       string (UTF-8)             UTF-8 bytes, same 00 -> 00 FF escaping, then 00
//   0x0B       bigint < 0, |v| > 8 bytes  (n XOR 0xFF), then ones' complement of |v| (n bytes BE)
//   0x0C-0x13  bigint < 0, n = 8..1 bytes tag 0x14 - n; ones' complement of |v| (n bytes BE)
//   0x14       bigint 0                   none
//   0x15-0x1C  bigint > 0, n = 1..8 bytes tag 0x14 + n; |v| (n bytes BE, no leading zero)
//   0x1D       bigint > 0, n > 8 bytes    n (one byte, so n <= 255), then |v| (n bytes BE)
//   0x21       number (f64)               8 bytes BE of the transformed IEEE bits:
//                                         NaN -> 7FF8.. (sign clear) / FFF8.. (sign set);
//                                         sign set: flip all bits; else flip the sign bit
//   0x26       false                      none
//   0x27       true                       none
//
// Order across types: bytes < string < bigint < number < false < true. Worked examples are the
// test vectors in key_test.cc (spec §1.4), e.g. ["users", 42] = 02 75 73 65 72 73 00 21 C0 45 ..
//
// decode_key is strict: it accepts exactly the encodings encode_key produces (canonical bigints,
// canonical NaNs, valid UTF-8), so decode followed by encode is the identity.
#pragma once

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "kvmodel/bigint.h"

namespace kvmodel {

class KeyPart {
 public:
  enum class Type : uint8_t { kBytes, kString, kBigInt, kNumber, kBool };

  static KeyPart bytes(base::Bytes data);
  static KeyPart string(std::string utf8);  // validity is checked by encode_key
  static KeyPart bigint(BigInt value);
  static KeyPart number(double value);
  static KeyPart boolean(bool value);

  Type type() const { return type_; }
  // Accessors ENSURE the type.
  const base::Bytes& bytes_value() const;
  const std::string& string_value() const;
  const BigInt& bigint_value() const;
  double number_value() const;
  bool bool_value() const;

 private:
  Type type_ = Type::kBool;
  base::Bytes data_;  // bytes or string
  BigInt bigint_;
  double number_ = 0;
  bool bool_ = false;
};

using Key = std::vector<KeyPart>;

// Largest bigint magnitude a key part can hold: the 0x0B/0x1D length is one byte.
inline constexpr size_t kKeyBigIntMaxBytes = 255;

// Fails for a string part that is not valid UTF-8 or a bigint beyond 255 bytes of magnitude.
base::Status encode_key_part(base::Bytes& out, const KeyPart& part);
base::Result<base::Bytes> encode_key(const Key& key);
// Errors name the byte offset: "invalid key at offset 3: unknown tag 0x05".
base::Result<Key> decode_key(base::BytesView encoded);

bool is_valid_utf8(std::string_view s);

}  // namespace kvmodel
