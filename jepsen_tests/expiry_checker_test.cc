#include <doctest/doctest.h>

#include "jepsen_tests/expiry_checker.h"
#include "jepsen_tests/test_history.h"

using namespace jepsen;
using testing::HistoryBuilder;

namespace {
Json write(const char* key, int64_t value, int64_t expire_ms) {
  return Json::object({{"key", Json::string(key)},
                       {"value", Json::number(value)},
                       {"expire_ms", Json::number(expire_ms)}});
}
Json key(const char* k) { return Json::object({{"key", Json::string(k)}}); }
Json seen(const char* k, Json value) {
  return Json::object({{"key", Json::string(k)}, {"value", std::move(value)}});
}
CheckResult check(const HistoryBuilder& b, int64_t tolerance_ms = 25) {
  auto r = check_expiry(b.operations(), ExpiryOptions{tolerance_ms});
  REQUIRE(r.is_ok());
  return std::move(r).value();
}
int64_t anomaly(const CheckResult& r, const char* kind) {
  const Json* a = r.stats.find("anomalies");
  return a ? a->find_i64(kind).value_or(0) : 0;
}
}  // namespace

TEST_CASE("expiry: present until expireIn, gone after, never back, is valid") {
  HistoryBuilder b;
  b.op(1, "write", write("e1", 1, 1000), 0, 5)
      .op(2, "read", key("e1"), 10, 11, OpType::kOk, seen("e1", Json::number(1)))
      .op(2, "read", key("e1"), 1500, 1501, OpType::kOk,
          seen("e1", Json::number(1)))  // not swept yet
      .op(2, "read", key("e1"), 2000, 2001, OpType::kOk, seen("e1", Json()))
      .op(2, "read", key("e1"), 2500, 2501, OpType::kOk, seen("e1", Json()));
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kValid);
  CHECK(r.stats.find_i64("seen_expired") == 1);
}

TEST_CASE("expiry: a key seen gone and then present again has reappeared") {
  HistoryBuilder b;
  b.op(1, "write", write("e1", 1, 1000), 0, 5)
      .op(2, "read", key("e1"), 1200, 1201, OpType::kOk, seen("e1", Json()))
      .op(3, "read", key("e1"), 1300, 1301, OpType::kOk, seen("e1", Json::number(1)));
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kInvalid);
  CHECK(anomaly(r, "reappeared") == 1);
}

TEST_CASE("expiry: gone before expireIn minus the tolerance is early; the skew spread widens it") {
  HistoryBuilder b;
  b.op(1, "write", write("e1", 1, 3000), 0, 5)
      .op(2, "read", key("e1"), 1000, 1001, OpType::kOk, seen("e1", Json()));
  CHECK(anomaly(check(b), "expired-early") == 1);
  CHECK(check(b, 25 + 2500).valid == Validity::kValid);  // a 2.5 s spread in force
}

TEST_CASE("expiry: values never written, or written by a failed write, are phantoms") {
  HistoryBuilder b;
  b.op(1, "write", write("e1", 1, 1000), 0, 5, OpType::kFail)
      .op(2, "read", key("e1"), 10, 11, OpType::kOk, seen("e1", Json::number(1)))
      .op(1, "write", write("e2", 2, 1000), 0, 5)
      .op(2, "read", key("e2"), 10, 11, OpType::kOk, seen("e2", Json::number(7)))
      .op(2, "read", key("e2"), 2000, 2001, OpType::kOk, seen("e2", Json()));
  CHECK(anomaly(check(b), "phantom") == 2);
}

TEST_CASE("expiry: a read concurrent with the write may miss it; no expiry seen is unknown") {
  HistoryBuilder b;
  b.op(1, "write", write("e1", 1, 5000), 0, 50)
      .op(2, "read", key("e1"), 10, 11, OpType::kOk, seen("e1", Json()))
      .op(2, "read", key("e1"), 100, 101, OpType::kOk, seen("e1", Json::number(1)));
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kUnknown);
  CHECK(anomaly(r, "reappeared") == 0);
}
