// Apply of atomic writes and expiry sweeps, and the index-keeping tree updates. Queue commands
// are in queue.cc, sessions in session.cc, snapshots in snapshot.cc.
#include "kvstate/state_machine.h"

#include <algorithm>
#include <type_traits>

#include "kvmodel/write_validation.h"
#include "kvstate/mutation_math.h"
#include "kvstate/read.h"
#include "kvstate/snapshot.h"
#include "kvstate/state_limits.h"

namespace kvstate {

using namespace kvmodel;  // the data model this state machine stores

namespace {

WriteOutcome error_outcome(base::Status status) {
  WriteOutcome o;
  o.kind = WriteOutcome::Kind::kError;
  o.error = std::move(status);
  return o;
}

// Only sum, min and max can fail after validation (type errors, spec §2.3).
bool cannot_fail(const Mutation& m) {
  return m.kind == MutationKind::kSet || m.kind == MutationKind::kDelete ||
         m.kind == MutationKind::kSetSuffixVersionstampedKey;
}

// The key of a set-with-versionstamp-suffix: key ‖ the versionstamp as a bytes tuple part.
base::Bytes versionstamped_key(base::BytesView key, Versionstamp vs) {
  base::Bytes out(key);
  out.push_back('\x02');
  out += vs.hex();
  out.push_back('\0');
  return out;
}

}  // namespace

// The keys one atomic write will change, in first-touch order, with their new entries
// (nullopt = delete). Later mutations read earlier ones through find().
struct StateMachine::Staged {
  std::vector<std::pair<base::Bytes, std::optional<Entry>>> writes;

  std::optional<Entry>* find(base::BytesView key) {
    // Linear: at most 1000 mutations per write, and most writes have one.
    for (auto it = writes.rbegin(); it != writes.rend(); ++it) {
      if (it->first == key) return &it->second;
    }
    return nullptr;
  }
  void put(base::Bytes key, std::optional<Entry> entry) {
    if (auto* slot = find(key)) {
      *slot = std::move(entry);
    } else {
      writes.emplace_back(std::move(key), std::move(entry));
    }
  }
};

base::Result<std::vector<CommandResult>> StateMachine::apply_entry(uint64_t raft_index,
                                                                   base::BytesView data) {
  ENSURE_MSG(raft_index > last_applied_index_, "apply of index {} after {}", raft_index,
             last_applied_index_);
  std::vector<CommandResult> results;
  if (data.empty()) {
    last_applied_index_ = raft_index;
    return results;
  }
  auto batch = decode_batch(data);
  if (!batch.is_ok()) {
    last_applied_index_ = raft_index;
    return batch.status();
  }
  results.reserve(batch->size());
  for (size_t i = 0; i < batch->size(); ++i) {
    // The decoded batch is ours: its keys and values move into the state instead of copying.
    Command& command = (*batch)[i];
    results.push_back(
        apply_command(command, &command, Versionstamp::of(raft_index, static_cast<uint16_t>(i))));
  }
  last_applied_index_ = raft_index;
  return results;
}

CommandResult StateMachine::apply(const Command& command, Versionstamp vs) {
  return apply_command(command, nullptr, vs);
}

CommandResult StateMachine::apply_command(const Command& command, Command* owned, Versionstamp vs) {
  ENSURE_MSG(vs > last_versionstamp_, "versionstamp {} does not follow {}", vs.hex(),
             last_versionstamp_.hex());
  last_versionstamp_ = vs;
  last_applied_index_ = std::max(last_applied_index_, vs.raft_index());
  return std::visit(
      [&](const auto& c) -> CommandResult {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, AtomicWrite>) {
          return apply_atomic_write(c, owned ? &std::get<AtomicWrite>(*owned) : nullptr, vs);
        }
        if constexpr (std::is_same_v<T, QueueLease>) return apply_lease(c, vs);
        if constexpr (std::is_same_v<T, QueueAck>) return apply_ack(c, vs);
        if constexpr (std::is_same_v<T, QueueNack>) return apply_nack(c, vs);
        if constexpr (std::is_same_v<T, QueueExtend>) return apply_extend(c, vs);
        if constexpr (std::is_same_v<T, ExpireLeases>) return apply_expire_leases(c, vs);
        if constexpr (std::is_same_v<T, ExpirySweep>) return apply_expiry_sweep(c, vs);
        if constexpr (std::is_same_v<T, Noop>) {
          CommandResult r;
          r.outcome.versionstamp = vs;
          return r;
        }
      },
      command);
}

CommandResult StateMachine::apply_atomic_write(const AtomicWrite& write, AtomicWrite* owned,
                                               Versionstamp vs) {
  advance_clock(write.now_ms);
  expire_sessions();
  bool in_session = write.client_id != 0 && write.sequence != 0;
  if (in_session) {
    WriteOutcome too_old;
    if (const WriteOutcome* prior = find_session_result(write.client_id, write.sequence, too_old)) {
      CommandResult replay;
      replay.outcome = *prior;
      replay.replayed = true;
      return replay;
    }
  }
  CommandResult result = apply_write_body(write, owned, vs);
  if (in_session) record_session(write.client_id, write.sequence, vs, result.outcome);
  return result;
}

CommandResult StateMachine::apply_write_body(const AtomicWrite& write, AtomicWrite* owned,
                                             Versionstamp vs) {
  CommandResult result;
  if (base::Status s = validate_atomic_write(write); !s.is_ok()) {
    result.outcome = error_outcome(std::move(s));
    return result;
  }
  // Checks see the state before any mutation of this write (spec §4.2).
  for (size_t i = 0; i < write.checks.size(); ++i) {
    const Check& check = write.checks[i];
    const Entry* current = data_.find(check.key);
    std::optional<Versionstamp> actual;
    if (current != nullptr) actual = current->versionstamp;
    if (actual != check.versionstamp) {
      result.outcome.failed_checks.push_back(static_cast<uint32_t>(i));
    }
  }
  if (!result.outcome.failed_checks.empty()) {
    result.outcome.kind = WriteOutcome::Kind::kCheckFailed;
    return result;
  }
  if (std::all_of(write.mutations.begin(), write.mutations.end(), cannot_fail)) {
    apply_in_order(write, owned, vs, result);
  } else {
    Staged staged;
    if (base::Status s = stage_mutations(write, vs, staged); !s.is_ok()) {
      result.outcome = error_outcome(std::move(s));
      return result;
    }
    commit_staged(staged, vs, result);
  }
  add_enqueues(write, vs, clock_ms_, result);
  result.outcome.kind = WriteOutcome::Kind::kCommitted;
  result.outcome.versionstamp = vs;
  return result;
}

// Computes every mutation's result without touching the trees, so a failing mutation leaves
// nothing behind (all-or-nothing, spec §11 gotcha 9).
base::Status StateMachine::stage_mutations(const AtomicWrite& write, Versionstamp vs,
                                           Staged& staged) const {
  for (const Mutation& m : write.mutations) {
    auto current_value = [&](base::BytesView key) -> const Value* {
      if (auto* slot = staged.find(key)) return *slot ? &(*slot)->value : nullptr;
      const Entry* e = data_.find(key);
      return e != nullptr ? &e->value : nullptr;
    };
    switch (m.kind) {
      case MutationKind::kSet:
        staged.put(m.key, Entry{m.value, vs, m.expire_at_ms});
        break;
      case MutationKind::kSetSuffixVersionstampedKey:
        staged.put(versionstamped_key(m.key, vs), Entry{m.value, vs, m.expire_at_ms});
        break;
      case MutationKind::kDelete:
        staged.put(m.key, std::nullopt);
        break;
      case MutationKind::kSum: {
        auto v =
            apply_sum(current_value(m.key), {m.value, m.sum_min_v8, m.sum_max_v8, m.sum_clamp});
        if (!v.is_ok()) return v.status();
        staged.put(m.key, Entry{std::move(*v), vs, 0});  // sum clears expiry
        break;
      }
      case MutationKind::kMin:
      case MutationKind::kMax: {
        auto which = m.kind == MutationKind::kMin ? MinMax::kMin : MinMax::kMax;
        auto v = apply_min_max(which, current_value(m.key), m.value);
        if (!v.is_ok()) return v.status();
        staged.put(m.key, Entry{std::move(*v), vs, 0});
        break;
      }
    }
  }
  return base::Status::ok();
}

// Sets and deletes cannot fail once the write is validated, so they skip staging and go
// straight to the trees in mutation order. The final state is the staged path's (the last
// mutation of a key wins either way); changed_keys lists each key once, in first-touch order.
void StateMachine::apply_in_order(const AtomicWrite& write, AtomicWrite* owned, Versionstamp vs,
                                  CommandResult& result) {
  auto& changed = result.changed_keys;
  changed.reserve(write.mutations.size());
  for (size_t i = 0; i < write.mutations.size(); ++i) {
    const Mutation& m = write.mutations[i];
    Mutation* mine = owned != nullptr ? &owned->mutations[i] : nullptr;
    base::Bytes key;
    if (m.kind == MutationKind::kSetSuffixVersionstampedKey) {
      key = versionstamped_key(m.key, vs);
    } else if (mine != nullptr) {
      key = std::move(mine->key);
    } else {
      key = m.key;
    }
    if (m.kind == MutationKind::kDelete) {
      erase_entry(key);  // deleting a missing key still commits (spec §4.2)
    } else if (mine != nullptr) {
      put_entry(key, Entry{std::move(mine->value), vs, m.expire_at_ms});
    } else {
      put_entry(key, Entry{m.value, vs, m.expire_at_ms});
    }
    if (std::find(changed.begin(), changed.end(), key) == changed.end()) {
      changed.push_back(std::move(key));
    }
  }
}

void StateMachine::commit_staged(Staged& staged, Versionstamp, CommandResult& result) {
  result.changed_keys.reserve(staged.writes.size());
  for (auto& [key, entry] : staged.writes) {
    if (entry) {
      put_entry(key, std::move(*entry));
    } else {
      erase_entry(key);  // deleting a missing key still commits (spec §4.2)
    }
    result.changed_keys.push_back(std::move(key));
  }
}

CommandResult StateMachine::apply_expiry_sweep(const ExpirySweep& sweep, Versionstamp vs) {
  uint64_t now = advance_clock(sweep.now_ms);
  CommandResult result;
  result.outcome.versionstamp = vs;
  while (!expiry_index_.empty() && expiry_index_.begin()->first <= now &&
         result.changed_keys.size() < kSweepKeysMax) {
    base::Bytes key = expiry_index_.begin()->second;
    erase_entry(key);
    result.changed_keys.push_back(std::move(key));
  }
  return result;
}

uint64_t StateMachine::advance_clock(uint64_t now_ms) {
  clock_ms_ = std::max(clock_ms_, now_ms);
  return clock_ms_;
}

void StateMachine::put_entry(base::BytesView key, Entry entry) {
  const uint64_t expire_at_ms = entry.expire_at_ms;
  // One descent: afterwards `entry` holds the replaced entry, if there was one.
  const bool was_new = data_.exchange(key, entry);
  if (!was_new && entry.expire_at_ms != 0) {
    expiry_index_.erase({entry.expire_at_ms, base::Bytes(key)});
  }
  if (expire_at_ms != 0) expiry_index_.emplace(expire_at_ms, base::Bytes(key));
}

void StateMachine::erase_entry(base::BytesView key) {
  const Entry* old = data_.find(key);
  if (old == nullptr) return;
  if (old->expire_at_ms != 0) expiry_index_.erase({old->expire_at_ms, base::Bytes(key)});
  data_.erase(key);
}

base::Result<std::vector<std::vector<KvEntry>>> StateMachine::read(
    const std::vector<ReadRange>& ranges) const {
  return read_ranges(data_, ranges);
}

std::optional<uint64_t> StateMachine::next_ready_at() const {
  if (ready_index_.empty()) return std::nullopt;
  return ready_index_.begin()->first;
}
std::optional<uint64_t> StateMachine::next_lease_deadline() const {
  if (lease_index_.empty()) return std::nullopt;
  return lease_index_.begin()->first;
}
std::optional<uint64_t> StateMachine::next_expiry() const {
  if (expiry_index_.empty()) return std::nullopt;
  return expiry_index_.begin()->first;
}

void StateMachine::rebuild_indexes() {
  expiry_index_.clear();
  ready_index_.clear();
  lease_index_.clear();
  session_lru_.clear();
  data_.scan("", std::nullopt, false, [&](std::string_view key, const Entry& e) {
    if (e.expire_at_ms != 0) expiry_index_.emplace(e.expire_at_ms, base::Bytes(key));
    return true;
  });
  queue_.scan("", std::nullopt, false, [&](std::string_view id, const QueueMessage& m) {
    (m.leased ? lease_index_ : ready_index_)
        .emplace(m.leased ? m.lease_deadline_ms : m.ready_at_ms, base::Bytes(id));
    return true;
  });
  sessions_.scan("", std::nullopt, false, [&](std::string_view key, const Session& s) {
    session_lru_.emplace(s.last_used, base::get_u64_be(key.data()));
    return true;
  });
}

void StateMachine::check_invariants() const {
  data_.check_invariants();
  queue_.check_invariants();
  sessions_.check_invariants();
  size_t expiring = 0, ready = 0, leased = 0;
  data_.scan("", std::nullopt, false, [&](std::string_view key, const Entry& e) {
    ENSURE(e.versionstamp <= last_versionstamp_);
    if (e.expire_at_ms != 0) {
      ENSURE(expiry_index_.count({e.expire_at_ms, base::Bytes(key)}) == 1);
      ++expiring;
    }
    return true;
  });
  queue_.scan("", std::nullopt, false, [&](std::string_view id, const QueueMessage& m) {
    ENSURE(id.size() == kMessageIdBytes);
    const auto& index = m.leased ? lease_index_ : ready_index_;
    ENSURE(index.count({m.leased ? m.lease_deadline_ms : m.ready_at_ms, base::Bytes(id)}) == 1);
    ++(m.leased ? leased : ready);
    return true;
  });
  sessions_.scan("", std::nullopt, false, [&](std::string_view key, const Session& s) {
    auto it = session_lru_.find(s.last_used);
    ENSURE(it != session_lru_.end() && it->second == base::get_u64_be(key.data()));
    ENSURE(s.recent.size() <= kSessionResultsKept);
    return true;
  });
  ENSURE(expiring == expiry_index_.size());
  ENSURE(ready == ready_index_.size() && leased == lease_index_.size());
  ENSURE(session_lru_.size() == sessions_.size() && sessions_.size() <= kSessionsMax);
}

}  // namespace kvstate
