#include <doctest/doctest.h>

#include "jepsen_tests/test_history.h"
#include "jepsen_tests/watch_checker.h"

using namespace jepsen;
using testing::HistoryBuilder;

namespace {
std::string vs(int n) { return fmt::format("{:020x}", n); }
Json entry(const char* key, Json value, Json stamp) {
  Json e = Json::object();
  e.set("key", Json::string(key));
  e.set("value", std::move(value));
  e.set("versionstamp", std::move(stamp));
  return e;
}
Json entries(std::initializer_list<Json> es) {
  Json j = Json::object();
  j.set("entries", Json::array(es));
  return j;
}
Json written(const char* key, int64_t value, int stamp) {
  Json j = testing::kv(key, value);
  j.set("versionstamp", Json::string(vs(stamp)));
  return j;
}
// Writer p1 writes x=1 @1, x=2 @2, y=7 @3; watcher p5 yields; final read by p2.
HistoryBuilder base_history() {
  HistoryBuilder b;
  b.op(1, "write", testing::kv("x", 1), 0, 1, OpType::kOk, written("x", 1, 1))
      .op(1, "write", testing::kv("x", 2), 2, 3, OpType::kOk, written("x", 2, 2))
      .op(1, "write", testing::kv("y", 7), 4, 5, OpType::kOk, written("y", 7, 3))
      .op(1, "write", testing::kv("x", 9), 6, 7, OpType::kFail);
  return b;
}
void final_read(HistoryBuilder& b) {
  b.op(2, "read", Json(), 100, 101, OpType::kOk,
       entries({entry("x", Json::number(2), Json::string(vs(2))),
                entry("y", Json::number(7), Json::string(vs(3)))}));
}
CheckResult check(const HistoryBuilder& b) {
  auto r = check_watch(b.operations());
  REQUIRE(r.is_ok());
  return std::move(r).value();
}
int64_t anomaly(const CheckResult& r, const char* kind) {
  return r.stats.find("anomalies")->find_i64(kind).value_or(0);
}
}  // namespace

TEST_CASE("watch: a watcher that skips states but never goes back and converges is valid") {
  HistoryBuilder b = base_history();
  b.op(5, "watch-open", Json(), 0, 0)
      .op(5, "yield", Json(), 0.5, 0.5, OpType::kOk,
          entries({entry("x", Json(), Json()), entry("y", Json(), Json())}))
      .op(5, "yield", Json(), 3, 3, OpType::kOk,
          entries({entry("x", Json::number(2), Json::string(vs(2))), entry("y", Json(), Json())}))
      .op(5, "yield", Json(), 5, 5, OpType::kOk,
          entries({entry("x", Json::number(2), Json::string(vs(2))),
                   entry("y", Json::number(7), Json::string(vs(3)))}));
  final_read(b);
  CHECK(check(b).valid == Validity::kValid);
}

TEST_CASE("watch: a yield going back in versionstamps is a regression") {
  HistoryBuilder b = base_history();
  b.op(5, "yield", Json(), 3, 3, OpType::kOk,
       entries({entry("x", Json::number(2), Json::string(vs(2)))}))
      .op(5, "yield", Json(), 4, 4, OpType::kOk,
          entries({entry("x", Json::number(1), Json::string(vs(1)))}))
      .op(5, "yield", Json(), 5, 5, OpType::kOk,
          entries({entry("x", Json::number(2), Json::string(vs(2)))}));
  final_read(b);
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kInvalid);
  CHECK(anomaly(r, "versionstamp-regression") == 1);
}

TEST_CASE("watch: yielding a failed write's value or a value never written is invalid") {
  HistoryBuilder b = base_history();
  b.op(5, "yield", Json(), 8, 8, OpType::kOk,
       entries({entry("x", Json::number(9), Json::string(vs(4)))}))
      .op(6, "yield", Json(), 8, 8, OpType::kOk,
          entries({entry("x", Json::number(2), Json::string(vs(2)))}))
      .op(6, "yield", Json(), 9, 9, OpType::kOk,
          entries({entry("x", Json::number(3), Json::string(vs(2)))}));
  final_read(b);
  const CheckResult r = check(b);
  CHECK(anomaly(r, "aborted-read") == 1);
  CHECK(anomaly(r, "wrong-value") == 1);
}

TEST_CASE("watch: a watcher stuck on an old value after healing has not converged") {
  HistoryBuilder b = base_history();
  b.op(5, "yield", Json(), 1.5, 1.5, OpType::kOk,
       entries({entry("x", Json::number(1), Json::string(vs(1)))}));
  final_read(b);
  CHECK(anomaly(check(b), "not-converged") == 1);
}

TEST_CASE("watch: a watcher whose stream broke for good is not required to converge") {
  HistoryBuilder b = base_history();
  b.op(5, "yield", Json(), 1.5, 1.5, OpType::kOk,
       entries({entry("x", Json::number(1), Json::string(vs(1)))}))
      .op(5, "watch-end", Json(), 2.5, 2.5, OpType::kOk);
  final_read(b);
  const CheckResult r = check(b);
  CHECK(anomaly(r, "not-converged") == 0);
  CHECK(r.valid == Validity::kValid);
}

TEST_CASE("watch: a first yield older than a write acknowledged before opening is stale") {
  HistoryBuilder b = base_history();
  b.op(5, "watch-open", Json(), 10, 10)
      .op(5, "yield", Json(), 11, 11, OpType::kOk,
          entries({entry("x", Json::number(1), Json::string(vs(1)))}))
      .op(5, "yield", Json(), 12, 12, OpType::kOk,
          entries({entry("x", Json::number(2), Json::string(vs(2)))}));
  final_read(b);
  CHECK(anomaly(check(b), "stale-first-yield") == 1);
}

TEST_CASE("watch: repeating the same snapshot is a spurious yield; no final read is unknown") {
  HistoryBuilder b = base_history();
  b.op(5, "yield", Json(), 3, 3, OpType::kOk,
       entries({entry("x", Json::number(2), Json::string(vs(2)))}))
      .op(5, "yield", Json(), 4, 4, OpType::kOk,
          entries({entry("x", Json::number(2), Json::string(vs(2)))}));
  CHECK(anomaly(check(b), "spurious-yield") == 1);
  HistoryBuilder quiet = base_history();
  quiet.op(5, "yield", Json(), 3, 3, OpType::kOk,
           entries({entry("x", Json::number(2), Json::string(vs(2)))}));
  CHECK(check(quiet).valid == Validity::kUnknown);
}
