// set: unique adds (one key per element under ["jepsen","set"]), then after healing a final
// strong listing of the prefix (HISTORY.md "set"). A few reads also run during the faults so
// a read that misses an acknowledged element mid-run shows up too.
#include "jepsen_tests/workload.h"

namespace jepsen {
namespace {

class SetWorkload final : public Workload {
 public:
  std::string name() const override { return "set"; }

  void step(Worker& w) override {
    if (w.rng.chance(1, 20)) {
      read(*w.recorder, *w.client, w.process, w.node);
      return;
    }
    const int64_t element = next_element_++;
    w.recorder->invoke(w.process, w.node, "add", Json::number(element));
    auto r = w.client->set(workload_key("set", std::to_string(element)), int_value(element));
    if (!r.is_ok()) return w.complete_write_error("add", Json::number(element), r.status());
    w.recorder->complete(w.process, w.node, "add", OpType::kOk, Json::number(element));
  }

  base::Status finish(const WorkloadEnv& env, std::chrono::milliseconds deadline) override {
    // The final read must succeed: retry until the deadline (the cluster is healed).
    const auto until = std::chrono::steady_clock::now() + deadline;
    auto client = make_home_client(env.endpoints, 0, 991);
    const int64_t process = 1'000'000;
    while (std::chrono::steady_clock::now() < until) {
      if (read(*env.recorder, *client, process, env.node_names[0])) return base::Status::ok();
    }
    return base::Status(base::Code::kTimeout, "set: no final read succeeded after healing");
  }

 private:
  static bool read(Recorder& recorder, cli::Client& client, int64_t process,
                   const std::string& node) {
    recorder.invoke(process, node, "read", Json());
    cli::Selector selector;
    selector.prefix = workload_prefix("set");
    auto it = client.list(selector);
    Json elements = Json::array();
    base::Status status = it.status();
    while (status.is_ok()) {
      auto next = it->next();
      if (!next.is_ok()) {
        status = next.status();
        break;
      }
      if (!next->has_value()) break;
      auto v = parse_int_value((*next)->value);
      if (!v.is_ok()) {
        status = v.status();
        break;
      }
      elements.push_back(Json::number(*v));
    }
    if (!status.is_ok()) {
      recorder.complete(process, node, "read", OpType::kFail, Json(), status.to_string());
      return false;
    }
    recorder.complete(process, node, "read", OpType::kOk, elements);
    return true;
  }

  std::atomic<int64_t> next_element_{1};
};

}  // namespace

std::unique_ptr<Workload> make_set_workload(const WorkloadOptions&) {
  return std::make_unique<SetWorkload>();
}

}  // namespace jepsen
