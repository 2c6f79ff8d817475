// Ready / advance: the only way state leaves the core (the contract is in raw_node.h).
#include <algorithm>

#include "base/check.h"
#include "raft/core.h"

namespace raft {

// The hard state the driver must persist with this Ready. Its commit never exceeds what will
// be durable once this Ready's entries are (a restart must find commit <= last index).
HardState RawNode::Impl::hard_state_to_persist() const {
  HardState hs{.term = term, .vote = vote, .commit = log.committed()};
  if (bug(PlantedBug::kVoteNotPersisted)) {
    // Planted bug 5: the vote is granted (and sent) but never written down.
    hs.vote = last_hard_state.term == term ? last_hard_state.vote : kNoNode;
  }
  Index durable_last = log.last_index();
  if (bug(PlantedBug::kAckBeforePersist) && withheld_from != 0)
    durable_last = std::min(durable_last, withheld_from - 1);
  hs.commit = std::min(hs.commit, std::max(durable_last, last_hard_state.commit));
  return hs;
}

bool RawNode::Impl::has_ready() const {
  if (ready_outstanding) return false;
  return log.unstable().snapshot() || !log.unstable().entries().empty() || !outbox.empty() ||
         !read_states.empty() || hard_state_to_persist() != last_hard_state ||
         log.has_next_committed_entries() || (role == Role::kLeader && append_broadcast_pending) ||
         read_round_wanted();
}

Ready RawNode::Impl::ready() {
  ENSURE_MSG(!ready_outstanding, "ready() called again before advance()");
  // Batching: proposals and reads that arrived since the last Ready share one append per
  // follower and one heartbeat round.
  if (role == Role::kLeader && append_broadcast_pending) broadcast_append();
  if (read_round_wanted()) start_read_round();

  Ready rd;
  rd.snapshot = log.unstable().snapshot();
  rd.entries = log.unstable().entries();
  withheld_from = 0;
  if (bug(PlantedBug::kAckBeforePersist) && role == Role::kFollower) {
    // Planted bug 3: entries that arrived since the last Ready are withheld for one more
    // Ready although their acknowledgements (in rd.messages) leave now.
    std::erase_if(rd.entries, [&](const Entry& e) { return e.index > bug3_seen_last; });
    if (rd.entries.size() < log.unstable().entries().size()) {
      withheld_from = rd.entries.empty() ? log.unstable().offset() : rd.entries.back().index + 1;
    }
  }
  bug3_seen_last = log.last_index();
  const HardState hs = hard_state_to_persist();
  if (hs != last_hard_state) {
    rd.term_or_vote_changed = hs.term != last_hard_state.term || hs.vote != last_hard_state.vote;
    rd.must_sync = rd.term_or_vote_changed;
    rd.hard_state = hs;
    last_hard_state = hs;
  }
  rd.must_sync = rd.must_sync || !rd.entries.empty() || rd.snapshot.has_value();
  rd.messages = std::move(outbox);
  outbox.clear();
  rd.committed_entries = log.next_committed_entries();
  rd.read_states = std::move(read_states);
  read_states.clear();
  ready_outstanding = true;
  return rd;
}

void RawNode::Impl::advance(const Ready& rd) {
  ENSURE_MSG(ready_outstanding, "advance() without a Ready");
  ready_outstanding = false;
  if (rd.snapshot) {
    log.stable_snapshot_to(rd.snapshot->meta.index);
    if (rd.snapshot->meta.index > log.applied()) {
      log.applied_to(rd.snapshot->meta.index);
      apply_conf_state(rd.snapshot->meta.conf);
    }
  }
  if (!rd.entries.empty()) log.stable_to(rd.entries.back().index, rd.entries.back().term);
  for (const Entry& entry : rd.committed_entries) {
    if (entry.index <= log.applied()) continue;  // covered by a snapshot applied meanwhile
    if (entry.type == EntryType::kConfChange) {
      auto change = ConfChange::decode(entry.data);
      if (change.is_ok()) apply_conf_change(*change);  // a garbled change is a no-op everywhere
    }
    if (role == Role::kLeader) uncommitted_bytes -= std::min(uncommitted_bytes, entry.data.size());
    log.applied_to(entry.index);
  }
  if (role == Role::kLeader) {
    // Our own log counts toward the quorum only once durable (thesis §10.2.1).
    progress.at(id).maybe_update(log.stable_last_index());
    if (maybe_commit()) broadcast_append();
  }
  maybe_finish_repair();
}

NodeStatus RawNode::Impl::status() const {
  NodeStatus st{.id = id,
                .role = role,
                .term = term,
                .leader = leader,
                .vote = vote,
                .commit = log.committed(),
                .applied = log.applied(),
                .last_index = log.last_index(),
                .conf = conf};
  for (const auto& [peer, pr] : progress) {
    st.progress.push_back(ProgressStatus{.id = peer,
                                         .match = pr.match(),
                                         .next = pr.next(),
                                         .state = progress_state_name(pr.state()),
                                         .learner = pr.learner(),
                                         .storage_loss_resets = pr.storage_loss_resets()});
  }
  st.ignored_messages = ignored_messages;
  st.transfer_target = transfer_target;
  st.amnesiac = amnesiac;
  return st;
}

void RawNode::Impl::check_invariants() const {
  ENSURE_MSG(term >= invariant_term, "term went back from {} to {}", invariant_term, term);
  ENSURE_MSG(log.committed() >= invariant_commit, "commit went back from {} to {}",
             invariant_commit, log.committed());
  invariant_term = term;
  invariant_commit = log.committed();
  ENSURE(log.applied() <= log.committed());
  ENSURE(log.committed() <= log.last_index());
  ENSURE(log.last_term() <= term);
  // A received snapshot moves first_index() past applied until advance() applies it.
  ENSURE(log.unstable().snapshot() || log.first_index() <= log.applied() + 1);
  const auto& tail = log.unstable().entries();
  for (size_t i = 0; i < tail.size(); ++i) {
    ENSURE(tail[i].index == log.unstable().offset() + i);
    const auto previous = log.term(tail[i].index - 1);
    ENSURE_MSG(!previous || *previous <= tail[i].term, "log terms decrease at index {}",
               tail[i].index);
  }
  if (role == Role::kLeader || role == Role::kCandidate) ENSURE(vote == id);
  // An amnesiac node never campaigns, and a leader that becomes one steps down.
  ENSURE(!amnesiac || role == Role::kFollower || bug(PlantedBug::kAmnesiacVotes));
  if (role == Role::kLeader) {
    ENSURE(leader == id && is_voter(id));
    ENSURE(progress.size() == conf.voters.size() + conf.learners.size());
    for (const auto& [peer, pr] : progress) {
      ENSURE(is_member(peer));
      ENSURE(pr.match() < pr.next());
      ENSURE(pr.match() <= log.last_index());
    }
  } else {
    ENSURE(progress.empty());
  }
}

}  // namespace raft
