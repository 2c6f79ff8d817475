#include "jepsen_tests/bank_checker.h"

#include <algorithm>

namespace jepsen {

namespace {

// One ok read: every balance an integer, none negative, the total as expected (the first read's
// when none is configured), the configured accounts exactly.
base::Status check_read(const Operation& op, const BankOptions& options, int64_t origin_ns,
                        std::optional<int64_t>& total, AnomalyLog& log) {
  const Json* balances = op.value.find("balances");
  if (balances == nullptr || !balances->is_object()) {
    return base::invalid_argument("bank read #{} has no balances object", op.invoke_index);
  }
  int64_t sum = 0;
  std::vector<std::string> seen;
  for (const auto& [account, balance] : balances->as_object()) {
    const auto amount = balance.number_as_i64();
    if (!amount) {
      return base::invalid_argument("bank read #{}: balance of {} is not an integer",
                                    op.invoke_index, account);
    }
    sum += *amount;
    seen.push_back(account);
    if (*amount < 0) {
      log.add("negative-balance",
              fmt::format("{}: {} = {}", describe_operation(op, origin_ns), account, *amount), &op);
    }
  }
  if (!total) total = sum;
  if (sum != *total) {
    log.add(
        "wrong-total",
        fmt::format("{}: total {} instead of {}", describe_operation(op, origin_ns), sum, *total),
        &op);
  }
  if (!options.accounts.empty()) {
    std::vector<std::string> expected = options.accounts;
    std::sort(expected.begin(), expected.end());
    std::sort(seen.begin(), seen.end());
    if (seen != expected) {
      log.add("wrong-accounts",
              fmt::format("{}: accounts differ from the {} expected",
                          describe_operation(op, origin_ns), expected.size()),
              &op);
    }
  }
  return base::Status::ok();
}

}  // namespace

base::Result<CheckResult> check_bank(const std::vector<Operation>& ops,
                                     const BankOptions& options) {
  AnomalyLog log;
  std::optional<int64_t> total = options.total;
  const bool inferred = !total.has_value();
  int64_t reads = 0, transfers_ok = 0, transfers_other = 0;
  const int64_t origin_ns = ops.empty() ? 0 : ops.front().invoke_ns;
  for (const Operation& op : ops) {
    if (op.f == "transfer") {
      (op.ok() ? transfers_ok : transfers_other) += 1;
      continue;
    }
    if (op.f != "read")
      return base::invalid_argument("bank op #{}: unknown f \"{}\"", op.invoke_index, op.f);
    if (!op.ok()) continue;
    ++reads;
    RETURN_IF_ERROR(check_read(op, options, origin_ns, total, log));
  }
  CheckResult result;
  result.stats.set("reads", Json::number(reads));
  result.stats.set("transfers_ok", Json::number(transfers_ok));
  result.stats.set("transfers_failed_or_unknown", Json::number(transfers_other));
  if (total) result.stats.set("total", Json::number(*total));
  const std::string names = log.apply(result);
  const std::string source = inferred ? "the first read's total" : "the configured total";
  if (!log.empty()) {
    result.explanation = fmt::format(
        "bank: {} of {} reads violate the invariants ({}); expected "
        "total {} ({}).",
        log.count("wrong-total") + log.count("negative-balance") + log.count("wrong-accounts"),
        reads, names, total.value_or(0), source);
  } else if (reads == 0) {
    result.valid = Validity::kUnknown;
    result.explanation = "bank: no successful reads, nothing to check.";
  } else {
    result.explanation = fmt::format(
        "bank: all {} reads saw total {} ({}) and no negative balance.", reads, *total, source);
  }
  return result;
}

}  // namespace jepsen
