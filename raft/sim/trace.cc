#include "raft/sim/trace.h"

#include <fmt/format.h>

#include <array>

#include "base/check.h"
#include "base/hash.h"

namespace raft::sim {

void Trace::fold(uint64_t step, std::initializer_list<uint64_t> fields) {
  // Chain: hash_i = xxh3(hash_{i-1}, step, field count, fields...). Fixed-size buffer: events
  // carry few fields.
  std::array<uint64_t, 16> words{};
  ENSURE(fields.size() + 3 <= words.size());
  size_t n = 0;
  words[n++] = hash_;
  words[n++] = step;
  words[n++] = fields.size();
  for (uint64_t f : fields) words[n++] = f;
  hash_ = base::xxh3(words.data(), n * sizeof(uint64_t));
  ++events_;
}

void Trace::add_line(uint64_t step, const std::string& text) {
  if (text.empty()) return;  // hashed but not worth a line (ticks)
  lines_.push_back(fmt::format("{:>7} {}", step, text));
}

}  // namespace raft::sim
