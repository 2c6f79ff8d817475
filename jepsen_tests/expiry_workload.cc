// expiry: keys written once with expireIn, read (strong) until well after they expired
// (HISTORY.md "expiry"; checked by expiry_checker.h: never early, never back, never invented).
// Each write uses a fresh key and expireIn 300..2500 ms; reads pick one of the last keys
// written, so every key is read before, around and after its expiry. The final phase waits for
// the longest expireIn and reads every key once more.
#include <deque>
#include <mutex>
#include <thread>

#include "jepsen_tests/workload.h"

namespace jepsen {
namespace {

constexpr size_t kRecentKeys = 40;

class ExpiryWorkload final : public Workload {
 public:
  std::string name() const override { return "expiry"; }

  void step(Worker& w) override {
    if (w.rng.uniform(100) < 30) return write(w);
    std::string key;
    {
      std::lock_guard lock(mu_);
      if (!recent_.empty()) key = recent_[w.rng.uniform(recent_.size())];
    }
    if (key.empty()) return write(w);  // not under mu_: write() takes it
    read(*w.recorder, *w.client, w.process, w.node, key);
  }

  base::Status finish(const WorkloadEnv& env, std::chrono::milliseconds deadline) override {
    // Past every expiry, plus the sweeper's period, then one read of every recent key.
    std::this_thread::sleep_for(std::chrono::milliseconds(3000));
    auto client = make_home_client(env.endpoints, 0, 9191);
    std::deque<std::string> keys;
    {
      std::lock_guard lock(mu_);
      keys = recent_;
    }
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (const auto& key : keys) {
      while (!read(*env.recorder, *client, 400'000, env.node_names[0], key)) {
        if (std::chrono::steady_clock::now() > until)
          return base::Status(base::Code::kTimeout, "expiry: final reads did not succeed");
      }
    }
    return base::Status::ok();
  }

 private:
  void write(Worker& w) {
    const int64_t n = next_++;
    const std::string key = "e" + std::to_string(n);
    const auto expire_ms = static_cast<int64_t>(w.rng.range(300, 2500));
    Json invoke = Json::object({{"key", Json::string(key)},
                                {"value", Json::number(n)},
                                {"expire_ms", Json::number(expire_ms)}});
    w.recorder->invoke(w.process, w.node, "write", invoke);
    auto r = w.client->set(workload_key("expiry", key), int_value(n),
                           std::chrono::milliseconds(expire_ms));
    {
      std::lock_guard lock(mu_);
      recent_.push_back(key);
      if (recent_.size() > kRecentKeys) recent_.pop_front();
    }
    if (!r.is_ok()) return w.complete_write_error("write", invoke, r.status());
    w.recorder->complete(w.process, w.node, "write", r->ok ? OpType::kOk : OpType::kFail, invoke);
  }

  // One strong read; false when it failed (recorded as fail: reads change nothing).
  static bool read(Recorder& recorder, cli::Client& client, int64_t process,
                   const std::string& node, const std::string& key) {
    Json invoke = Json::object({{"key", Json::string(key)}});
    recorder.invoke(process, node, "read", invoke);
    auto r = client.get(workload_key("expiry", key));
    if (!r.is_ok()) {
      recorder.complete(process, node, "read", OpType::kFail, invoke, r.status().to_string());
      return false;
    }
    Json value;
    if (r->has_value()) {
      auto v = parse_int_value((*r)->value);
      value = v.is_ok() ? Json::number(*v) : Json::string("garbage: " + (*r)->value.data);
    }
    recorder.complete(process, node, "read", OpType::kOk,
                      Json::object({{"key", Json::string(key)}, {"value", value}}));
    return true;
  }

  std::atomic<int64_t> next_{1};
  std::mutex mu_;
  std::deque<std::string> recent_;
};

}  // namespace

std::unique_ptr<Workload> make_expiry_workload(const WorkloadOptions&) {
  return std::make_unique<ExpiryWorkload>();
}

}  // namespace jepsen
