#include "jepsen_tests/checkers.h"

#include "jepsen_tests/set_checker.h"
#include "jepsen_tests/watch_checker.h"

namespace jepsen {

const std::vector<std::string>& workload_names() {
  static const std::vector<std::string> names{"register", "bank",  "append", "set",
                                              "queue",    "watch", "expiry"};
  return names;
}

base::Result<CheckResult> check_workload(std::string_view workload,
                                         const std::vector<Operation>& ops,
                                         const CheckOptions& options) {
  if (workload == "register") return check_register(ops, options.register_options);
  if (workload == "bank") return check_bank(ops, options.bank_options);
  if (workload == "append") return check_append(ops, options.append_options);
  if (workload == "set") return check_set(ops);
  if (workload == "queue") return check_queue(ops, options.queue_options);
  if (workload == "watch") return check_watch(ops);
  if (workload == "expiry") return check_expiry(ops, options.expiry_options);
  return base::invalid_argument(
      "unknown workload \"{}\" (one of register, bank, append, set, "
      "queue, watch, expiry)",
      workload);
}

}  // namespace jepsen
