// bank: transfers between accounts as atomic writes guarded by versionstamp checks, and strong
// getMany reads of every account (HISTORY.md "bank"). The total is fixed at setup; the checker
// requires every ok read to show it and no negative balance.
#include "jepsen_tests/workload.h"

namespace jepsen {
namespace {

constexpr int kAccounts = 5;
constexpr int64_t kInitialBalance = 100;

std::string account(int i) { return "a" + std::to_string(i); }

class BankWorkload final : public Workload {
 public:
  std::string name() const override { return "bank"; }

  base::Status setup(cli::Client& client) override {
    cli::Atomic atomic = client.atomic();
    for (int i = 0; i < kAccounts; ++i)
      atomic.set(workload_key("bank", account(i)), int_value(kInitialBalance));
    auto r = atomic.commit();
    if (!r.is_ok()) return r.status();
    if (!r->ok) return base::Status(base::Code::kInternal, "bank setup write was refused");
    return base::Status::ok();
  }

  void step(Worker& w) override {
    if (w.rng.chance(1, 2)) {
      read(w);
    } else {
      transfer(w);
    }
  }

  base::Status finish(const WorkloadEnv&, std::chrono::milliseconds) override {
    return base::Status::ok();
  }

  CheckOptions check_options() const override {
    CheckOptions o;
    o.bank_options.total = kAccounts * kInitialBalance;
    for (int i = 0; i < kAccounts; ++i) o.bank_options.accounts.push_back(account(i));
    return o;
  }

 private:
  static void read(Worker& w) {
    w.recorder->invoke(w.process, w.node, "read", Json());
    std::vector<base::Bytes> keys;
    for (int i = 0; i < kAccounts; ++i) keys.push_back(workload_key("bank", account(i)));
    auto entries = w.client->get_many(keys);
    if (!entries.is_ok()) {
      w.recorder->complete(w.process, w.node, "read", OpType::kFail, Json(),
                           entries.status().to_string());
      return;
    }
    Json balances = Json::object();
    for (int i = 0; i < kAccounts; ++i) {
      const auto& e = (*entries)[static_cast<size_t>(i)];
      if (!e) continue;  // a missing account: the checker reports it
      auto v = parse_int_value(e->value);
      balances.set(account(i),
                   v.is_ok() ? Json::number(*v) : Json::string("garbage: " + e->value.data));
    }
    w.recorder->complete(w.process, w.node, "read", OpType::kOk,
                         Json::object({{"balances", balances}}));
  }

  static void transfer(Worker& w) {
    const int from = static_cast<int>(w.rng.uniform(kAccounts));
    const int to = (from + 1 + static_cast<int>(w.rng.uniform(kAccounts - 1))) % kAccounts;
    const auto amount = static_cast<int64_t>(w.rng.range(1, 5));
    Json invoke = Json::object({{"from", Json::string(account(from))},
                                {"to", Json::string(account(to))},
                                {"amount", Json::number(amount)}});
    w.recorder->invoke(w.process, w.node, "transfer", invoke);
    const base::Bytes kf = workload_key("bank", account(from)),
                      kt = workload_key("bank", account(to));
    auto entries = w.client->get_many({kf, kt});
    if (!entries.is_ok() || !(*entries)[0] || !(*entries)[1]) {
      w.recorder->complete(w.process, w.node, "transfer", OpType::kFail, invoke,
                           entries.is_ok() ? "account missing" : entries.status().to_string());
      return;
    }
    auto bf = parse_int_value((*entries)[0]->value), bt = parse_int_value((*entries)[1]->value);
    if (!bf.is_ok() || !bt.is_ok() || *bf < amount) {
      w.recorder->complete(w.process, w.node, "transfer", OpType::kFail, invoke,
                           "insufficient funds or unreadable balance");
      return;
    }
    auto r = w.client->atomic()
                 .check(kf, (*entries)[0]->versionstamp)
                 .check(kt, (*entries)[1]->versionstamp)
                 .set(kf, int_value(*bf - amount))
                 .set(kt, int_value(*bt + amount))
                 .commit();
    if (!r.is_ok()) return w.complete_write_error("transfer", invoke, r.status());
    w.recorder->complete(w.process, w.node, "transfer", r->ok ? OpType::kOk : OpType::kFail, invoke,
                         r->ok ? "" : "check failed");
  }
};

}  // namespace

std::unique_ptr<Workload> make_bank_workload(const WorkloadOptions&) {
  return std::make_unique<BankWorkload>();
}

}  // namespace jepsen
