// queue: Deno KV enqueue / listenQueue under faults (HISTORY.md "queue").
//
// Workers enqueue messages with unique ids: plain ones, delayed ones (200..2000 ms), ones inside
// an atomic write that also sets a marker key ["jepsen","marker",id], and "doomed" ones whose
// handler always fails, so the schedule runs out and the keysIfUndelivered are written. Every
// message carries dead-letter keys ["jepsen","dlq","<id>/<i>"] (so a dead letter written for a
// delivered message is caught too) and a short backoff schedule [50, 100] ms.
// One listener per node (a process each) records every handler run as a "deliver" op.
// The drain waits until every acknowledged message is delivered or, if doomed, attempted
// 1 + len(schedule) times (bounded by the final deadline), then reads the dead-letter keys and
// the markers.
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "jepsen_tests/workload.h"

namespace jepsen {
namespace {

const std::vector<uint32_t> kBackoffMs{50, 100};

struct Plan {
  bool doomed = false;
  int dlq_keys = 1;
};

class QueueWorkload final : public Workload {
 public:
  explicit QueueWorkload(const WorkloadOptions& o) : options_(o) {}
  std::string name() const override { return "queue"; }

  // Faulted runs kill and cut off listeners' nodes, which can hide a lease (see QueueOptions).
  CheckOptions check_options() const override {
    CheckOptions o;
    o.queue_options.unobserved_attempt_allowance = 1;
    return o;
  }

  void step(Worker& w) override {
    const std::string id = "m" + std::to_string(next_id_++);
    const uint64_t roll = w.rng.uniform(100);
    const bool delayed = roll < 15, atomic = roll >= 15 && roll < 25, doomed = roll >= 90;
    kvmodel::Enqueue e;
    e.payload = id + (doomed ? ":doomed" : "");
    e.delay_ms = delayed ? w.rng.range(200, 2000) : 0;
    e.backoff_schedule_ms = kBackoffMs;
    const int dlq_keys = doomed ? 2 : 1;
    for (int i = 0; i < dlq_keys; ++i) e.keys_if_undelivered.push_back(dlq_key(id, i));
    Json backoff = Json::array();
    for (uint32_t b : kBackoffMs) backoff.push_back(Json::number(b));
    Json invoke = Json::object({{"id", Json::string(id)},
                                {"delay_ms", Json::number(static_cast<int64_t>(e.delay_ms))},
                                {"backoff_ms", backoff},
                                {"dlq_keys", Json::number(dlq_keys)},
                                {"atomic", Json::boolean(atomic)}});
    {
      std::lock_guard lock(mu_);
      plans_[id] = Plan{doomed, dlq_keys};
    }
    w.recorder->invoke(w.process, w.node, "enqueue", invoke);
    base::Result<net::AtomicWriteResult> r =
        atomic ? w.client->atomic()
                     .set(workload_key("marker", id),
                          kvmodel::Value{kvmodel::ValueEncoding::kBytes, id})
                     .enqueue(e)
                     .commit()
               : w.client->enqueue(e);
    // Unknown outcomes are not waited for: the checker allows them either way.
    if (!r.is_ok()) return w.complete_write_error("enqueue", invoke, r.status());
    if (r->ok) note_acked(id);
    w.recorder->complete(w.process, w.node, "enqueue", r->ok ? OpType::kOk : OpType::kFail, invoke);
  }

  void start_background(const WorkloadEnv& env) override {
    for (size_t i = 0; i < env.endpoints.size(); ++i) {
      listeners_.emplace_back([this, env, i] { listen(env, i); });
    }
  }

  base::Status finish(const WorkloadEnv& env, std::chrono::milliseconds deadline) override {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!drained() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // dead letters of the last
    stop_listeners_ = true;
    for (auto& t : listeners_) t.join();
    listeners_.clear();
    auto client = make_home_client(env.endpoints, 0, 4242);
    while (std::chrono::steady_clock::now() < until + std::chrono::seconds(10)) {
      if (read_dead_letters(*env.recorder, *client) && read_markers(*env.recorder, *client))
        return base::Status::ok();
    }
    return base::Status(base::Code::kTimeout, "queue: final reads did not succeed");
  }

  void stop_background() override {
    stop_listeners_ = true;
    for (auto& t : listeners_) t.join();
    listeners_.clear();
  }

 private:
  static base::Bytes dlq_key(const std::string& id, int i) {
    return workload_key("dlq", id + "/" + std::to_string(i));
  }

  void note_acked(const std::string& id) {
    std::lock_guard lock(mu_);
    // A fast listener may have finished the message before its enqueue's answer arrived.
    if (done_.count(id) == 0) pending_.insert(id);
  }

  bool drained() {
    std::lock_guard lock(mu_);
    return pending_.empty();
  }

  // One listener; its handler records each run as a deliver op of this listener's process.
  void listen(const WorkloadEnv& env, size_t home) {
    auto client = make_home_client(env.endpoints, home, 7000 + home);
    const int64_t process = 100'000 + static_cast<int64_t>(home);
    cli::QueueListenOptions o;
    o.consumer = "jepsen";
    o.visibility_ms = 3000;
    o.should_stop = [this] { return stop_listeners_.load(); };
    const std::string node = env.node_names[home];
    while (!stop_listeners_) {
      base::Status s = client->listen_queue(
          [&](const net::QueueDelivery& d) { return handle(*env.recorder, process, node, d); }, o);
      if (!s.is_ok()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  bool handle(Recorder& recorder, int64_t process, const std::string& node,
              const net::QueueDelivery& d) {
    const std::string id = d.payload.substr(0, d.payload.find(':'));
    const bool doomed = d.payload.ends_with(":doomed");
    Json value = Json::object(
        {{"id", Json::string(id)}, {"attempt", Json::number(static_cast<int64_t>(d.attempt))}});
    recorder.invoke(process, node, "deliver", value);
    recorder.complete(process, node, "deliver", doomed ? OpType::kFail : OpType::kOk, value);
    std::lock_guard lock(mu_);
    int& attempts = attempts_[id];
    ++attempts;
    if (!doomed || attempts >= 1 + static_cast<int>(kBackoffMs.size())) {
      pending_.erase(id);
      done_.insert(id);
    }
    return !doomed;
  }

  bool read_dead_letters(Recorder& recorder, cli::Client& client) {
    std::map<std::string, Plan> plans;
    {
      std::lock_guard lock(mu_);
      plans = plans_;
    }
    const int64_t process = 200'000;
    recorder.invoke(process, "", "dlq-read", Json());
    Json out = Json::array();
    for (const auto& [id, plan] : plans) {
      std::vector<base::Bytes> keys;
      for (int i = 0; i < plan.dlq_keys; ++i) keys.push_back(dlq_key(id, i));
      auto entries = client.get_many(keys);
      if (!entries.is_ok()) {
        recorder.complete(process, "", "dlq-read", OpType::kFail, Json(),
                          entries.status().to_string());
        return false;
      }
      int64_t present = 0;
      bool matches = true;
      for (const auto& e : *entries) {
        if (!e) continue;
        ++present;
        matches = matches && e->value.data == id + (plan.doomed ? ":doomed" : "");
      }
      if (present == 0) continue;
      out.push_back(Json::object({{"id", Json::string(id)},
                                  {"keys_present", Json::number(present)},
                                  {"keys_total", Json::number(plan.dlq_keys)},
                                  {"value_matches", Json::boolean(matches)}}));
    }
    recorder.complete(process, "", "dlq-read", OpType::kOk, out);
    return true;
  }

  static bool read_markers(Recorder& recorder, cli::Client& client) {
    const int64_t process = 200'001;
    recorder.invoke(process, "", "marker-read", Json());
    cli::Selector selector;
    selector.prefix = workload_prefix("marker");
    auto it = client.list(selector);
    Json ids = Json::array();
    base::Status status = it.status();
    while (status.is_ok()) {
      auto next = it->next();
      if (!next.is_ok()) status = next.status();
      if (!next.is_ok() || !next->has_value()) break;
      ids.push_back(Json::string((*next)->value.data));
    }
    recorder.complete(process, "", "marker-read", status.is_ok() ? OpType::kOk : OpType::kFail,
                      status.is_ok() ? ids : Json(), status.is_ok() ? "" : status.to_string());
    return status.is_ok();
  }

  WorkloadOptions options_;
  std::atomic<int64_t> next_id_{1};
  std::atomic<bool> stop_listeners_{false};
  std::vector<std::thread> listeners_;
  std::mutex mu_;
  std::map<std::string, Plan> plans_;
  std::set<std::string> pending_;  // acknowledged (or unknown) and not yet done
  std::set<std::string> done_;     // delivered, or attempted as often as the schedule allows
  std::map<std::string, int> attempts_;
};

}  // namespace

std::unique_ptr<Workload> make_queue_workload(const WorkloadOptions& options) {
  return std::make_unique<QueueWorkload>(options);
}

}  // namespace jepsen
