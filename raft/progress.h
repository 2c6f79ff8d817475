// The leader's view of one follower's log (thesis §3.5, etcd's tracker.Progress):
//   probe:     match unknown; send one append at a time and wait for the answer (or the next
//              heartbeat response) before sending again;
//   replicate: the follower is known to keep up; stream appends optimistically, at most
//              `inflight_max` unacknowledged messages at once;
//   snapshot:  the follower needs entries the leader no longer has; a snapshot is on its way
//              and nothing else is sent until it is acknowledged or times out.
// Invariant: match < next (entries up to match are known to be stored on the follower; next is
// the index of the next entry to send). match never decreases, except through
// reset_after_storage_loss() when the follower's storage lost entries.
#pragma once

#include <cstdint>
#include <deque>

#include "raft/types.h"

namespace raft {

enum class ProgressState : uint8_t { kProbe, kReplicate, kSnapshot };
const char* progress_state_name(ProgressState state);

class Progress {
 public:
  Progress(Index next, int inflight_max, bool learner);

  ProgressState state() const { return state_; }
  Index match() const { return match_; }
  Index next() const { return next_; }
  Index pending_snapshot() const { return pending_snapshot_; }
  bool learner() const { return learner_; }
  void set_learner(bool learner) { learner_ = learner; }

  // CheckQuorum (thesis §6.2): set by any response, cleared by the leader each election timeout.
  bool recent_active = false;
  // Ticks spent in the snapshot state; a lost snapshot is resent after an election timeout.
  int ticks_in_state = 0;

  void become_probe();
  void become_replicate();
  void become_snapshot(Index snapshot_index);

  // An append acknowledged up to `index`. Returns false when it tells nothing new (stale).
  bool maybe_update(Index index);
  // An append sent with entries up to `last_index` (last_index = next - 1 when empty).
  void sent_append(Index last_index, bool has_entries);
  // A rejection of the append whose previous index was `rejected`; `hint` is where the
  // follower suggests to retry (fast backtracking, paper §5.3 end). Returns false when stale.
  bool maybe_decrease_to(Index rejected, Index hint);
  // A heartbeat response arrived: the follower is alive, so a paused probe may send again.
  void heartbeat_answered();
  // A probe numbered `probe_id` (increasing per leader) was sent while match was known: the
  // follower's answer to it reflects its log after it had acknowledged that match.
  void sent_probe(uint64_t probe_id);
  // True when probe `probe_id` was sent since match took its current value (so its answer
  // cannot predate the acknowledgement of match).
  bool probe_sent_since_match(uint64_t probe_id) const {
    return first_probe_at_match_ != 0 && probe_id >= first_probe_at_match_;
  }
  // The follower's storage lost entries it had acknowledged (raw_node.h, "Amnesia"): match
  // drops to 0 and probing restarts at `next`. The only way match ever decreases.
  void reset_after_storage_loss(Index next);
  uint64_t storage_loss_resets() const { return storage_loss_resets_; }

  // True when nothing should be sent now (paused probe, full window, snapshot in flight).
  bool paused() const;
  size_t inflight_count() const { return inflight_.size(); }

 private:
  ProgressState state_ = ProgressState::kProbe;
  Index match_ = 0;
  Index next_ = 1;
  Index pending_snapshot_ = 0;
  bool probe_sent_ = false;  // probe: an append is outstanding
  bool learner_ = false;
  size_t inflight_max_;
  uint64_t storage_loss_resets_ = 0;
  uint64_t first_probe_at_match_ = 0;  // 0: no probe sent since match last changed
  std::deque<Index> inflight_;         // last index of each unacknowledged append (replicate state)
};

}  // namespace raft
