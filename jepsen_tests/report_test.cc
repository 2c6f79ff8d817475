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

TEST_CASE("report: the HTML has both charts, every series and one shaded rectangle per fault") {
  testing::HistoryBuilder b;
  for (int i = 0; i < 200; ++i) {
    b.op(i % 4, "write", testing::kv("x", i), i * 10.0, i * 10.0 + 3,
         i % 50 == 7 ? OpType::kInfo : OpType::kOk);
  }
  const auto ops = b.operations();
  ReportInput input;
  input.title = "register <test>";
  input.workload = "register";
  input.ops = &ops;
  auto faults = parse_faults(
      "{\"start_ns\":200000000,\"end_ns\":500000000,\"name\":\"partition halves\"}\n"
      "{\"start_ns\":1200000000,\"end_ns\":null,\"name\":\"kill n1\"}\n");
  REQUIRE(faults.is_ok());
  input.faults = *faults;
  input.result = check_workload("register", ops).value();
  const std::string html = render_report_html(input);
  CHECK(count(html, "<svg") == 2);
  CHECK(count(html, "<rect class=\"fault\"") == 4);  // two faults in each of two charts
  CHECK(count(html, "<title>partition halves</title>") == 2);
  for (const char* series :
       {"series-ok", "series-fail", "series-info", "series-p50", "series-p99"}) {
    CHECK(count(html, series) == 1);
  }
  CHECK(html.find("register &lt;test&gt;") != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);  // self-contained, static

  const Json results = results_json(input);
  CHECK(results.find("valid")->as_bool());
  CHECK(results.find("summary")->find_i64("ops") == 200);
  CHECK(results.find("summary")->find_i64("info") == 4);
  CHECK(results.find("faults")->as_array()[1].find("end_ns")->is_null());
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
