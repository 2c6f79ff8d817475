// Benchmark: kvstate::BTree<std::string> against std::map<std::string, std::string> with the
// same Deno-KV tuple-encoded keys (half ["users", <number i>], half ["k", "user:<hex>"]) and
// 100-byte values. Prints a table: inserts/s, lookups/s, 100-entry scans/s and heap bytes per
// entry (median [min..max] of several runs, ratio btree vs map), then the cost of taking a
// snapshot (copy) of the tree and of the first writes after it.
//
// Memory is measured the same way for both structures: the growth of glibc's in-use heap
// (mallinfo2 uordblks + hblkhd, so malloc's chunk headers and rounding are included) across
// building the structure. BTree::memory_bytes() (its own estimate) is printed beside it.
//
// Usage: btree_bench [keys=1000000] [runs=3]

// First: libstdc++ 12's <atomic> (reached via fmt) uses INT_MAX without including <climits>.
#include <climits>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/rng.h"
#include "kvstate/btree.h"

namespace {

using Clock = std::chrono::steady_clock;
using Tree = kvstate::BTree<std::string>;
using Map = std::map<std::string, std::string>;

constexpr size_t kScanEntries = 100;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

size_t heap_in_use_bytes() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// Deno KV tuple encoding (spec §1.2) of ["users", i] with i as an f64 number part.
std::string users_key(uint64_t i) {
  std::string key("\x02users\x00\x21", 8);
  uint64_t bits;
  const double d = static_cast<double>(i);
  std::memcpy(&bits, &d, sizeof bits);
  bits ^= 0x8000000000000000ull;
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(bits >> shift));
  return key;
}

// ["k", "user:<16 hex digits of a scrambled i>"]: string parts, 0x02 tag, 0x00 terminators.
std::string string_key(uint64_t i) {
  char text[32];
  std::snprintf(text, sizeof text, "user:%016" PRIx64,
                static_cast<uint64_t>(i * 0x9e3779b97f4a7c15ull));
  std::string key("\x02k\x00\x02", 4);
  key.append(text);
  key.push_back('\0');
  return key;
}

struct Workload {
  std::vector<std::string> insert_order;  // every key once, shuffled
  std::vector<std::string> lookup_order;  // every key once, shuffled differently
  std::vector<std::string> scan_starts;   // random existing keys
  std::string value = std::string(100, 'v');
};

Workload make_workload(size_t keys, size_t scans) {
  Workload w;
  base::Rng rng(42);
  w.insert_order.reserve(keys);
  for (size_t i = 0; i < keys; ++i) {
    w.insert_order.push_back(i % 2 == 0 ? users_key(i / 2) : string_key(i / 2));
  }
  auto shuffle = [&rng](std::vector<std::string>& v) {
    for (size_t i = v.size() - 1; i > 0; --i) std::swap(v[i], v[rng.uniform(i + 1)]);
  };
  shuffle(w.insert_order);
  w.lookup_order = w.insert_order;
  shuffle(w.lookup_order);
  for (size_t i = 0; i < scans; ++i) w.scan_starts.push_back(w.insert_order[rng.uniform(keys)]);
  return w;
}

struct RunResult {
  double inserts_per_s = 0;
  double lookups_per_s = 0;
  double scans_per_s = 0;
  double heap_bytes_per_entry = 0;
  double own_estimate_bytes_per_entry = 0;  // BTree::memory_bytes(); 0 for std::map
};

uint64_t g_checksum = 0;  // printed, so the optimizer keeps every lookup and scan

RunResult run_map(const Workload& w) {
  RunResult r;
  const size_t heap_before = heap_in_use_bytes();
  auto start = Clock::now();
  {
    Map map;
    for (const auto& key : w.insert_order) map.insert_or_assign(key, w.value);
    r.inserts_per_s = static_cast<double>(w.insert_order.size()) / seconds_since(start);
    r.heap_bytes_per_entry =
        static_cast<double>(heap_in_use_bytes() - heap_before) / static_cast<double>(map.size());
    start = Clock::now();
    for (const auto& key : w.lookup_order) g_checksum += map.find(key)->second.size();
    r.lookups_per_s = static_cast<double>(w.lookup_order.size()) / seconds_since(start);
    start = Clock::now();
    for (const auto& from : w.scan_starts) {
      size_t n = 0;
      for (auto it = map.lower_bound(from); it != map.end() && n < kScanEntries; ++it, ++n) {
        g_checksum += it->first.size() + it->second.size();
      }
    }
    r.scans_per_s = static_cast<double>(w.scan_starts.size()) / seconds_since(start);
  }
  return r;
}

RunResult run_tree(const Workload& w) {
  RunResult r;
  const size_t heap_before = heap_in_use_bytes();
  auto start = Clock::now();
  {
    Tree tree;
    for (const auto& key : w.insert_order) tree.upsert(key, w.value);
    r.inserts_per_s = static_cast<double>(w.insert_order.size()) / seconds_since(start);
    const auto entries = static_cast<double>(tree.size());
    r.heap_bytes_per_entry = static_cast<double>(heap_in_use_bytes() - heap_before) / entries;
    r.own_estimate_bytes_per_entry = static_cast<double>(tree.memory_bytes()) / entries;
    start = Clock::now();
    for (const auto& key : w.lookup_order) g_checksum += tree.find(key)->size();
    r.lookups_per_s = static_cast<double>(w.lookup_order.size()) / seconds_since(start);
    start = Clock::now();
    for (const auto& from : w.scan_starts) {
      size_t n = 0;
      tree.scan(from, std::nullopt, false, [&](std::string_view key, const std::string& value) {
        g_checksum += key.size() + value.size();
        return ++n < kScanEntries;
      });
    }
    r.scans_per_s = static_cast<double>(w.scan_starts.size()) / seconds_since(start);
  }
  return r;
}

struct Summary {
  double median, min, max;
};

Summary summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

template <typename Field>
void print_row(const char* name, const std::vector<RunResult>& tree,
               const std::vector<RunResult>& map, Field field) {
  std::vector<double> t, m;
  for (const auto& r : tree) t.push_back(r.*field);
  for (const auto& r : map) m.push_back(r.*field);
  const Summary st = summarize(t), sm = summarize(m);
  const double ratio = st.median / sm.median;
  std::printf("%-26s %12.4g [%.4g..%.4g]   %12.4g [%.4g..%.4g]   %6.2fx\n", name, st.median, st.min,
              st.max, sm.median, sm.min, sm.max, ratio);
}

// Times copying a built tree (the snapshot a reader would take) and the writes right after it,
// which clone one root-to-leaf path each.
void print_snapshot_costs(const Workload& w, size_t runs) {
  Tree tree;
  for (const auto& key : w.insert_order) tree.upsert(key, w.value);
  std::vector<double> copy_us, first_write_us, second_write_us, first_erase_us;
  base::Rng rng(7);
  for (size_t run = 0; run < runs; ++run) {
    auto start = Clock::now();
    Tree snapshot(tree);
    copy_us.push_back(seconds_since(start) * 1e6);
    start = Clock::now();
    tree.upsert(w.insert_order[rng.uniform(w.insert_order.size())], "new value");
    first_write_us.push_back(seconds_since(start) * 1e6);
    start = Clock::now();
    tree.upsert(w.insert_order[rng.uniform(w.insert_order.size())], "another value");
    second_write_us.push_back(seconds_since(start) * 1e6);
    start = Clock::now();
    tree.erase(w.insert_order[rng.uniform(w.insert_order.size())]);
    first_erase_us.push_back(seconds_since(start) * 1e6);
    g_checksum += snapshot.size();
  }
  auto line = [](const char* name, std::vector<double> v) {
    const Summary s = summarize(std::move(v));
    std::printf("%-44s %10.2f us [%.2f..%.2f]\n", name, s.median, s.min, s.max);
  };
  std::printf("\nsnapshot of a %zu-key tree (tree depth %zu), %zu runs:\n", tree.size(),
              tree.depth(), runs);
  line("copy (snapshot view), writer blocked for", copy_us);
  line("first upsert after the copy (path clone)", first_write_us);
  line("second upsert (another path)", second_write_us);
  line("erase after the copies", first_erase_us);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t keys = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const size_t runs = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 3;
  if (keys < 1000 || runs < 1) {
    std::fprintf(stderr, "usage: btree_bench [keys>=1000] [runs>=1]\n");
    return 2;
  }
  const size_t scans = std::max<size_t>(1000, keys / 10);
  const Workload w = make_workload(keys, scans);
  std::vector<RunResult> tree_runs, map_runs;
  for (size_t run = 0; run < runs; ++run) {  // interleaved, so drift affects both alike
    map_runs.push_back(run_map(w));
    tree_runs.push_back(run_tree(w));
  }
  std::printf(
      "%zu keys (tuple-encoded, shuffled), 100-byte values, %zu scans of %zu entries, "
      "median [min..max] of %zu runs\n\n",
      keys, scans, kScanEntries, runs);
  std::printf("%-26s %30s   %30s   %7s\n", "metric", "kvstate::BTree", "std::map", "btree/map");
  print_row("inserts/s", tree_runs, map_runs, &RunResult::inserts_per_s);
  print_row("lookups/s", tree_runs, map_runs, &RunResult::lookups_per_s);
  print_row("100-entry scans/s", tree_runs, map_runs, &RunResult::scans_per_s);
  print_row("heap bytes/entry (malloc)", tree_runs, map_runs, &RunResult::heap_bytes_per_entry);
  std::vector<double> own;
  for (const auto& r : tree_runs) own.push_back(r.own_estimate_bytes_per_entry);
  std::printf("%-26s %12.4g (BTree::memory_bytes(), excludes malloc overhead)\n",
              "  btree own estimate", summarize(own).median);
  print_snapshot_costs(w, runs);
  std::printf("\nchecksum %" PRIu64 "\n", g_checksum);
  return 0;
}
