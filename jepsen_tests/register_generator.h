// Generates register histories from a real sequential execution with random concurrency
// windows: each op gets a call time, a linearization point and a return time; the in-memory
// register applies ops in linearization-point order, so the recorded results are linearizable
// by construction. Used by tests (valid by construction, then corrupted) and the benchmark.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "base/rng.h"
#include "jepsen_tests/history.h"

namespace jepsen::testing {

struct RegisterGenOptions {
  uint64_t seed = 1;
  int processes = 5;
  int ops_per_key = 1000;
  int keys = 1;
  int64_t max_window_ns = 2'000'000;  // call -> linearization point -> return gaps up to this
  int64_t max_think_ns = 500'000;     // gap between one op's return and the next call
  int info_per_mille = 10;            // ops whose outcome is recorded as unknown
};

inline History generate_register_history(const RegisterGenOptions& o) {
  base::Rng rng(o.seed);
  struct GenOp {
    int64_t process, call, lin, ret;
    std::string key, f;
    int64_t arg = 0, expected = 0;
    bool info = false, applied = true;
    Json result;
    OpType outcome = OpType::kOk;
  };
  std::vector<GenOp> ops;
  std::vector<int64_t> free_at(static_cast<size_t>(o.processes), 0);
  int64_t next_value = 1;
  const int64_t total = static_cast<int64_t>(o.ops_per_key) * o.keys;
  for (int64_t i = 0; i < total; ++i) {
    const auto p = static_cast<size_t>(rng.uniform(static_cast<uint64_t>(o.processes)));
    GenOp op;
    op.process = static_cast<int64_t>(p);
    op.call =
        free_at[p] + static_cast<int64_t>(rng.uniform(static_cast<uint64_t>(o.max_think_ns) + 1));
    op.lin =
        op.call + static_cast<int64_t>(rng.uniform(static_cast<uint64_t>(o.max_window_ns) + 1));
    op.ret = op.lin + static_cast<int64_t>(rng.uniform(static_cast<uint64_t>(o.max_window_ns) + 1));
    free_at[p] = op.ret + 1;
    op.key = "r" + std::to_string(rng.uniform(static_cast<uint64_t>(o.keys)));
    const uint64_t roll = rng.uniform(10);
    op.f = roll < 5 ? "read" : (roll < 8 ? "write" : "cas");
    op.arg = next_value++;
    op.info = rng.uniform(1000) < static_cast<uint64_t>(o.info_per_mille);
    op.applied = !op.info || rng.chance(1, 2);
    ops.push_back(op);
  }
  // Apply in linearization order (ties broken by position) to the real register.
  std::vector<size_t> by_lin(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) by_lin[i] = i;
  std::stable_sort(by_lin.begin(), by_lin.end(),
                   [&](size_t a, size_t b) { return ops[a].lin < ops[b].lin; });
  std::map<std::string, std::optional<int64_t>> state;
  for (const size_t i : by_lin) {
    GenOp& op = ops[i];
    auto& cur = state[op.key];
    if (op.f == "read") {
      op.result = cur ? Json::number(*cur) : Json();
    } else if (op.f == "write") {
      if (op.applied) cur = op.arg;
    } else {
      // The client picks `expected`: usually the current value, sometimes an older guess.
      op.expected = cur && rng.chance(7, 10) ? *cur : op.arg - 1;
      const bool holds = cur && *cur == op.expected;
      if (!holds) op.outcome = OpType::kFail;
      if (holds && op.applied) cur = op.arg;
    }
    if (op.info) op.outcome = OpType::kInfo;
  }
  struct Ev {
    int64_t t;
    bool is_call;
    size_t op;
  };
  std::vector<Ev> evs;
  for (size_t i = 0; i < ops.size(); ++i) {
    evs.push_back({ops[i].call, true, i});
    evs.push_back({ops[i].ret, false, i});
  }
  std::stable_sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) { return a.t < b.t; });
  History h;
  for (const Ev& ev : evs) {
    const GenOp& op = ops[ev.op];
    Event e;
    e.index = static_cast<int64_t>(h.size());
    e.process = op.process;
    e.node = "n1";
    e.f = op.f;
    e.time_ns = ev.t;
    e.wall_ms = ev.t / 1'000'000;
    e.value = Json::object();
    e.value.set("key", Json::string(op.key));
    if (op.f == "write") e.value.set("value", Json::number(op.arg));
    if (op.f == "cas") {
      e.value.set("expected", Json::number(op.expected));
      e.value.set("new", Json::number(op.arg));
    }
    if (ev.is_call) {
      e.type = OpType::kInvoke;
    } else {
      e.type = op.outcome;
      if (op.f == "read" && op.outcome == OpType::kOk) e.value.set("value", op.result);
    }
    h.push_back(std::move(e));
  }
  return h;
}

}  // namespace jepsen::testing
