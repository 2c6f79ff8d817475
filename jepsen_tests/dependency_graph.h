// A directed graph of transactions with typed edges (ww, wr, rw, real-time), strongly connected
// components (Tarjan, iterative) and shortest-cycle search restricted to some edge types.
// Used by the Elle-style list-append checker.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace jepsen {

enum EdgeType : uint8_t {
  kWW = 1,        // write-write: a's append precedes b's in the key's version order
  kWR = 2,        // write-read: b read a's append
  kRW = 4,        // read-write (anti-dependency): a read a version b's append overwrote
  kRealtime = 8,  // a completed before b was invoked
};

struct CycleStep {
  int32_t from = 0;
  int32_t to = 0;
  EdgeType type = kWW;
  int32_t key = -1;  // the key that gave the edge (-1 for real-time)
};

class DependencyGraph {
 public:
  explicit DependencyGraph(int32_t nodes) : nodes_(nodes) {}
  int32_t add_node() { return nodes_++; }
  int32_t size() const { return nodes_; }
  // Edges between the same pair merge their types. Self-loops are ignored.
  void add_edge(int32_t from, int32_t to, EdgeType type, int32_t key = -1);
  // Builds the adjacency lists; call once after the last add_edge.
  void finish();

  // Components with more than one node, using only edges whose type is in `mask` and
  // nodes where `in_subset` is true (empty = all nodes).
  std::vector<std::vector<int32_t>> cycles_components(uint8_t mask,
                                                      const std::vector<bool>& in_subset) const;
  // A shortest cycle through `start` using edges in `mask`, nodes in `in_subset`; empty if none.
  std::vector<CycleStep> shortest_cycle_through(int32_t start, uint8_t mask,
                                                const std::vector<bool>& in_subset) const;
  // A shortest path from -> to using edges in `mask` (empty if none or from == to).
  std::vector<CycleStep> shortest_path(int32_t from, int32_t to, uint8_t mask,
                                       const std::vector<bool>& in_subset) const;

  struct Edge {
    int32_t to;
    uint8_t types;
    std::array<int32_t, 3> keys;  // key for ww, wr, rw
  };
  const std::vector<Edge>& out(int32_t node) const { return adjacency_[static_cast<size_t>(node)]; }

 private:
  struct RawEdge {
    int32_t from, to;
    EdgeType type;
    int32_t key;
  };
  int32_t nodes_;
  std::vector<RawEdge> raw_;
  std::vector<std::vector<Edge>> adjacency_;
};

// The weakest-allowed edge type in `types & mask`, preferring ww, wr, real-time, then rw.
EdgeType weakest_type(uint8_t types, uint8_t mask);

}  // namespace jepsen
