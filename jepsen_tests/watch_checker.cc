#include "jepsen_tests/watch_checker.h"

#include <map>
#include <set>
#include <unordered_map>

namespace jepsen {
namespace {

struct Entry {
  std::string key;
  Json value;
  std::string versionstamp;  // "" when absent
};

base::Result<std::vector<Entry>> parse_entries(const Operation& op) {
  const Json* entries = op.value.find("entries");
  if (entries == nullptr || !entries->is_array()) {
    return base::invalid_argument("watch {} #{} has no entries list", op.f, op.invoke_index);
  }
  std::vector<Entry> out;
  for (const Json& e : entries->as_array()) {
    const Json* key = e.find("key");
    const Json* vs = e.find("versionstamp");
    if (key == nullptr || (vs != nullptr && !vs->is_null() && !vs->is_string())) {
      return base::invalid_argument("watch {} #{}: bad entry {}", op.f, op.invoke_index,
                                    e.serialize());
    }
    const Json* value = e.find("value");
    out.push_back(
        {key->serialize(), value ? *value : Json(), vs && vs->is_string() ? vs->as_string() : ""});
  }
  return out;
}

struct Writes {
  std::map<std::pair<std::string, std::string>, const Operation*> by_versionstamp;  // ok writes
  std::multimap<std::pair<std::string, std::string>, const Operation*> by_value;    // key, value
};

base::Result<Writes> index_writes(const std::vector<Operation>& ops) {
  Writes w;
  for (const Operation& op : ops) {
    if (op.f != "write") continue;
    const Json* key = op.invoke_value.find("key");
    if (key == nullptr)
      return base::invalid_argument("watch write #{} has no key", op.invoke_index);
    const Json* value = op.invoke_value.find("value");
    w.by_value.emplace(std::make_pair(key->serialize(), (value ? *value : Json()).serialize()),
                       &op);
    if (op.ok()) {
      const auto vs = op.value.find_string("versionstamp");
      if (!vs)
        return base::invalid_argument("watch write #{} ok without versionstamp", op.invoke_index);
      w.by_versionstamp[{key->serialize(), *vs}] = &op;
    }
  }
  return w;
}

// W2 for one entry (yielded or finally read).
void check_entry_written(const Entry& e, const Writes& w, const std::string& where,
                         const Operation& at, AnomalyLog& log) {
  if (e.versionstamp.empty()) {
    if (!e.value.is_null())
      log.add("phantom", fmt::format("{}: key {} has a value but no versionstamp", where, e.key),
              &at);
    return;
  }
  const auto it = w.by_versionstamp.find({e.key, e.versionstamp});
  if (it != w.by_versionstamp.end()) {
    const Json* written = it->second->invoke_value.find("value");
    if (!((written ? *written : Json()) == e.value)) {
      log.add("wrong-value",
              fmt::format("{}: key {} at {} shows {}, written {}", where, e.key, e.versionstamp,
                          e.value.serialize(), written ? written->serialize() : "null"),
              &at);
    }
    return;
  }
  auto [lo, hi] = w.by_value.equal_range({e.key, e.value.serialize()});
  bool from_info = false, from_failed = false;
  for (auto i = lo; i != hi; ++i) {
    from_info = from_info || i->second->indeterminate();
    from_failed = from_failed || i->second->failed();
  }
  if (from_info) return;
  log.add(from_failed ? "aborted-read" : "phantom",
          fmt::format("{}: key {} = {} at {} matches no {} write", where, e.key,
                      e.value.serialize(), e.versionstamp, from_failed ? "successful" : "recorded"),
          &at);
}

struct Watcher {
  std::vector<const Operation*> yields;
  const Operation* opened = nullptr;
  const Operation* ended = nullptr;  // the stream broke for good: W5 does not apply
};

// W4: a stream's first yield is at least as new as every write acknowledged before it opened.
void check_first_yield(const std::vector<Entry>& entries, const Watcher& w, const Writes& writes,
                       const std::string& where, AnomalyLog& log) {
  if (w.opened == nullptr) return;
  for (const Entry& e : entries) {
    for (const auto& [kv, write] : writes.by_versionstamp) {
      if (kv.first == e.key && write->complete_ns < w.opened->invoke_ns &&
          e.versionstamp < kv.second) {
        log.add("stale-first-yield",
                fmt::format("{}: key {} at {} older than {} acknowledged before the watch opened",
                            where, e.key, e.versionstamp, kv.second),
                w.yields.front());
        break;
      }
    }
  }
}

// One watcher's yields: every entry written (W2), versionstamps never going back (W1), no
// yield repeating the previous one (W6), the first at least as new as what was acknowledged
// before the open (W4). `last` ends as the versionstamp last yielded per key.
base::Status check_yields(int64_t process, const Watcher& w, const Writes& writes, AnomalyLog& log,
                          std::map<std::string, std::string>& last) {
  std::vector<std::string> previous;
  for (size_t i = 0; i < w.yields.size(); ++i) {
    auto entries = parse_entries(*w.yields[i]);
    if (!entries.is_ok()) return entries.status();
    const std::string where =
        fmt::format("watcher p{} yield #{}", process, w.yields[i]->invoke_index);
    std::vector<std::string> stamps;
    for (const Entry& e : *entries) {
      check_entry_written(e, writes, where, *w.yields[i], log);
      auto [it, first] = last.emplace(e.key, e.versionstamp);
      if (!first && e.versionstamp < it->second) {
        log.add("versionstamp-regression",
                fmt::format("{}: key {} went back from {} to {}", where, e.key, it->second,
                            e.versionstamp),
                w.yields[i]);
      }
      it->second = e.versionstamp;
      stamps.push_back(e.key + "@" + e.versionstamp);
    }
    if (i > 0 && stamps == previous)
      log.add("spurious-yield", where + ": same versionstamps as the previous yield", w.yields[i]);
    previous = std::move(stamps);
    if (i == 0) check_first_yield(*entries, w, writes, where, log);
  }
  return base::Status::ok();
}

}  // namespace

base::Result<CheckResult> check_watch(const std::vector<Operation>& ops) {
  auto writes = index_writes(ops);
  if (!writes.is_ok()) return writes.status();
  std::map<int64_t, Watcher> watchers;
  const Operation* final_read = nullptr;
  for (const Operation& op : ops) {
    if (op.f == "yield" && op.ok())
      watchers[op.process].yields.push_back(&op);
    else if (op.f == "watch-open")
      watchers[op.process].opened = &op;
    else if (op.f == "watch-end")
      watchers[op.process].ended = &op;
    else if (op.f == "read" && op.ok() &&
             (final_read == nullptr || op.complete_ns >= final_read->complete_ns))
      final_read = &op;
    else if (op.f != "write" && op.f != "yield" && op.f != "read" && op.f != "watch-end") {
      return base::invalid_argument("watch op #{}: unknown f \"{}\"", op.invoke_index, op.f);
    }
  }
  AnomalyLog log;
  std::map<std::string, std::string> final_vs;
  if (final_read != nullptr) {
    auto entries = parse_entries(*final_read);
    if (!entries.is_ok()) return entries.status();
    for (const Entry& e : *entries) {
      check_entry_written(e, *writes, "final read", *final_read, log);
      final_vs[e.key] = e.versionstamp;
    }
  }
  int64_t yields = 0;
  for (const auto& [process, w] : watchers) {
    std::map<std::string, std::string> last;  // key -> versionstamp last yielded
    RETURN_IF_ERROR(check_yields(process, w, *writes, log, last));
    yields += static_cast<int64_t>(w.yields.size());
    if (final_read == nullptr || w.ended != nullptr) continue;
    for (const auto& [key, vs] : last) {
      const auto f = final_vs.find(key);
      if (f != final_vs.end() && f->second != vs) {
        log.add("not-converged",
                fmt::format("watcher p{}: last yield of key {} is {}, final read {}", process, key,
                            vs, f->second),
                final_read);
      }
    }
  }
  CheckResult result;
  result.stats.set("watchers", Json::number(static_cast<int64_t>(watchers.size())));
  result.stats.set("yields", Json::number(yields));
  result.stats.set("writes_ok", Json::number(static_cast<int64_t>(writes->by_versionstamp.size())));
  const std::string names = log.apply(result);
  if (!log.empty()) {
    result.explanation = "watch: violations: " + names + ".";
  } else if (final_read == nullptr) {
    result.valid = Validity::kUnknown;
    result.explanation = "watch: no final read, so convergence could not be checked.";
  } else {
    result.explanation = fmt::format(
        "watch: {} watchers, {} yields: versionstamps never went back, every yield was written, "
        "all converged.",
        watchers.size(), yields);
  }
  return result;
}

}  // namespace jepsen
