// Queue commands (spec §6): enqueue inside atomic writes, lease, ack, nack, extend and lease
// expiry. Delivery is at least once: a lease that ends without an ack counts as a failure.
#include <set>

#include "kvstate/state_limits.h"
#include "kvstate/state_machine.h"

namespace kvstate {

using namespace kvmodel;  // the data model this state machine stores

namespace {

const std::vector<uint32_t> kDefaultBackoffMs = {100, 1000, 5000, 30000, 60000};

base::Bytes message_id(Versionstamp vs, size_t enqueue_position) {
  base::Bytes id(vs.view());
  base::put_u16_be(id, static_cast<uint16_t>(enqueue_position));
  return id;
}

base::Status check_visibility(uint64_t visibility_ms) {
  if (visibility_ms == 0 || visibility_ms > kVisibilityMaxMs) {
    return base::invalid_argument("visibility must be 1..{} ms", kVisibilityMaxMs);
  }
  return base::Status::ok();
}

WriteOutcome committed(Versionstamp vs) {
  WriteOutcome o;
  o.versionstamp = vs;
  return o;
}

WriteOutcome failed(base::Status status) {
  WriteOutcome o;
  o.kind = WriteOutcome::Kind::kError;
  o.error = std::move(status);
  return o;
}

}  // namespace

void StateMachine::add_enqueues(const AtomicWrite& write, Versionstamp vs, uint64_t now_ms,
                                CommandResult& result) {
  for (size_t i = 0; i < write.enqueues.size(); ++i) {
    const Enqueue& e = write.enqueues[i];
    QueueMessage m;
    m.payload = e.payload;
    m.ready_at_ms = now_ms + e.delay_ms;
    // An empty schedule means the default, not "no retries" (spec §6.4).
    m.backoff_ms = e.backoff_schedule_ms.empty() ? kDefaultBackoffMs : e.backoff_schedule_ms;
    m.keys_if_undelivered = e.keys_if_undelivered;
    put_message(message_id(vs, i), std::move(m));
    result.queue_changed = true;
  }
}

CommandResult StateMachine::apply_lease(const QueueLease& lease, Versionstamp vs) {
  uint64_t now = advance_clock(lease.now_ms);
  CommandResult result;
  if (lease.max_messages == 0 || lease.max_messages > kLeaseMessagesMax) {
    result.outcome =
        failed(base::invalid_argument("max messages must be 1..{}", kLeaseMessagesMax));
    return result;
  }
  if (base::Status s = check_visibility(lease.visibility_ms); !s.is_ok()) {
    result.outcome = failed(std::move(s));
    return result;
  }
  std::vector<base::Bytes> due;
  for (auto it = ready_index_.begin();
       it != ready_index_.end() && it->first <= now && due.size() < lease.max_messages; ++it) {
    due.push_back(it->second);
  }
  for (const base::Bytes& id : due) {
    QueueMessage m = *queue_.find(id);
    m.leased = true;
    m.consumer_id = lease.consumer_id;
    m.lease_deadline_ms = now + lease.visibility_ms;
    m.lease_token = vs;
    m.deliveries += 1;
    result.leased.push_back(LeasedMessage{id, m.payload, vs, m.lease_deadline_ms, m.deliveries});
    put_message(id, std::move(m));
  }
  result.queue_changed = !due.empty();
  result.outcome = committed(vs);
  return result;
}

const QueueMessage* StateMachine::find_lease(base::BytesView id, const Versionstamp& token,
                                             CommandResult& result) const {
  const QueueMessage* m = queue_.find(id);
  if (m == nullptr || !m->leased || m->lease_token != token) {
    // A stale token (from an earlier lease of a redelivered message) changes nothing.
    result.outcome = failed(base::Status(
        base::Code::kNotFound,
        fmt::format("message {} is not leased with token {}", base::to_hex(id), token.hex())));
    return nullptr;
  }
  return m;
}

CommandResult StateMachine::apply_ack(const QueueAck& ack, Versionstamp vs) {
  CommandResult result;
  if (find_lease(ack.message_id, ack.lease_token, result) == nullptr) return result;
  erase_message(ack.message_id);
  result.queue_changed = true;
  result.outcome = committed(vs);
  return result;
}

CommandResult StateMachine::apply_nack(const QueueNack& nack, Versionstamp vs) {
  uint64_t now = advance_clock(nack.now_ms);
  CommandResult result;
  const QueueMessage* m = find_lease(nack.message_id, nack.lease_token, result);
  if (m == nullptr) return result;
  fail_delivery(nack.message_id, *m, now, vs, result);
  result.outcome = committed(vs);
  return result;
}

CommandResult StateMachine::apply_extend(const QueueExtend& extend, Versionstamp vs) {
  uint64_t now = advance_clock(extend.now_ms);
  CommandResult result;
  if (base::Status s = check_visibility(extend.visibility_ms); !s.is_ok()) {
    result.outcome = failed(std::move(s));
    return result;
  }
  const QueueMessage* found = find_lease(extend.message_id, extend.lease_token, result);
  if (found == nullptr) return result;
  QueueMessage m = *found;
  m.lease_deadline_ms = now + extend.visibility_ms;
  put_message(extend.message_id, std::move(m));
  result.outcome = committed(vs);
  return result;
}

CommandResult StateMachine::apply_expire_leases(const ExpireLeases& expire, Versionstamp vs) {
  uint64_t now = advance_clock(expire.now_ms);
  CommandResult result;
  std::vector<base::Bytes> expired;
  for (auto it = lease_index_.begin();
       it != lease_index_.end() && it->first <= now && expired.size() < kSweepKeysMax; ++it) {
    expired.push_back(it->second);
  }
  for (const base::Bytes& id : expired) fail_delivery(id, *queue_.find(id), now, vs, result);
  // Several messages may dead-letter into the same key: report each key once.
  std::set<base::Bytes> seen;
  std::erase_if(result.changed_keys, [&](const base::Bytes& k) { return !seen.insert(k).second; });
  result.outcome = committed(vs);
  return result;
}

// A delivery failed (nack or lease expiry): retry after the next backoff interval, or, when
// the schedule is used up, write the payload to every keys_if_undelivered key (one versioned
// write, encoding V8, no expiry) and drop the message.
void StateMachine::fail_delivery(base::BytesView id, QueueMessage message, uint64_t now_ms,
                                 Versionstamp vs, CommandResult& result) {
  result.queue_changed = true;
  if (!message.backoff_ms.empty()) {
    message.ready_at_ms = now_ms + message.backoff_ms.front();
    message.backoff_ms.erase(message.backoff_ms.begin());
    message.leased = false;
    message.consumer_id = 0;
    message.lease_deadline_ms = 0;
    put_message(id, std::move(message));
    return;
  }
  for (const base::Bytes& key : message.keys_if_undelivered) {
    put_entry(key, Entry{Value{ValueEncoding::kV8, message.payload}, vs, 0});
    result.changed_keys.push_back(key);
  }
  erase_message(id);
}

void StateMachine::put_message(base::BytesView id, QueueMessage message) {
  if (const QueueMessage* old = queue_.find(id)) {
    if (old->leased) {
      lease_index_.erase({old->lease_deadline_ms, base::Bytes(id)});
    } else {
      ready_index_.erase({old->ready_at_ms, base::Bytes(id)});
    }
  }
  if (message.leased) {
    lease_index_.emplace(message.lease_deadline_ms, base::Bytes(id));
  } else {
    ready_index_.emplace(message.ready_at_ms, base::Bytes(id));
  }
  queue_.upsert(id, std::move(message));
}

void StateMachine::erase_message(base::BytesView id) {
  const QueueMessage* old = queue_.find(id);
  if (old == nullptr) return;
  if (old->leased) {
    lease_index_.erase({old->lease_deadline_ms, base::Bytes(id)});
  } else {
    ready_index_.erase({old->ready_at_ms, base::Bytes(id)});
  }
  queue_.erase(id);
}

}  // namespace kvstate
