// The verdict every checker returns, and how verdicts combine.
#pragma once

#include <string>
#include <string_view>

#include "jepsen_tests/json_value.h"

namespace jepsen {

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

// Invalid beats unknown beats valid.
Validity combine(Validity a, Validity b);
// {"valid": true|false|"unknown", "explanation", "counterexample", "stats"}
Json check_result_to_json(const CheckResult& result);

}  // namespace jepsen
