// Generates list-append histories from a real sequential execution (a map of key -> list)
// with random concurrency windows, like register_generator.h: valid by construction.
#pragma once

#include <algorithm>
#include <map>
#include <string>

#include "base/rng.h"
#include "jepsen_tests/history.h"

namespace jepsen::testing {

struct AppendGenOptions {
  uint64_t seed = 1;
  int processes = 5;
  int txns = 500;
  int keys = 5;
  int max_mops = 4;
  int64_t max_window_ns = 2'000'000;
  int64_t max_think_ns = 500'000;
  int info_per_mille = 20;
  int fail_per_mille = 20;  // aborted txns: recorded as fail, never applied
};

inline History generate_append_history(const AppendGenOptions& o) {
  base::Rng rng(o.seed);
  struct GenTxn {
    int64_t process, call, lin, ret;
    Json mops;  // filled with read results when applied
    OpType outcome = OpType::kOk;
    bool applied = true;
  };
  std::vector<GenTxn> txns;
  std::vector<int64_t> free_at(static_cast<size_t>(o.processes), 0);
  int64_t next_element = 1;
  for (int i = 0; i < o.txns; ++i) {
    const auto p = static_cast<size_t>(rng.uniform(static_cast<uint64_t>(o.processes)));
    GenTxn t;
    t.process = static_cast<int64_t>(p);
    t.call =
        free_at[p] + static_cast<int64_t>(rng.uniform(static_cast<uint64_t>(o.max_think_ns) + 1));
    t.lin = t.call + static_cast<int64_t>(rng.uniform(static_cast<uint64_t>(o.max_window_ns) + 1));
    t.ret = t.lin + static_cast<int64_t>(rng.uniform(static_cast<uint64_t>(o.max_window_ns) + 1));
    free_at[p] = t.ret + 1;
    t.mops = Json::array();
    const uint64_t n = rng.range(1, static_cast<uint64_t>(o.max_mops));
    for (uint64_t m = 0; m < n; ++m) {
      const std::string key = "k" + std::to_string(rng.uniform(static_cast<uint64_t>(o.keys)));
      Json mop = Json::array();
      if (rng.chance(1, 2)) {
        mop.push_back(Json::string("append"));
        mop.push_back(Json::string(key));
        mop.push_back(Json::number(next_element++));
      } else {
        mop.push_back(Json::string("r"));
        mop.push_back(Json::string(key));
        mop.push_back(Json());
      }
      t.mops.push_back(std::move(mop));
    }
    const uint64_t roll = rng.uniform(1000);
    if (roll < static_cast<uint64_t>(o.info_per_mille)) {
      t.outcome = OpType::kInfo;
      t.applied = rng.chance(1, 2);
    } else if (roll < static_cast<uint64_t>(o.info_per_mille + o.fail_per_mille)) {
      t.outcome = OpType::kFail;
      t.applied = false;
    }
    txns.push_back(std::move(t));
  }
  std::vector<size_t> by_lin(txns.size());
  for (size_t i = 0; i < txns.size(); ++i) by_lin[i] = i;
  std::stable_sort(by_lin.begin(), by_lin.end(),
                   [&](size_t a, size_t b) { return txns[a].lin < txns[b].lin; });
  std::map<std::string, Json> state;
  for (const size_t i : by_lin) {
    if (!txns[i].applied) continue;
    for (Json& mop : txns[i].mops.as_array()) {
      auto& parts = mop.as_array();
      Json& list = state[parts[1].as_string()];
      if (list.is_null()) list = Json::array();
      if (parts[0].as_string() == "append") {
        list.push_back(parts[2]);
      } else {
        parts[2] = list;
      }
    }
  }
  struct Ev {
    int64_t t;
    bool is_call;
    size_t txn;
  };
  std::vector<Ev> evs;
  for (size_t i = 0; i < txns.size(); ++i) {
    evs.push_back({txns[i].call, true, i});
    evs.push_back({txns[i].ret, false, i});
  }
  std::stable_sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) { return a.t < b.t; });
  History h;
  for (const Ev& ev : evs) {
    const GenTxn& t = txns[ev.txn];
    Event e;
    e.index = static_cast<int64_t>(h.size());
    e.process = t.process;
    e.node = "n1";
    e.f = "txn";
    e.time_ns = ev.t;
    e.wall_ms = ev.t / 1'000'000;
    e.type = ev.is_call ? OpType::kInvoke : t.outcome;
    e.value = t.mops;
    if (ev.is_call || t.outcome != OpType::kOk) {
      for (Json& mop : e.value.as_array()) {
        if (mop.as_array()[0].as_string() == "r") mop.as_array()[2] = Json();
      }
    }
    h.push_back(std::move(e));
  }
  return h;
}

}  // namespace jepsen::testing
