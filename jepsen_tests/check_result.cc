#include "jepsen_tests/check_result.h"

#include <fmt/format.h>

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

int64_t anomaly_time_ns(const Operation& op) {
  return op.complete_ns == Operation::kNever ? op.invoke_ns : op.complete_ns;
}

void note_anomaly(CheckResult& result, int64_t at_ns, const std::string& kind) {
  if (result.first_anomaly_ns && *result.first_anomaly_ns <= at_ns) return;
  result.first_anomaly_ns = at_ns;
  result.first_anomaly = kind;
}

void AnomalyLog::add(const std::string& kind, std::string witness, const Operation* at) {
  ++count_;
  if (at != nullptr && (!first_ns_ || anomaly_time_ns(*at) < *first_ns_)) {
    first_ns_ = anomaly_time_ns(*at);
    first_kind_ = kind;
  }
  for (auto& [k, witnesses] : kinds_) {
    if (k == kind) {
      witnesses.push_back(std::move(witness));
      return;
    }
  }
  kinds_.push_back({kind, {std::move(witness)}});
}

int64_t AnomalyLog::count(const std::string& kind) const {
  for (const auto& [k, witnesses] : kinds_) {
    if (k == kind) return static_cast<int64_t>(witnesses.size());
  }
  return 0;
}

std::string AnomalyLog::apply(CheckResult& result, size_t examples_per_kind) const {
  Json counts = Json::object();
  std::string names;
  for (const auto& [kind, witnesses] : kinds_) {
    counts.set(kind, Json::number(static_cast<int64_t>(witnesses.size())));
    names += (names.empty() ? "" : ", ") + kind;
    result.counterexample += kind + ":\n";
    for (size_t i = 0; i < witnesses.size() && i < examples_per_kind; ++i) {
      result.counterexample += "  " + witnesses[i] + "\n";
    }
    if (witnesses.size() > examples_per_kind) {
      result.counterexample +=
          fmt::format("  ... and {} more\n", witnesses.size() - examples_per_kind);
    }
  }
  result.stats.set("anomalies", counts);
  if (count_ > 0) result.valid = Validity::kInvalid;
  if (first_ns_) note_anomaly(result, *first_ns_, first_kind_);
  return names;
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
      j.set("valid", Json::boolean(true));
      break;
    case Validity::kInvalid:
      j.set("valid", Json::boolean(false));
      break;
    case Validity::kUnknown:
      j.set("valid", Json::string("unknown"));
      break;
  }
  j.set("explanation", Json::string(result.explanation));
  j.set("counterexample", Json::string(result.counterexample));
  j.set("stats", result.stats);
  return j;
}

}  // namespace jepsen
