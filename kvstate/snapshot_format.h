// The constants of the state-machine snapshot stream, shared by its writer (snapshot.cc) and
// its reader (snapshot_load.cc). The format itself is documented in snapshot.h.
//
// Three layers nest when a snapshot is stored: wal/'s snapshot file ("RKVWSNP2", wal/FORMAT.md)
// holds node/'s payload ("RKVNODE", node/snapshot_payload.h), which holds this stream
// ("RKVSTAT"). Each magic names its layer, so a dump of any of them says what it is.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/bytes.h"
#include "base/hash.h"

namespace kvstate::snapshot_format {

inline constexpr std::string_view kMagic("RKVSTAT\x01", 8);  // "RKVSTAT" ‖ version 1
inline constexpr size_t kBlockTargetBytes = 64 * 1024;
inline constexpr size_t kBlockHeaderBytes = 12;  // u32 payload_bytes ‖ u64 checksum

// Record types, in the order the records appear.
enum class RecordType : uint8_t { kMeta = 1, kEntry = 2, kMessage = 3, kSession = 4 };

// The record type a stream byte names, or nullopt for a byte no writer produces.
inline std::optional<RecordType> record_type(uint8_t byte) {
  if (byte < static_cast<uint8_t>(RecordType::kMeta) ||
      byte > static_cast<uint8_t>(RecordType::kSession))
    return std::nullopt;
  return static_cast<RecordType>(byte);
}

// xxh3(u64 block_number ‖ u32 payload_bytes ‖ payload): a flipped bit, a dropped, reordered or
// repeated block, or a truncation changes it.
inline uint64_t block_checksum(uint64_t block_number, base::BytesView payload) {
  base::Bytes buffer;
  buffer.reserve(kBlockHeaderBytes + payload.size());
  base::put_u64_le(buffer, block_number);
  base::put_u32_le(buffer, static_cast<uint32_t>(payload.size()));
  buffer.append(payload);
  return base::xxh3(buffer);
}

}  // namespace kvstate::snapshot_format
