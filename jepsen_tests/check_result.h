// The verdict every checker returns, and how verdicts combine.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "jepsen_tests/history.h"

namespace jepsen {

using base::Json;

// kUnknown means the checker could not decide (budget exhausted, nothing to compare against):
// it is never a pass. Exit codes of jepsen_check follow this order: 0 / 1 / 2.
enum class Validity { kValid, kInvalid, kUnknown };
std::string_view validity_name(Validity v);  // "true" | "false" | "unknown"
int validity_exit_code(Validity v);          // 0 | 1 | 2

struct CheckResult {
  Validity valid = Validity::kValid;
  std::string explanation;      // one paragraph for people: what was checked, what failed
  std::string counterexample;   // multi-line text showing the offending ops; empty when valid
  Json stats = Json::object();  // counts and timings, workload-specific
  // The earliest anomaly with a place in time (history clock: when the op that shows it
  // completed, or was invoked if it never did) and its kind; for the report's timeline.
  std::optional<int64_t> first_anomaly_ns;
  std::string first_anomaly;
};

// When `op` shows an anomaly: its completion, or its invocation if it never completed.
int64_t anomaly_time_ns(const Operation& op);
// Keeps the earlier of result's first anomaly and (at_ns, kind).
void note_anomaly(CheckResult& result, int64_t at_ns, const std::string& kind);

// Collects violations by kind; writes the counts into stats["anomalies"] and the first few
// witnesses of each kind into the counterexample.
class AnomalyLog {
 public:
  // `at`: the op that shows the anomaly, when there is one (it places it on the timeline).
  void add(const std::string& kind, std::string witness, const Operation* at = nullptr);
  bool empty() const { return count_ == 0; }
  int64_t count(const std::string& kind) const;
  // Sets valid = kInvalid when anything was logged (leaves it alone otherwise), the
  // counterexample, the first anomaly and stats["anomalies"]; returns "kind, kind" for
  // explanations.
  std::string apply(CheckResult& result, size_t examples_per_kind = 5) const;

 private:
  std::vector<std::pair<std::string, std::vector<std::string>>> kinds_;  // in first-seen order
  int64_t count_ = 0;
  std::optional<int64_t> first_ns_;
  std::string first_kind_;
};

// Invalid beats unknown beats valid.
Validity combine(Validity a, Validity b);
// {"valid": true|false|"unknown", "explanation", "counterexample", "stats"}
Json check_result_to_json(const CheckResult& result);

}  // namespace jepsen
