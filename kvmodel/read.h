// A snapshot read in Deno KV's model (spec §4.1, §9.5): up to 10 key ranges read at one
// consistent point, and the entries it returns. Shared by the client library, the wire codecs
// and the state machine (kvstate::StateMachine::read). Limits: validate_read_ranges.
#pragma once

#include <cstdint>
#include <vector>

#include "base/bytes.h"
#include "kvmodel/value.h"
#include "kvmodel/versionstamp.h"

namespace kvmodel {

enum class Consistency : uint8_t {
  kStrong = 0,    // reflects every write acknowledged before the read began (ReadIndex)
  kEventual = 1,  // the answering node's applied state; may be stale
};

// One byte range [start, end) of encoded keys, read in key order or reversed (bounds stay
// ascending); start >= end is empty.
struct ReadRange {
  base::Bytes start;  // inclusive
  base::Bytes end;    // exclusive
  uint32_t limit = 1;
  bool reverse = false;
  friend bool operator==(const ReadRange&, const ReadRange&) = default;
};

struct SnapshotRead {
  std::vector<ReadRange> ranges;
  Consistency consistency = Consistency::kStrong;
  friend bool operator==(const SnapshotRead&, const SnapshotRead&) = default;
};

// A stored entry as a read returns it.
struct KvEntry {
  base::Bytes key;  // encoded (key.h)
  Value value;
  Versionstamp versionstamp;
  friend bool operator==(const KvEntry&, const KvEntry&) = default;
};

}  // namespace kvmodel
