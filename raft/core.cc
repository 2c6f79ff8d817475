// Roles, ticks and elections' bookkeeping (paper §5.2, thesis §3.4, §9.6, §6.2).
#include <algorithm>

#include "base/check.h"
#include "raft/core.h"
#include "raft/quorum.h"

namespace raft {

RawNode::Impl::Impl(const Config& cfg, const LogStorage& storage)
    : config(cfg), rng(cfg.seed ^ (cfg.id * 0x9e3779b97f4a7c15ull)), id(cfg.id), log(storage) {
  ENSURE_MSG(id != kNoNode, "Config::id must not be 0");
  ENSURE(config.election_ticks > config.heartbeat_ticks && config.heartbeat_ticks > 0);
#ifdef RAFTKV_TEST_HOOKS
  log.plant_bug(config.planted_bug);
#endif
  amnesiac = config.amnesiac;
  const HardState recovered = storage.initial_hard_state();
  const bool fresh =
      storage.last_index() == 0 && storage.snapshot_meta().index == 0 && recovered == HardState{};
  if (fresh && !config.initial_voters.empty()) {
    bootstrap();
  } else {
    recover(storage);
  }
  become_follower(term, kNoNode);
  vote = recovered.term == term ? recovered.vote : kNoNode;
  invariant_term = term;
  invariant_commit = log.committed();
}

// A restart from storage. A store that contradicts itself lost something it had promised:
// a hard state whose term is below its log's last term (every Ready persists the term with
// the entries of that term, so the hard state was lost), or a commit index beyond the last
// index (the log lost a tail). Either makes the node amnesiac (raw_node.h), with term and
// commit taken from what is left.
void RawNode::Impl::recover(const LogStorage& storage) {
  const HardState recovered = storage.initial_hard_state();
  conf = storage.snapshot_meta().conf;
  const Term last_term = log.last_term();
  if (recovered.term < last_term || recovered.commit > log.last_index()) amnesiac = true;
  log.set_committed_for_restart(
      std::max(std::min(recovered.commit, log.last_index()), log.applied()));
  term = std::max(recovered.term, last_term);
  last_hard_state = recovered;
}

// A brand-new cluster member writes the initial configuration as committed kConfChange
// entries at term 1, identically on every initial voter, so that a node added later learns
// the whole membership history by replication alone (as etcd's bootstrap does).
void RawNode::Impl::bootstrap() {
  std::vector<NodeId> voters = config.initial_voters;
  std::sort(voters.begin(), voters.end());
  voters.erase(std::unique(voters.begin(), voters.end()), voters.end());
  std::vector<Entry> entries;
  for (NodeId voter : voters) {
    ConfChange change{.type = ConfChange::Type::kAddVoter, .node = voter};
    entries.push_back(Entry{.index = entries.size() + 1,
                            .term = 1,
                            .type = EntryType::kConfChange,
                            .data = change.encode()});
  }
  log.append(entries);
  log.commit_to(entries.size());
  term = 1;
  conf.voters = voters;
}

bool RawNode::Impl::bug([[maybe_unused]] PlantedBug which) const {
#ifdef RAFTKV_TEST_HOOKS
  return config.planted_bug == which;
#else
  return false;
#endif
}

void RawNode::Impl::reset(Term new_term) {
  if (term != new_term) {
    term = new_term;
    vote = kNoNode;
    repaired_at = 0;  // a repair counts only from a leader of the current term
    // An acknowledgement of an older term still waiting in the outbox may cover entries a
    // newer leader has since overwritten in the unstable tail (several inputs per Ready):
    // it would promise what the Ready no longer persists. Losing it is always safe.
    std::erase_if(outbox, [&](const Message& m) {
      return m.type == MessageType::kAppendResponse && !m.reject && m.term < new_term;
    });
  }
  leader = kNoNode;
  election_elapsed = 0;
  heartbeat_elapsed = 0;
  randomized_election_timeout =
      config.election_ticks +
      static_cast<int>(rng.uniform(static_cast<uint64_t>(config.election_ticks)));
  votes.clear();
  progress.clear();
  transfer_target = kNoNode;
  uncommitted_bytes = 0;
  append_broadcast_pending = false;
  pending_reads.clear();  // their requesters time out and retry (no answer is ever wrong)
  read_round_acks.clear();
  pending_conf_index = 0;
}

void RawNode::Impl::become_follower(Term new_term, NodeId new_leader) {
  reset(new_term);
  role = Role::kFollower;
  leader = new_leader;
}

void RawNode::Impl::become_pre_candidate() {
  // PreVote changes neither term nor vote (thesis §9.6), only the role.
  ENSURE(role != Role::kLeader);
  if (bug(PlantedBug::kPreVoteRaisesTerm)) reset(term + 1);
  role = Role::kPreCandidate;
  votes.clear();
  leader = kNoNode;
}

void RawNode::Impl::become_candidate() {
  ENSURE(role != Role::kLeader);
  reset(term + 1);
  vote = id;
  role = Role::kCandidate;
}

void RawNode::Impl::become_leader() {
  ENSURE(role == Role::kCandidate);
  reset(term);
  role = Role::kLeader;
  leader = id;
  for (NodeId member : conf.voters)
    progress.emplace(member, Progress(log.last_index() + 1, config.max_inflight_appends, false));
  for (NodeId member : conf.learners)
    progress.emplace(member, Progress(log.last_index() + 1, config.max_inflight_appends, true));
  Progress& self = progress.at(id);
  self.maybe_update(log.stable_last_index());
  self.become_replicate();
  self.recent_active = true;
  // Thesis §6.4 / §8: an empty entry of the new term lets the leader learn what is committed
  // and serve reads. Conf changes wait until it is applied: a leader must commit an entry of
  // its own term before changing membership (the single-server change fix, raft-dev 2015).
  append_as_leader({Entry{.type = EntryType::kEmpty}});
  pending_conf_index = log.last_index();
}

bool RawNode::Impl::promotable() const { return is_voter(id) && !log.unstable().snapshot(); }

void RawNode::Impl::hup(bool transfer) {
  if (role == Role::kLeader || !promotable()) return;
  // An amnesiac node may have lost entries a quorum counted on: it must not lead.
  if (amnesiac && !bug(PlantedBug::kAmnesiacVotes)) return;
  // A committed but unapplied conf change might remove us or change the quorum: wait.
  if (log.has_unapplied_conf_change()) return;
  campaign(config.pre_vote && !transfer, transfer);
}

void RawNode::Impl::campaign(bool pre_vote, bool transfer) {
  MessageType type;
  Term vote_term;
  if (pre_vote) {
    become_pre_candidate();
    type = MessageType::kPreVote;
    vote_term = term + 1;  // the term we would campaign in; ours is unchanged
  } else {
    become_candidate();
    type = MessageType::kVote;
    vote_term = term;
  }
  votes[id] = true;
  if (vote_result(conf.voters, votes) == VoteResult::kWon) {
    // A single-voter cluster wins at once.
    if (pre_vote) return campaign(false, transfer);
    become_leader();
    return;
  }
  for (NodeId voter : conf.voters) {
    if (voter == id) continue;
    send(Message{.type = type,
                 .to = voter,
                 .term = vote_term,
                 .log_term = log.last_term(),
                 .index = log.last_index(),
                 .context = transfer ? kTransferContext : ""});
  }
}

void RawNode::Impl::tick() {
  if (role == Role::kLeader) {
    tick_leader();
  } else {
    tick_election();
  }
}

void RawNode::Impl::tick_election() {
  ++election_elapsed;
  if (promotable() && election_elapsed >= randomized_election_timeout) {
    election_elapsed = 0;
    hup(false);
  }
}

void RawNode::Impl::tick_leader() {
  ++heartbeat_elapsed;
  ++election_elapsed;
  for (auto& [peer, pr] : progress) {
    // A snapshot that is not acknowledged within an election timeout is presumed lost.
    if (pr.state() == ProgressState::kSnapshot && ++pr.ticks_in_state >= config.election_ticks) {
      pr.become_probe();
    }
  }
  if (election_elapsed >= config.election_ticks) {
    election_elapsed = 0;
    // CheckQuorum (thesis §6.2): without a quorum heard from in an election timeout, a
    // leader steps down so that clients find the real one.
    if (config.check_quorum && !quorum_active()) {
      become_follower(term, kNoNode);
      return;
    }
    for (auto& [peer, pr] : progress) pr.recent_active = (peer == id);
    // Thesis §3.10: a transfer that did not finish within an election timeout is aborted.
    transfer_target = kNoNode;
  }
  if (heartbeat_elapsed >= config.heartbeat_ticks) {
    heartbeat_elapsed = 0;
    if (read_round_wanted()) {
      start_read_round();
    } else {
      broadcast_heartbeat(current_read_context());
    }
  }
}

bool RawNode::Impl::quorum_active() const {
  std::vector<NodeId> active;
  for (const auto& [peer, pr] : progress) {
    if (peer == id || pr.recent_active) active.push_back(peer);
  }
  return has_quorum(conf.voters, active);
}

void RawNode::Impl::send(Message message) {
  message.from = id;
  // Forwarded local requests carry term 0 (they are not part of the protocol's term rules);
  // everything else carries our term unless the caller set one (pre-vote, vote responses).
  const bool forwarded = message.type == MessageType::kPropose ||
                         message.type == MessageType::kReadIndex ||
                         message.type == MessageType::kTransferLeader;
  if (forwarded) {
    message.term = 0;
  } else if (message.term == 0) {
    message.term = term;
  }
  outbox.push_back(std::move(message));
}

bool RawNode::Impl::is_voter(NodeId node) const {
  return std::binary_search(conf.voters.begin(), conf.voters.end(), node);
}

bool RawNode::Impl::is_member(NodeId node) const {
  return is_voter(node) || std::binary_search(conf.learners.begin(), conf.learners.end(), node);
}

}  // namespace raft
