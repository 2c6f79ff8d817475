// The verdict every checker returns, and how verdicts combine.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"

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
};

// Collects violations by kind; writes the counts into stats["anomalies"] and the first few
// witnesses of each kind into the counterexample.
class AnomalyLog {
 public:
  void add(const std::string& kind, std::string witness);
  bool empty() const { return count_ == 0; }
  int64_t count(const std::string& kind) const;
  // Sets valid = kInvalid when anything was logged (leaves it alone otherwise), the
  // counterexample and stats["anomalies"]; returns "kind, kind" for explanations.
  std::string apply(CheckResult& result, size_t examples_per_kind = 5) const;

 private:
  std::vector<std::pair<std::string, std::vector<std::string>>> kinds_;  // in first-seen order
  int64_t count_ = 0;
};

// Invalid beats unknown beats valid.
Validity combine(Validity a, Validity b);
// {"valid": true|false|"unknown", "explanation", "counterexample", "stats"}
Json check_result_to_json(const CheckResult& result);

}  // namespace jepsen
