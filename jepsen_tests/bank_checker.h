// bank workload: transfers between accounts as atomic writes with checks, and reads of all
// accounts at once (getMany, strong). Every ok read must see the same total and no negative
// balance. Op shapes (HISTORY.md): f "transfer" {"from","to","amount"} (ok / fail = check
// failed / info); f "read" -> ok {"balances": {"<account>": <integer>, ...}}.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "jepsen_tests/check_result.h"
#include "jepsen_tests/history.h"

namespace jepsen {

struct BankOptions {
  std::optional<int64_t> total;       // expected total; if absent, the first ok read's total
  std::vector<std::string> accounts;  // if non-empty, every read must show exactly these
};

// Errors on malformed ops (a read whose balances are not integers, unknown f).
base::Result<CheckResult> check_bank(const std::vector<Operation>& ops,
                                     const BankOptions& options = {});

}  // namespace jepsen
