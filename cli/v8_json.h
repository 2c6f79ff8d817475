// JSON values <-> V8 ValueSerializer bytes, for the JSON-compatible subset, so Deno programs
// read what `kv` wrote and the other way round (spec §2.1: Deno stores values with
// core.serialize, i.e. V8's ValueSerializer, format version 15).
//
// Wire format (V8 src/objects/value-serializer.cc), all varints LEB128:
//   header      FF 0F                       (version 15; 13..15 accepted when reading)
//   padding     00                          (may precede any tag)
//   null        '0'    true 'T'    false 'F'
//   int32       'I' zigzag varint           (what V8 writes for small integers, "Smis")
//   uint32      'U' varint                  (read only)
//   double      'N' 8 bytes little-endian
//   bigint      'Z' varint (bit 0 sign, rest byte length), magnitude little-endian (read only)
//   string      '"' varint length, Latin-1 bytes            (every code point < 256)
//               'c' varint byte length, UTF-16LE            (preceded by one 00 when needed so
//                                                            that the UTF-16 data starts at an
//                                                            even offset)
//               'S' varint length, UTF-8                    (legacy, read only)
//   object      'o' (key value)* '{' varint count       keys: strings, or numbers for
//                                                       array-index keys ("0", "17")
//   array       'A' varint length, elements, '$' varint 0, varint length     (dense)
//
// The writer produces the bytes V8 itself produces for JSON.parse(text): integral numbers in
// int32 range (not -0) as 'I', others as 'N'; an array of numbers that holds any non-int32
// number is all 'N' (V8's PACKED_DOUBLE_ELEMENTS); object keys that are array indices come
// first in ascending numeric order and are written as numbers, then the other keys in order.
//
// The reader accepts exactly this subset (plus 'U', 'S' and bigints, shown as
// {"bigint":"<decimal>"}) and rejects everything else (Dates, Maps, undefined, NaN, references,
// trailing bytes, bad lengths) with "invalid V8 value at offset N: ..."; it never crashes or
// allocates more than the input size, and refuses nesting deeper than kV8DepthMax.
#pragma once

#include "base/bytes.h"
#include "base/json.h"
#include "base/status.h"

namespace cli {

inline constexpr int kV8DepthMax = 200;

base::Bytes v8_from_json(const base::Json& value);
base::Result<base::Json> json_from_v8(base::BytesView bytes);

}  // namespace cli
