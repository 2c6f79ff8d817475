#include "jepsen_tests/queue_checker.h"

#include <algorithm>
#include <map>

namespace jepsen {
namespace {

struct Message {
  const Operation* enqueue = nullptr;
  int64_t delay_ms = 0;
  std::vector<int64_t> backoff_ms{100, 1000, 5000, 30000, 60000};
  bool atomic = false;
  std::vector<const Operation*> deliveries;  // by invoke time
  std::optional<Json> dead_letter;           // its dlq-read entry, if any
  bool marker = false;
};

struct QueueState {
  std::map<std::string, Message> messages;
  bool dlq_read = false, marker_read = false;
  std::vector<const Operation*> orphan_deliveries;
};

base::Status parse_enqueue(QueueState& q, const Operation& op) {
  const auto id = op.invoke_value.find_string("id");
  if (!id) return base::invalid_argument("queue enqueue #{} has no string id", op.invoke_index);
  Message& m = q.messages[*id];
  if (m.enqueue != nullptr) return base::invalid_argument("queue id {} enqueued twice", *id);
  m.enqueue = &op;
  m.delay_ms = op.invoke_value.find_i64("delay_ms").value_or(0);
  m.atomic = op.invoke_value.find_bool("atomic").value_or(false);
  if (const Json* b = op.invoke_value.find("backoff_ms")) {
    if (!b->is_array())
      return base::invalid_argument("queue enqueue {}: backoff_ms is not a list", *id);
    m.backoff_ms.clear();
    for (const Json& v : b->as_array()) {
      const auto backoff_ms = v.number_as_i64();
      if (!backoff_ms) return base::invalid_argument("queue enqueue {}: bad backoff", *id);
      m.backoff_ms.push_back(*backoff_ms);
    }
  }
  return base::Status::ok();
}

base::Status parse(QueueState& q, const std::vector<Operation>& ops) {
  for (const Operation& op : ops) {
    if (op.f == "enqueue") {
      RETURN_IF_ERROR(parse_enqueue(q, op));
    } else if (op.f == "deliver") {
      // Collected after all enqueues are known (a delivery may be recorded first).
    } else if (op.f == "dlq-read" || op.f == "marker-read") {
      if (!op.ok()) continue;
      if (!op.value.is_array())
        return base::invalid_argument("queue {} #{} is not a list", op.f, op.invoke_index);
      (op.f == "dlq-read" ? q.dlq_read : q.marker_read) = true;
    } else {
      return base::invalid_argument("queue op #{}: unknown f \"{}\"", op.invoke_index, op.f);
    }
  }
  for (const Operation& op : ops) {
    if (op.f == "deliver") {
      const auto id = op.invoke_value.find_string("id");
      if (!id) return base::invalid_argument("queue deliver #{} has no string id", op.invoke_index);
      auto it = q.messages.find(*id);
      if (it == q.messages.end())
        q.orphan_deliveries.push_back(&op);
      else
        it->second.deliveries.push_back(&op);
    } else if (op.f == "dlq-read" && op.ok()) {
      for (const Json& entry : op.value.as_array()) {
        const auto id = entry.find_string("id");
        if (!id)
          return base::invalid_argument("queue dlq-read #{}: entry without id", op.invoke_index);
        auto it = q.messages.find(*id);
        if (it != q.messages.end()) it->second.dead_letter = entry;
      }
    } else if (op.f == "marker-read" && op.ok()) {
      for (const Json& id : op.value.as_array()) {
        if (!id.is_string()) continue;
        auto it = q.messages.find(id.as_string());
        if (it != q.messages.end()) it->second.marker = true;
      }
    }
  }
  for (auto& [id, m] : q.messages) {
    std::stable_sort(
        m.deliveries.begin(), m.deliveries.end(),
        [](const Operation* a, const Operation* b) { return a->invoke_ns < b->invoke_ns; });
  }
  return base::Status::ok();
}

// Q4 and Q5: timing of the first delivery and of retries after failed attempts.
void check_timing(const std::string& id, const Message& m, const QueueOptions& o, AnomalyLog& log) {
  if (m.deliveries.empty()) return;
  const int64_t tolerance_ns = o.clock_tolerance_ms * 1'000'000;
  const int64_t earliest = m.enqueue->invoke_ns + m.delay_ms * 1'000'000 - tolerance_ns;
  if (m.deliveries.front()->invoke_ns < earliest) {
    log.add("early-delivery",
            fmt::format(
                "{}: delivered {:.1f} ms after enqueue with delay {} ms", id,
                static_cast<double>(m.deliveries.front()->invoke_ns - m.enqueue->invoke_ns) / 1e6,
                m.delay_ms),
            m.deliveries.front());
  }
  size_t failed_attempts = 0;
  for (size_t i = 0; i + 1 < m.deliveries.size(); ++i) {
    const Operation& d = *m.deliveries[i];
    if (d.ok()) continue;  // later deliveries are duplicates, not retries
    const size_t step =
        std::min(failed_attempts++, m.backoff_ms.empty() ? 0 : m.backoff_ms.size() - 1);
    const int64_t wait_ms = m.backoff_ms.empty() ? 0 : m.backoff_ms[step];
    const int64_t gap_ns = m.deliveries[i + 1]->invoke_ns - d.invoke_ns;
    if (gap_ns < wait_ms * 1'000'000 - tolerance_ns) {
      log.add("backoff-ignored",
              fmt::format("{}: attempt {} came {:.1f} ms after attempt {}, backoff {} ms", id,
                          i + 2, static_cast<double>(gap_ns) / 1e6, i + 1, wait_ms),
              m.deliveries[i + 1]);
    }
  }
}

struct Tally {
  int64_t delivered = 0, dead_lettered = 0, duplicates = 0, undetermined = 0;
};

// Q1, Q3, Q6, Q7 for one message.
void check_outcome(const std::string& id, const Message& m, const QueueState& q,
                   const QueueOptions& o, AnomalyLog& log, Tally& tally) {
  const Operation& enq = *m.enqueue;
  const auto success = std::find_if(m.deliveries.begin(), m.deliveries.end(),
                                    [](const Operation* d) { return d->ok(); });
  const bool delivered = success != m.deliveries.end();
  const int64_t present = m.dead_letter ? m.dead_letter->find_i64("keys_present").value_or(0) : 0;
  const int64_t total = m.dead_letter ? m.dead_letter->find_i64("keys_total").value_or(0) : 0;
  const bool dead = total > 0 && present == total;
  const auto attempts = static_cast<int64_t>(m.deliveries.size());
  const auto allowed = static_cast<int64_t>(1 + m.backoff_ms.size());
  tally.delivered += delivered;
  tally.dead_lettered += dead;
  for (const Operation* d : m.deliveries)
    tally.duplicates += delivered && d->invoke_ns > (*success)->complete_ns;
  if (enq.failed() && (!m.deliveries.empty() || present > 0)) {
    log.add("delivered-failed-enqueue",
            fmt::format("{}: enqueue failed yet {} deliveries, {} dead-letter keys", id, attempts,
                        present),
            m.deliveries.empty() ? nullptr : m.deliveries.front());
  }
  if (present > 0 && present < total)
    log.add("partial-dead-letter", fmt::format("{}: {} of {} keys", id, present, total));
  if (present > 0 && m.dead_letter->find_bool("value_matches") == false) {
    log.add("dead-letter-wrong-value",
            fmt::format("{}: a dead-letter key holds another value", id));
  }
  if (present > 0 && delivered)
    log.add("dead-lettered-after-success",
            fmt::format("{}: handler succeeded yet dead-lettered", id), *success);
  if (dead && !delivered && attempts + o.unobserved_attempt_allowance < allowed) {
    log.add("dead-lettered-early",
            fmt::format("{}: dead-lettered after {} attempts; schedule allows {}", id, attempts,
                        allowed));
  }
  if (attempts > allowed + o.duplicate_allowance) {
    log.add(
        "too-many-deliveries",
        fmt::format("{}: {} deliveries, bound {}", id, attempts, allowed + o.duplicate_allowance),
        m.deliveries[static_cast<size_t>(allowed + o.duplicate_allowance)]);
  }
  if (enq.ok() && !delivered && !dead) {
    if (q.dlq_read)
      log.add(
          "lost",
          fmt::format(
              "{}: acknowledged enqueue neither delivered nor dead-lettered ({} failed attempts)",
              id, attempts),
          &enq);
    else
      ++tally.undetermined;
  }
  if (q.marker_read && m.atomic && !m.marker &&
      (enq.ok() || !m.deliveries.empty() || present > 0)) {
    log.add("enqueue-without-batch",
            fmt::format("{}: enqueue took effect but its batch's marker key is missing", id));
  }
}

}  // namespace

base::Result<CheckResult> check_queue(const std::vector<Operation>& ops,
                                      const QueueOptions& options) {
  QueueState q;
  RETURN_IF_ERROR(parse(q, ops));
  AnomalyLog log;
  for (const Operation* d : q.orphan_deliveries) {
    log.add("unexpected-delivery", fmt::format("{}: never enqueued", describe_operation(*d)), d);
  }
  Tally tally;
  int64_t acknowledged = 0;
  for (const auto& [id, m] : q.messages) {
    acknowledged += m.enqueue->ok();
    check_timing(id, m, options, log);
    check_outcome(id, m, q, options, log, tally);
  }
  CheckResult result;
  result.stats.set("enqueued", Json::number(static_cast<int64_t>(q.messages.size())));
  result.stats.set("acknowledged", Json::number(acknowledged));
  result.stats.set("delivered", Json::number(tally.delivered));
  result.stats.set("dead_lettered", Json::number(tally.dead_lettered));
  result.stats.set("duplicate_deliveries", Json::number(tally.duplicates));
  result.stats.set("undetermined", Json::number(tally.undetermined));
  const std::string names = log.apply(result);
  if (!log.empty()) {
    result.explanation = "queue: violations: " + names + ".";
  } else if (tally.undetermined > 0) {
    result.valid = Validity::kUnknown;
    result.explanation = fmt::format(
        "queue: {} acknowledged messages were neither delivered nor "
        "checked for dead letters (no dlq-read).",
        tally.undetermined);
  } else {
    result.explanation = fmt::format(
        "queue: {} acknowledged enqueues, all delivered ({}) or "
        "dead-lettered ({}); timing, backoff and bounds honoured; {} duplicate deliveries.",
        acknowledged, tally.delivered, tally.dead_lettered, tally.duplicates);
  }
  return result;
}

}  // namespace jepsen
