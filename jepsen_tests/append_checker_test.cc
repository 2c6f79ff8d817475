#include <doctest/doctest.h>

#include <chrono>

#include "jepsen_tests/append_checker.h"
#include "jepsen_tests/append_generator.h"
#include "jepsen_tests/test_history.h"

using namespace jepsen;
using testing::HistoryBuilder;

namespace {

Json append(const char* k, int64_t v) {
  return Json::array({Json::string("append"), Json::string(k), Json::number(v)});
}
Json read(const char* k, std::vector<int64_t> vs) {
  Json list = Json::array();
  for (auto v : vs) list.push_back(Json::number(v));
  return Json::array({Json::string("r"), Json::string(k), list});
}
Json txn(std::initializer_list<Json> mops) { return Json::array(mops); }

CheckResult check(const std::vector<Operation>& ops) {
  auto r = check_append(ops);
  REQUIRE(r.is_ok());
  return std::move(r).value();
}
CheckResult check(const HistoryBuilder& b) { return check(b.operations()); }
bool has(const CheckResult& r, const char* anomaly) {
  const Json* a = r.stats.find("anomalies");
  return a != nullptr && a->find(anomaly) != nullptr;
}

}  // namespace

TEST_CASE("append: serial appends and reads are strict serializable") {
  HistoryBuilder b;
  b.op(1, "txn", txn({append("x", 1), append("y", 1)}), 0, 1)
      .op(2, "txn", txn({read("x", {1}), append("x", 2)}), 2, 3)
      .op(3, "txn", txn({read("x", {1, 2}), read("y", {1})}), 4, 5);
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kValid);
  CHECK(r.counterexample.empty());
}

TEST_CASE("append: write skew (each txn misses the other's append) is G2") {
  // T1 reads x and y empty, appends x; T2 reads x and y empty, appends y; later reads show both.
  HistoryBuilder b;
  b.op(1, "txn", txn({read("x", {}), read("y", {}), append("x", 1)}), 0, 10)
      .op(2, "txn", txn({read("x", {}), read("y", {}), append("y", 2)}), 0, 10)
      .op(3, "txn", txn({read("x", {1}), read("y", {2})}), 20, 21);
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kInvalid);
  CHECK(has(r, "G2"));
  CHECK(r.counterexample.find("-rw(\"x\")->") != std::string::npos);
}

TEST_CASE("append: read skew (one rw edge closing a wr cycle) is G-single") {
  // T1 appends x1 and y1 atomically; T2 sees x1 but not y1.
  HistoryBuilder b;
  b.op(1, "txn", txn({append("x", 1), append("y", 1)}), 0, 10)
      .op(2, "txn", txn({read("x", {1}), read("y", {})}), 0, 10)
      .op(3, "txn", txn({read("y", {1})}), 20, 21);
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kInvalid);
  CHECK(has(r, "G-single"));
}

TEST_CASE("append: a write cycle across two keys is G0") {
  // x order says T1 before T2, y order says T2 before T1.
  HistoryBuilder b;
  b.op(1, "txn", txn({append("x", 1), append("y", 2)}), 0, 10)
      .op(2, "txn", txn({append("x", 3), append("y", 4)}), 0, 10)
      .op(3, "txn", txn({read("x", {1, 3}), read("y", {4, 2})}), 20, 21);
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kInvalid);
  CHECK(has(r, "G0"));
}

TEST_CASE("append: circular information flow is G1c") {
  HistoryBuilder b;
  b.op(1, "txn", txn({append("x", 1), read("y", {2})}), 0, 10)
      .op(2, "txn", txn({append("y", 2), read("x", {1})}), 0, 10);
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kInvalid);
  CHECK(has(r, "G1c"));
}

TEST_CASE("append: a stale read after a completed append is a real-time violation") {
  HistoryBuilder b;
  b.op(1, "txn", txn({append("x", 1)}), 0, 1)
      .op(2, "txn", txn({read("x", {})}), 2, 3)  // serializable, but not strict serializable
      .op(3, "txn", txn({read("x", {1})}), 4, 5);
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kInvalid);
  CHECK(has(r, "G-single-realtime"));
  CHECK(r.counterexample.find("-rt->") != std::string::npos);
}

TEST_CASE("append: direct anomalies: aborted, intermediate, garbage, duplicate, order, internal") {
  SUBCASE("aborted read G1a") {
    HistoryBuilder b;
    b.op(1, "txn", txn({append("x", 1)}), 0, 1, OpType::kFail)
        .op(2, "txn", txn({read("x", {1})}), 2, 3);
    CHECK(has(check(b), "G1a"));
  }
  SUBCASE("intermediate read G1b") {
    HistoryBuilder b;
    b.op(1, "txn", txn({append("x", 1), append("x", 2)}), 0, 10)
        .op(2, "txn", txn({read("x", {1})}), 2, 3);
    CHECK(has(check(b), "G1b"));
  }
  SUBCASE("garbage read") {
    HistoryBuilder b;
    b.op(2, "txn", txn({read("x", {9})}), 2, 3);
    CHECK(has(check(b), "garbage-read"));
  }
  SUBCASE("duplicate elements") {
    HistoryBuilder b;
    b.op(1, "txn", txn({append("x", 1)}), 0, 1).op(2, "txn", txn({read("x", {1, 1})}), 2, 3);
    CHECK(has(check(b), "duplicate-elements"));
  }
  SUBCASE("incompatible order") {
    HistoryBuilder b;
    b.op(1, "txn", txn({append("x", 1)}), 0, 10)
        .op(2, "txn", txn({append("x", 2)}), 0, 10)
        .op(3, "txn", txn({read("x", {1, 2})}), 20, 21)
        .op(4, "txn", txn({read("x", {2, 1})}), 20, 21);
    CHECK(has(check(b), "incompatible-order"));
  }
  SUBCASE("internal inconsistency") {
    HistoryBuilder b;
    b.op(1, "txn", txn({append("x", 1), read("x", {})}), 0, 10);
    CHECK(has(check(b), "internal"));
  }
}

TEST_CASE("append: info txns may or may not have committed; failed ones never did") {
  HistoryBuilder b;
  b.op(1, "txn", txn({append("x", 1)}), 0, 1, OpType::kInfo)
      .op(2, "txn", txn({append("x", 2)}), 0, 1, OpType::kInfo)
      .op(3, "txn", txn({read("x", {2})}), 5, 6);
  CHECK(check(b).valid == Validity::kValid);
}

TEST_CASE("append: a history without successful reads is unknown") {
  HistoryBuilder b;
  b.op(1, "txn", txn({append("x", 1)}), 0, 1);
  CHECK(check(b).valid == Validity::kUnknown);
}

TEST_CASE("append: malformed txns and reused elements are errors") {
  HistoryBuilder bad;
  bad.op(1, "txn", Json::string("nope"), 0, 1);
  CHECK_FALSE(check_append(bad.operations()).is_ok());
  HistoryBuilder reused;
  reused.op(1, "txn", txn({append("x", 1)}), 0, 1).op(2, "txn", txn({append("x", 1)}), 2, 3);
  CHECK_FALSE(check_append(reused.operations()).is_ok());
}

TEST_CASE("append: random valid histories pass; truncating one read makes them fail") {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    testing::AppendGenOptions o;
    o.seed = seed;
    History h = testing::generate_append_history(o);
    auto ops = pair_operations(h).value();
    const CheckResult valid = check(ops);
    CAPTURE(valid.counterexample);
    CHECK(valid.valid == Validity::kValid);

    // Drop the last element of a read whose writer finished before the reader began: the read
    // is then stale in real time (rw edge one way, real-time edge the other).
    std::map<std::string, int64_t> append_done_ns;  // "key/element" -> writer completion
    for (const auto& op : ops) {
      if (!op.ok()) continue;
      for (const Json& m : op.value.as_array()) {
        const auto& p = m.as_array();
        if (p[0].as_string() == "append")
          append_done_ns[p[1].as_string() + "/" + p[2].serialize()] = op.complete_ns;
      }
    }
    bool corrupted = false;
    for (Event& e : h) {
      if (corrupted || e.type != OpType::kOk) continue;
      const Operation* op = nullptr;
      for (const auto& candidate : ops) {
        if (candidate.complete_index == e.index) op = &candidate;
      }
      for (Json& m : e.value.as_array()) {
        auto& p = m.as_array();
        if (corrupted || p[0].as_string() != "r" || p[2].as_array().empty()) continue;
        const auto it =
            append_done_ns.find(p[1].as_string() + "/" + p[2].as_array().back().serialize());
        if (it == append_done_ns.end() || it->second >= op->invoke_ns) continue;
        p[2].as_array().pop_back();
        corrupted = true;
      }
    }
    REQUIRE(corrupted);
    const CheckResult invalid = check(pair_operations(h).value());
    CHECK(invalid.valid == Validity::kInvalid);
  }
}

TEST_CASE("append: 20,000 txns check in well under a minute") {
  testing::AppendGenOptions o;
  o.txns = 20'000;
  o.keys = 50;
  o.processes = 10;
  const History h = testing::generate_append_history(o);
  const auto ops = pair_operations(h).value();
  const auto start = std::chrono::steady_clock::now();
  const CheckResult r = check(ops);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("20k-txn append history checked in " << seconds << " s");
  CHECK(r.valid == Validity::kValid);
  CHECK(seconds < 30.0);
}
