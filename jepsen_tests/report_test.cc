#include <doctest/doctest.h>

#include "jepsen_tests/checkers.h"
#include "jepsen_tests/report.h"
#include "jepsen_tests/test_history.h"

using namespace jepsen;

namespace {
size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1))
    ++n;
  return n;
}
}  // namespace

namespace {
// 200 writes of x, one every 10 ms, 4 of them info; faults at 0.2-0.5 s and from 1.2 s on.
struct Fixture {
  std::vector<Operation> ops;
  ReportInput input;
  Fixture() {
    testing::HistoryBuilder b;
    for (int i = 0; i < 200; ++i) {
      b.op(i % 4, "write", testing::kv("x", i), i * 10.0, i * 10.0 + 3,
           i % 50 == 7 ? OpType::kInfo : OpType::kOk);
    }
    ops = b.operations();
    input.title = "register <test>";
    input.workload = "register";
    input.ops = &ops;
    auto faults = parse_faults(
        "{\"start_ns\":200000000,\"end_ns\":500000000,\"name\":\"partition halves\","
        "\"detail\":\"cut n1->n2 n2->n1\"}\n"
        "{\"start_ns\":1200000000,\"end_ns\":null,\"name\":\"kill n1\"}\n");
    REQUIRE(faults.is_ok());
    input.faults = *faults;
    input.result = check_workload("register", ops).value();
    input.files = {"history.jsonl", "n1.log", "n2.log"};
  }
};
}  // namespace

TEST_CASE("report: the HTML has both charts, every series and one shaded rectangle per fault") {
  Fixture f;
  const std::string html = render_report_html(f.input);
  CHECK(count(html, "<svg") == 2);
  CHECK(count(html, "<rect class=\"fault\"") == 4);  // two faults in each of two charts
  CHECK(count(html, "<title>partition halves: 0.2 s .. 0.5 s; cut n1-&gt;n2 n2-&gt;n1</title>") ==
        2);
  for (const char* series :
       {"series-ok", "series-fail", "series-info", "series-p50", "series-p99"}) {
    CHECK(count(html, series) == 1);
  }
  CHECK(html.find("register &lt;test&gt;") != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);  // self-contained, static
  CHECK(html.find("Verdict: <b style=\"color:#2a7\">valid</b>") != std::string::npos);

  const Json results = results_json(f.input);
  CHECK(results.find("valid")->as_bool());
  CHECK(results.find_string("verdict") == "valid");
  CHECK(results.find("first_anomaly")->is_null());
  CHECK(results.find("summary")->find_i64("ops") == 200);
  CHECK(results.find("summary")->find_i64("info") == 4);
  CHECK(results.find("faults")->as_array()[1].find("end_ns")->is_null());
  CHECK(results.find("faults")->as_array()[0].find_string("detail") == "cut n1->n2 n2->n1");
}

TEST_CASE("report: charts follow the window's width and both axes are ticked from zero") {
  Fixture f;
  const std::string html = render_report_html(f.input);
  CHECK(count(html, "viewBox=\"0 0 1000 240\"") == 2);
  CHECK(html.find("svg.chart{width:100%") != std::string::npos);
  CHECK(html.find("<svg xmlns=\"http://www.w3.org/2000/svg\" width=") == std::string::npos);
  // Time from 0 s on x (the history spans ~2 s: ticks every 0.2 s), values from 0 on y.
  CHECK(count(html, ">0 s</text>") == 2);
  CHECK(count(html, ">0.2 s</text>") == 2);
  CHECK(count(html, "text-anchor=\"end\">0</text>") == 2);
  CHECK(count(html, "class=\"ytick\"") >= 6);
  CHECK(count(html, "class=\"xtick\"") >= 18);
}

TEST_CASE("report: the fault table says what each fault did; the run's files are linked") {
  Fixture f;
  const std::string html = render_report_html(f.input);
  CHECK(html.find("<td>partition halves</td><td>0.200 s</td><td>0.500 s</td><td>cut n1-&gt;n2 "
                  "n2-&gt;n1</td>") != std::string::npos);
  CHECK(html.find("<td>kill n1</td><td>1.200 s</td><td>end</td>") != std::string::npos);
  // Each shaded period is numbered like its table row (named where the name fits).
  CHECK(count(html, ">#1 partition halves</text>") == 2);
  CHECK(count(html, ">#2 kill n1</text>") == 2);
  for (const char* file : {"history.jsonl", "n1.log", "n2.log"})
    CHECK(html.find(fmt::format("<a href=\"{0}\">{0}</a>", file)) != std::string::npos);
}

TEST_CASE("report: the first anomaly is marked on both charts and named in the verdict line") {
  testing::HistoryBuilder b;  // a stale read at 4-5 ms
  b.op(1, "write", testing::kv("x", 1), 0, 1)
      .op(1, "write", testing::kv("x", 2), 2, 3)
      .op(2, "read", testing::key_only("x"), 4, 5, OpType::kOk, testing::kv("x", 1));
  const auto ops = b.operations();
  ReportInput input;
  input.title = "stale";
  input.workload = "register";
  input.ops = &ops;
  input.result = check_workload("register", ops).value();
  REQUIRE(input.result.valid == Validity::kInvalid);
  REQUIRE(input.result.first_anomaly_ns == 5'000'000);
  const std::string html = render_report_html(input);
  CHECK(count(html, "<g class=\"first-anomaly\">") == 2);
  CHECK(html.find("First anomaly at 0.005 s: not linearizable: key &quot;x&quot;") !=
        std::string::npos);
  CHECK(html.find(">failed: check</b>") != std::string::npos);
  CHECK(results_json(input).find("first_anomaly")->find_i64("time_ns") == 5'000'000);
  CHECK(verdict_line(input, "runs/r/report.html") ==
        "verdict: failed: check - first anomaly at 0.0 s: not linearizable: key \"x\"; report: "
        "runs/r/report.html");
}

TEST_CASE("report: 'failed: check' (an anomaly) is told apart from 'failed: error' (no verdict)") {
  CheckResult valid, invalid, unknown;
  invalid.valid = Validity::kInvalid;
  unknown.valid = Validity::kUnknown;
  const std::vector<std::string> none, error{"final phase incomplete: no leader"};
  CHECK(outcome_words(run_outcome(valid, none)) == "valid");
  CHECK(outcome_words(run_outcome(invalid, none)) == "failed: check");
  CHECK(outcome_words(run_outcome(invalid, error)) == "failed: check");  // a finding outranks
  CHECK(outcome_words(run_outcome(unknown, error)) == "failed: error");
  CHECK(outcome_words(run_outcome(valid, error)) == "failed: error");
  CHECK(outcome_words(run_outcome(unknown, none)) == "unknown");
  Fixture f;
  f.input.result.valid = Validity::kUnknown;
  f.input.errors = error;
  const std::string html = render_report_html(f.input);
  CHECK(html.find(">failed: error</b>") != std::string::npos);
  CHECK(html.find("<ul class=\"errors\">\n<li>final phase incomplete: no leader</li>") !=
        std::string::npos);
  CHECK(verdict_line(f.input, "d/report.html") ==
        "verdict: failed: error - final phase incomplete: no leader; report: d/report.html");
  CHECK(results_json(f.input).find_string("verdict") == "failed: error");
  f.input.errors.clear();
  f.input.result.valid = Validity::kValid;
  CHECK(verdict_line(f.input, "d/report.html") ==
        "verdict: valid - no anomaly in 200 ops under 2 fault periods; report: d/report.html");
}

TEST_CASE("report: malformed fault lines are errors") {
  CHECK_FALSE(parse_faults("{\"start_ns\":1,\"name\":\"x\"}\n").is_ok());
  CHECK_FALSE(parse_faults("{\"start_ns\":1,\"end_ns\":2}\n").is_ok());
  CHECK_FALSE(parse_faults("nope\n").is_ok());
}

TEST_CASE("checkers: unknown workloads are an error") {
  CHECK_FALSE(check_workload("nope", {}).is_ok());
  for (const auto& w : workload_names()) CHECK(check_workload(w, {}).is_ok());
}
