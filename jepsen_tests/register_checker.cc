#include "jepsen_tests/register_checker.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "jepsen_tests/wgl.h"

namespace jepsen {
namespace {

// One key's ops in model form, with value ids interned per key (0 = absent).
struct KeyHistory {
  std::string key;
  std::vector<RegisterOp> ops;  // RegisterOp::source indexes `sources`
  std::vector<const Operation*> sources;
  std::vector<std::string> values{"null"};  // id -> JSON text
  std::unordered_map<std::string, int32_t> ids{{"null", 0}};

  int32_t intern(const Json& v) {
    std::string text = v.serialize();
    auto [it, inserted] = ids.emplace(text, static_cast<int32_t>(values.size()));
    if (inserted) values.push_back(std::move(text));
    return it->second;
  }
};

base::Status add_op(std::map<std::string, KeyHistory>& keys, const Operation& op) {
  const Json& v = op.invoke_value;
  const Json* key = v.find("key");
  if (key == nullptr) return base::invalid_argument("register op #{} has no key", op.invoke_index);
  if (op.failed()) return base::Status::ok();  // definitely no effect
  const bool is_read = op.f == "read";
  if (is_read && op.indeterminate()) return base::Status::ok();  // no effect, nothing seen
  KeyHistory& kh = keys[key->serialize()];
  kh.key = key->serialize();
  RegisterOp r;
  r.indeterminate = op.indeterminate();
  r.call_ns = op.invoke_ns;
  r.return_ns = op.complete_ns;
  r.source = static_cast<int64_t>(kh.sources.size());
  if (is_read) {
    const Json* out = op.value.find("value");
    if (out == nullptr) {
      return base::invalid_argument("register read #{} completed ok without a value",
                                    op.invoke_index);
    }
    r.kind = RegisterOpKind::kRead;
    r.value = kh.intern(*out);
  } else if (op.f == "write") {
    const Json* in = v.find("value");
    r.kind = RegisterOpKind::kWrite;
    r.value = kh.intern(in == nullptr ? Json() : *in);
  } else if (op.f == "cas") {
    const Json* expected = v.find("expected");
    const Json* next = v.find("new");
    if (expected == nullptr || next == nullptr) {
      return base::invalid_argument("register cas #{} needs expected and new", op.invoke_index);
    }
    r.kind = RegisterOpKind::kCas;
    r.expected = kh.intern(*expected);
    r.value = kh.intern(*next);
  } else {
    return base::invalid_argument("register op #{} has unknown f \"{}\"", op.invoke_index, op.f);
  }
  kh.ops.push_back(r);
  kh.sources.push_back(&op);
  return base::Status::ok();
}

// Drops indeterminate writes/cas whose new value nothing kept can depend on (see header). A
// value is needed when a determinate read returns it, a determinate cas expects it, or a kept
// indeterminate cas expects it; keeping that cas can make a further value needed, so the set
// grows to a fixpoint (info write 5 || info cas 5->6, then read 6 needs the write).
void drop_unobserved_indeterminate(KeyHistory& kh) {
  std::unordered_set<int32_t> needed;
  std::vector<int32_t> work;  // needed values whose info cas have not been followed yet
  std::unordered_multimap<int32_t, int32_t> info_cas_from;  // new value -> expected value
  const auto need = [&](int32_t v) {
    if (needed.insert(v).second) work.push_back(v);
  };
  for (const auto& op : kh.ops) {
    if (op.indeterminate && op.kind == RegisterOpKind::kCas)
      info_cas_from.emplace(op.value, op.expected);
    if (op.indeterminate) continue;
    if (op.kind == RegisterOpKind::kRead) need(op.value);
    if (op.kind == RegisterOpKind::kCas) need(op.expected);
  }
  while (!work.empty()) {
    const int32_t v = work.back();
    work.pop_back();
    auto [from, to] = info_cas_from.equal_range(v);
    for (auto it = from; it != to; ++it) need(it->second);
  }
  std::erase_if(kh.ops, [&](const RegisterOp& op) {
    return op.indeterminate && op.kind != RegisterOpKind::kRead && !needed.contains(op.value);
  });
}

struct KeyVerdict {
  WglResult wgl;
  double elapsed_ms = 0;
};

std::string describe_failure(const KeyHistory& kh, const WglResult& r, size_t max_ops,
                             int64_t origin_ns) {
  const auto op_text = [&](int32_t i) {
    return describe_operation(
        *kh.sources[static_cast<size_t>(kh.ops[static_cast<size_t>(i)].source)], origin_ns);
  };
  std::string out = fmt::format(
      "key {}: not linearizable. The search linearized at most {} of {} ops; then\n"
      "  {}\nmust take effect before it returns, and no order of the pending ops allows it.\n",
      kh.key, r.linearized_max, kh.ops.size(), op_text(r.stuck_op));
  out += "  model states possible at that point:";
  for (const int32_t s : r.states_at_stuck) out += " " + kh.values[static_cast<size_t>(s)];
  out += "\n  last ops linearized, in order:\n";
  for (const int32_t i : r.last_linearized) out += "    " + op_text(i) + "\n";
  out += "  ops pending at that point (called before it returned), latest calls:\n";
  const auto& pending = r.pending_at_stuck;
  const size_t from = pending.size() > max_ops ? pending.size() - max_ops : 0;
  for (size_t i = from; i < pending.size(); ++i) out += "    " + op_text(pending[i]) + "\n";
  return out;
}

// The WGL search of every key, on up to options.threads threads (keys are independent).
std::vector<KeyVerdict> search_keys(const std::vector<KeyHistory*>& keys,
                                    const RegisterOptions& options) {
  std::vector<KeyVerdict> verdicts(keys.size());
  std::atomic<size_t> next{0};
  const WglBudget budget{options.time_budget_ms_per_key, options.max_configurations_per_key};
  const auto worker = [&] {
    for (size_t i = next++; i < keys.size(); i = next++) {
      const auto start = std::chrono::steady_clock::now();
      verdicts[i].wgl = check_linearizable(keys[i]->ops, 0, budget);
      verdicts[i].elapsed_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
    }
  };
  int threads = options.threads;
  if (threads <= 0)
    threads = static_cast<int>(std::min(4u, std::max(1u, std::thread::hardware_concurrency())));
  threads = std::min<int>(threads, static_cast<int>(std::max<size_t>(keys.size(), 1)));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return verdicts;
}

}  // namespace

base::Result<CheckResult> check_register(const std::vector<Operation>& ops,
                                         const RegisterOptions& options) {
  std::map<std::string, KeyHistory> by_key;
  for (const Operation& op : ops) RETURN_IF_ERROR(add_op(by_key, op));
  std::vector<KeyHistory*> keys;
  int64_t dropped = 0;
  for (auto& [name, kh] : by_key) {
    const size_t before = kh.ops.size();
    drop_unobserved_indeterminate(kh);
    dropped += static_cast<int64_t>(before - kh.ops.size());
    keys.push_back(&kh);
  }

  const std::vector<KeyVerdict> verdicts = search_keys(keys, options);
  CheckResult result;
  const int64_t origin_ns = ops.empty() ? 0 : ops.front().invoke_ns;
  int64_t invalid = 0, unknown = 0, configurations = 0, max_ops_per_key = 0;
  double max_key_ms = 0;
  std::vector<std::string> invalid_keys, unknown_keys;
  for (size_t i = 0; i < keys.size(); ++i) {
    const WglResult& w = verdicts[i].wgl;
    configurations += w.configurations;
    max_key_ms = std::max(max_key_ms, verdicts[i].elapsed_ms);
    max_ops_per_key = std::max(max_ops_per_key, static_cast<int64_t>(keys[i]->ops.size()));
    if (w.verdict == WglVerdict::kNotLinearizable) {
      ++invalid;
      // Placed where the op that no order of the pending ops allows completes.
      const RegisterOp& stuck = keys[i]->ops[static_cast<size_t>(w.stuck_op)];
      note_anomaly(result, anomaly_time_ns(*keys[i]->sources[static_cast<size_t>(stuck.source)]),
                   "not linearizable: key " + keys[i]->key);
      if (invalid_keys.size() < options.counterexample_keys) {
        result.counterexample +=
            describe_failure(*keys[i], w, options.counterexample_ops, origin_ns);
      }
      invalid_keys.push_back(keys[i]->key);
    } else if (w.verdict == WglVerdict::kGaveUp) {
      ++unknown;
      unknown_keys.push_back(keys[i]->key);
    }
  }
  result.valid =
      invalid > 0 ? Validity::kInvalid : (unknown > 0 ? Validity::kUnknown : Validity::kValid);
  result.explanation = fmt::format(
      "register: {} keys checked for linearizability; {} not linearizable, {} undecided within "
      "the budget ({} ms, {} configurations per key).",
      keys.size(), invalid, unknown, options.time_budget_ms_per_key,
      options.max_configurations_per_key);
  if (!invalid_keys.empty())
    result.explanation += " First invalid key: " + invalid_keys.front() + ".";
  if (!unknown_keys.empty())
    result.explanation += " First undecided key: " + unknown_keys.front() + ".";
  result.stats.set("keys", Json::number(static_cast<int64_t>(keys.size())));
  result.stats.set("ops", Json::number(static_cast<int64_t>(ops.size())));
  result.stats.set("invalid_keys", Json::number(invalid));
  result.stats.set("unknown_keys", Json::number(unknown));
  result.stats.set("dropped_unobserved_info_writes", Json::number(dropped));
  result.stats.set("max_ops_per_key", Json::number(max_ops_per_key));
  result.stats.set("configurations", Json::number(configurations));
  result.stats.set("max_key_ms", Json::number(max_key_ms));
  return result;
}

}  // namespace jepsen
