// One entry point for every workload's checker, shared by jepsen_check and the harness.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "jepsen_tests/append_checker.h"
#include "jepsen_tests/bank_checker.h"
#include "jepsen_tests/expiry_checker.h"
#include "jepsen_tests/queue_checker.h"
#include "jepsen_tests/register_checker.h"

namespace jepsen {

struct CheckOptions {
  RegisterOptions register_options;
  AppendOptions append_options;
  BankOptions bank_options;
  QueueOptions queue_options;
  ExpiryOptions expiry_options;
};

// "register", "bank", "append", "set", "queue", "watch", "expiry".
const std::vector<std::string>& workload_names();
// Errors on an unknown workload or a malformed history.
base::Result<CheckResult> check_workload(std::string_view workload,
                                         const std::vector<Operation>& ops,
                                         const CheckOptions& options = {});

}  // namespace jepsen
