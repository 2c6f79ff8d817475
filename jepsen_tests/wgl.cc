#include "jepsen_tests/wgl.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "base/check.h"
#include "base/rng.h"

namespace jepsen {
namespace {

constexpr int32_t kNil = -1;

// Call/return events in a doubly linked list ordered by time; lifting an op unlinks its call and
// return in O(1), unlifting relinks them (always in LIFO order, so neighbours are unchanged).
struct EventList {
  struct Node {
    int32_t op;
    bool is_call;
    int32_t prev, next;
    int32_t match;  // the return node of a call (kNil for indeterminate ops)
  };
  std::vector<Node> nodes;  // nodes[0] is the head sentinel

  int32_t first() const { return nodes[0].next; }
  void unlink(int32_t n) {
    Node& x = nodes[static_cast<size_t>(n)];
    nodes[static_cast<size_t>(x.prev)].next = x.next;
    if (x.next != kNil) nodes[static_cast<size_t>(x.next)].prev = x.prev;
  }
  void relink(int32_t n) {
    Node& x = nodes[static_cast<size_t>(n)];
    nodes[static_cast<size_t>(x.prev)].next = n;
    if (x.next != kNil) nodes[static_cast<size_t>(x.next)].prev = n;
  }
  void lift(int32_t call) {
    unlink(call);
    const int32_t ret = nodes[static_cast<size_t>(call)].match;
    if (ret != kNil) unlink(ret);
  }
  void unlift(int32_t call) {
    const int32_t ret = nodes[static_cast<size_t>(call)].match;
    if (ret != kNil) relink(ret);
    relink(call);
  }
};

// Ops are numbered in call order, so the linearized set is mostly a dense prefix; the bitset
// tracks its full-word prefix and its highest non-zero word so a memo key stays a few words.
class LinearizedSet {
 public:
  explicit LinearizedSet(size_t n) : words_((n + 63) / 64, 0) {}
  void set(size_t i) {
    const size_t w = i / 64;
    words_[w] |= uint64_t{1} << (i % 64);
    while (full_ < words_.size() && words_[full_] == ~uint64_t{0}) ++full_;
    high_ = std::max(high_, w + 1);
  }
  void clear(size_t i) {
    const size_t w = i / 64;
    words_[w] &= ~(uint64_t{1} << (i % 64));
    full_ = std::min(full_, w);
    while (high_ > 0 && words_[high_ - 1] == 0) --high_;
  }
  bool test(size_t i) const { return (words_[i / 64] >> (i % 64)) & 1; }
  size_t full_words() const { return full_; }
  size_t high_words() const { return std::max(high_, full_); }
  const uint64_t* data() const { return words_.data(); }

 private:
  std::vector<uint64_t> words_;
  size_t full_ = 0;  // words_[0, full_) are all ones
  size_t high_ = 0;  // words_[high_, end) are all zero
};

// Memo of visited configurations: arena records [state, full_words, tail_len, tail...].
class ConfigurationCache {
 public:
  // Returns true when (set, state) was not seen before (and records it).
  bool insert(const LinearizedSet& set, uint64_t set_hash, int32_t state) {
    const uint64_t h =
        set_hash ^ (static_cast<uint64_t>(static_cast<uint32_t>(state)) * 0x9e3779b97f4a7c15ULL);
    const size_t full = set.full_words();
    const size_t tail = set.high_words() - full;
    auto [lo, hi] = index_.equal_range(h);
    for (auto it = lo; it != hi; ++it) {
      const uint64_t* rec = arena_.data() + it->second;
      if (static_cast<int32_t>(rec[0]) != state || rec[1] != full || rec[2] != tail) continue;
      if (std::equal(rec + 3, rec + 3 + tail, set.data() + full)) return false;
    }
    index_.emplace(h, arena_.size());
    arena_.push_back(static_cast<uint32_t>(state));
    arena_.push_back(full);
    arena_.push_back(tail);
    arena_.insert(arena_.end(), set.data() + full, set.data() + full + tail);
    ++size_;
    return true;
  }
  int64_t size() const { return size_; }

 private:
  std::unordered_multimap<uint64_t, size_t> index_;
  std::vector<uint64_t> arena_;
  int64_t size_ = 0;
};

std::optional<int32_t> step(const RegisterOp& op, int32_t state) {
  switch (op.kind) {
    case RegisterOpKind::kRead:
      if (state == op.value) return state;
      return std::nullopt;
    case RegisterOpKind::kWrite:
      return op.value;
    case RegisterOpKind::kCas:
      if (state == op.expected) return op.value;
      if (op.indeterminate) return state;  // its check failed: a no-op, as if never applied
      return std::nullopt;
  }
  return std::nullopt;
}

EventList build_events(const std::vector<RegisterOp>& ops, const std::vector<int32_t>& order) {
  struct Ev {
    int64_t t;
    bool is_call;
    int32_t op;
  };
  std::vector<Ev> evs;
  evs.reserve(ops.size() * 2);
  for (size_t k = 0; k < order.size(); ++k) {
    const RegisterOp& op = ops[static_cast<size_t>(order[k])];
    evs.push_back({op.call_ns, true, static_cast<int32_t>(k)});
    if (!op.indeterminate) evs.push_back({op.return_ns, false, static_cast<int32_t>(k)});
  }
  // At equal times calls come first: such ops are treated as concurrent (the permissive choice).
  std::stable_sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) {
    if (a.t != b.t) return a.t < b.t;
    return a.is_call && !b.is_call;
  });
  EventList list;
  list.nodes.resize(evs.size() + 1);
  list.nodes[0] = {kNil, false, kNil, evs.empty() ? kNil : 1, kNil};
  std::vector<int32_t> call_node(order.size(), kNil);
  for (size_t i = 0; i < evs.size(); ++i) {
    const auto n = static_cast<int32_t>(i + 1);
    list.nodes[i + 1] = {evs[i].op, evs[i].is_call, n - 1, i + 1 < evs.size() ? n + 1 : kNil, kNil};
    if (evs[i].is_call) {
      call_node[static_cast<size_t>(evs[i].op)] = n;
    } else {
      list.nodes[static_cast<size_t>(call_node[static_cast<size_t>(evs[i].op)])].match = n;
    }
  }
  return list;
}

}  // namespace

WglResult check_linearizable(const std::vector<RegisterOp>& ops, int32_t initial,
                             const WglBudget& budget) {
  WglResult result;
  // Number ops by call time so the linearized set grows as a dense prefix.
  std::vector<int32_t> order(ops.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return ops[static_cast<size_t>(a)].call_ns < ops[static_cast<size_t>(b)].call_ns;
  });
  EventList list = build_events(ops, order);
  std::vector<uint64_t> zobrist(order.size());
  base::Rng rng(0x5eed);
  for (auto& z : zobrist) z = rng.next();

  LinearizedSet linearized(order.size());
  ConfigurationCache cache;
  struct Frame {
    int32_t call_node;
    int32_t state_before;
  };
  std::vector<Frame> stack;
  int64_t remaining = 0;
  for (const auto& op : ops) remaining += op.indeterminate ? 0 : 1;
  int32_t state = initial;
  uint64_t set_hash = 0;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(budget.time_ms);
  const auto op_at = [&](int32_t node) -> const RegisterOp& {
    return ops[static_cast<size_t>(
        order[static_cast<size_t>(list.nodes[static_cast<size_t>(node)].op)])];
  };

  int32_t entry = list.first();
  while (remaining > 0) {
    ENSURE_MSG(entry != kNil, "a determinate op is unlinearized but its return is gone");
    if ((++result.steps & 4095) == 0) {
      if (std::chrono::steady_clock::now() > deadline || cache.size() > budget.max_configurations) {
        result.verdict = WglVerdict::kGaveUp;
        result.configurations = cache.size();
        return result;
      }
    }
    const auto& node = list.nodes[static_cast<size_t>(entry)];
    const auto k = static_cast<size_t>(node.op);
    if (node.is_call) {
      const RegisterOp& op = op_at(entry);
      if (auto next = step(op, state)) {
        linearized.set(k);
        if (cache.insert(linearized, set_hash ^ zobrist[k], *next)) {
          stack.push_back({entry, state});
          state = *next;
          set_hash ^= zobrist[k];
          if (!op.indeterminate) --remaining;
          list.lift(entry);
          entry = list.first();
          continue;
        }
        linearized.clear(k);
      }
      entry = node.next;
      continue;
    }
    // A return: its op must already be linearized, so this path is a dead end. Remember the
    // deepest dead end for the counterexample, then backtrack.
    const auto depth = static_cast<int64_t>(stack.size());
    if (depth > result.linearized_max || result.stuck_op < 0) {
      result.linearized_max = depth;
      result.stuck_op = order[k];
      result.states_at_stuck.clear();
      result.last_linearized.clear();
      for (size_t i = stack.size() > 8 ? stack.size() - 8 : 0; i < stack.size(); ++i) {
        result.last_linearized.push_back(
            order[static_cast<size_t>(list.nodes[static_cast<size_t>(stack[i].call_node)].op)]);
      }
      result.pending_at_stuck.clear();
      for (int32_t n = list.first(); n != entry && n != kNil;
           n = list.nodes[static_cast<size_t>(n)].next) {
        const auto& pn = list.nodes[static_cast<size_t>(n)];
        if (pn.is_call) result.pending_at_stuck.push_back(order[static_cast<size_t>(pn.op)]);
      }
    }
    if (depth == result.linearized_max &&
        std::find(result.states_at_stuck.begin(), result.states_at_stuck.end(), state) ==
            result.states_at_stuck.end() &&
        result.states_at_stuck.size() < 8) {
      result.states_at_stuck.push_back(state);
    }
    if (stack.empty()) {
      result.verdict = WglVerdict::kNotLinearizable;
      result.configurations = cache.size();
      return result;
    }
    const Frame frame = stack.back();
    stack.pop_back();
    const auto popped = static_cast<size_t>(list.nodes[static_cast<size_t>(frame.call_node)].op);
    linearized.clear(popped);
    set_hash ^= zobrist[popped];
    state = frame.state_before;
    if (!op_at(frame.call_node).indeterminate) ++remaining;
    list.unlift(frame.call_node);
    entry = list.nodes[static_cast<size_t>(frame.call_node)].next;
  }
  result.verdict = WglVerdict::kLinearizable;
  result.configurations = cache.size();
  return result;
}

}  // namespace jepsen
