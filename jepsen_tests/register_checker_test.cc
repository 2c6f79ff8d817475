#include <doctest/doctest.h>

#include <chrono>

#include "jepsen_tests/register_checker.h"
#include "jepsen_tests/register_generator.h"
#include "jepsen_tests/test_history.h"

using namespace jepsen;
using testing::cas;
using testing::HistoryBuilder;
using testing::key_only;
using testing::kv;

namespace {

CheckResult check(const HistoryBuilder& b, RegisterOptions options = {}) {
  auto r = check_register(b.operations(), options);
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

CheckResult check(const History& h, RegisterOptions options = {}) {
  auto ops = pair_operations(h);
  REQUIRE(ops.is_ok());
  auto r = check_register(*ops, options);
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("register: concurrent write and reads that see old then new value are linearizable") {
  HistoryBuilder b;
  b.op(1, "write", kv("x", 1), 0, 1)
      .invoke(1, "write", kv("x", 2), 2)
      .op(2, "read", key_only("x"), 3, 4, OpType::kOk, kv("x", 1))
      .op(3, "read", key_only("x"), 5, 6, OpType::kOk, kv("x", 2))
      .ok(1, "write", kv("x", 2), 7);
  CHECK(check(b).valid == Validity::kValid);
}

TEST_CASE("register: a stale read after a completed write is not linearizable") {
  HistoryBuilder b;
  b.op(1, "write", kv("x", 1), 0, 1)
      .op(1, "write", kv("x", 2), 2, 3)
      .op(2, "read", key_only("x"), 4, 5, OpType::kOk, kv("x", 1));
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kInvalid);
  CHECK(r.counterexample.find("\"x\"") != std::string::npos);
  CHECK(r.counterexample.find("p2 read") != std::string::npos);
}

TEST_CASE("register: reads flip-flopping between two concurrent writes are not linearizable") {
  HistoryBuilder b;
  b.invoke(1, "write", kv("x", 1), 0)
      .invoke(2, "write", kv("x", 2), 0)
      .op(3, "read", key_only("x"), 1, 2, OpType::kOk, kv("x", 1))
      .op(3, "read", key_only("x"), 3, 4, OpType::kOk, kv("x", 2))
      .op(3, "read", key_only("x"), 5, 6, OpType::kOk, kv("x", 1))
      .ok(1, "write", kv("x", 1), 10)
      .ok(2, "write", kv("x", 2), 10);
  CHECK(check(b).valid == Validity::kInvalid);
}

TEST_CASE("register: a lost write (read of absent key after an acknowledged write) is invalid") {
  HistoryBuilder b;
  b.op(1, "write", kv("x", 1), 0, 1)
      .op(2, "read", key_only("x"), 2, 3, OpType::kOk, kv("x", Json()));
  CHECK(check(b).valid == Validity::kInvalid);
}

TEST_CASE("register: an info write may take effect long after its invocation, or never") {
  HistoryBuilder applied_late;
  applied_late.op(1, "write", kv("x", 1), 0, 1)
      .op(2, "write", kv("x", 2), 2, 3, OpType::kInfo)
      .op(3, "read", key_only("x"), 4, 5, OpType::kOk, kv("x", 1))
      .op(3, "read", key_only("x"), 100, 101, OpType::kOk, kv("x", 2));
  CHECK(check(applied_late).valid == Validity::kValid);
  HistoryBuilder never;
  never.op(1, "write", kv("x", 1), 0, 1)
      .op(2, "write", kv("x", 2), 2, 3, OpType::kInfo)
      .op(3, "read", key_only("x"), 4, 5, OpType::kOk, kv("x", 1));
  CHECK(check(never).valid == Validity::kValid);
  // But never before its invocation.
  HistoryBuilder early;
  early.op(3, "read", key_only("x"), 0, 1, OpType::kOk, kv("x", 2))
      .op(2, "write", kv("x", 2), 2, 3, OpType::kInfo);
  CHECK(check(early).valid == Validity::kInvalid);
}

TEST_CASE("register: an info write that only a kept info cas depends on is kept (fixpoint)") {
  // info write 5 || info cas 5->6, then read 6: linearizable as write 5, cas 5->6, read 6. No
  // completed op sees 5, but the cas that the read needs can only apply from it.
  HistoryBuilder chain;
  chain.invoke(1, "write", kv("x", 5), 0)
      .invoke(2, "cas", cas("x", 5, 6), 0)
      .info(1, "write", kv("x", 5), 10)
      .info(2, "cas", cas("x", 5, 6), 10)
      .op(3, "read", key_only("x"), 20, 21, OpType::kOk, kv("x", 6));
  const CheckResult r = check(chain);
  CHECK(r.valid == Validity::kValid);
  CHECK(r.stats.find_i64("dropped_unobserved_info_writes") == 0);
  // Two links: info write 4, info cas 4->5, info cas 5->6, read 6.
  HistoryBuilder longer;
  longer.op(1, "write", kv("x", 4), 0, 10, OpType::kInfo)
      .op(2, "cas", cas("x", 5, 6), 0, 10, OpType::kInfo)
      .op(4, "cas", cas("x", 4, 5), 0, 10, OpType::kInfo)
      .op(3, "read", key_only("x"), 20, 21, OpType::kOk, kv("x", 6));
  CHECK(check(longer).valid == Validity::kValid);
  // The fixpoint keeps only what a kept op needs: an info write nobody depends on still goes.
  HistoryBuilder unrelated;
  unrelated.op(1, "write", kv("x", 5), 0, 10, OpType::kInfo)
      .op(2, "cas", cas("x", 5, 6), 0, 10, OpType::kInfo)
      .op(5, "write", kv("x", 9), 0, 10, OpType::kInfo)
      .op(3, "read", key_only("x"), 20, 21, OpType::kOk, kv("x", 6));
  const CheckResult u = check(unrelated);
  CHECK(u.valid == Validity::kValid);
  CHECK(u.stats.find_i64("dropped_unobserved_info_writes") == 1);
  // And a read of 6 with no path to 6 from the initial state stays invalid.
  HistoryBuilder no_path;
  no_path.op(2, "cas", cas("x", 5, 6), 0, 10, OpType::kInfo)
      .op(3, "read", key_only("x"), 20, 21, OpType::kOk, kv("x", 6));
  CHECK(check(no_path).valid == Validity::kInvalid);
}

TEST_CASE("register: a failed write has no effect; reading its value is invalid") {
  HistoryBuilder b;
  b.op(1, "write", kv("x", 1), 0, 1)
      .op(2, "write", kv("x", 2), 2, 3, OpType::kFail)
      .op(3, "read", key_only("x"), 4, 5, OpType::kOk, kv("x", 2));
  CHECK(check(b).valid == Validity::kInvalid);
}

TEST_CASE("register: cas succeeds only from its expected value") {
  HistoryBuilder ok;
  ok.op(1, "write", kv("x", 1), 0, 1)
      .op(2, "cas", cas("x", 1, 5), 2, 3)
      .op(3, "read", key_only("x"), 4, 5, OpType::kOk, kv("x", 5));
  CHECK(check(ok).valid == Validity::kValid);
  HistoryBuilder bad;
  bad.op(1, "write", kv("x", 1), 0, 1)
      .op(2, "cas", cas("x", 3, 5), 2, 3)  // acknowledged though x was 1
      .op(3, "read", key_only("x"), 4, 5, OpType::kOk, kv("x", 5));
  CHECK(check(bad).valid == Validity::kInvalid);
  HistoryBuilder two_winners;  // two cas from the same value cannot both succeed
  two_winners.op(1, "write", kv("x", 1), 0, 1)
      .invoke(2, "cas", cas("x", 1, 2), 2)
      .invoke(3, "cas", cas("x", 1, 3), 2)
      .ok(2, "cas", cas("x", 1, 2), 3)
      .ok(3, "cas", cas("x", 1, 3), 3);
  CHECK(check(two_winners).valid == Validity::kInvalid);
}

TEST_CASE("register: keys are independent; one bad key makes the history invalid") {
  HistoryBuilder b;
  b.op(1, "write", kv("a", 1), 0, 1)
      .op(2, "write", kv("b", 1), 0, 1)
      .op(1, "read", key_only("a"), 2, 3, OpType::kOk, kv("a", 1))
      .op(2, "read", key_only("b"), 2, 3, OpType::kOk, kv("b", 7));
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kInvalid);
  CHECK(r.stats.find_i64("invalid_keys") == 1);
  CHECK(r.stats.find_i64("keys") == 2);
}

TEST_CASE("register: malformed ops are an error, not a verdict") {
  HistoryBuilder b;
  b.op(1, "write", Json::object(), 0, 1);
  CHECK_FALSE(check_register(b.operations()).is_ok());
  HistoryBuilder unknown_f;
  unknown_f.op(1, "frobnicate", key_only("x"), 0, 1);
  CHECK_FALSE(check_register(unknown_f.operations()).is_ok());
}

TEST_CASE("register: the search gives up with unknown when its budget is exhausted") {
  // Many concurrent info writes of observed values explode the search space.
  HistoryBuilder b;
  for (int p = 0; p < 40; ++p) b.invoke(p, "write", kv("x", p), 0).info(p, "write", kv("x", p), 1);
  for (int i = 0; i < 40; ++i) {
    b.op(100, "read", key_only("x"), 2 + 2 * i, 3 + 2 * i, OpType::kOk, kv("x", (i * 7) % 40));
  }
  RegisterOptions tight;
  tight.max_configurations_per_key = 1000;
  CHECK(check(b, tight).valid == Validity::kUnknown);
}

TEST_CASE("register: random valid histories pass; one stale read makes them fail") {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    testing::RegisterGenOptions o;
    o.seed = seed;
    o.ops_per_key = 300;
    o.keys = 3;
    o.info_per_mille = 30;
    History h = testing::generate_register_history(o);
    CHECK(check(h).valid == Validity::kValid);

    // Corrupt: find write w1 done before write w2 begins, w2 done before read r begins; make r
    // return w1's (unique) value.
    auto ops = pair_operations(h).value();
    bool corrupted = false;
    for (size_t r = ops.size(); r-- > 0 && !corrupted;) {
      if (ops[r].f != "read" || !ops[r].ok()) continue;
      const Json key = *ops[r].invoke_value.find("key");
      const Operation* w2 = nullptr;
      for (size_t i = r; i-- > 0 && !corrupted;) {
        const Operation& w = ops[i];
        if (w.f != "write" || !w.ok() || *w.invoke_value.find("key") != key) continue;
        if (w2 == nullptr) {
          if (w.complete_ns < ops[r].invoke_ns) w2 = &w;
        } else if (w.complete_ns < w2->invoke_ns) {
          for (Event& e : h) {
            if (e.index == ops[r].complete_index)
              e.value = testing::kv(key.as_string(), *w.invoke_value.find("value"));
          }
          corrupted = true;
        }
      }
    }
    REQUIRE(corrupted);
    CHECK(check(h).valid == Validity::kInvalid);
  }
}

TEST_CASE("register: a valid 10,000-op single-key history with info ops checks within seconds") {
  testing::RegisterGenOptions o;
  o.seed = 42;
  o.ops_per_key = 10'000;
  o.processes = 8;
  o.info_per_mille = 20;
  const History h = testing::generate_register_history(o);
  const auto start = std::chrono::steady_clock::now();
  const CheckResult r = check(h);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("10k-op register history checked in " << seconds << " s, configurations "
                                                << r.stats.find_i64("configurations").value_or(-1));
  CHECK(r.valid == Validity::kValid);
  CHECK(seconds < 20.0);
}
