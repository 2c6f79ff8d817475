// results.json and a self-contained report.html (inline SVG, no scripts; the only links go to
// the run directory's own files):
//   - the verdict in words (Outcome below), the checker's explanation, the run's errors, and
//     the first anomaly (when and what);
//   - throughput (ok / fail / info completions per second) and latency (p50 / p99 of ok ops)
//     over time: axes ticked from zero, charts as wide as the window, fault periods shaded with
//     what each did (which nodes), the first anomaly marked by a red line;
//   - the fault table, the counterexample, the checker's stats, and links to the history, the
//     fault timeline, config.json, results.json and every node's log.
//
// Fault timeline file (faults.jsonl): one {"start_ns", "end_ns", "name", "detail"} per line,
// times on the same monotonic clock as history.jsonl's time_ns; end_ns null = still in force at
// the end; detail (optional) says what the fault did, e.g. "killed n2".
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
  std::string detail;
};

base::Result<std::vector<FaultPeriod>> parse_faults(std::string_view jsonl);
base::Result<std::vector<FaultPeriod>> read_faults_file(const std::string& path);

// A run's verdict in words. A found anomaly outranks an error: it is a finding either way.
enum class Outcome {
  kValid,        // "valid": every check passed
  kFailedCheck,  // "failed: check": a checker found an anomaly, or a node crashed
  kFailedError,  // "failed: error": the run could not be judged (errors say why)
  kUnknown,      // "unknown": the checker could not decide within its budget
};
Outcome run_outcome(const CheckResult& result, const std::vector<std::string>& errors);
std::string_view outcome_words(Outcome outcome);

struct ReportInput {
  std::string title;  // e.g. "register, nemesis partition, 3 nodes, seed 7"
  std::string workload;
  const std::vector<Operation>* ops = nullptr;  // required
  std::vector<FaultPeriod> faults;
  CheckResult result;
  std::vector<std::string> errors;  // why the run could not be judged; empty when it could
  std::vector<std::string> notes;   // other facts for people (e.g. "data dirs removed")
  std::vector<std::string> files;   // run files to link, relative to the report's directory
  Json config;                      // run configuration echoed into results.json (null if none)
};

// Summary numbers: ops by outcome, duration, throughput, latency percentiles (ok ops).
Json summarize_operations(const std::vector<Operation>& ops);
// {"workload","verdict","valid","errors","first_anomaly","check":{...},"summary":{...},
//  "faults":[...],"config":...}
Json results_json(const ReportInput& input);
std::string render_report_html(const ReportInput& input);
// One line for people: the verdict in words, what it rests on, and where the report is, e.g.
// "verdict: failed: check - first anomaly at 12.3 s: lost; report: runs/r1/report.html".
std::string verdict_line(const ReportInput& input, const std::string& report_path);
// Writes <dir>/results.json and <dir>/report.html.
base::Status write_report(const std::string& dir, const ReportInput& input);

}  // namespace jepsen
