// append: Elle list-append transactions (HISTORY.md "append") as optimistic transactions:
// one strong getMany of every key the txn touches (a snapshot), the micro-ops evaluated
// against it, then one atomic write that checks every touched key's versionstamp and sets the
// appended lists. The commit is the txn's serialization point; a failed check is a "fail"
// (nothing applied). Read-only txns complete with the snapshot read alone.
// Lists are stored as "e1,e2,..." text; elements are unique across the run.
#include <map>

#include "jepsen_tests/workload.h"

namespace jepsen {
namespace {

constexpr int64_t kTxnsPerWindow = 300;
constexpr int64_t kKeysPerWindow = 5;

std::vector<int64_t> parse_list(const std::string& text) {
  std::vector<int64_t> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(std::stoll(text.substr(start, comma - start)));
    start = comma + 1;
  }
  return out;
}

std::string format_list(const std::vector<int64_t>& list) {
  std::string out;
  for (int64_t e : list) {
    if (!out.empty()) out += ',';
    out += std::to_string(e);
  }
  return out;
}

Json list_json(const std::vector<int64_t>& list) {
  Json out = Json::array();
  for (int64_t e : list) out.push_back(Json::number(e));
  return out;
}

class AppendWorkload final : public Workload {
 public:
  std::string name() const override { return "append"; }

  void step(Worker& w) override {
    const int64_t window = next_txn_++ / kTxnsPerWindow;
    Json mops = Json::array();
    std::vector<std::string> keys;  // distinct, in first-use order
    const uint64_t count = w.rng.range(1, 4);
    for (uint64_t i = 0; i < count; ++i) {
      const std::string key =
          "k" + std::to_string(window * kKeysPerWindow +
                               static_cast<int64_t>(w.rng.uniform(kKeysPerWindow)));
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
      if (w.rng.chance(1, 2)) {
        mops.push_back(Json::array(
            {Json::string("append"), Json::string(key), Json::number(next_element_++)}));
      } else {
        mops.push_back(Json::array({Json::string("r"), Json::string(key), Json()}));
      }
    }
    run_txn(w, mops, keys);
  }

  base::Status finish(const WorkloadEnv&, std::chrono::milliseconds) override {
    return base::Status::ok();
  }

 private:
  static void run_txn(Worker& w, const Json& mops, const std::vector<std::string>& keys) {
    w.recorder->invoke(w.process, w.node, "txn", mops);
    std::vector<base::Bytes> encoded;
    for (const auto& k : keys) encoded.push_back(workload_key("append", k));
    auto entries = w.client->get_many(encoded);
    if (!entries.is_ok()) {
      w.recorder->complete(w.process, w.node, "txn", OpType::kFail, mops,
                           entries.status().to_string());
      return;
    }
    std::map<std::string, std::vector<int64_t>> lists;
    std::map<std::string, std::optional<kvmodel::Versionstamp>> versions;
    for (size_t i = 0; i < keys.size(); ++i) {
      const auto& e = (*entries)[i];
      versions[keys[i]] = e ? std::optional(e->versionstamp) : std::nullopt;
      lists[keys[i]] = e ? parse_list(e->value.data) : std::vector<int64_t>{};
    }
    Json completed = Json::array();
    std::map<std::string, bool> appended;
    for (const Json& mop : mops.as_array()) {
      const auto& parts = mop.as_array();
      const std::string& key = parts[1].as_string();
      if (parts[0].as_string() == "append") {
        lists[key].push_back(parts[2].number_as_i64().value());  // we generated it
        appended[key] = true;
        completed.push_back(mop);
      } else {
        completed.push_back(
            Json::array({Json::string("r"), Json::string(key), list_json(lists[key])}));
      }
    }
    if (appended.empty()) {
      w.recorder->complete(w.process, w.node, "txn", OpType::kOk, completed);
      return;
    }
    cli::Atomic atomic = w.client->atomic();
    for (const auto& k : keys) atomic.check(workload_key("append", k), versions[k]);
    for (const auto& [k, yes] : appended)
      atomic.set(workload_key("append", k),
                 kvmodel::Value{kvmodel::ValueEncoding::kBytes, format_list(lists[k])});
    auto r = atomic.commit();
    if (!r.is_ok()) return w.complete_write_error("txn", mops, r.status());
    w.recorder->complete(w.process, w.node, "txn", r->ok ? OpType::kOk : OpType::kFail,
                         r->ok ? completed : mops, r->ok ? "" : "check failed");
  }

  std::atomic<int64_t> next_txn_{0};
  std::atomic<int64_t> next_element_{1};
};

}  // namespace

std::unique_ptr<Workload> make_append_workload(const WorkloadOptions&) {
  return std::make_unique<AppendWorkload>();
}

}  // namespace jepsen
