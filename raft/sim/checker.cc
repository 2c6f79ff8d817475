#include "raft/sim/checker.h"

#include <algorithm>

#include "base/hash.h"

namespace raft::sim {
namespace {

uint64_t content_hash(const Entry& entry) {
  std::string buffer(1, static_cast<char>(entry.type));
  buffer.append(entry.data);
  return base::xxh3(buffer);
}

template <typename T>
void grow_to(std::vector<T>& v, Index index) {
  if (v.size() <= index) v.resize(index + 1);
}

}  // namespace

template <typename... Args>
void SafetyChecker::fail(const char* property, fmt::format_string<Args...> f, Args&&... args) {
  if (violation_) return;  // keep the first: later ones are usually its consequences
  violation_ = Violation{property, fmt::format(f, std::forward<Args>(args)...)};
}

std::optional<Term> SafetyChecker::committed_term(Index index) const {
  if (index >= committed_term_.size() || committed_term_[index] == 0) return std::nullopt;
  return committed_term_[index];
}

void SafetyChecker::on_node_state(NodeId node, Term term, bool is_leader, Index commit,
                                  const LogStorage& durable) {
  auto [life, fresh_life] = life_term_.try_emplace(node, term);
  if (!fresh_life) {
    if (term < life->second) {
      fail("terms never decrease", "node {} went from term {} to term {} without restarting", node,
           life->second, term);
    }
    life->second = term;
  }
  auto persisted = persisted_.find(node);
  if (persisted != persisted_.end() && term < persisted->second.term) {
    fail("terms never decrease", "node {} runs in term {} below its persisted term {}", node, term,
         persisted->second.term);
  }
  if (!is_leader) return;
  auto [leader, new_term] = leader_of_term_.try_emplace(term, node);
  if (!new_term && leader->second != node) {
    fail("election safety", "nodes {} and {} both lead term {}", leader->second, node, term);
    return;
  }
  if (!new_term) return;
  check_leader_completeness(node, term, durable);
  // What it holds as committed now was committed by earlier leaders, under their configurations.
  leader_progress_[node] = LeaderProgress{commit, {}};
}

void SafetyChecker::on_restart(NodeId node) { life_term_.erase(node); }

void SafetyChecker::check_leader_completeness(NodeId node, Term term, const LogStorage& durable) {
  // Only what is committed so far can be required: every such entry was committed in an
  // earlier term, since this leader has committed nothing yet (Raft §5.4, Fig. 3).
  const Index snapshot_index = durable.first_index() - 1;
  for (Index i = 1; i < committed_term_.size(); ++i) {
    const Term want = committed_term_[i];
    if (want == 0 || i < snapshot_index) continue;  // unknown, or inside its snapshot
    if (i > durable.last_index()) {
      fail("leader completeness",
           "node {} became leader of term {} with last index {}, missing committed index {} "
           "(term {}, committed by node {})",
           node, term, durable.last_index(), i, want, committed_by_[i]);
      return;
    }
    const Term have = durable.term(i);
    if (have != want) {
      fail("leader completeness",
           "node {} became leader of term {} with index {} at term {}, but term {} was "
           "committed there (by node {})",
           node, term, i, have, want, committed_by_[i]);
      return;
    }
  }
}

void SafetyChecker::on_hard_state_persisted(NodeId node, const HardState& hard_state) {
  auto [previous, first] = persisted_.try_emplace(node, hard_state);
  if (first) return;
  const HardState& was = previous->second;
  if (hard_state.term < was.term) {
    fail("terms never decrease", "node {} persisted term {} after term {}", node, hard_state.term,
         was.term);
  } else if (hard_state.term == was.term && was.vote != kNoNode && hard_state.vote != was.vote) {
    fail("one vote per term", "node {} changed its persisted vote in term {} from {} to {}", node,
         hard_state.term, was.vote, hard_state.vote);
  } else if (hard_state.commit < was.commit) {
    fail("commit never regresses", "node {} persisted commit {} after commit {}", node,
         hard_state.commit, was.commit);
  }
  previous->second = hard_state;
}

void SafetyChecker::on_entries_persisted(NodeId node, const std::vector<Entry>& entries,
                                         const LogStorage& durable) {
  for (const Entry& e : entries) {
    const bool previous_known = e.index >= durable.first_index();
    const Term previous_term = previous_known ? durable.term(e.index - 1) : 0;
    auto [facts, inserted] = entries_.try_emplace(EntryKey{e.index, e.term},
                                                  EntryFacts{content_hash(e), previous_term, node});
    if (inserted) continue;
    if (facts->second.content_hash != content_hash(e)) {
      fail("log matching", "nodes {} and {} store different entries at index {} term {}",
           facts->second.first_seen_on, node, e.index, e.term);
      return;
    }
    if (previous_known && facts->second.previous_term != previous_term) {
      fail("log matching",
           "entry (index {}, term {}) follows term {} on node {} but term {} on node {}", e.index,
           e.term, facts->second.previous_term, facts->second.first_seen_on, previous_term, node);
      return;
    }
  }
}

void SafetyChecker::on_term_raised(NodeId node, Term term, const std::vector<NodeId>& voters) {
  auto persisted = persisted_.find(node);
  if (persisted == persisted_.end() && term == 1) return;  // the bootstrap term of a new node
  auto heard = term_heard_.find(node);
  if (heard != term_heard_.end() && heard->second >= term) return;  // learned from a peer
  auto forced = timeout_now_term_.find(node);
  if (forced != timeout_now_term_.end() && forced->second + 1 == term) return;  // a transfer
  size_t granted = 1;                                                           // its own pre-vote
  auto grants = pre_vote_grants_.find({node, term});
  for (NodeId voter : voters) {
    if (voter != node && grants != pre_vote_grants_.end() && grants->second.contains(voter)) {
      ++granted;
    }
  }
  if (granted * 2 <= voters.size()) {
    fail("pre-vote keeps terms of isolated nodes",
         "node {} persisted term {} which no peer sent it, with pre-vote grants from {} of {} "
         "voters (thesis §9.6)",
         node, term, granted, voters.size());
  }
}

void SafetyChecker::on_storage_lost(NodeId node, bool hard_state_kept, const LogStorage& before) {
  life_term_.erase(node);
  hard_state_kept_ = hard_state_kept;
  LostStorage& lost = lost_storage_[node];
  lost.snapshot_index = std::max(lost.snapshot_index, before.first_index() - 1);
  for (Index i = before.first_index(); i <= before.last_index(); ++i) {
    lost.entries.insert({i, before.term(i)});
  }
}

void SafetyChecker::after_storage_lost(NodeId node, const LogStorage& after) {
  if (!hard_state_kept_) {
    // What it heard in earlier lives stays heard: a node restarting with its log but not its
    // hard state takes its term from the log (raw_node.h).
    persisted_.erase(node);
    return;
  }
  auto persisted = persisted_.find(node);
  if (persisted == persisted_.end()) return;
  // The hard state survived; the commit it names may now be beyond the log.
  const Index last = std::max(after.last_index(), after.first_index() - 1);
  persisted->second.commit = std::min(persisted->second.commit, last);
}

void SafetyChecker::on_step(NodeId node, const Message& m, Term term_before, bool leader_before,
                            Term term_after, bool leader_after) {
  const bool granted_pre_vote = m.type == MessageType::kPreVoteResponse && !m.reject;
  if (granted_pre_vote) {
    pre_vote_grants_[{node, m.term}].insert(m.from);
  } else if (m.type == MessageType::kTimeoutNow) {
    Term& forced = timeout_now_term_[node];  // the highest: a late one of an older term
    forced = std::max(forced, m.term);       // changes nothing the node may do
  } else if (m.type != MessageType::kPreVote) {
    Term& heard = term_heard_[node];
    heard = std::max(heard, m.term);
  }
  const bool vote_request = m.type == MessageType::kVote || m.type == MessageType::kPreVote;
  if (leader_before && m.term > term_before && !vote_request && !granted_pre_vote && leader_after &&
      term_after == term_before) {
    fail("a leader shown a higher term steps down",
         "leader {} of term {} stepped a message of term {} from node {} and still leads", node,
         term_before, m.term, m.from);
  }
}

uint64_t SafetyChecker::on_leader_progress(NodeId leader, Term term,
                                           const std::vector<ProgressStatus>& progress,
                                           const LogStorage& leader_durable,
                                           const StorageLookup& storages) {
  uint64_t new_resets = 0;
  for (const ProgressStatus& p : progress) {
    if (p.id == leader) continue;
    FollowerMatch& seen = follower_match_[{leader, p.id}];
    if (seen.term == term && p.match < seen.match && p.storage_loss_resets == seen.resets) {
      fail("a follower's match never decreases",
           "leader {} of term {} lowered node {}'s match from {} to {} without a storage-loss "
           "reset",
           leader, term, p.id, seen.match, p.match);
    }
    if (seen.term == term && p.storage_loss_resets > seen.resets) {
      new_resets += p.storage_loss_resets - seen.resets;
      check_reset_justified(leader, term, p.id, seen.match, leader_durable, storages(p.id));
    }
    seen = FollowerMatch{term, p.match, p.storage_loss_resets};
  }
  return new_resets;
}

void SafetyChecker::on_leader_told_storage_lost(NodeId leader, Term term, NodeId follower) {
  told_storage_lost_[{leader, follower}] = term;
}

void SafetyChecker::check_reset_justified(NodeId leader, Term term, NodeId follower,
                                          Index old_match, const LogStorage& leader_durable,
                                          const LogStorage* follower_durable) {
  auto told = told_storage_lost_.find({leader, follower});
  if (told != told_storage_lost_.end() && told->second == term) {
    told_storage_lost_.erase(told);  // the reset peer_storage_lost() asks for
    return;
  }
  if (old_match == 0 || follower_durable == nullptr) return;
  if (old_match < leader_durable.first_index() - 1 || old_match > leader_durable.last_index()) {
    return;  // compacted away on the leader: nothing to compare with
  }
  const Term want = leader_durable.term(old_match);
  const LogStorage& f = *follower_durable;
  const bool held =
      old_match >= f.first_index() - 1 && old_match <= f.last_index() && f.term(old_match) == want;
  if (held) {
    fail("a follower's match never decreases",
         "leader {} of term {} reset node {}'s match {} although its storage still holds "
         "index {} at term {}",
         leader, term, follower, old_match, old_match, want);
  }
}

void SafetyChecker::on_message_sent(const Message& m, const LogStorage& sender_durable) {
  if (m.type == MessageType::kVoteResponse && !m.reject) {
    auto persisted = persisted_.find(m.from);
    const HardState hs = persisted == persisted_.end() ? HardState{} : persisted->second;
    // Durable means: that vote, or a later term (a node never votes in a term below its own).
    if (hs.term < m.term || (hs.term == m.term && hs.vote != m.to)) {
      fail("one vote per term",
           "node {} granted its term {} vote to node {} while its persisted hard state says "
           "term {} vote {}",
           m.from, m.term, m.to, hs.term, hs.vote);
      return;
    }
    auto [granted, first] = vote_granted_.try_emplace({m.from, m.term}, m.to);
    if (!first && granted->second != m.to) {
      fail("one vote per term", "node {} granted its term {} vote to both {} and {}", m.from,
           m.term, granted->second, m.to);
    }
  } else if (m.type == MessageType::kAppendResponse && !m.reject) {
    const Index durable_last =
        std::max(sender_durable.last_index(), sender_durable.first_index() - 1);
    if (m.index > durable_last) {
      fail("append acknowledged only when durable",
           "node {} acknowledged index {} to node {} (term {}) but has stored only up to {}",
           m.from, m.index, m.to, m.term, durable_last);
    }
  }
}

void SafetyChecker::record_commit(NodeId node, Index index, Term term) {
  grow_to(committed_term_, index);
  grow_to(committed_by_, index);
  if (committed_term_[index] == 0) {
    committed_term_[index] = term;
    committed_by_[index] = node;
  } else if (committed_term_[index] != term) {
    fail("state machine safety",
         "node {} has index {} committed at term {}, but node {} committed term {} there", node,
         index, term, committed_by_[index], committed_term_[index]);
  }
}

void SafetyChecker::on_commit_observed(NodeId node, Index commit, const LogStorage& durable) {
  Index& checked = commit_checked_[node];
  const Index upto = std::min(commit, durable.last_index());
  for (Index i = std::max(checked + 1, durable.first_index()); i <= upto; ++i) {
    record_commit(node, i, durable.term(i));
  }
  checked = std::max(checked, upto);
}

bool SafetyChecker::stored_on(NodeId node, const LogStorage* durable, Index index,
                              Term term) const {
  if (durable == nullptr) return false;
  if (index < durable->first_index()) return true;  // inside its snapshot
  if (index <= durable->last_index() && durable->term(index) == term) return true;
  auto lost = lost_storage_.find(node);
  return lost != lost_storage_.end() &&
         (index <= lost->second.snapshot_index || lost->second.entries.contains({index, term}));
}

size_t SafetyChecker::count_stored(const std::vector<NodeId>& voters, Index index, Term term,
                                   const StorageLookup& storages) const {
  size_t n = 0;
  for (NodeId v : voters) n += stored_on(v, storages(v), index, term) ? 1 : 0;
  return n;
}

void SafetyChecker::on_leader_commit(NodeId leader, Term term, Index commit, const ConfState& conf,
                                     const StorageLookup& storages) {
  LeaderProgress& p = leader_progress_[leader];
  const std::optional<Term> commit_term = committed_term(commit);
  if (commit > p.checked && commit_term && *commit_term != term) {
    fail("commit only entries of the leader's term",
         "leader {} of term {} advanced its commit index to {}, an entry of term {} (§5.4.2)",
         leader, term, commit, *commit_term);
    return;
  }
  if (p.previous_conf.voters.empty()) p.previous_conf = conf;
  for (Index i = p.checked + 1; i <= commit; ++i) {
    const std::optional<Term> entry_term = committed_term(i);
    if (!entry_term) continue;
    const size_t now = count_stored(conf.voters, i, *entry_term, storages);
    const size_t before = count_stored(p.previous_conf.voters, i, *entry_term, storages);
    if (now * 2 <= conf.voters.size() && before * 2 <= p.previous_conf.voters.size()) {
      fail("committed entries are durable on a quorum",
           "leader {} committed index {} (term {}) stored by {} of {} voters", leader, i,
           *entry_term, now, conf.voters.size());
      return;
    }
  }
  p.checked = std::max(p.checked, commit);
  p.previous_conf = conf;
}

void SafetyChecker::record_chain(NodeId node, Index index, uint64_t chain_hash) {
  grow_to(applied_chain_, index);
  if (!applied_chain_[index]) {
    applied_chain_[index] = chain_hash;
  } else if (*applied_chain_[index] != chain_hash) {
    fail("state machine safety",
         "node {} applied a sequence up to index {} that differs from one applied before", node,
         index);
  }
}

void SafetyChecker::on_applied(NodeId node, Index previous_applied, const Entry& entry,
                               uint64_t chain_hash) {
  if (entry.index != previous_applied + 1) {
    fail("state machine safety", "node {} applied index {} right after index {}", node, entry.index,
         previous_applied);
    return;
  }
  record_commit(node, entry.index, entry.term);
  record_chain(node, entry.index, chain_hash);
  acknowledged_index_ = std::max(acknowledged_index_, entry.index);
}

void SafetyChecker::on_snapshot_applied(NodeId node, Index index, Term term, uint64_t chain_hash) {
  record_commit(node, index, term);
  record_chain(node, index, chain_hash);
}

void SafetyChecker::on_read_started(uint64_t read_id) {
  read_ack_at_start_[read_id] = acknowledged_index_;
}

void SafetyChecker::on_read_served(uint64_t read_id, NodeId node, Index read_index,
                                   Index applied_index) {
  auto it = read_ack_at_start_.find(read_id);
  if (it == read_ack_at_start_.end()) return;  // served already (a duplicated response)
  const Index acknowledged = it->second;
  read_ack_at_start_.erase(it);
  if (applied_index < acknowledged) {
    fail("linearizable reads",
         "read {} on node {} returned the state at index {}, missing the write at index {} "
         "acknowledged before the read began",
         read_id, node, applied_index, acknowledged);
  } else if (read_index < acknowledged) {
    fail("linearizable reads",
         "read {} on node {} got read index {}, below index {} acknowledged before it began",
         read_id, node, read_index, acknowledged);
  }
}

void SafetyChecker::on_core_assertion(const std::string& message) {
  fail("core invariant", "{}", message);
}

}  // namespace raft::sim
