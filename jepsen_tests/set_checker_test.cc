#include <doctest/doctest.h>

#include "jepsen_tests/set_checker.h"
#include "jepsen_tests/test_history.h"

using namespace jepsen;
using testing::HistoryBuilder;

namespace {
Json list(std::initializer_list<int64_t> xs) {
  Json j = Json::array();
  for (auto x : xs) j.push_back(Json::number(x));
  return j;
}
CheckResult check(const HistoryBuilder& b) {
  auto r = check_set(b.operations());
  REQUIRE(r.is_ok());
  return std::move(r).value();
}
}  // namespace

TEST_CASE("set: every acknowledged add present, an info add recovered: valid") {
  HistoryBuilder b;
  b.op(1, "add", Json::number(1), 0, 1)
      .op(2, "add", Json::number(2), 0, 1, OpType::kInfo)
      .op(1, "add", Json::number(3), 2, 3, OpType::kFail)
      .op(3, "read", Json(), 10, 11, OpType::kOk, list({1, 2}));
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kValid);
  CHECK(r.stats.find_i64("recovered") == 1);
  CHECK(r.stats.find_i64("lost") == 0);
}

TEST_CASE("set: an acknowledged add missing from the final read is lost") {
  HistoryBuilder b;
  b.op(1, "add", Json::number(1), 0, 1)
      .op(1, "add", Json::number(2), 2, 3)
      .op(3, "read", Json(), 10, 11, OpType::kOk, list({1}));
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kInvalid);
  CHECK(r.stats.find_i64("lost") == 1);
  CHECK(r.counterexample.find("2 acknowledged but missing") != std::string::npos);
  // Placed on the timeline where the lost add was acknowledged.
  CHECK(r.first_anomaly_ns == 3'000'000);
  CHECK(r.first_anomaly == "lost");
}

TEST_CASE("set: an add still running when the final read began may be missing") {
  HistoryBuilder b;
  b.invoke(1, "add", Json::number(1), 0)
      .op(3, "read", Json(), 1, 2, OpType::kOk, list({}))
      .ok(1, "add", Json::number(1), 3);
  CHECK(check(b).valid == Validity::kValid);
}

TEST_CASE("set: unexpected, aborted and duplicated elements are invalid") {
  HistoryBuilder b;
  b.op(1, "add", Json::number(1), 0, 1)
      .op(1, "add", Json::number(2), 2, 3, OpType::kFail)
      .op(3, "read", Json(), 10, 11, OpType::kOk, list({1, 1, 2, 7}));
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kInvalid);
  CHECK(r.stats.find_i64("unexpected") == 1);
  const Json* a = r.stats.find("anomalies");
  CHECK(a->find_i64("aborted") == 1);
  CHECK(a->find_i64("duplicated") == 1);
}

TEST_CASE("set: without a successful final read the verdict is unknown") {
  HistoryBuilder b;
  b.op(1, "add", Json::number(1), 0, 1).op(3, "read", Json(), 10, 11, OpType::kInfo);
  CHECK(check(b).valid == Validity::kUnknown);
}
