#include "jepsen_tests/append_checker.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>

#include "jepsen_tests/dependency_graph.h"

namespace jepsen {
namespace {

struct MicroOp {
  bool append = false;
  int32_t key = 0;
  int32_t element = -1;       // append only
  std::vector<int32_t> read;  // read only (ok txns)
};

struct Txn {
  const Operation* op = nullptr;
  std::vector<MicroOp> mops;
};

// Everything learned from the history, plus the anomalies found so far.
struct Analysis {
  std::vector<Txn> txns;
  std::vector<std::string> key_names;
  std::unordered_map<std::string, int32_t> key_ids;
  std::vector<std::vector<std::string>> element_names;  // [key][element]
  std::vector<std::unordered_map<std::string, int32_t>> element_ids;
  std::vector<std::unordered_map<int64_t, int32_t>> int_element_ids;
  std::vector<std::vector<uint32_t>> seen_stamp;  // [key][element]: last read that saw it
  uint32_t stamp = 0;
  std::vector<std::pair<std::vector<int64_t>, std::vector<int32_t>>> longest_read;  // per key
  std::vector<std::vector<int32_t>> writer;         // [key][element] -> txn, -1 if none
  std::vector<std::vector<bool>> final_in_writer;   // [key][element]: writer's last append to key
  std::vector<std::vector<int32_t>> version_order;  // [key] -> elements; empty if unknown
  std::vector<bool> key_order_broken;
  std::map<std::string, std::vector<std::string>> anomalies;  // name -> witnesses
  CheckResult placed;  // only first_anomaly_ns / first_anomaly: the earliest placed anomaly

  int32_t key(const std::string& name) {
    auto [it, inserted] = key_ids.emplace(name, static_cast<int32_t>(key_names.size()));
    if (inserted) {
      key_names.push_back(name);
      element_names.emplace_back();
      element_ids.emplace_back();
      int_element_ids.emplace_back();
      seen_stamp.emplace_back();
      longest_read.emplace_back();
      writer.emplace_back();
      final_in_writer.emplace_back();
    }
    return it->second;
  }
  int32_t element(int32_t k, const Json& value) {
    const auto ki = static_cast<size_t>(k);
    const auto next = static_cast<int32_t>(element_names[ki].size());
    // Integers (the usual case) skip the text form: reads return whole lists, so this is hot.
    int32_t id;
    bool inserted;
    if (const auto n = value.number_as_i64()) {
      auto [it, added] = int_element_ids[ki].emplace(*n, next);
      id = it->second;
      inserted = added;
    } else {
      auto [it, added] = element_ids[ki].emplace(value.serialize(), next);
      id = it->second;
      inserted = added;
    }
    if (inserted) {
      element_names[ki].push_back(value.serialize());
      writer[ki].push_back(-1);
      final_in_writer[ki].push_back(false);
      seen_stamp[ki].push_back(0);
    }
    return id;
  }
  // Reads mostly repeat a prefix of the longest read so far: compare against it element by
  // element and hash only past the first difference.
  void intern_read(int32_t k, const Json::Array& list, std::vector<int32_t>& out) {
    auto& [values, ids] = longest_read[static_cast<size_t>(k)];
    size_t i = 0;
    out.reserve(list.size());
    while (i < list.size() && i < values.size() && list[i].number_as_i64() == values[i]) {
      out.push_back(ids[i++]);
    }
    bool extends = i == values.size();
    for (; i < list.size(); ++i) {
      out.push_back(element(k, list[i]));
      const auto n = list[i].number_as_i64();
      extends = extends && n.has_value();
      if (extends) {
        values.push_back(*n);
        ids.push_back(out.back());
      }
    }
  }
  std::string txn_text(int32_t t) const {
    const Operation& op = *txns[static_cast<size_t>(t)].op;
    return fmt::format("T#{} (p{} {} {})", op.invoke_index, op.process, op_type_name(op.outcome),
                       op.value.serialize());
  }
  // `at_ns`: when the anomaly became visible (anomaly_time_ns of the txn that shows it).
  void report(const std::string& name, std::string witness, std::optional<int64_t> at_ns) {
    anomalies[name].push_back(std::move(witness));
    if (at_ns) note_anomaly(placed, *at_ns, name);
  }
  int64_t time_of(int32_t t) const { return anomaly_time_ns(*txns[static_cast<size_t>(t)].op); }
};

base::Status parse_txn(Analysis& a, const Operation& op) {
  if (op.f != "txn")
    return base::invalid_argument("append op #{}: f must be \"txn\"", op.invoke_index);
  if (!op.value.is_array())
    return base::invalid_argument("append op #{}: value is not a list", op.invoke_index);
  Txn txn;
  txn.op = &op;
  const auto t = static_cast<int32_t>(a.txns.size());
  for (const Json& m : op.value.as_array()) {
    if (!m.is_array() || m.as_array().size() != 3 || !m.as_array()[0].is_string()) {
      return base::invalid_argument("append op #{}: micro-op {} is not [f, key, value]",
                                    op.invoke_index, m.serialize());
    }
    const auto& parts = m.as_array();
    MicroOp mop;
    mop.key = a.key(parts[1].serialize());
    const auto ki = static_cast<size_t>(mop.key);
    if (parts[0].as_string() == "append") {
      mop.append = true;
      mop.element = a.element(mop.key, parts[2]);
      int32_t& w = a.writer[ki][static_cast<size_t>(mop.element)];
      if (w >= 0) {
        return base::invalid_argument("append op #{}: element {} appended to {} twice",
                                      op.invoke_index, parts[2].serialize(), a.key_names[ki]);
      }
      w = t;
    } else if (parts[0].as_string() == "r") {
      if (!op.ok()) continue;  // an unknown or failed txn's reads tell nothing
      if (!parts[2].is_array()) {
        return base::invalid_argument("append op #{}: ok read of {} has no list", op.invoke_index,
                                      a.key_names[ki]);
      }
      a.intern_read(mop.key, parts[2].as_array(), mop.read);
    } else {
      return base::invalid_argument("append op #{}: unknown micro-op {}", op.invoke_index,
                                    parts[0].as_string());
    }
    txn.mops.push_back(std::move(mop));
  }
  // Mark each txn's final append per key (for intermediate reads, G1b).
  std::unordered_map<int32_t, int32_t> last;
  for (const MicroOp& mop : txn.mops) {
    if (mop.append) last[mop.key] = mop.element;
  }
  for (const auto& [k, e] : last)
    a.final_in_writer[static_cast<size_t>(k)][static_cast<size_t>(e)] = true;
  a.txns.push_back(std::move(txn));
  return base::Status::ok();
}

std::string list_text(const Analysis& a, int32_t k, const std::vector<int32_t>& list) {
  std::string s = "[";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) s += ' ';
    s += a.element_names[static_cast<size_t>(k)][static_cast<size_t>(list[i])];
  }
  return s + "]";
}

// Anomalies visible in a single read: duplicates, garbage, aborted and intermediate reads.
void check_read(Analysis& a, int32_t t, const MicroOp& mop) {
  const auto ki = static_cast<size_t>(mop.key);
  const auto where = [&] {
    return fmt::format("{} read {} of key {}", a.txn_text(t), list_text(a, mop.key, mop.read),
                       a.key_names[ki]);
  };
  const uint32_t stamp = ++a.stamp;
  for (const int32_t e : mop.read) {
    uint32_t& seen = a.seen_stamp[ki][static_cast<size_t>(e)];
    if (seen == stamp) a.report("duplicate-elements", where(), a.time_of(t));
    seen = stamp;
    const int32_t w = a.writer[ki][static_cast<size_t>(e)];
    if (w < 0) {
      a.report("garbage-read",
               fmt::format("{}: {} was never appended", where(),
                           a.element_names[ki][static_cast<size_t>(e)]),
               a.time_of(t));
    } else if (a.txns[static_cast<size_t>(w)].op->failed()) {
      a.report("G1a",
               fmt::format("{}: {} was appended by failed {}", where(),
                           a.element_names[ki][static_cast<size_t>(e)], a.txn_text(w)),
               a.time_of(t));
    }
  }
  if (mop.read.empty()) return;
  const int32_t e = mop.read.back();
  const int32_t w = a.writer[ki][static_cast<size_t>(e)];
  if (w >= 0 && w != t && !a.final_in_writer[ki][static_cast<size_t>(e)]) {
    a.report("G1b",
             fmt::format("{}: {} is an intermediate append of {}", where(),
                         a.element_names[ki][static_cast<size_t>(e)], a.txn_text(w)),
             a.time_of(t));
  }
}

// Within one txn, a read must show its own earlier read plus its own appends since.
void check_internal(Analysis& a, int32_t t) {
  struct Known {
    std::optional<std::vector<int32_t>> prefix;
    std::vector<int32_t> own;
  };
  std::unordered_map<int32_t, Known> known;
  for (const MicroOp& mop : a.txns[static_cast<size_t>(t)].mops) {
    Known& k = known[mop.key];
    if (mop.append) {
      k.own.push_back(mop.element);
      continue;
    }
    bool consistent;
    if (k.prefix) {
      std::vector<int32_t> expected = *k.prefix;
      expected.insert(expected.end(), k.own.begin(), k.own.end());
      consistent = expected == mop.read;
    } else {
      consistent = mop.read.size() >= k.own.size() &&
                   std::equal(k.own.begin(), k.own.end(),
                              mop.read.end() - static_cast<std::ptrdiff_t>(k.own.size()));
    }
    if (!consistent) {
      a.report(
          "internal",
          fmt::format("{} read {} of key {}, contradicting its own earlier ops", a.txn_text(t),
                      list_text(a, mop.key, mop.read), a.key_names[static_cast<size_t>(mop.key)]),
          a.time_of(t));
    }
    k.prefix = mop.read;
    k.own.clear();
  }
}

// The longest read of each key is its version order; every other read must be a prefix of it.
void infer_version_orders(Analysis& a) {
  const size_t keys = a.key_names.size();
  a.version_order.assign(keys, {});
  a.key_order_broken.assign(keys, false);
  std::vector<std::pair<int32_t, const std::vector<int32_t>*>> longest(keys, {-1, nullptr});
  for (size_t t = 0; t < a.txns.size(); ++t) {
    for (const MicroOp& mop : a.txns[t].mops) {
      if (mop.append || !a.txns[t].op->ok()) continue;
      auto& best = longest[static_cast<size_t>(mop.key)];
      if (best.second == nullptr || mop.read.size() > best.second->size())
        best = {static_cast<int32_t>(t), &mop.read};
    }
  }
  for (size_t t = 0; t < a.txns.size(); ++t) {
    for (const MicroOp& mop : a.txns[t].mops) {
      if (mop.append || !a.txns[t].op->ok()) continue;
      const auto ki = static_cast<size_t>(mop.key);
      const auto& [lt, order] = longest[ki];
      if (std::equal(mop.read.begin(), mop.read.end(), order->begin())) continue;
      if (!a.key_order_broken[ki]) {
        a.report("incompatible-order",
                 fmt::format("key {}: {} read {} but {} read {}", a.key_names[ki],
                             a.txn_text(static_cast<int32_t>(t)), list_text(a, mop.key, mop.read),
                             a.txn_text(lt), list_text(a, mop.key, *order)),
                 a.time_of(static_cast<int32_t>(t)));
      }
      a.key_order_broken[ki] = true;
    }
  }
  for (size_t k = 0; k < keys; ++k) {
    if (longest[k].second != nullptr && !a.key_order_broken[k])
      a.version_order[k] = *longest[k].second;
  }
}

bool is_node(const Analysis& a, int32_t t) {
  return t >= 0 && !a.txns[static_cast<size_t>(t)].op->failed();
}

void add_dependency_edges(const Analysis& a, DependencyGraph& g) {
  for (size_t k = 0; k < a.version_order.size(); ++k) {
    const auto& order = a.version_order[k];
    const auto& writer = a.writer[k];
    const auto key = static_cast<int32_t>(k);
    for (size_t i = 0; i + 1 < order.size(); ++i) {
      const int32_t w1 = writer[static_cast<size_t>(order[i])],
                    w2 = writer[static_cast<size_t>(order[i + 1])];
      if (is_node(a, w1) && is_node(a, w2)) g.add_edge(w1, w2, kWW, key);
    }
  }
  for (size_t t = 0; t < a.txns.size(); ++t) {
    if (!a.txns[t].op->ok()) continue;
    const auto reader = static_cast<int32_t>(t);
    for (const MicroOp& mop : a.txns[t].mops) {
      const auto ki = static_cast<size_t>(mop.key);
      if (mop.append || a.key_order_broken[ki]) continue;
      const auto& order = a.version_order[ki];
      const size_t j = mop.read.size();
      if (j > 0) {
        const int32_t w = a.writer[ki][static_cast<size_t>(order[j - 1])];
        if (is_node(a, w)) g.add_edge(w, reader, kWR, mop.key);
      }
      if (j < order.size()) {
        const int32_t w = a.writer[ki][static_cast<size_t>(order[j])];
        if (is_node(a, w)) g.add_edge(reader, w, kRW, mop.key);
      }
    }
  }
}

// T -> C(rank of T's completion), C_i -> C_{i+1}, C(last completion before U's invoke) -> U.
void add_realtime_edges(const Analysis& a, DependencyGraph& g) {
  std::vector<std::pair<int64_t, int32_t>> completions;
  for (size_t t = 0; t < a.txns.size(); ++t) {
    if (a.txns[t].op->ok())
      completions.push_back({a.txns[t].op->complete_ns, static_cast<int32_t>(t)});
  }
  std::sort(completions.begin(), completions.end());
  const int32_t first_time_node = g.size();
  for (size_t i = 0; i < completions.size(); ++i) {
    const int32_t c = g.add_node();
    g.add_edge(completions[i].second, c, kRealtime);
    if (i > 0) g.add_edge(c - 1, c, kRealtime);
  }
  for (size_t t = 0; t < a.txns.size(); ++t) {
    if (!is_node(a, static_cast<int32_t>(t))) continue;
    const int64_t invoke = a.txns[t].op->invoke_ns;
    const auto before = std::lower_bound(completions.begin(), completions.end(),
                                         std::pair<int64_t, int32_t>{invoke, INT32_MIN}) -
                        completions.begin();
    if (before > 0)
      g.add_edge(first_time_node + static_cast<int32_t>(before) - 1, static_cast<int32_t>(t),
                 kRealtime);
  }
}

std::string cycle_text(const Analysis& a, std::vector<CycleStep> cycle, std::string& name) {
  // Collapse each run through completion-time nodes into one real-time step. Rotate first so
  // the cycle starts at a txn (time nodes only form increasing chains, never a cycle alone).
  const auto txns = static_cast<int32_t>(a.txns.size());
  const auto first_txn =
      std::find_if(cycle.begin(), cycle.end(), [&](const CycleStep& s) { return s.from < txns; });
  ENSURE(first_txn != cycle.end());
  std::rotate(cycle.begin(), first_txn, cycle.end());
  std::vector<CycleStep> steps;
  for (size_t i = 0; i < cycle.size(); ++i) {
    CycleStep s = cycle[i];
    if (s.to >= txns) {
      while (cycle[i].to >= txns) ++i;  // the run ends at a txn, at the latest at cycle[0].from
      s = {s.from, cycle[i].to, kRealtime, -1};
    }
    steps.push_back(s);
  }
  int rw = 0;
  bool realtime = false, wr = false;
  std::string text;
  for (const CycleStep& s : steps) {
    rw += s.type == kRW;
    wr = wr || s.type == kWR;
    realtime = realtime || s.type == kRealtime;
    const char* label =
        s.type == kWW ? "ww" : (s.type == kWR ? "wr" : (s.type == kRW ? "rw" : "rt"));
    const std::string key = s.key >= 0 ? "(" + a.key_names[static_cast<size_t>(s.key)] + ")" : "";
    text += fmt::format("    {} -{}{}->\n", a.txn_text(s.from), label, key);
  }
  text += fmt::format("    {}\n", a.txn_text(steps.front().from));
  name = rw == 0 ? (wr ? "G1c" : "G0") : (rw == 1 ? "G-single" : "G2");
  if (realtime) name += "-realtime";
  return text;
}

std::vector<CycleStep> find_cycle(const DependencyGraph& g, const std::vector<bool>& subset,
                                  uint8_t mask) {
  const auto sub = g.cycles_components(mask, subset);
  if (sub.empty()) return {};
  std::vector<bool> inner(subset.size(), false);
  for (const int32_t n : sub.front()) inner[static_cast<size_t>(n)] = true;
  return g.shortest_cycle_through(sub.front().front(), mask, inner);
}

std::vector<CycleStep> find_single_rw_cycle(const DependencyGraph& g,
                                            const std::vector<int32_t>& comp,
                                            const std::vector<bool>& subset, uint8_t path_mask,
                                            size_t attempts) {
  for (const int32_t a : comp) {
    for (const auto& e : g.out(a)) {
      if (!(e.types & kRW) || !subset[static_cast<size_t>(e.to)]) continue;
      if (attempts-- == 0) return {};
      auto path = g.shortest_path(e.to, a, path_mask, subset);
      if (path.empty()) continue;
      path.insert(path.begin(), CycleStep{a, e.to, kRW, e.keys[2]});
      return path;
    }
  }
  return {};
}

// The weakest cycle in one strongly connected component (see header for the order).
std::vector<CycleStep> weakest_cycle(const DependencyGraph& g, const std::vector<int32_t>& comp,
                                     const AppendOptions& options) {
  std::vector<bool> subset(static_cast<size_t>(g.size()), false);
  for (const int32_t n : comp) subset[static_cast<size_t>(n)] = true;
  for (const uint8_t rt : {uint8_t{0}, uint8_t{kRealtime}}) {
    if (auto c = find_cycle(g, subset, kWW | rt); !c.empty()) return c;
    if (auto c = find_cycle(g, subset, kWW | kWR | rt); !c.empty()) return c;
    if (auto c = find_single_rw_cycle(g, comp, subset, kWW | kWR | rt, options.g_single_attempts);
        !c.empty())
      return c;
    if (auto c = find_cycle(g, subset, kWW | kWR | kRW | rt); !c.empty()) return c;
  }
  FATAL("a strongly connected component without a cycle");
}

}  // namespace

base::Result<CheckResult> check_append(const std::vector<Operation>& ops,
                                       const AppendOptions& options) {
  Analysis a;
  for (const Operation& op : ops) RETURN_IF_ERROR(parse_txn(a, op));
  int64_t ok = 0, info = 0, failed = 0, reads = 0;
  for (size_t t = 0; t < a.txns.size(); ++t) {
    const Operation& op = *a.txns[t].op;
    ok += op.ok();
    info += op.indeterminate();
    failed += op.failed();
    if (!op.ok()) continue;
    for (const MicroOp& mop : a.txns[t].mops) {
      if (mop.append) continue;
      ++reads;
      check_read(a, static_cast<int32_t>(t), mop);
    }
    check_internal(a, static_cast<int32_t>(t));
  }
  infer_version_orders(a);
  DependencyGraph g(static_cast<int32_t>(a.txns.size()));
  add_dependency_edges(a, g);
  add_realtime_edges(a, g);
  g.finish();
  for (const auto& comp : g.cycles_components(kWW | kWR | kRW | kRealtime, {})) {
    std::string name;
    const std::vector<CycleStep> cycle = weakest_cycle(g, comp, options);
    // A cycle exists once its last txn has completed.
    int64_t visible_ns = 0;
    for (const CycleStep& s : cycle)
      if (s.from < static_cast<int32_t>(a.txns.size()))
        visible_ns = std::max(visible_ns, a.time_of(s.from));
    const std::string text = cycle_text(a, cycle, name);
    a.report(name, fmt::format("cycle in a component of {} nodes:\n{}", comp.size(), text),
             visible_ns);
  }

  CheckResult result;
  result.first_anomaly_ns = a.placed.first_anomaly_ns;
  result.first_anomaly = a.placed.first_anomaly;
  Json counts = Json::object();
  for (const auto& [name, witnesses] : a.anomalies) {
    counts.set(name, Json::number(static_cast<int64_t>(witnesses.size())));
    result.counterexample += name + ":\n";
    for (size_t i = 0; i < witnesses.size() && i < options.examples_per_anomaly; ++i) {
      result.counterexample += "  " + witnesses[i] + "\n";
    }
  }
  result.stats.set("txns_ok", Json::number(ok));
  result.stats.set("txns_info", Json::number(info));
  result.stats.set("txns_fail", Json::number(failed));
  result.stats.set("reads", Json::number(reads));
  result.stats.set("keys", Json::number(static_cast<int64_t>(a.key_names.size())));
  result.stats.set("anomalies", counts);
  if (!a.anomalies.empty()) {
    result.valid = Validity::kInvalid;
    std::string names;
    for (const auto& [name, w] : a.anomalies) names += (names.empty() ? "" : ", ") + name;
    result.explanation = "append: not strict serializable; anomalies: " + names + ".";
  } else if (reads == 0) {
    result.valid = Validity::kUnknown;
    result.explanation = "append: no successful reads, so nothing could be checked.";
  } else {
    result.explanation = fmt::format(
        "append: {} committed txns over {} keys; no dependency cycle (ww, wr, rw, real-time) and "
        "no direct anomaly: strict serializable as far as the reads reveal.",
        ok, a.key_names.size());
  }
  return result;
}

}  // namespace jepsen
