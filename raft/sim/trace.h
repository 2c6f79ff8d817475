// The event trace of one simulated run. Every event is folded into a running xxh3 hash (the
// determinism self-check compares these hashes between two runs of the same seed); the
// readable text is kept only when asked for (--trace), because formatting costs more than the
// simulation itself.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace raft::sim {

class Trace {
 public:
  explicit Trace(bool keep_text) : keep_text_(keep_text) {}

  bool keeps_text() const { return keep_text_; }

  // Folds (step, fields...) into the hash. `describe` is called only when text is kept; an
  // empty description is hashed but adds no line.
  template <typename Describe>
  void event(uint64_t step, std::initializer_list<uint64_t> fields, Describe&& describe) {
    fold(step, fields);
    if (keep_text_) add_line(step, describe());
  }

  uint64_t hash() const { return hash_; }
  uint64_t events() const { return events_; }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  void fold(uint64_t step, std::initializer_list<uint64_t> fields);
  void add_line(uint64_t step, const std::string& text);

  bool keep_text_;
  uint64_t hash_ = 0x5eed;
  uint64_t events_ = 0;
  std::vector<std::string> lines_;
};

}  // namespace raft::sim
