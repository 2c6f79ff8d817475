#include <doctest/doctest.h>

#include "jepsen_tests/bank_checker.h"
#include "jepsen_tests/test_history.h"

using namespace jepsen;
using testing::HistoryBuilder;

namespace {
Json balances(int64_t a, int64_t b) {
  Json bal = Json::object();
  bal.set("a", Json::number(a));
  bal.set("b", Json::number(b));
  Json j = Json::object();
  j.set("balances", bal);
  return j;
}
Json transfer(int64_t amount) {
  Json j = Json::object();
  j.set("from", Json::string("a"));
  j.set("to", Json::string("b"));
  j.set("amount", Json::number(amount));
  return j;
}
CheckResult check(const HistoryBuilder& b, BankOptions o = {}) {
  auto r = check_bank(b.operations(), o);
  REQUIRE(r.is_ok());
  return std::move(r).value();
}
}  // namespace

TEST_CASE("bank: reads that conserve the total are valid") {
  HistoryBuilder b;
  b.op(1, "read", Json(), 0, 1, OpType::kOk, balances(50, 50))
      .op(2, "transfer", transfer(10), 2, 3)
      .op(2, "transfer", transfer(90), 4, 5, OpType::kFail)
      .op(1, "read", Json(), 6, 7, OpType::kOk, balances(40, 60));
  BankOptions o;
  o.total = 100;
  o.accounts = {"a", "b"};
  const CheckResult r = check(b, o);
  CHECK(r.valid == Validity::kValid);
  CHECK(r.stats.find_i64("reads") == 2);
}

TEST_CASE("bank: a read seeing half a transfer changes the total and is invalid") {
  HistoryBuilder b;
  b.op(1, "read", Json(), 0, 1, OpType::kOk, balances(50, 50))
      .op(1, "read", Json(), 2, 3, OpType::kOk, balances(40, 50));
  const CheckResult r = check(b);
  CHECK(r.valid == Validity::kInvalid);
  CHECK(r.counterexample.find("wrong-total") != std::string::npos);
  CHECK(r.stats.find_i64("total") == 100);
}

TEST_CASE("bank: a negative balance is invalid even with the right total") {
  HistoryBuilder b;
  b.op(1, "read", Json(), 0, 1, OpType::kOk, balances(-10, 110));
  BankOptions o;
  o.total = 100;
  CHECK(check(b, o).stats.find("anomalies")->find_i64("negative-balance") == 1);
}

TEST_CASE("bank: a read missing an account is invalid; no reads is unknown") {
  HistoryBuilder b;
  Json only_a = Json::object();
  only_a.set("balances", Json::object());
  b.op(1, "read", Json(), 0, 1, OpType::kOk, only_a);
  BankOptions o;
  o.total = 0;
  o.accounts = {"a"};
  CHECK(check(b, o).valid == Validity::kInvalid);
  HistoryBuilder none;
  none.op(1, "transfer", transfer(1), 0, 1);
  CHECK(check(none).valid == Validity::kUnknown);
}
