// Client sessions for exactly-once writes (Raft thesis ch. 6): each write may carry
// (client_id, sequence); the outcome of the latest kSessionResultsKept sequences of a client is
// kept, so a retry after a timeout or failover gets the original answer instead of applying
// twice. Sessions are bounded (least recently used evicted) and expire after kSessionIdleMs of
// the replicated clock without a write. Both rules depend only on applied commands, so every
// replica keeps exactly the same sessions.
#include <algorithm>

#include "kvstate/state_limits.h"
#include "kvstate/state_machine.h"

namespace kvstate {

using namespace kvmodel;  // the data model this state machine stores

namespace {
base::Bytes session_key(uint64_t client_id) {
  base::Bytes key;
  base::put_u64_be(key, client_id);
  return key;
}
}  // namespace

const WriteOutcome* StateMachine::find_session_result(uint64_t client_id, uint64_t sequence,
                                                      WriteOutcome& too_old) const {
  const Session* s = sessions_.find(session_key(client_id));
  if (s == nullptr || sequence > s->last_sequence) return nullptr;
  for (const auto& [seq, outcome] : s->recent) {
    if (seq == sequence) return &outcome;
  }
  // Applying it now could apply it twice; its original outcome is unknown to us.
  too_old.kind = WriteOutcome::Kind::kError;
  too_old.error =
      base::Status(base::Code::kUnknownOutcome,
                   fmt::format("write {} of client {} is too old: its result is no longer kept",
                               sequence, client_id));
  return &too_old;
}

void StateMachine::record_session(uint64_t client_id, uint64_t sequence, Versionstamp vs,
                                  const WriteOutcome& outcome) {
  const Session* existing = sessions_.find(session_key(client_id));
  Session s = existing != nullptr ? *existing : Session{};
  ENSURE(sequence > s.last_sequence);
  s.last_sequence = sequence;
  s.last_used = vs;
  s.last_used_ms = clock_ms_;
  s.recent.emplace_back(sequence, outcome);
  if (s.recent.size() > kSessionResultsKept) s.recent.erase(s.recent.begin());
  put_session(client_id, std::move(s));
  if (sessions_.size() > kSessionsMax) erase_session(session_lru_.begin()->second);
}

void StateMachine::expire_sessions() {
  // last_used_ms follows the replicated clock, which never decreases, so LRU order is also
  // idle-time order: only the front can have expired.
  while (!session_lru_.empty()) {
    uint64_t client_id = session_lru_.begin()->second;
    const Session* s = sessions_.find(session_key(client_id));
    ENSURE(s != nullptr);
    if (s->last_used_ms + kSessionIdleMs > clock_ms_) break;
    erase_session(client_id);
  }
}

void StateMachine::put_session(uint64_t client_id, Session session) {
  base::Bytes key = session_key(client_id);
  if (const Session* old = sessions_.find(key)) session_lru_.erase(old->last_used);
  session_lru_[session.last_used] = client_id;
  sessions_.upsert(key, std::move(session));
}

void StateMachine::erase_session(uint64_t client_id) {
  base::Bytes key = session_key(client_id);
  const Session* old = sessions_.find(key);
  if (old == nullptr) return;
  session_lru_.erase(old->last_used);
  sessions_.erase(key);
}

}  // namespace kvstate
