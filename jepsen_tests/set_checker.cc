#include "jepsen_tests/set_checker.h"

#include <map>
#include <unordered_map>

namespace jepsen {

base::Result<CheckResult> check_set(const std::vector<Operation>& ops) {
  std::unordered_map<std::string, const Operation*> adds;  // element text -> its add
  const Operation* final_read = nullptr;
  for (const Operation& op : ops) {
    if (op.f == "add") {
      if (!adds.emplace(op.invoke_value.serialize(), &op).second) {
        return base::invalid_argument("set op #{}: element {} added twice (adds must be unique)",
                                      op.invoke_index, op.invoke_value.serialize());
      }
    } else if (op.f == "read") {
      if (!op.ok()) continue;
      if (!op.value.is_array())
        return base::invalid_argument("set read #{} is not a list", op.invoke_index);
      if (final_read == nullptr || op.complete_ns >= final_read->complete_ns) final_read = &op;
    } else {
      return base::invalid_argument("set op #{}: unknown f \"{}\"", op.invoke_index, op.f);
    }
  }
  CheckResult result;
  result.stats.set("attempted", Json::number(static_cast<int64_t>(adds.size())));
  if (final_read == nullptr) {
    result.valid = Validity::kUnknown;
    result.explanation = "set: no successful final read, nothing to check.";
    return result;
  }
  AnomalyLog log;
  std::unordered_map<std::string, int64_t> present;
  for (const Json& e : final_read->value.as_array()) ++present[e.serialize()];
  int64_t recovered = 0, acknowledged = 0;
  for (const auto& [element, times] : present) {
    if (times > 1)
      log.add("duplicated", fmt::format("{} present {} times", element, times), final_read);
    const auto it = adds.find(element);
    if (it == adds.end()) {
      log.add("unexpected", fmt::format("{} was never added", element), final_read);
    } else if (it->second->failed()) {
      log.add("aborted",
              fmt::format("{} present although its add failed: {}", element,
                          describe_operation(*it->second)),
              final_read);
    } else if (it->second->indeterminate()) {
      ++recovered;
    }
  }
  std::map<int64_t, std::pair<std::string, const Operation*>> lost;  // by add index: stable
  for (const auto& [element, op] : adds) {
    if (!op->ok()) continue;
    ++acknowledged;
    if (op->complete_ns < final_read->invoke_ns && !present.contains(element)) {
      lost.emplace(op->invoke_index, std::pair(fmt::format("{} acknowledged but missing: {}",
                                                           element, describe_operation(*op)),
                                               op));
    }
  }
  // A lost add is placed where it was acknowledged.
  for (auto& [index, lost_add] : lost) log.add("lost", std::move(lost_add.first), lost_add.second);
  result.stats.set("acknowledged", Json::number(acknowledged));
  result.stats.set("present", Json::number(static_cast<int64_t>(present.size())));
  result.stats.set("lost", Json::number(log.count("lost")));
  result.stats.set("unexpected", Json::number(log.count("unexpected")));
  result.stats.set("recovered", Json::number(recovered));
  const std::string names = log.apply(result);
  result.explanation = log.empty()
                           ? fmt::format(
                                 "set: all {} acknowledged adds present in the final read; {} "
                                 "unknown adds recovered.",
                                 acknowledged, recovered)
                           : "set: final read violates the set contract: " + names + ".";
  return result;
}

}  // namespace jepsen
