// Tests for kvstate::BTree: differential against std::map, snapshot isolation, a reader thread
// on a snapshot while the writer mutates, and awkward keys (empty, 0x00/0xff, 2 KiB).
#include "kvstate/btree.h"

#include <doctest/doctest.h>

#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/rng.h"

namespace {

using Tree = kvstate::BTree<std::string>;
using Model = std::map<std::string, std::string>;

// Deno KV tuple encoding of ["users", n] (n as an f64 number part, spec §1.2).
std::string users_key(uint64_t n) {
  std::string key("\x02users\x00\x21", 8);
  uint64_t bits;
  const double d = static_cast<double>(n);
  std::memcpy(&bits, &d, sizeof bits);
  bits ^= 0x8000000000000000ull;  // non-negative: flip only the sign bit
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(bits >> shift));
  return key;
}

// A key from a small, collision-prone space mixing tuple-encoded keys, raw bytes drawn from
// {00 01 7f 80 ff} (so prefixes, 0x00 and 0xff abound), the empty key and 2 KiB keys.
std::string random_key(base::Rng& rng) {
  const uint64_t family = rng.uniform(100);
  if (family < 1) return "";
  if (family < 35) return users_key(rng.uniform(400));
  if (family < 60) {
    std::string key("\x02k\x00\x02", 4);
    const size_t n = rng.uniform(5);
    for (size_t i = 0; i < n; ++i) key.push_back(static_cast<char>('a' + rng.uniform(3)));
    key.push_back('\0');
    return key;
  }
  static const char kAlphabet[] = {'\x00', '\x01', '\x7f', '\x80', '\xff'};
  if (family < 97) {
    std::string key;
    const size_t n = rng.uniform(7);
    for (size_t i = 0; i < n; ++i) key.push_back(kAlphabet[rng.uniform(5)]);
    return key;
  }
  std::string key(2048, static_cast<char>(kAlphabet[rng.uniform(5)]));
  key[rng.uniform(2048)] = kAlphabet[rng.uniform(5)];
  return key;
}

std::string random_value(base::Rng& rng) {
  if (rng.chance(1, 200)) return std::string(10000 + rng.uniform(10000), 'v');
  return std::to_string(rng.next());
}

// Asserts that tree holds exactly model's entries, in order.
void expect_same(const Tree& tree, const Model& model) {
  tree.check_invariants();
  REQUIRE(tree.size() == model.size());
  auto it = model.begin();
  bool in_order = true;
  tree.for_each([&](std::string_view key, const std::string& value) {
    if (it == model.end() || key != it->first || value != it->second) in_order = false;
    if (it != model.end()) ++it;
    return in_order;
  });
  REQUIRE(in_order);
  REQUIRE(it == model.end());
}

// The model's answer to scan(start, end, reverse) stopping after `limit` entries.
std::vector<std::pair<std::string, std::string>> model_scan(const Model& model,
                                                            const std::string& start,
                                                            const std::optional<std::string>& end,
                                                            bool reverse, size_t limit) {
  std::vector<std::pair<std::string, std::string>> out;
  if (end && *end <= start) return out;
  if (!reverse) {
    for (auto it = model.lower_bound(start);
         it != model.end() && (!end || it->first < *end) && out.size() < limit; ++it) {
      out.emplace_back(*it);
    }
    return out;
  }
  auto it = end ? model.lower_bound(*end) : model.end();
  while (it != model.begin() && out.size() < limit) {
    --it;
    if (it->first < start) break;
    out.emplace_back(*it);
  }
  return out;
}

// One scan with random bounds (existing keys, random keys, empty, unbounded), direction and
// early stop, compared with the model.
void check_random_scan(const Tree& tree, const Model& model, base::Rng& rng) {
  auto pick = [&]() -> std::string {
    std::string key = rng.chance(1, 3) ? users_key(rng.uniform(120000)) : random_key(rng);
    if (rng.chance(1, 2)) {  // an existing key near it
      auto it = model.lower_bound(key);
      if (it != model.end()) return it->first;
    }
    return key;
  };
  const std::string start = rng.chance(1, 5) ? std::string() : pick();
  std::optional<std::string> end;
  if (!rng.chance(1, 4)) end = rng.chance(1, 10) ? std::string("\xff") : pick();
  const bool reverse = rng.chance(1, 2);
  const size_t limit = rng.chance(1, 2) ? SIZE_MAX : rng.uniform(120);
  const auto expected = model_scan(model, start, end, reverse, limit);
  std::vector<std::pair<std::string, std::string>> got;
  std::optional<std::string_view> end_view;
  if (end) end_view = *end;
  tree.scan(start, end_view, reverse, [&](std::string_view key, const std::string& value) {
    if (got.size() >= limit) return false;  // the tree must stop as soon as we say so
    got.emplace_back(std::string(key), value);
    return got.size() < limit;
  });
  REQUIRE(got == expected);
}

// One random operation applied to both tree and model, with matching results asserted.
void random_op(Tree& tree, Model& model, base::Rng& rng) {
  const uint64_t op = rng.uniform(100);
  std::string key = random_key(rng);
  if (op < 30 && !model.empty()) {  // reuse an existing key: upserts and erases that hit
    auto it = model.begin();
    std::advance(it, static_cast<ptrdiff_t>(rng.uniform(model.size())));
    key = it->first;
  }
  if (op < 55) {
    std::string value = random_value(rng);
    const bool is_new = model.find(key) == model.end();
    REQUIRE(tree.upsert(key, value) == is_new);
    model[key] = value;
  } else if (op < 85) {
    REQUIRE(tree.erase(key) == (model.erase(key) == 1));
  } else {
    const std::string* found = tree.find(key);
    auto it = model.find(key);
    REQUIRE((found != nullptr) == (it != model.end()));
    if (found) REQUIRE(*found == it->second);
  }
}

}  // namespace

TEST_CASE("btree: random upserts, erases, finds and scans match std::map over 120 seeds") {
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    CAPTURE(seed);
    base::Rng rng(seed);
    Tree tree;
    Model model;
    for (int batch = 0; batch < 8; ++batch) {
      for (int i = 0; i < 300; ++i) random_op(tree, model, rng);
      expect_same(tree, model);
      for (int i = 0; i < 10; ++i) check_random_scan(tree, model, rng);
    }
  }
}

TEST_CASE("btree: 100k shuffled inserts then erasing 95% keeps a valid 3-level tree") {
  base::Rng rng(7);
  std::vector<uint64_t> ids(100000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = i;
  for (size_t i = ids.size() - 1; i > 0; --i) std::swap(ids[i], ids[rng.uniform(i + 1)]);
  Tree tree;
  Model model;
  for (uint64_t id : ids) {
    REQUIRE(tree.upsert(users_key(id), std::to_string(id)));
    model[users_key(id)] = std::to_string(id);
  }
  expect_same(tree, model);
  CHECK(tree.depth() >= 3);
  for (int i = 0; i < 20; ++i) check_random_scan(tree, model, rng);
  for (size_t i = 0; i < ids.size() * 95 / 100; ++i) {
    REQUIRE(tree.erase(users_key(ids[i])));
    model.erase(users_key(ids[i]));
    if (i % 20000 == 0) expect_same(tree, model);
  }
  expect_same(tree, model);
  for (int i = 0; i < 20; ++i) check_random_scan(tree, model, rng);
  for (auto& [key, value] : model) REQUIRE(tree.erase(key));
  CHECK(tree.size() == 0);
  CHECK(tree.depth() == 0);
  tree.check_invariants();
}

TEST_CASE("btree: ascending and descending bulk inserts keep fill factors and order") {
  for (bool descending : {false, true}) {
    Tree tree;
    Model model;
    for (uint64_t i = 0; i < 30000; ++i) {
      const uint64_t id = descending ? 30000 - i : i;
      tree.upsert(users_key(id), "v");
      model[users_key(id)] = "v";
    }
    expect_same(tree, model);
  }
}

TEST_CASE("btree: a copy stays unchanged while the original is modified, and vice versa") {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    base::Rng rng(seed);
    Tree tree;
    Model model;
    for (int i = 0; i < 3000; ++i) random_op(tree, model, rng);
    // A chain of snapshots, each taken between batches of writes to the original.
    std::vector<std::pair<Tree, Model>> snapshots;
    for (int batch = 0; batch < 10; ++batch) {
      snapshots.emplace_back(tree, model);
      for (int i = 0; i < 400; ++i) random_op(tree, model, rng);
    }
    expect_same(tree, model);
    for (auto& [snapshot, snapshot_model] : snapshots) expect_same(snapshot, snapshot_model);
    // Writing to a snapshot leaves the original and the other snapshots alone.
    const Model original_model = model;
    for (auto& [snapshot, snapshot_model] : snapshots) {
      for (int i = 0; i < 300; ++i) random_op(snapshot, snapshot_model, rng);
    }
    expect_same(tree, original_model);
    for (auto& [snapshot, snapshot_model] : snapshots) expect_same(snapshot, snapshot_model);
  }
}

TEST_CASE("btree: exchange hands back the replaced value and leaves a shared copy alone") {
  Tree tree;
  for (uint64_t n = 0; n < 500; ++n) tree.upsert(users_key(n), "v" + std::to_string(n));
  const Tree copy = tree;
  std::string value = "new";
  CHECK_FALSE(tree.exchange(users_key(250), value));
  CHECK(value == "v250");
  CHECK(*tree.find(users_key(250)) == "new");
  CHECK(*copy.find(users_key(250)) == "v250");
  value = "fresh";
  CHECK(tree.exchange(users_key(1000), value));
  CHECK(*tree.find(users_key(1000)) == "fresh");
  CHECK(tree.size() == 501);
  CHECK(copy.size() == 500);
  CHECK(copy.find(users_key(1000)) == nullptr);
  tree.check_invariants();
  copy.check_invariants();
}

TEST_CASE("btree: copy and move assignment, self-assignment and clear share or drop nodes") {
  base::Rng rng(3);
  Tree a;
  Model model;
  for (int i = 0; i < 2000; ++i) random_op(a, model, rng);
  Tree b;
  b.upsert("x", "y");
  b = a;
  expect_same(b, model);
  const Tree& alias = b;
  b = alias;  // self-assignment keeps the contents
  expect_same(b, model);
  Tree c(std::move(b));
  expect_same(c, model);
  CHECK(b.size() == 0);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  b = std::move(c);
  expect_same(b, model);
  a.clear();
  expect_same(a, Model{});
  expect_same(b, model);  // clearing one copy leaves the other intact
  a.upsert("z", "1");
  CHECK(a.size() == 1);
  CHECK(a.memory_bytes() > 0);
}

TEST_CASE("btree: empty key, 0x00 and 0xff bytes order as unsigned bytes") {
  const std::vector<std::string> sorted = {std::string(),
                                           std::string("\x00", 1),
                                           std::string("\x00\x00", 2),
                                           std::string("\x00\xff", 2),
                                           std::string("\x01", 1),
                                           std::string("a", 1),
                                           std::string("a\x00", 2),
                                           std::string("a\x7f", 2),
                                           std::string("a\x80", 2),
                                           std::string("a\xff", 2),
                                           std::string("\x7f", 1),
                                           std::string("\x80", 1),
                                           std::string("\xff", 1),
                                           std::string("\xff\x00", 2),
                                           std::string("\xff\xff", 2)};
  Tree tree;
  for (size_t i = sorted.size(); i-- > 0;) CHECK(tree.upsert(sorted[i], std::to_string(i)));
  tree.check_invariants();
  std::vector<std::string> seen;
  tree.for_each([&](std::string_view key, const std::string&) {
    seen.emplace_back(key);
    return true;
  });
  CHECK(seen == sorted);
  REQUIRE(tree.find("") != nullptr);
  CHECK(*tree.find("") == "0");
  CHECK(tree.find(std::string("\x00\x01", 2)) == nullptr);
  // [0x00, 0xff): everything except the empty key and keys from 0xff on.
  std::vector<std::string> middle;
  tree.scan(std::string("\x00", 1), std::string_view("\xff", 1), true,
            [&](std::string_view key, const std::string&) {
              middle.emplace_back(key);
              return true;
            });
  CHECK(middle == std::vector<std::string>(sorted.rbegin() + 3, sorted.rend() - 1));
  CHECK(tree.erase(""));
  CHECK_FALSE(tree.erase(""));
  CHECK(tree.find("") == nullptr);
  tree.check_invariants();
}

TEST_CASE("btree: 2 KiB keys differing at either end and 1 MiB values round-trip") {
  Tree tree;
  Model model;
  for (int i = 0; i < 300; ++i) {
    std::string head_differs(2048, 'k');
    head_differs[0] = static_cast<char>(i % 256);
    head_differs[1] = static_cast<char>(i / 256);
    std::string tail_differs(2048, '\xff');
    tail_differs[2046] = static_cast<char>(i / 256);
    tail_differs[2047] = static_cast<char>(i % 256);
    for (auto& key : {head_differs, tail_differs}) {
      std::string value = i % 50 == 0 ? std::string(1 << 20, static_cast<char>(i)) : key;
      tree.upsert(key, value);
      model[key] = value;
    }
  }
  expect_same(tree, model);
  base::Rng rng(11);
  for (int i = 0; i < 30; ++i) check_random_scan(tree, model, rng);
  CHECK(tree.memory_bytes() > 6 * (1u << 20));  // the six 1 MiB values are counted
}

TEST_CASE("btree: works with a trivially copyable value type") {
  kvstate::BTree<uint64_t> tree;
  for (uint64_t i = 0; i < 5000; ++i) CHECK(tree.upsert(users_key(i * 7 % 5000), i));
  tree.check_invariants();
  uint64_t expected_id = 0;
  bool ordered = true;
  tree.for_each([&](std::string_view key, const uint64_t& value) {
    ordered = ordered && key == users_key(expected_id) && value * 7 % 5000 == expected_id;
    ++expected_id;
    return true;
  });
  CHECK(ordered);
  CHECK(expected_id == 5000);
}

TEST_CASE("btree: a reader thread verifies snapshots while the writer keeps mutating") {
  std::mutex mu;
  std::condition_variable changed;
  std::deque<std::pair<Tree, Model>> queue;  // snapshots handed to the reader
  bool writer_done = false;
  size_t verified = 0;
  bool all_matched = true;

  std::thread reader([&] {
    base::Rng rng(99);
    for (;;) {
      std::pair<Tree, Model> item;
      {
        std::unique_lock lock(mu);
        changed.wait(lock, [&] { return !queue.empty() || writer_done; });
        if (queue.empty()) return;
        item = std::move(queue.front());
        queue.pop_front();
      }
      changed.notify_all();
      const Tree& snapshot = item.first;  // not a structured binding: clang 14 cannot capture it
      const Model& model = item.second;
      bool ok = snapshot.size() == model.size();
      auto it = model.begin();
      snapshot.for_each([&](std::string_view key, const std::string& value) {
        ok = ok && it != model.end() && key == it->first && value == it->second;
        if (it != model.end()) ++it;
        return ok;
      });
      for (auto& [key, value] : model) {
        const std::string* found = snapshot.find(key);
        ok = ok && found && *found == value;
      }
      for (int i = 0; i < 5; ++i) {
        const std::string start = random_key(rng);
        const auto expected = model_scan(model, start, std::nullopt, true, 50);
        std::vector<std::pair<std::string, std::string>> got;
        snapshot.scan(start, std::nullopt, true, [&](std::string_view key, const std::string& v) {
          got.emplace_back(std::string(key), v);
          return got.size() < 50;
        });
        ok = ok && got == expected;
      }
      std::lock_guard lock(mu);
      all_matched = all_matched && ok;
      ++verified;
      // `item` (and with it the snapshot's node references) is dropped on this thread.
    }
  });

  base::Rng rng(5);
  Tree tree;
  Model model;
  for (int i = 0; i < 4000; ++i) random_op(tree, model, rng);
  constexpr int kRounds = 150;
  for (int round = 0; round < kRounds; ++round) {
    {
      std::unique_lock lock(mu);
      changed.wait(lock, [&] { return queue.size() < 3; });
      queue.emplace_back(tree, model);
    }
    changed.notify_all();
    for (int i = 0; i < 200; ++i) random_op(tree, model, rng);
  }
  {
    std::lock_guard lock(mu);
    writer_done = true;
  }
  changed.notify_all();
  reader.join();
  CHECK(verified == kRounds);
  CHECK(all_matched);
  expect_same(tree, model);
}
