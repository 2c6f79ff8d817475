// Test helper: builds histories by hand, one event per call, with times in milliseconds.
#pragma once

#include <string>

#include "base/check.h"
#include "jepsen_tests/history.h"

namespace jepsen::testing {

class HistoryBuilder {
 public:
  // Appends an invoke of f by `process` at t_ms.
  HistoryBuilder& invoke(int64_t process, std::string f, Json value, double t_ms) {
    return add(OpType::kInvoke, process, std::move(f), std::move(value), t_ms);
  }
  HistoryBuilder& ok(int64_t process, std::string f, Json value, double t_ms) {
    return add(OpType::kOk, process, std::move(f), std::move(value), t_ms);
  }
  HistoryBuilder& fail(int64_t process, std::string f, Json value, double t_ms) {
    return add(OpType::kFail, process, std::move(f), std::move(value), t_ms);
  }
  HistoryBuilder& info(int64_t process, std::string f, Json value, double t_ms) {
    return add(OpType::kInfo, process, std::move(f), std::move(value), t_ms);
  }
  // invoke at t0 and completion of `type` at t1, both with `value` unless `result` is given.
  HistoryBuilder& op(int64_t process, std::string f, Json value, double t0_ms, double t1_ms,
                     OpType type = OpType::kOk, Json result = Json()) {
    invoke(process, f, value, t0_ms);
    return add(type, process, std::move(f), result.is_null() ? std::move(value) : std::move(result),
               t1_ms);
  }
  const History& history() const { return history_; }
  std::vector<Operation> operations() const {
    auto ops = pair_operations(history_);
    ENSURE_MSG(ops.is_ok(), "{}", ops.status().to_string());
    return std::move(ops).value();
  }

 private:
  HistoryBuilder& add(OpType type, int64_t process, std::string f, Json value, double t_ms) {
    Event e;
    e.index = static_cast<int64_t>(history_.size());
    e.type = type;
    e.process = process;
    e.node = "n1";
    e.f = std::move(f);
    e.value = std::move(value);
    e.time_ns = static_cast<int64_t>(t_ms * 1e6);
    e.wall_ms = 1'700'000'000'000 + static_cast<int64_t>(t_ms);
    history_.push_back(std::move(e));
    return *this;
  }
  History history_;
};

// {"key": k, ...} helpers for the register workload; integer overloads for the usual case.
inline Json kv(std::string key, Json value) {
  Json j = Json::object();
  j.set("key", Json::string(std::move(key)));
  j.set("value", std::move(value));
  return j;
}
inline Json kv(std::string key, int64_t value) { return kv(std::move(key), Json::number(value)); }
inline Json key_only(std::string key) {
  Json j = Json::object();
  j.set("key", Json::string(std::move(key)));
  return j;
}
inline Json cas(std::string key, Json expected, Json next) {
  Json j = Json::object();
  j.set("key", Json::string(std::move(key)));
  j.set("expected", std::move(expected));
  j.set("new", std::move(next));
  return j;
}
inline Json cas(std::string key, int64_t expected, int64_t next) {
  return cas(std::move(key), Json::number(expected), Json::number(next));
}

}  // namespace jepsen::testing
