// register: per-key reads, writes and compare-and-set (HISTORY.md "register").
//
// Keys rotate: every kOpsPerWindow operations open a window of kKeysPerWindow fresh keys, so
// each key sees a few dozen ops (Jepsen keeps <= 200 per key to bound the WGL search). Written
// values are unique across the run (one counter), so a versionstamp check and a value check
// coincide: cas = strong get, then atomic().check(key, versionstamp).set(key, new), recorded
// as one op whose linearization point is the atomic write's commit.
#include <map>
#include <mutex>

#include "jepsen_tests/workload.h"

namespace jepsen {
namespace {

constexpr int64_t kOpsPerWindow = 240;
constexpr int64_t kKeysPerWindow = 6;

Json value_or_null(const std::optional<int64_t>& v) { return v ? Json::number(*v) : Json(); }

class RegisterWorkload final : public Workload {
 public:
  explicit RegisterWorkload(const WorkloadOptions& o) : options_(o) {}
  std::string name() const override { return "register"; }

  void step(Worker& w) override {
    const int64_t n = next_op_++;
    const std::string key_name =
        "r" + std::to_string((n / kOpsPerWindow) * kKeysPerWindow +
                             static_cast<int64_t>(w.rng.uniform(kKeysPerWindow)));
    const uint64_t roll = w.rng.uniform(100);
    if (roll < 50) {
      read(w, key_name);
    } else if (roll < 75) {
      write(w, key_name);
    } else {
      cas(w, key_name);
    }
  }

  void start_background(const WorkloadEnv& env) override { endpoints_ = env.endpoints; }

  base::Status finish(const WorkloadEnv&, std::chrono::milliseconds) override {
    return base::Status::ok();  // every read is already a check; nothing to drain
  }

 private:
  // The current value of `key`, or an error; nullopt value when absent.
  struct Current {
    std::optional<int64_t> value;
    std::optional<kvmodel::Versionstamp> versionstamp;
  };
  base::Result<Current> get(Worker& w, const std::string& key_name, bool for_read) {
    const base::Bytes key = workload_key("register", key_name);
    base::Result<std::optional<kvmodel::KvEntry>> entry = base::Status(base::Code::kInternal, "");
    if (options_.stale_reads && for_read) {
      entry = w.home_only->get(key, kvmodel::Consistency::kEventual);
    } else if (options_.reads_any_node && for_read && !endpoints_.empty()) {
      // A fresh client first asks a random node, as a load balancer in front of the cluster
      // would; a follower must redirect (or answer only what the leader confirms).
      cli::Client any({endpoints_[w.rng.uniform(endpoints_.size())]},
                      harness_client_options(w.rng.next() | 1));
      entry = any.get(key);
    } else {
      entry = w.client->get(key);
    }
    if (!entry.is_ok()) return entry.status();
    Current c;
    if (entry->has_value()) {
      auto v = parse_int_value((*entry)->value);
      if (!v.is_ok()) return v.status();
      c.value = *v;
      c.versionstamp = (*entry)->versionstamp;
    }
    return c;
  }

  void read(Worker& w, const std::string& key_name) {
    Json invoke = Json::object({{"key", Json::string(key_name)}});
    w.recorder->invoke(w.process, w.node, "read", invoke);
    auto c = get(w, key_name, /*for_read=*/true);
    if (!c.is_ok()) {
      w.recorder->complete(w.process, w.node, "read", OpType::kFail, invoke,
                           c.status().to_string());
      return;
    }
    remember(w, key_name, c->value);
    w.recorder->complete(
        w.process, w.node, "read", OpType::kOk,
        Json::object({{"key", Json::string(key_name)}, {"value", value_or_null(c->value)}}));
  }

  void write(Worker& w, const std::string& key_name) {
    const int64_t v = next_value_++;
    Json invoke = Json::object({{"key", Json::string(key_name)}, {"value", Json::number(v)}});
    w.recorder->invoke(w.process, w.node, "write", invoke);
    auto r = w.client->set(workload_key("register", key_name), int_value(v));
    if (!r.is_ok()) return w.complete_write_error("write", invoke, r.status());
    w.recorder->complete(w.process, w.node, "write", r->ok ? OpType::kOk : OpType::kFail, invoke);
  }

  void cas(Worker& w, const std::string& key_name) {
    const std::optional<int64_t> expected = recall(w, key_name);
    const int64_t fresh = next_value_++;
    Json invoke = Json::object({{"key", Json::string(key_name)},
                                {"expected", value_or_null(expected)},
                                {"new", Json::number(fresh)}});
    w.recorder->invoke(w.process, w.node, "cas", invoke);
    auto c = get(w, key_name, /*for_read=*/false);
    if (!c.is_ok()) {  // nothing was written
      w.recorder->complete(w.process, w.node, "cas", OpType::kFail, invoke, c.status().to_string());
      return;
    }
    if (c->value != expected) {  // the check cannot hold; do not write at all
      w.recorder->complete(w.process, w.node, "cas", OpType::kFail, invoke, "value differs");
      return;
    }
    const base::Bytes key = workload_key("register", key_name);
    auto r = w.client->atomic().check(key, c->versionstamp).set(key, int_value(fresh)).commit();
    if (!r.is_ok()) return w.complete_write_error("cas", invoke, r.status());
    w.recorder->complete(w.process, w.node, "cas", r->ok ? OpType::kOk : OpType::kFail, invoke,
                         r->ok ? "" : "check failed");
  }

  // Each worker's last observed value per key: cas expects it (often stale: fails are fine).
  void remember(Worker& w, const std::string& key, std::optional<int64_t> v) {
    std::lock_guard lock(mu_);
    last_seen_[{w.index, key}] = v;
  }
  std::optional<int64_t> recall(Worker& w, const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = last_seen_.find({w.index, key});
    return it == last_seen_.end() ? std::nullopt : it->second;
  }

  WorkloadOptions options_;
  std::vector<std::string> endpoints_;  // set before the workers start, read-only after
  std::atomic<int64_t> next_op_{0};
  std::atomic<int64_t> next_value_{1};
  std::mutex mu_;
  std::map<std::pair<int, std::string>, std::optional<int64_t>> last_seen_;
};

}  // namespace

std::unique_ptr<Workload> make_register_workload(const WorkloadOptions& options) {
  return std::make_unique<RegisterWorkload>(options);
}

}  // namespace jepsen
