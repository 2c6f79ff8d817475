// A versionstamp is 10 bytes: the Raft index of the committing entry (8 bytes big-endian) and
// the 2-byte big-endian position of the command inside that entry's batch (spec §3, DESIGN.md).
// Byte order == commit order on every replica. Shown to clients as 20 lowercase hex digits.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>

#include "base/bytes.h"

namespace kvmodel {

struct Versionstamp {
  std::array<uint8_t, 10> bytes{};

  static Versionstamp of(uint64_t raft_index, uint16_t position) {
    Versionstamp v;
    for (int i = 0; i < 8; ++i) v.bytes[i] = static_cast<uint8_t>(raft_index >> (56 - 8 * i));
    v.bytes[8] = static_cast<uint8_t>(position >> 8);
    v.bytes[9] = static_cast<uint8_t>(position);
    return v;
  }
  static Versionstamp from_bytes(base::BytesView b10) {
    Versionstamp v;
    for (size_t i = 0; i < 10; ++i) v.bytes[i] = static_cast<uint8_t>(b10[i]);
    return v;
  }
  uint64_t raft_index() const { return base::get_u64_be(bytes.data()); }
  uint16_t position() const { return base::get_u16_be(bytes.data() + 8); }
  base::BytesView view() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
  std::string hex() const { return base::to_hex(view()); }
  friend auto operator<=>(const Versionstamp&, const Versionstamp&) = default;
};

}  // namespace kvmodel
