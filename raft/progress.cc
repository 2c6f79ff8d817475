#include "raft/progress.h"

#include <algorithm>

#include "base/check.h"

namespace raft {

const char* progress_state_name(ProgressState state) {
  switch (state) {
    case ProgressState::kProbe:
      return "probe";
    case ProgressState::kReplicate:
      return "replicate";
    case ProgressState::kSnapshot:
      return "snapshot";
  }
  return "?";
}

Progress::Progress(Index next, int inflight_max, bool learner)
    : next_(next),
      learner_(learner),
      inflight_max_(static_cast<size_t>(std::max(inflight_max, 1))) {
  ENSURE(next >= 1);
}

void Progress::become_probe() {
  // Leaving the snapshot state, resume right after the snapshot if it was acknowledged,
  // otherwise from what is known to match.
  if (state_ == ProgressState::kSnapshot) {
    next_ = std::max(match_ + 1, pending_snapshot_ + 1);
  } else {
    next_ = match_ + 1;
  }
  state_ = ProgressState::kProbe;
  pending_snapshot_ = 0;
  probe_sent_ = false;
  ticks_in_state = 0;
  inflight_.clear();
}

void Progress::become_replicate() {
  state_ = ProgressState::kReplicate;
  next_ = match_ + 1;
  probe_sent_ = false;
  ticks_in_state = 0;
  inflight_.clear();
}

void Progress::become_snapshot(Index snapshot_index) {
  state_ = ProgressState::kSnapshot;
  pending_snapshot_ = snapshot_index;
  probe_sent_ = false;
  ticks_in_state = 0;
  inflight_.clear();
}

bool Progress::maybe_update(Index index) {
  bool updated = false;
  if (match_ < index) {
    match_ = index;
    updated = true;
    probe_sent_ = false;
    first_probe_at_match_ = 0;
  }
  next_ = std::max(next_, index + 1);
  while (!inflight_.empty() && inflight_.front() <= index) inflight_.pop_front();
  return updated;
}

void Progress::sent_append(Index last_index, bool has_entries) {
  switch (state_) {
    case ProgressState::kReplicate:
      if (has_entries) {
        ENSURE(last_index >= next_);
        next_ = last_index + 1;
        inflight_.push_back(last_index);
      }
      break;
    case ProgressState::kProbe:
      probe_sent_ = true;
      break;
    case ProgressState::kSnapshot:
      FATAL("append sent to a follower in the snapshot state");
  }
}

bool Progress::maybe_decrease_to(Index rejected, Index hint) {
  if (state_ == ProgressState::kReplicate) {
    // Only the rejection of an index above match is news; a replicating follower then
    // restarts from just above match (it lost an append or has a conflicting suffix).
    if (rejected <= match_) return false;
    next_ = match_ + 1;
    return true;
  }
  // Probe (or snapshot): only the answer to the last probe sent counts, and only if it moves
  // next: a rejection at match itself is stale (or, with a storage loss, proven by the leader
  // through the probe's number instead); resending the same probe would only multiply it.
  if (next_ - 1 != rejected) return false;
  const Index next = std::max(std::min(rejected, hint + 1), match_ + 1);
  if (next == next_) return false;
  next_ = next;
  probe_sent_ = false;
  return true;
}

void Progress::heartbeat_answered() {
  probe_sent_ = false;
  // A full window may hide a lost append: free one slot so the next append probes it.
  if (state_ == ProgressState::kReplicate && inflight_.size() >= inflight_max_) {
    inflight_.pop_front();
  }
}

void Progress::sent_probe(uint64_t probe_id) {
  ENSURE(state_ == ProgressState::kProbe && probe_id > 0);
  if (first_probe_at_match_ == 0) first_probe_at_match_ = probe_id;
}

void Progress::reset_after_storage_loss(Index next) {
  ENSURE(next >= 1);
  state_ = ProgressState::kProbe;
  match_ = 0;
  next_ = next;
  pending_snapshot_ = 0;
  probe_sent_ = false;
  ticks_in_state = 0;
  inflight_.clear();
  first_probe_at_match_ = 0;
  ++storage_loss_resets_;
}

bool Progress::paused() const {
  switch (state_) {
    case ProgressState::kProbe:
      return probe_sent_;
    case ProgressState::kReplicate:
      return inflight_.size() >= inflight_max_;
    case ProgressState::kSnapshot:
      return true;
  }
  return true;
}

}  // namespace raft
