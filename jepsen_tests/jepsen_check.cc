// jepsen_check: re-checks a saved history.
//   jepsen_check --workload W history.jsonl [--faults faults.jsonl] [--out DIR] [options]
// Exit: 0 valid, 1 invalid, 2 unknown, 3 usage or input error.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "jepsen_tests/checkers.h"
#include "jepsen_tests/report.h"

namespace {

constexpr int kUsageError = 3;

const char* kUsage =
    "usage: jepsen_check --workload W HISTORY.jsonl [options]\n"
    "  --workload W        register | bank | append | set | queue | watch | expiry\n"
    "  --faults FILE       fault timeline (faults.jsonl) for the report\n"
    "  --out DIR           write DIR/results.json and DIR/report.html\n"
    "  --key-budget-ms N   register: search time per key before 'unknown' (default 10000)\n"
    "  --bank-total N      bank: expected total (default: the first read's total)\n"
    "  --clock-tolerance-ms N  queue, expiry: allowed early delivery / expiry (default 25;\n"
    "                      a clock-skew run used 25 + clock_skew_spread_ms + 300, see\n"
    "                      results.json)\n"
    "exit status: 0 valid, 1 invalid, 2 unknown, 3 usage or input error\n";

struct Args {
  std::string workload, history, faults, out;
  jepsen::CheckOptions options;
};

bool parse_int(const char* s, int64_t& out) {
  char* end = nullptr;
  out = std::strtoll(s, &end, 10);
  return end != s && *end == '\0';
}

bool parse_args(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    int64_t n = 0;
    if (arg == "--help" || arg == "-h") return false;
    if (arg == "--workload" && has_value)
      a.workload = argv[++i];
    else if (arg == "--faults" && has_value)
      a.faults = argv[++i];
    else if (arg == "--out" && has_value)
      a.out = argv[++i];
    else if (arg == "--key-budget-ms" && has_value && parse_int(argv[++i], n))
      a.options.register_options.time_budget_ms_per_key = n;
    else if (arg == "--bank-total" && has_value && parse_int(argv[++i], n))
      a.options.bank_options.total = n;
    else if (arg == "--clock-tolerance-ms" && has_value && parse_int(argv[++i], n))
      a.options.queue_options.clock_tolerance_ms = a.options.expiry_options.tolerance_ms = n;
    else if (!arg.starts_with("--") && a.history.empty())
      a.history = arg;
    else
      return false;
  }
  return !a.workload.empty() && !a.history.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse_args(argc, argv, args)) {
    std::fputs(kUsage, stderr);
    return kUsageError;
  }
  auto history = jepsen::read_history_file(args.history);
  if (!history.is_ok()) {
    std::fprintf(stderr, "jepsen_check: %s\n", history.status().to_string().c_str());
    return kUsageError;
  }
  auto ops = jepsen::pair_operations(*history);
  if (!ops.is_ok()) {
    std::fprintf(stderr, "jepsen_check: %s\n", ops.status().to_string().c_str());
    return kUsageError;
  }
  auto result = jepsen::check_workload(args.workload, *ops, args.options);
  if (!result.is_ok()) {
    std::fprintf(stderr, "jepsen_check: %s\n", result.status().to_string().c_str());
    return kUsageError;
  }
  std::printf("valid: %s\n%s\n", std::string(jepsen::validity_name(result->valid)).c_str(),
              result->explanation.c_str());
  if (!result->counterexample.empty()) std::printf("\n%s", result->counterexample.c_str());
  std::printf("\nstats: %s\n", result->stats.serialize().c_str());
  if (!args.out.empty()) {
    jepsen::ReportInput input;
    input.title = args.workload + ": " + args.history;
    input.workload = args.workload;
    input.ops = &*ops;
    input.result = *result;
    if (!args.faults.empty()) {
      auto faults = jepsen::read_faults_file(args.faults);
      if (!faults.is_ok()) {
        std::fprintf(stderr, "jepsen_check: %s\n", faults.status().to_string().c_str());
        return kUsageError;
      }
      input.faults = std::move(faults).value();
    }
    const base::Status written = jepsen::write_report(args.out, input);
    if (!written.is_ok()) {
      std::fprintf(stderr, "jepsen_check: %s\n", written.to_string().c_str());
      return kUsageError;
    }
  }
  return jepsen::validity_exit_code(result->valid);
}
