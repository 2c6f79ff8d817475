// Checksums for every persisted or transmitted frame: XXH3 64-bit.
#pragma once

#include <cstdint>
#include <string_view>

namespace base {

uint64_t xxh3(std::string_view bytes);
uint64_t xxh3(const void* data, size_t size);

}  // namespace base
