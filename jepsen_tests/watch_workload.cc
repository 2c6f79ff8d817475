// watch: watchers stream three keys while workers overwrite them with unique values
// (HISTORY.md "watch"). One watcher per node, each a process of its own whose client starts at
// that node; a watcher whose stream fails for good opens a new one under a fresh process id.
// After healing: one strong final read, then each watcher must converge on it (the checker's
// W5) before the watchers stop.
#include <map>
#include <mutex>
#include <thread>

#include "cli/watch.h"
#include "jepsen_tests/workload.h"

namespace jepsen {
namespace {

const std::vector<std::string> kKeys{"w0", "w1", "w2"};

Json entries_json(const std::vector<std::optional<kvmodel::KvEntry>>& entries) {
  Json out = Json::array();
  for (size_t i = 0; i < entries.size() && i < kKeys.size(); ++i) {
    const auto& e = entries[i];
    Json value, stamp;
    if (e) {
      auto v = parse_int_value(e->value);
      value = v.is_ok() ? Json::number(*v) : Json::string("garbage: " + e->value.data);
      stamp = Json::string(versionstamp_text(e->versionstamp));
    }
    Json entry = Json::object();
    entry.set("key", Json::string(kKeys[i]));
    entry.set("value", std::move(value));
    entry.set("versionstamp", std::move(stamp));
    out.push_back(std::move(entry));
  }
  return out;
}

std::vector<base::Bytes> encoded_keys() {
  std::vector<base::Bytes> out;
  for (const auto& k : kKeys) out.push_back(workload_key("watch", k));
  return out;
}

class WatchWorkload final : public Workload {
 public:
  explicit WatchWorkload(const WorkloadOptions& o) : reopen_ms_(o.watch_reopen_ms) {}
  std::string name() const override { return "watch"; }

  void step(Worker& w) override {
    const std::string& key = kKeys[w.rng.uniform(kKeys.size())];
    const int64_t value = next_value_++;
    Json invoke = Json::object({{"key", Json::string(key)}, {"value", Json::number(value)}});
    w.recorder->invoke(w.process, w.node, "write", invoke);
    auto r = w.client->set(workload_key("watch", key), int_value(value));
    if (!r.is_ok()) return w.complete_write_error("write", invoke, r.status());
    Json done = invoke;
    if (r->versionstamp)
      done.set("versionstamp", Json::string(versionstamp_text(*r->versionstamp)));
    w.recorder->complete(w.process, w.node, "write", r->ok ? OpType::kOk : OpType::kFail, done);
  }

  void start_background(const WorkloadEnv& env) override {
    for (size_t i = 0; i < env.endpoints.size(); ++i)
      watchers_.emplace_back([this, env, i] { watch(env, i); });
  }

  base::Status finish(const WorkloadEnv& env, std::chrono::milliseconds deadline) override {
    final_phase_ = true;  // watchers keep their streams now: W5 needs live ones
    const auto until = std::chrono::steady_clock::now() + deadline;
    auto client = make_home_client(env.endpoints, 0, 5151);
    const int64_t process = 300'000;
    bool read_ok = false;
    while (!read_ok && std::chrono::steady_clock::now() < until) {
      env.recorder->invoke(process, env.node_names[0], "read", Json());
      auto r = client->get_many(encoded_keys());
      if (r.is_ok()) {
        Json entries = entries_json(*r);
        {
          std::lock_guard lock(mu_);
          final_ = entries;
        }
        env.recorder->complete(process, env.node_names[0], "read", OpType::kOk,
                               Json::object({{"entries", entries}}));
        read_ok = true;
      } else {
        env.recorder->complete(process, env.node_names[0], "read", OpType::kFail, Json(),
                               r.status().to_string());
      }
    }
    // Give every watcher until the deadline to yield the final state (W5 checks it).
    while (!converged() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop_background();
    return read_ok ? base::Status::ok()
                   : base::Status(base::Code::kTimeout, "watch: no final read succeeded");
  }

  void stop_background() override {
    stop_ = true;
    for (auto& t : watchers_) t.join();
    watchers_.clear();
  }

 private:
  bool converged() {
    std::lock_guard lock(mu_);
    if (final_.is_null()) return false;
    for (const auto& [process, last] : last_yield_)
      if (!(last == final_)) return false;
    return true;
  }

  // One watcher. With reopen_ms_, each stream is closed after that long (recorded as a
  // watch-end, so W5 skips it) and the next opens at the next node.
  void watch(const WorkloadEnv& env, size_t index) {
    int64_t process = 200'100 + static_cast<int64_t>(index);
    for (size_t opens = 0; !stop_; ++opens, process += 1000) {  // a new stream, a new process
      const size_t home = (index + (reopen_ms_ > 0 ? opens : 0)) % env.endpoints.size();
      auto client = make_home_client(env.endpoints, home, 6000 + index * 7919 + opens);
      const std::string& node = env.node_names[home];
      Json open =
          Json::object({{"keys", Json::array({Json::string(kKeys[0]), Json::string(kKeys[1]),
                                              Json::string(kKeys[2])})}});
      // Invoked before the request: W4 compares with writes acknowledged before the invoke.
      env.recorder->invoke(process, node, "watch-open", open);
      auto stream = client->watch(encoded_keys());
      if (!stream.is_ok()) {
        env.recorder->complete(process, node, "watch-open", OpType::kFail, open,
                               stream.status().to_string());
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      env.recorder->complete(process, node, "watch-open", OpType::kOk, open);
      follow(env, *stream, process, node);
      stream->cancel();
      std::lock_guard lock(mu_);
      last_yield_.erase(process);
    }
  }

  // Records the stream's yields until it breaks, the run stops, or it is due for a reopen.
  void follow(const WorkloadEnv& env, cli::WatchStream& stream, int64_t process,
              const std::string& node) {
    const auto opened = std::chrono::steady_clock::now();
    while (!stop_) {
      const bool rotate =
          reopen_ms_ > 0 && !final_phase_ &&
          std::chrono::steady_clock::now() - opened >= std::chrono::milliseconds(reopen_ms_);
      auto snapshot = rotate ? base::Result<cli::WatchStream::Snapshot>(base::Status(
                                   base::Code::kUnavailable, "closed by the harness to reopen"))
                             : stream.next(std::chrono::milliseconds(200));
      if (!snapshot.is_ok() && snapshot.status().code() == base::Code::kTimeout) continue;
      if (!snapshot.is_ok()) {
        Json end = Json::object({{"error", Json::string(snapshot.status().to_string())}});
        env.recorder->invoke(process, node, "watch-end", end);
        env.recorder->complete(process, node, "watch-end", OpType::kOk, end);
        return;
      }
      Json entries = entries_json(*snapshot);
      env.recorder->invoke(process, node, "yield", Json());
      env.recorder->complete(process, node, "yield", OpType::kOk,
                             Json::object({{"entries", entries}}));
      std::lock_guard lock(mu_);
      last_yield_[process] = entries;
    }
  }

  const int64_t reopen_ms_;
  std::atomic<bool> final_phase_{false};
  std::atomic<int64_t> next_value_{1};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> watchers_;
  std::mutex mu_;
  Json final_;
  std::map<int64_t, Json> last_yield_;
};

}  // namespace

std::unique_ptr<Workload> make_watch_workload(const WorkloadOptions& options) {
  return std::make_unique<WatchWorkload>(options);
}

}  // namespace jepsen
