#include "jepsen_tests/expiry_checker.h"

#include <algorithm>
#include <map>

namespace jepsen {
namespace {

struct Key {
  const Operation* write = nullptr;
  std::vector<const Operation*> reads;  // ok reads, by invoke time
};

base::Status index_ops(const std::vector<Operation>& ops, std::map<std::string, Key>& keys) {
  for (const Operation& op : ops) {
    const auto key = op.invoke_value.find_string("key");
    if (!key) return base::invalid_argument("expiry op #{} has no key", op.invoke_index);
    if (op.f == "write") {
      if (!op.invoke_value.find_i64("expire_ms"))
        return base::invalid_argument("expiry write #{} has no expire_ms", op.invoke_index);
      if (keys[*key].write != nullptr)
        return base::invalid_argument("expiry key {} written twice", *key);
      keys[*key].write = &op;
    } else if (op.f == "read") {
      if (op.ok()) keys[*key].reads.push_back(&op);
    } else {
      return base::invalid_argument("expiry op #{}: unknown f \"{}\"", op.invoke_index, op.f);
    }
  }
  for (auto& [name, k] : keys)
    std::stable_sort(k.reads.begin(), k.reads.end(), [](const Operation* a, const Operation* b) {
      return a->invoke_ns < b->invoke_ns;
    });
  return base::Status::ok();
}

bool present(const Operation& read) {
  const Json* v = read.value.find("value");
  return v != nullptr && !v->is_null();
}

void check_key(const std::string& name, const Key& k, const ExpiryOptions& o, AnomalyLog& log,
               int64_t& expired_seen) {
  const Operation* w = k.write;
  const Json* written = w ? w->invoke_value.find("value") : nullptr;
  for (const Operation* r : k.reads) {
    if (!present(*r)) continue;
    if (w == nullptr || w->failed() || written == nullptr || !(*written == *r->value.find("value")))
      log.add("phantom",
              fmt::format("{}: {} read, never written by a write that may have applied", name,
                          r->value.find("value")->serialize()),
              r);
  }
  if (w == nullptr || !w->ok()) return;
  const int64_t expire_ns = w->invoke_value.find_i64("expire_ms").value_or(0) * 1'000'000;
  const int64_t tolerance_ns = o.tolerance_ms * 1'000'000;
  const Operation* gone = nullptr;  // the first read (by completion) that saw it absent
  for (const Operation* r : k.reads) {
    if (r->invoke_ns < w->complete_ns) continue;  // may precede the write
    if (!present(*r)) {
      if (r->complete_ns < w->invoke_ns + expire_ns - tolerance_ns)
        log.add("expired-early",
                fmt::format("{}: absent {:.1f} ms after the write's invoke; expireIn {} ms", name,
                            static_cast<double>(r->complete_ns - w->invoke_ns) / 1e6,
                            expire_ns / 1'000'000),
                r);
      if (gone == nullptr || r->complete_ns < gone->complete_ns) gone = r;
    }
  }
  if (gone == nullptr) return;
  ++expired_seen;
  for (const Operation* r : k.reads) {
    if (present(*r) && r->invoke_ns > gone->complete_ns)
      log.add("reappeared",
              fmt::format("{}: present again at {:.1f} ms after a read saw it gone "
                          "at {:.1f} ms",
                          name, static_cast<double>(r->invoke_ns) / 1e6,
                          static_cast<double>(gone->complete_ns) / 1e6),
              r);
  }
}

}  // namespace

base::Result<CheckResult> check_expiry(const std::vector<Operation>& ops,
                                       const ExpiryOptions& options) {
  std::map<std::string, Key> keys;
  RETURN_IF_ERROR(index_ops(ops, keys));
  AnomalyLog log;
  int64_t expired_seen = 0, reads = 0, acknowledged = 0;
  for (const auto& [name, k] : keys) {
    reads += static_cast<int64_t>(k.reads.size());
    acknowledged += k.write != nullptr && k.write->ok();
    check_key(name, k, options, log, expired_seen);
  }
  CheckResult result;
  result.stats.set("keys", Json::number(static_cast<int64_t>(keys.size())));
  result.stats.set("acknowledged_writes", Json::number(acknowledged));
  result.stats.set("reads_ok", Json::number(reads));
  result.stats.set("seen_expired", Json::number(expired_seen));
  const std::string names = log.apply(result);
  if (!log.empty()) {
    result.explanation = "expiry: violations: " + names + ".";
  } else if (expired_seen == 0) {
    result.valid = Validity::kUnknown;
    result.explanation = "expiry: no read saw an acknowledged key expire; nothing was checked.";
  } else {
    result.explanation = fmt::format(
        "expiry: {} keys seen expiring, none early (tolerance {} ms), none came back, every value "
        "read was written.",
        expired_seen, options.tolerance_ms);
  }
  return result;
}

}  // namespace jepsen
