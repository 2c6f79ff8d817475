// results.json and a self-contained report.html (inline SVG, no scripts, no external files):
// throughput (ok / fail / info completions per bucket) and latency (p50 / p99 of ok ops per
// bucket) over time, with the fault periods shaded in both charts.
//
// Fault timeline file (faults.jsonl): one {"start_ns", "end_ns", "name"} per line, times on the
// same monotonic clock as history.jsonl's time_ns; end_ns null = still in force at the end.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "jepsen_tests/check_result.h"
#include "jepsen_tests/history.h"

namespace jepsen {

struct FaultPeriod {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::string name;
};

base::Result<std::vector<FaultPeriod>> parse_faults(std::string_view jsonl);
base::Result<std::vector<FaultPeriod>> read_faults_file(const std::string& path);

struct ReportInput {
  std::string title;  // e.g. "register, partition-random-halves, seed 7"
  std::string workload;
  const std::vector<Operation>* ops = nullptr;  // required
  std::vector<FaultPeriod> faults;
  CheckResult result;
  Json config;  // run configuration echoed into results.json (null if none)
};

// Summary numbers: ops by outcome, duration, throughput, latency percentiles (ok ops).
Json summarize_operations(const std::vector<Operation>& ops);
// {"workload","valid","check":{...},"summary":{...},"faults":[...],"config":...}
Json results_json(const ReportInput& input);
std::string render_report_html(const ReportInput& input);
// Writes <dir>/results.json and <dir>/report.html.
base::Status write_report(const std::string& dir, const ReportInput& input);

}  // namespace jepsen
