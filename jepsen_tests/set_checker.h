// set workload: unique adds, then a final read of the whole set.
// Op shapes (HISTORY.md): f "add" value = the element; f "read" -> ok value = list of elements.
// Against the last ok read: lost = acknowledged adds that completed before that read began and
// are missing; unexpected = elements never attempted; aborted = elements whose add failed
// (definitely not applied) yet are present; recovered = elements of info adds that are present;
// duplicated = elements present more than once. Valid iff lost, unexpected, aborted and
// duplicated are all zero. No ok read: unknown.
#pragma once

#include <vector>

#include "base/status.h"
#include "jepsen_tests/check_result.h"
#include "jepsen_tests/history.h"

namespace jepsen {

base::Result<CheckResult> check_set(const std::vector<Operation>& ops);

}  // namespace jepsen
