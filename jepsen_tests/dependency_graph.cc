#include "jepsen_tests/dependency_graph.h"

#include <algorithm>
#include <deque>

#include "base/check.h"

namespace jepsen {

EdgeType weakest_type(uint8_t types, uint8_t mask) {
  const uint8_t t = types & mask;
  for (const EdgeType e : {kWW, kWR, kRealtime, kRW}) {
    if (t & e) return e;
  }
  FATAL("weakest_type of an edge with no allowed type");
}

void DependencyGraph::add_edge(int32_t from, int32_t to, EdgeType type, int32_t key) {
  if (from == to) return;
  raw_.push_back({from, to, type, key});
}

void DependencyGraph::finish() {
  std::sort(raw_.begin(), raw_.end(), [](const RawEdge& a, const RawEdge& b) {
    return a.from != b.from ? a.from < b.from : a.to < b.to;
  });
  adjacency_.assign(static_cast<size_t>(nodes_), {});
  for (const RawEdge& e : raw_) {
    auto& list = adjacency_[static_cast<size_t>(e.from)];
    if (list.empty() || list.back().to != e.to) list.push_back({e.to, 0, {-1, -1, -1}});
    Edge& edge = list.back();
    edge.types |= e.type;
    const int slot = e.type == kWW ? 0 : (e.type == kWR ? 1 : (e.type == kRW ? 2 : -1));
    if (slot >= 0 && edge.keys[static_cast<size_t>(slot)] < 0) {
      edge.keys[static_cast<size_t>(slot)] = e.key;
    }
  }
  raw_.clear();
  raw_.shrink_to_fit();
}

namespace {
bool allowed(const std::vector<bool>& subset, int32_t n) {
  return subset.empty() || subset[static_cast<size_t>(n)];
}
}  // namespace

// Tarjan's algorithm with an explicit stack, so deep graphs cannot overflow the call stack.
std::vector<std::vector<int32_t>> DependencyGraph::cycles_components(
    uint8_t mask, const std::vector<bool>& in_subset) const {
  const auto n = static_cast<size_t>(nodes_);
  std::vector<int32_t> index(n, -1), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<int32_t> stack;
  std::vector<std::pair<int32_t, size_t>> call;  // node, next edge position
  std::vector<std::vector<int32_t>> components;
  int32_t counter = 0;
  for (int32_t root = 0; root < nodes_; ++root) {
    if (index[static_cast<size_t>(root)] >= 0 || !allowed(in_subset, root)) continue;
    call.push_back({root, 0});
    while (!call.empty()) {
      auto& [v, pos] = call.back();
      const auto vi = static_cast<size_t>(v);
      if (pos == 0) {
        index[vi] = low[vi] = counter++;
        stack.push_back(v);
        on_stack[vi] = true;
      }
      const auto& edges = adjacency_[vi];
      bool descended = false;
      while (pos < edges.size()) {
        const Edge& e = edges[pos++];
        const auto wi = static_cast<size_t>(e.to);
        if (!(e.types & mask) || !allowed(in_subset, e.to)) continue;
        if (index[wi] < 0) {
          call.push_back({e.to, 0});
          descended = true;
          break;
        }
        if (on_stack[wi]) low[vi] = std::min(low[vi], index[wi]);
      }
      if (descended) continue;
      if (low[vi] == index[vi]) {
        std::vector<int32_t> component;
        int32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[static_cast<size_t>(w)] = false;
          component.push_back(w);
        } while (w != v);
        if (component.size() > 1) components.push_back(std::move(component));
      }
      const int32_t finished = v;
      call.pop_back();
      if (!call.empty()) {
        const auto parent = static_cast<size_t>(call.back().first);
        low[parent] = std::min(low[parent], low[static_cast<size_t>(finished)]);
      }
    }
  }
  return components;
}

std::vector<CycleStep> DependencyGraph::shortest_path(int32_t from, int32_t to, uint8_t mask,
                                                      const std::vector<bool>& in_subset) const {
  const auto n = static_cast<size_t>(nodes_);
  std::vector<int32_t> parent(n, -1);
  std::vector<const Edge*> via(n, nullptr);
  std::deque<int32_t> queue{from};
  std::vector<bool> seen(n, false);
  seen[static_cast<size_t>(from)] = true;
  while (!queue.empty()) {
    const int32_t v = queue.front();
    queue.pop_front();
    for (const Edge& e : adjacency_[static_cast<size_t>(v)]) {
      if (!(e.types & mask) || !allowed(in_subset, e.to)) continue;
      const auto wi = static_cast<size_t>(e.to);
      if (e.to == to) {
        parent[wi] = v;
        via[wi] = &e;
        std::vector<CycleStep> path;
        for (int32_t cur = to; cur != from || path.empty();) {
          const auto ci = static_cast<size_t>(cur);
          const Edge& edge = *via[ci];
          const EdgeType t = weakest_type(edge.types, mask);
          const int slot = t == kWW ? 0 : (t == kWR ? 1 : (t == kRW ? 2 : -1));
          path.push_back(
              {parent[ci], cur, t, slot < 0 ? -1 : edge.keys[static_cast<size_t>(slot)]});
          cur = parent[ci];
          if (cur == from) break;
        }
        std::reverse(path.begin(), path.end());
        return path;
      }
      if (seen[wi]) continue;
      seen[wi] = true;
      parent[wi] = v;
      via[wi] = &e;
      queue.push_back(e.to);
    }
  }
  return {};
}

std::vector<CycleStep> DependencyGraph::shortest_cycle_through(
    int32_t start, uint8_t mask, const std::vector<bool>& in_subset) const {
  return shortest_path(start, start, mask, in_subset);
}

}  // namespace jepsen
