#include <doctest/doctest.h>

#include "jepsen_tests/queue_checker.h"
#include "jepsen_tests/test_history.h"

using namespace jepsen;
using testing::HistoryBuilder;

namespace {
Json enqueue(const char* id, int64_t delay_ms = 0, std::vector<int64_t> backoff = {100, 200},
             bool atomic = false) {
  Json j = Json::object();
  j.set("id", Json::string(id));
  j.set("delay_ms", Json::number(delay_ms));
  Json b = Json::array();
  for (auto v : backoff) b.push_back(Json::number(v));
  j.set("backoff_ms", b);
  j.set("dlq_keys", Json::number(1));
  j.set("atomic", Json::boolean(atomic));
  return j;
}
Json id(const char* s) {
  Json j = Json::object();
  j.set("id", Json::string(s));
  return j;
}
Json dlq(std::initializer_list<std::tuple<const char*, int, int, bool>> entries) {
  Json list = Json::array();
  for (const auto& [m, present, total, matches] : entries) {
    Json e = Json::object();
    e.set("id", Json::string(m));
    e.set("keys_present", Json::number(present));
    e.set("keys_total", Json::number(total));
    e.set("value_matches", Json::boolean(matches));
    list.push_back(e);
  }
  return list;
}
CheckResult check(const HistoryBuilder& b) {
  auto r = check_queue(b.operations());
  REQUIRE(r.is_ok());
  return std::move(r).value();
}
int64_t anomaly(const CheckResult& r, const char* kind) {
  return r.stats.find("anomalies")->find_i64(kind).value_or(0);
}
}  // namespace

TEST_CASE("queue: delivered, delayed, retried and dead-lettered messages are all valid") {
  HistoryBuilder b;
  b.op(1, "enqueue", enqueue("m1"), 0, 1)
      .op(1, "enqueue", enqueue("m2", 500), 2, 3)
      .op(1, "enqueue", enqueue("m3"), 4, 5)
      .op(9, "deliver", id("m1"), 10, 11)
      .op(9, "deliver", id("m2"), 510, 511)
      // m3's handler always fails: 1 + 2 attempts honouring 100 ms then 200 ms, then dead letter.
      .op(9, "deliver", id("m3"), 20, 21, OpType::kFail)
      .op(9, "deliver", id("m3"), 125, 126, OpType::kFail)
      .op(9, "deliver", id("m3"), 330, 331, OpType::kFail)
      .op(2, "dlq-read", Json(), 1000, 1001, OpType::kOk, dlq({{"m3", 1, 1, true}}));
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kValid);
  CHECK(r.stats.find_i64("delivered") == 2);
  CHECK(r.stats.find_i64("dead_lettered") == 1);
}

TEST_CASE("queue: an acknowledged enqueue never delivered nor dead-lettered is lost") {
  HistoryBuilder b;
  b.op(1, "enqueue", enqueue("m1"), 0, 1)
      .op(1, "enqueue", enqueue("m2"), 0, 1, OpType::kInfo)  // unknown: may vanish
      .op(2, "dlq-read", Json(), 1000, 1001, OpType::kOk, dlq({}));
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kInvalid);
  CHECK(anomaly(r, "lost") == 1);
}

TEST_CASE("queue: without the final dead-letter read an undelivered message is undetermined") {
  HistoryBuilder b;
  b.op(1, "enqueue", enqueue("m1"), 0, 1);
  CHECK(check(b).valid == Validity::kUnknown);
}

TEST_CASE("queue: delivery before the delay is early; a retry before its backoff ignores it") {
  HistoryBuilder b;
  b.op(1, "enqueue", enqueue("m1", 1000), 0, 1)
      .op(9, "deliver", id("m1"), 500, 501)
      .op(1, "enqueue", enqueue("m2"), 0, 1)
      .op(9, "deliver", id("m2"), 10, 11, OpType::kFail)
      .op(9, "deliver", id("m2"), 30, 31);  // backoff was 100 ms
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kInvalid);
  CHECK(anomaly(r, "early-delivery") == 1);
  CHECK(anomaly(r, "backoff-ignored") == 1);
  // The earliest of the two on the timeline: m2's retry completes at 31 ms, m1's early
  // delivery at 501 ms.
  CHECK(r.first_anomaly_ns == 31'000'000);
  CHECK(r.first_anomaly == "backoff-ignored");
}

TEST_CASE("queue: under clock skew the delay tolerance grows by the skew spread, no further") {
  // A leader whose clock ran 3 s ahead delivered a 5 s delayed message after 2.2 s of real time.
  HistoryBuilder b;
  b.op(1, "enqueue", enqueue("m1", 5000), 0, 1)
      .op(9, "deliver", id("m1"), 2200, 2201)
      .op(20, "dlq-read", Json(), 9000, 9001, OpType::kOk, dlq({}));
  CHECK(anomaly(check(b), "early-delivery") == 1);  // no skew allowed: early
  QueueOptions skewed;
  skewed.clock_tolerance_ms = 25 + 3000 + 300;  // what the harness sets for a 3 s spread
  auto r = check_queue(b.operations(), skewed);
  REQUIRE(r.is_ok());
  CHECK(r->valid == Validity::kValid);
  // Earlier than the spread allows is still early.
  HistoryBuilder c;
  c.op(1, "enqueue", enqueue("m1", 5000), 0, 1)
      .op(9, "deliver", id("m1"), 1000, 1001)
      .op(20, "dlq-read", Json(), 9000, 9001, OpType::kOk, dlq({}));
  r = check_queue(c.operations(), skewed);
  REQUIRE(r.is_ok());
  CHECK(r->valid == Validity::kInvalid);
}

TEST_CASE("queue: nothing from nowhere: unknown ids and failed enqueues must not be delivered") {
  HistoryBuilder b;
  b.op(1, "enqueue", enqueue("m1"), 0, 1, OpType::kFail)
      .op(9, "deliver", id("m1"), 10, 11)
      .op(9, "deliver", id("ghost"), 12, 13);
  const CheckResult r = check(b);
  CHECK(anomaly(r, "delivered-failed-enqueue") == 1);
  CHECK(anomaly(r, "unexpected-delivery") == 1);
}

TEST_CASE(
    "queue: dead letters only when the schedule is exhausted, whole, and never after success") {
  HistoryBuilder b;
  b.op(1, "enqueue", enqueue("early"), 0, 1)
      .op(9, "deliver", id("early"), 10, 11, OpType::kFail)  // 1 of 3 attempts
      .op(1, "enqueue", enqueue("after-ok"), 0, 1)
      .op(9, "deliver", id("after-ok"), 10, 11)
      .op(1, "enqueue", enqueue("partial"), 0, 1)
      .op(9, "deliver", id("partial"), 10, 11)
      .op(2, "dlq-read", Json(), 1000, 1001, OpType::kOk,
          dlq({{"early", 1, 1, true}, {"after-ok", 1, 1, true}, {"partial", 1, 2, true}}));
  const CheckResult r = check(b);
  CHECK(anomaly(r, "dead-lettered-early") == 1);
  CHECK(anomaly(r, "dead-lettered-after-success") == 2);
  CHECK(anomaly(r, "partial-dead-letter") == 1);
}

TEST_CASE("queue: duplicates are counted and bounded") {
  HistoryBuilder ok_dup;
  ok_dup.op(1, "enqueue", enqueue("m1"), 0, 1)
      .op(9, "deliver", id("m1"), 10, 11)
      .op(8, "deliver", id("m1"), 20, 21);  // a redelivery after a lost ack
  const CheckResult r1 = check(ok_dup);
  CHECK(r1.valid == Validity::kValid);
  CHECK(r1.stats.find_i64("duplicate_deliveries") == 1);
  HistoryBuilder flood;
  flood.op(1, "enqueue", enqueue("m1"), 0, 1);
  for (int i = 0; i < 5; ++i) flood.op(9, "deliver", id("m1"), 10 + i * 10, 11 + i * 10);
  CHECK(anomaly(check(flood), "too-many-deliveries") == 1);
}

TEST_CASE("queue: an atomic enqueue delivered without its batch's marker is invalid") {
  HistoryBuilder b;
  Json markers = Json::array();
  markers.push_back(Json::string("m2"));
  b.op(1, "enqueue", enqueue("m1", 0, {}, true), 0, 1, OpType::kInfo)
      .op(1, "enqueue", enqueue("m2", 0, {}, true), 2, 3)
      .op(9, "deliver", id("m1"), 10, 11)
      .op(9, "deliver", id("m2"), 10, 11)
      .op(2, "marker-read", Json(), 1000, 1001, OpType::kOk, markers);
  CHECK(anomaly(check(b), "enqueue-without-batch") == 1);
}
