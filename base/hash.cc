#include "base/hash.h"

#include <xxhash.h>

namespace base {

uint64_t xxh3(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }
uint64_t xxh3(const void* data, size_t size) { return XXH3_64bits(data, size); }

}  // namespace base
