// kvstate::BTree<V>: an ordered map from byte-string keys to V, as a copy-on-write B+tree.
//
// Contract
// - Keys are arbitrary byte strings (empty, 0x00 and 0xff bytes and long keys included),
//   ordered as unsigned bytes (memcmp order, shorter prefix first): the order of Deno KV's
//   tuple-encoded keys. V must be copyable (shared nodes are cloned on write).
// - Copying a tree is O(1): the copy shares every node. A later write to either copy clones
//   only the nodes on its root-to-leaf path ("path copying"); the other copy never changes.
// - Thread-safety: one tree object is used by one thread at a time. Different tree objects
//   that share nodes (copies of each other) may be used from different threads at once: a
//   copy can be read (find/scan/for_each/size/check_invariants/memory_bytes) and destroyed on
//   a reader thread while the original is modified on the writer thread. Two threads must not
//   touch the same tree object without outside locking.
// - Pointers and string_views handed out (find's result, scan's key/value arguments) stay
//   valid until the next write to, or destruction of, that tree object; scan keys only
//   during the callback.
//
// Node layout
// - Leaf: up to kMaxEntries keys and their values. Internal node: up to kMaxEntries children
//   and one separator key fewer. Every non-root node holds at least kMinEntries entries or
//   children; the root holds >= 1 entry (leaf) or >= 2 children; all leaves share one depth.
// - Keys of a node live in one KeyArray: a contiguous byte arena holding the node's common
//   prefix once, then each key's remaining suffix in key order, plus a uint32 offset per key.
//   Tuple-encoded keys in one leaf share long prefixes (e.g. 02 "users" 00 21 ...), so a leaf
//   stores a few bytes per key, and binary search compares short suffixes in one cache-warm
//   block. The common prefix of a sorted set is the common prefix of its first and last key,
//   so splits recompute it cheaply; an insert outside the prefix rebuilds the arena.
// - Separators are the shortest byte strings that divide two leaves (suffix truncation):
//   child i holds keys k with separator[i-1] <= k < separator[i].
// - Values sit in a per-leaf std::vector<V> grown in small steps, so slack stays low.
// - There are no leaf-to-leaf links: with copy-on-write a sibling link would force cloning the
//   whole leaf chain on every write. Scans keep a root-to-leaf path stack instead (depth is
//   ~4 for a million keys, so stepping to the next leaf is cheap).
//
// Copy-on-write scheme and why it is thread-safe
// - Every node carries an atomic reference count: the number of parents (or tree roots)
//   pointing at it. A writer descends from its own root and, at each node, keeps it when the
//   count is 1 and otherwise clones it (the clone takes a reference on each child), swaps the
//   clone into the parent and drops one reference on the original.
// - Claim: a node the writer reaches with count 1 is reachable from no other tree. The root
//   reached with count 1 is held only by this tree. Inductively, the writer owns the parent,
//   so the parent's reference is the only one; any other tree reaching the node would need
//   another parent (or root) pointing at it, i.e. a count >= 2. Hence in-place mutation only
//   ever touches memory no other thread can read.
// - The count is read with acquire and dropped with acq_rel (like std::shared_ptr), so a
//   reader's last reads of a node happen-before a writer's reuse of that node after the reader
//   let go, and a node is freed by whichever thread drops the last reference.
#pragma once

// First: libstdc++ 12's <atomic> (atomic_wait.h) uses INT_MAX without including <climits>.
#include <climits>

#include <algorithm>
#include <array>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/check.h"

namespace kvstate {
namespace btree_detail {

inline constexpr size_t kMaxEntries = 64;               // keys per leaf, children per node
inline constexpr size_t kMinEntries = kMaxEntries / 4;  // for every non-root node
inline constexpr size_t kMaxDepth = 32;                 // 16^31 keys: never reached

// A key seen as two pieces: a node's shared prefix (head) and the key's own suffix (tail).
struct KeyRef {
  std::string_view head;
  std::string_view tail;

  size_t size() const { return head.size() + tail.size(); }
  char at(size_t i) const { return i < head.size() ? head[i] : tail[i - head.size()]; }
  std::string str() const {
    std::string s;
    s.reserve(size());
    s.append(head).append(tail);
    return s;
  }
  // Appends bytes [from, size()) of the key to out.
  void append_from(std::vector<char>& out, size_t from) const {
    if (from < head.size()) {
      out.insert(out.end(), head.begin() + static_cast<ptrdiff_t>(from), head.end());
      from = head.size();
    }
    const auto skip = static_cast<ptrdiff_t>(from - head.size());
    out.insert(out.end(), tail.begin() + skip, tail.end());
  }
};

inline size_t common_prefix_bytes(const KeyRef& a, const KeyRef& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a.at(i) == b.at(i)) ++i;
  return i;
}

// The shortest byte string s with left < s <= right (requires left < right). Used as the
// separator between two leaves: shorter separators make internal nodes small and fast.
inline std::string shortest_separator(const KeyRef& left, const KeyRef& right) {
  const std::string r = right.str();
  const size_t lcp = common_prefix_bytes(left, right);
  ENSURE(lcp < r.size());  // right is not a prefix of left, since left < right
  return r.substr(0, lcp + 1);
}

// Grows v so that `extra` more elements fit, in steps of ~25% (std::vector would double,
// which wastes up to half a node's memory).
template <typename T>
void reserve_for(std::vector<T>& v, size_t extra) {
  const size_t need = v.size() + extra;
  if (need <= v.capacity()) return;
  v.reserve(std::max(need, v.size() + v.size() / 4 + 4));
}

// The sorted keys of one node: prefix bytes, then suffixes; see the header comment.
// Invariants: offsets_[0] == prefix_bytes_; offsets_ non-decreasing; offsets_.back() ==
// arena_.size(); suffix i is arena_[offsets_[i], offsets_[i+1]); keys strictly ascending.
class KeyArray {
 public:
  KeyArray() : offsets_{0} {}

  size_t size() const { return offsets_.size() - 1; }
  std::string_view prefix() const { return {arena_.data(), prefix_bytes_}; }
  std::string_view suffix(size_t i) const {
    return {arena_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]};
  }
  KeyRef key(size_t i) const { return {prefix(), suffix(i)}; }

  // First index whose key is >= key (lower_bound) or > key (upper_bound); size() if none.
  size_t lower_bound(std::string_view key) const { return bound<false>(key); }
  size_t upper_bound(std::string_view key) const { return bound<true>(key); }

  bool equals(size_t i, std::string_view key) const {
    const std::string_view p = prefix();
    const std::string_view s = suffix(i);
    return key.size() == p.size() + s.size() && key.substr(0, p.size()) == p &&
           key.substr(p.size()) == s;
  }

  // Inserts key at index i (the caller found i by lower_bound, so order is kept).
  void insert(size_t i, std::string_view key) {
    const std::string_view p = prefix();
    if (key.size() < p.size() || key.substr(0, p.size()) != p) {
      rebuild_with(i, key);
      return;
    }
    const std::string_view s = key.substr(p.size());
    ENSURE(arena_.size() + s.size() <= std::numeric_limits<uint32_t>::max());
    const uint32_t at = offsets_[i];
    reserve_for(arena_, s.size());
    arena_.insert(arena_.begin() + at, s.begin(), s.end());
    reserve_for(offsets_, 1);
    offsets_.insert(offsets_.begin() + static_cast<ptrdiff_t>(i) + 1, at);
    const auto grown = static_cast<uint32_t>(s.size());
    for (size_t j = i + 1; j < offsets_.size(); ++j) offsets_[j] += grown;
  }

  void erase(size_t i) {
    const uint32_t begin = offsets_[i];
    const uint32_t shrunk = offsets_[i + 1] - begin;
    arena_.erase(arena_.begin() + begin, arena_.begin() + begin + shrunk);
    offsets_.erase(offsets_.begin() + static_cast<ptrdiff_t>(i) + 1);
    for (size_t j = i + 1; j < offsets_.size(); ++j) offsets_[j] -= shrunk;
  }

  // Replaces key i by key (which must keep the order).
  void replace(size_t i, std::string_view key) {
    erase(i);
    insert(i, key);
  }

  // Builds an array from n ascending keys (which may point into other arrays).
  static KeyArray build(const KeyRef* keys, size_t n) {
    KeyArray out;
    if (n == 0) return out;
    const size_t prefix_bytes = common_prefix_bytes(keys[0], keys[n - 1]);
    size_t total = prefix_bytes;
    for (size_t k = 0; k < n; ++k) total += keys[k].size() - prefix_bytes;
    ENSURE(total <= std::numeric_limits<uint32_t>::max());
    out.arena_.reserve(total);
    out.offsets_.reserve(n + 1);
    const std::string full_first = keys[0].str();
    out.arena_.insert(out.arena_.end(), full_first.begin(),
                      full_first.begin() + static_cast<ptrdiff_t>(prefix_bytes));
    out.prefix_bytes_ = static_cast<uint32_t>(prefix_bytes);
    out.offsets_[0] = out.prefix_bytes_;
    for (size_t k = 0; k < n; ++k) {
      keys[k].append_from(out.arena_, prefix_bytes);
      out.offsets_.push_back(static_cast<uint32_t>(out.arena_.size()));
    }
    return out;
  }

  size_t heap_bytes() const { return arena_.capacity() + offsets_.capacity() * sizeof(uint32_t); }

  // ENSUREs the class invariants (layout and strict ascending order).
  void check() const {
    ENSURE(!offsets_.empty());
    ENSURE(offsets_[0] == prefix_bytes_);
    ENSURE(offsets_.back() == arena_.size());
    for (size_t i = 0; i + 1 < offsets_.size(); ++i) ENSURE(offsets_[i] <= offsets_[i + 1]);
    for (size_t i = 1; i < size(); ++i)
      ENSURE_MSG(suffix(i - 1) < suffix(i), "key {} not ascending", i);
  }

 private:
  template <bool kUpper>
  size_t bound(std::string_view key) const {
    const std::string_view p = prefix();
    if (key.size() < p.size() || key.substr(0, p.size()) != p) {
      // Every key here starts with p, so all of them compare to `key` as p does.
      return key < p ? 0 : size();
    }
    const std::string_view rest = key.substr(p.size());
    prefetch();
    size_t lo = 0;
    size_t hi = size();
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      const int c = suffix(mid).compare(rest);
      if (kUpper ? c <= 0 : c < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  // Asks for the offsets and (up to 1 KiB of) the arena at once: the binary search then waits
  // for one memory round trip instead of one per probe. A large part of lookup time in a big
  // tree is these cache misses.
  void prefetch() const {
    constexpr size_t kLineBytes = 64;
    constexpr size_t kArenaPrefetchMaxBytes = 1024;
    const char* offsets = reinterpret_cast<const char*>(offsets_.data());
    for (size_t at = 0; at < offsets_.size() * sizeof(uint32_t); at += kLineBytes) {
      __builtin_prefetch(offsets + at);
    }
    const size_t arena_bytes = std::min(arena_.size(), kArenaPrefetchMaxBytes);
    for (size_t at = prefix_bytes_; at < arena_bytes; at += kLineBytes) {
      __builtin_prefetch(arena_.data() + at);
    }
  }

  // Slow path of insert: the new key does not share the prefix, so the prefix shrinks.
  void rebuild_with(size_t i, std::string_view key) {
    std::vector<KeyRef> refs;
    refs.reserve(size() + 1);
    for (size_t k = 0; k < i; ++k) refs.push_back(this->key(k));
    refs.push_back({{}, key});
    for (size_t k = i; k < size(); ++k) refs.push_back(this->key(k));
    KeyArray rebuilt = build(refs.data(), refs.size());
    *this = std::move(rebuilt);
  }

  std::vector<char> arena_;
  std::vector<uint32_t> offsets_;
  uint32_t prefix_bytes_ = 0;
};

// Heap bytes owned by a value beyond sizeof(V): std::string's buffer, or V::heap_bytes().
template <typename V>
size_t value_heap_bytes(const V& v) {
  if constexpr (std::is_same_v<V, std::string>) {
    return v.capacity() > std::string().capacity() ? v.capacity() + 1 : 0;
  } else if constexpr (requires {
                         { v.heap_bytes() } -> std::convertible_to<size_t>;
                       }) {
    return v.heap_bytes();
  } else {
    return 0;
  }
}

// Calls fn(key, value); a callback returning void means "continue".
template <typename F, typename V>
bool visit(F& fn, std::string_view key, const V& value) {
  if constexpr (std::is_void_v<std::invoke_result_t<F&, std::string_view, const V&>>) {
    fn(key, value);
    return true;
  } else {
    return static_cast<bool>(fn(key, value));
  }
}

}  // namespace btree_detail

template <typename V>
class BTree {
 public:
  BTree() = default;
  BTree(const BTree& other) : root_(other.root_), size_(other.size_) {
    if (root_) retain(root_);
  }
  BTree& operator=(const BTree& other) {
    if (other.root_) retain(other.root_);  // first, so self-assignment is safe
    if (root_) release(root_);
    root_ = other.root_;
    size_ = other.size_;
    return *this;
  }
  BTree(BTree&& other) noexcept
      : root_(std::exchange(other.root_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  BTree& operator=(BTree&& other) noexcept {
    if (this != &other) {
      if (root_) release(root_);
      root_ = std::exchange(other.root_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ~BTree() {
    if (root_) release(root_);
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // The value stored under key, or nullptr when absent.
  const V* find(std::string_view key) const {
    if (!root_) return nullptr;
    const Node* n = root_;
    while (!n->is_leaf) {
      const auto* in = static_cast<const Internal*>(n);
      n = in->children[in->keys.upper_bound(key)];
    }
    const auto* leaf = static_cast<const Leaf*>(n);
    const size_t i = leaf->keys.lower_bound(key);
    if (i < leaf->keys.size() && leaf->keys.equals(i, key)) return &leaf->values[i];
    return nullptr;
  }

  // Stores value under key; true when the key was new.
  bool upsert(std::string_view key, V value) { return exchange(key, value); }

  // Stores value under key in one descent; true when the key was new. When the key was
  // present, `value` receives the value it replaced (callers that must see the old value, e.g.
  // to keep an index in step, save a find()); when it was new, `value` is moved from.
  bool exchange(std::string_view key, V& value) {
    if (!root_) root_ = new Leaf;
    Node* root = own(root_);
    Split split;
    const bool inserted = insert_into(root, key, value, split);
    if (split.right) {
      auto* top = new Internal;
      const btree_detail::KeyRef separator{{}, split.separator};
      top->keys = btree_detail::KeyArray::build(&separator, 1);
      top->children = {root, split.right};
      root_ = top;
    }
    if (inserted) ++size_;
    return inserted;
  }

  // Removes key; true when it was present. An absent key clones nothing.
  bool erase(std::string_view key) {
    if (find(key) == nullptr) return false;
    erase_from(own(root_), key);
    --size_;
    while (!root_->is_leaf && static_cast<Internal*>(root_)->children.size() == 1) {
      Node* old_root = root_;
      root_ = static_cast<Internal*>(old_root)->children[0];
      retain(root_);
      release(old_root);
    }
    if (root_->is_leaf && static_cast<Leaf*>(root_)->keys.size() == 0) {
      release(root_);
      root_ = nullptr;
    }
    return true;
  }

  // Visits keys with start <= key < end (no upper bound when end is nullopt), ascending, or
  // descending when reverse. fn(std::string_view key, const V& value) returns false to stop.
  template <typename F>
  void scan(std::string_view start, std::optional<std::string_view> end, bool reverse,
            F&& fn) const {
    if (!root_ || (end && *end <= start)) return;
    if (reverse) {
      scan_backward(start, end, fn);
    } else {
      scan_forward(start, end, fn);
    }
  }

  // All entries ascending; same callback shape as scan.
  template <typename F>
  void for_each(F&& fn) const {
    scan({}, std::nullopt, false, fn);
  }

  void clear() {
    if (root_) release(root_);
    root_ = nullptr;
    size_ = 0;
  }

  // ENSUREs ordering, separator bounds, fill factors, uniform leaf depth, node layouts and that
  // size() matches the entries. Costs O(n); for tests.
  void check_invariants() const {
    if (!root_) {
      ENSURE(size_ == 0);
      return;
    }
    CheckState state;
    check_node(root_, std::nullopt, std::nullopt, 0, true, state);
    ENSURE_MSG(state.entries == size_, "size {} but {} entries", size_, state.entries);
  }

  // Approximate heap bytes held: nodes, their arrays (by capacity), and value heap bytes
  // (std::string buffers, or V::heap_bytes()). Nodes shared with copies are counted in full;
  // malloc's own per-block overhead is not counted.
  size_t memory_bytes() const { return root_ ? node_bytes(root_) : 0; }

  // Height of the tree (0 when empty, 1 for a single leaf). For tests and benchmarks.
  size_t depth() const {
    size_t d = 0;
    for (const Node* n = root_; n;
         n = n->is_leaf ? nullptr : static_cast<const Internal*>(n)->children[0])
      ++d;
    return d;
  }

 private:
  using KeyArray = btree_detail::KeyArray;
  using KeyRef = btree_detail::KeyRef;
  static constexpr size_t kMaxEntries = btree_detail::kMaxEntries;
  static constexpr size_t kMinEntries = btree_detail::kMinEntries;

  struct Node {
    explicit Node(bool leaf) : is_leaf(leaf) {}
    std::atomic<uint32_t> refs{1};  // parents and tree roots pointing here
    const bool is_leaf;
  };
  struct Leaf : Node {
    Leaf() : Node(true) {}
    KeyArray keys;
    std::vector<V> values;  // values[i] belongs to keys.key(i)
  };
  struct Internal : Node {
    Internal() : Node(false) {}
    KeyArray keys;                // separators: children.size() - 1 of them
    std::vector<Node*> children;  // each holds one reference
  };
  struct Split {
    Node* right = nullptr;  // new right sibling, when the node split
    std::string separator;  // first key bound of `right`
  };

  static void retain(Node* n) { n->refs.fetch_add(1, std::memory_order_relaxed); }

  static void release(Node* n) {
    if (n->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    if (n->is_leaf) {
      delete static_cast<Leaf*>(n);
      return;
    }
    auto* in = static_cast<Internal*>(n);
    for (Node* child : in->children) release(child);
    delete in;
  }

  // Makes *slot exclusively owned by the caller (who owns the slot), cloning a shared node.
  static Node* own(Node*& slot) {
    Node* n = slot;
    if (n->refs.load(std::memory_order_acquire) == 1) return n;
    Node* copy;
    if (n->is_leaf) {
      auto* leaf = new Leaf;
      leaf->keys = static_cast<Leaf*>(n)->keys;
      leaf->values = static_cast<Leaf*>(n)->values;
      copy = leaf;
    } else {
      auto* in = new Internal;
      in->keys = static_cast<Internal*>(n)->keys;
      in->children = static_cast<Internal*>(n)->children;
      for (Node* child : in->children) retain(child);
      copy = in;
    }
    slot = copy;
    release(n);
    return copy;
  }

  static size_t entries(const Node* n) {
    return n->is_leaf ? static_cast<const Leaf*>(n)->keys.size()
                      : static_cast<const Internal*>(n)->children.size();
  }

  // --- insertion ---

  static bool insert_into(Node* n, std::string_view key, V& value, Split& split) {
    if (n->is_leaf) return insert_into_leaf(static_cast<Leaf*>(n), key, value, split);
    auto* in = static_cast<Internal*>(n);
    const size_t ci = in->keys.upper_bound(key);
    Split below;
    const bool inserted = insert_into(own(in->children[ci]), key, value, below);
    if (below.right) {
      in->keys.insert(ci, below.separator);
      btree_detail::reserve_for(in->children, 1);
      in->children.insert(in->children.begin() + static_cast<ptrdiff_t>(ci) + 1, below.right);
      if (in->children.size() > kMaxEntries) {
        auto* right = new Internal;
        split.separator = redistribute_internals(*in, *right, {}, in->children.size() / 2);
        split.right = right;
      }
    }
    return inserted;
  }

  static bool insert_into_leaf(Leaf* leaf, std::string_view key, V& value, Split& split) {
    const size_t i = leaf->keys.lower_bound(key);
    if (i < leaf->keys.size() && leaf->keys.equals(i, key)) {
      std::swap(leaf->values[i], value);
      return false;
    }
    leaf->keys.insert(i, key);
    btree_detail::reserve_for(leaf->values, 1);
    leaf->values.insert(leaf->values.begin() + static_cast<ptrdiff_t>(i), std::move(value));
    if (leaf->keys.size() > kMaxEntries) {
      auto* right = new Leaf;
      redistribute_leaves(*leaf, *right, leaf->keys.size() / 2);
      split.separator = btree_detail::shortest_separator(leaf->keys.key(leaf->keys.size() - 1),
                                                         right->keys.key(0));
      split.right = right;
    }
    return true;
  }

  // --- rebalancing (shared by split, merge and borrow) ---

  // Re-deals the entries of adjacent leaves l and r (both owned; either may be empty) so that
  // l holds the first left_count of them, in order.
  static void redistribute_leaves(Leaf& l, Leaf& r, size_t left_count) {
    const size_t total = l.keys.size() + r.keys.size();
    ENSURE(left_count <= total);
    std::vector<KeyRef> refs;
    refs.reserve(total);
    for (size_t i = 0; i < l.keys.size(); ++i) refs.push_back(l.keys.key(i));
    for (size_t i = 0; i < r.keys.size(); ++i) refs.push_back(r.keys.key(i));
    KeyArray left_keys = KeyArray::build(refs.data(), left_count);
    KeyArray right_keys = KeyArray::build(refs.data() + left_count, total - left_count);
    std::vector<V> left_values;
    std::vector<V> right_values;
    left_values.reserve(left_count);
    right_values.reserve(total - left_count);
    for (auto* source : {&l.values, &r.values}) {
      for (V& v : *source) {
        auto& target = left_values.size() < left_count ? left_values : right_values;
        target.push_back(std::move(v));
      }
    }
    l.keys = std::move(left_keys);
    r.keys = std::move(right_keys);
    l.values = std::move(left_values);
    r.values = std::move(right_values);
  }

  // Re-deals the children of adjacent internal nodes l and r (both owned; r may be empty, and
  // then `middle`, their separator in the parent, is unused) so that l holds the first
  // left_children. Returns the separator now dividing l and r ("" when r ends up empty).
  static std::string redistribute_internals(Internal& l, Internal& r, KeyRef middle,
                                            size_t left_children) {
    const size_t total = l.children.size() + r.children.size();
    ENSURE(left_children >= 1 && left_children <= total);
    std::vector<KeyRef> refs;  // total - 1 separators, in order
    refs.reserve(total);
    for (size_t i = 0; i < l.keys.size(); ++i) refs.push_back(l.keys.key(i));
    if (!r.children.empty()) {
      refs.push_back(middle);
      for (size_t i = 0; i < r.keys.size(); ++i) refs.push_back(r.keys.key(i));
    }
    const size_t right_children = total - left_children;
    KeyArray left_keys = KeyArray::build(refs.data(), left_children - 1);
    std::string separator;
    KeyArray right_keys;
    if (right_children > 0) {
      separator = refs[left_children - 1].str();
      right_keys = KeyArray::build(refs.data() + left_children, right_children - 1);
    }
    std::vector<Node*> all = std::move(l.children);
    all.insert(all.end(), r.children.begin(), r.children.end());
    l.children.assign(all.begin(), all.begin() + static_cast<ptrdiff_t>(left_children));
    r.children.assign(all.begin() + static_cast<ptrdiff_t>(left_children), all.end());
    l.keys = std::move(left_keys);
    r.keys = std::move(right_keys);
    return separator;
  }

  // --- erase ---

  static void erase_from(Node* n, std::string_view key) {
    if (n->is_leaf) {
      auto* leaf = static_cast<Leaf*>(n);
      const size_t i = leaf->keys.lower_bound(key);
      ENSURE(i < leaf->keys.size() && leaf->keys.equals(i, key));  // erase() found it
      leaf->keys.erase(i);
      leaf->values.erase(leaf->values.begin() + static_cast<ptrdiff_t>(i));
      return;
    }
    auto* in = static_cast<Internal*>(n);
    const size_t ci = in->keys.upper_bound(key);
    Node* child = own(in->children[ci]);
    erase_from(child, key);
    if (entries(child) < kMinEntries) rebalance(in, ci);
  }

  // Child ci of `in` underflowed: merge it with a sibling, or borrow so both are half full.
  static void rebalance(Internal* in, size_t ci) {
    const size_t li = ci > 0 ? ci - 1 : ci;  // the pair is children li and li + 1
    Node* l = own(in->children[li]);
    Node* r = own(in->children[li + 1]);
    const size_t total = entries(l) + entries(r);
    const bool merge = total <= kMaxEntries;
    const size_t left_count = merge ? total : total / 2;
    std::string separator;
    if (l->is_leaf) {
      auto& left = *static_cast<Leaf*>(l);
      auto& right = *static_cast<Leaf*>(r);
      redistribute_leaves(left, right, left_count);
      if (!merge) {
        separator = btree_detail::shortest_separator(left.keys.key(left.keys.size() - 1),
                                                     right.keys.key(0));
      }
    } else {
      separator = redistribute_internals(*static_cast<Internal*>(l), *static_cast<Internal*>(r),
                                         in->keys.key(li), left_count);
    }
    if (merge) {
      in->keys.erase(li);
      in->children.erase(in->children.begin() + static_cast<ptrdiff_t>(li) + 1);
      release(r);  // empty now, and exclusively owned: freed without touching any child
    } else {
      in->keys.replace(li, separator);
    }
  }

  // --- scans ---

  struct PathStep {
    const Internal* node;
    size_t index;  // which child the path follows
  };
  struct Path {
    std::array<PathStep, btree_detail::kMaxDepth> steps;
    size_t depth = 0;
    void push(const Internal* n, size_t i) {
      ENSURE(depth < steps.size());
      steps[depth++] = {n, i};
    }
  };

  // Descends to the leaf whose key range contains key.
  const Leaf* descend(std::string_view key, Path& path) const {
    const Node* n = root_;
    while (!n->is_leaf) {
      const auto* in = static_cast<const Internal*>(n);
      const size_t ci = in->keys.upper_bound(key);
      path.push(in, ci);
      n = in->children[ci];
    }
    return static_cast<const Leaf*>(n);
  }

  // Descends from n along first (or last) children.
  static const Leaf* descend_edge(const Node* n, bool last, Path& path) {
    while (!n->is_leaf) {
      const auto* in = static_cast<const Internal*>(n);
      const size_t ci = last ? in->children.size() - 1 : 0;
      path.push(in, ci);
      n = in->children[ci];
    }
    return static_cast<const Leaf*>(n);
  }

  // The leaf after (forward) or before the current one on the path; nullptr at the edge.
  static const Leaf* step_leaf(Path& path, bool forward) {
    while (path.depth > 0) {
      PathStep& step = path.steps[path.depth - 1];
      const bool at_edge = forward ? step.index + 1 == step.node->children.size() : step.index == 0;
      if (!at_edge) {
        step.index = forward ? step.index + 1 : step.index - 1;
        return descend_edge(step.node->children[step.index], !forward, path);
      }
      --path.depth;
    }
    return nullptr;
  }

  template <typename F>
  void scan_forward(std::string_view start, std::optional<std::string_view> end, F& fn) const {
    Path path;
    const Leaf* leaf = descend(start, path);
    size_t i = leaf->keys.lower_bound(start);
    std::string key;
    while (leaf) {
      const size_t n = leaf->keys.size();
      const size_t stop = end ? leaf->keys.lower_bound(*end) : n;
      const std::string_view prefix = leaf->keys.prefix();
      key.assign(prefix);
      for (; i < stop; ++i) {
        key.resize(prefix.size());
        key.append(leaf->keys.suffix(i));
        if (!btree_detail::visit(fn, std::string_view(key), leaf->values[i])) return;
      }
      if (stop < n) return;
      leaf = step_leaf(path, true);
      i = 0;
    }
  }

  template <typename F>
  void scan_backward(std::string_view start, std::optional<std::string_view> end, F& fn) const {
    Path path;
    const Leaf* leaf = end ? descend(*end, path) : descend_edge(root_, true, path);
    size_t i = end ? leaf->keys.lower_bound(*end) : leaf->keys.size();  // one past the next
    std::string key;
    while (leaf) {
      const size_t low = start.empty() ? 0 : leaf->keys.lower_bound(start);
      const std::string_view prefix = leaf->keys.prefix();
      key.assign(prefix);
      for (; i > low; --i) {
        key.resize(prefix.size());
        key.append(leaf->keys.suffix(i - 1));
        if (!btree_detail::visit(fn, std::string_view(key), leaf->values[i - 1])) return;
      }
      if (low > 0) return;
      leaf = step_leaf(path, false);
      if (leaf) i = leaf->keys.size();
    }
  }

  // --- checks and accounting ---

  struct CheckState {
    size_t entries = 0;
    std::optional<size_t> leaf_depth;
  };

  // lower <= every key in n < upper (absent bound: unbounded).
  void check_node(const Node* n, const std::optional<std::string>& lower,
                  const std::optional<std::string>& upper, size_t depth, bool is_root,
                  CheckState& state) const {
    ENSURE(n->refs.load(std::memory_order_acquire) >= 1);
    ENSURE(depth < btree_detail::kMaxDepth);
    const size_t count = entries(n);
    ENSURE_MSG(count <= kMaxEntries, "node overfull: {}", count);
    const size_t minimum = is_root ? (n->is_leaf ? 1 : 2) : kMinEntries;
    ENSURE_MSG(count >= minimum, "node underfull: {} < {}", count, minimum);
    if (n->is_leaf) {
      const auto* leaf = static_cast<const Leaf*>(n);
      leaf->keys.check();
      ENSURE(leaf->values.size() == count);
      if (lower) ENSURE(leaf->keys.key(0).str() >= *lower);
      if (upper) ENSURE(leaf->keys.key(count - 1).str() < *upper);
      if (!state.leaf_depth) state.leaf_depth = depth;
      ENSURE_MSG(*state.leaf_depth == depth, "leaves at depths {} and {}", *state.leaf_depth,
                 depth);
      state.entries += count;
      return;
    }
    const auto* in = static_cast<const Internal*>(n);
    in->keys.check();
    ENSURE(in->keys.size() + 1 == count);
    for (size_t i = 0; i < count; ++i) {
      std::optional<std::string> child_lower = i == 0 ? lower : in->keys.key(i - 1).str();
      std::optional<std::string> child_upper = i + 1 == count ? upper : in->keys.key(i).str();
      check_node(in->children[i], child_lower, child_upper, depth + 1, false, state);
    }
  }

  static size_t node_bytes(const Node* n) {
    if (n->is_leaf) {
      const auto* leaf = static_cast<const Leaf*>(n);
      size_t bytes = sizeof(Leaf) + leaf->keys.heap_bytes() + leaf->values.capacity() * sizeof(V);
      for (const V& v : leaf->values) bytes += btree_detail::value_heap_bytes(v);
      return bytes;
    }
    const auto* in = static_cast<const Internal*>(n);
    size_t bytes =
        sizeof(Internal) + in->keys.heap_bytes() + in->children.capacity() * sizeof(Node*);
    for (const Node* child : in->children) bytes += node_bytes(child);
    return bytes;
  }

  Node* root_ = nullptr;  // nullptr when empty; holds one reference
  size_t size_ = 0;
};

}  // namespace kvstate
