#include "jepsen_tests/check_result.h"

namespace jepsen {

std::string_view validity_name(Validity v) {
  switch (v) {
    case Validity::kValid:
      return "true";
    case Validity::kInvalid:
      return "false";
    case Validity::kUnknown:
      return "unknown";
  }
  return "?";
}

int validity_exit_code(Validity v) {
  switch (v) {
    case Validity::kValid:
      return 0;
    case Validity::kInvalid:
      return 1;
    case Validity::kUnknown:
      return 2;
  }
  return 2;
}

Validity combine(Validity a, Validity b) {
  if (a == Validity::kInvalid || b == Validity::kInvalid) return Validity::kInvalid;
  if (a == Validity::kUnknown || b == Validity::kUnknown) return Validity::kUnknown;
  return Validity::kValid;
}

Json check_result_to_json(const CheckResult& result) {
  Json j = Json::object();
  switch (result.valid) {
    case Validity::kValid:
      j.set("valid", true);
      break;
    case Validity::kInvalid:
      j.set("valid", false);
      break;
    case Validity::kUnknown:
      j.set("valid", "unknown");
      break;
  }
  j.set("explanation", result.explanation);
  j.set("counterexample", result.counterexample);
  j.set("stats", result.stats);
  return j;
}

}  // namespace jepsen
