// Handlers for replication messages: the follower side of AppendEntries (paper Fig. 2),
// heartbeats, InstallSnapshot (paper §7), and the leader's handling of their answers
// (fast backtracking as in etcd: the follower hints the last index whose term is <= the
// leader's probe term, the leader jumps over a whole term at a time).
#include <algorithm>
#include <charconv>

#include "base/check.h"
#include "raft/core.h"

namespace raft {

void RawNode::Impl::on_append(const Message& m) {
  ENSURE_MSG(role != Role::kLeader, "two leaders in term {}", term);
  if (role != Role::kFollower) become_follower(term, m.from);
  leader = m.from;
  election_elapsed = 0;
  if (m.index < log.committed()) {
    // Everything up to our commit is settled: tell the leader where we are.
    send(Message{.type = MessageType::kAppendResponse, .to = m.from, .index = log.committed()});
    return;
  }
  if (amnesiac && repair_term != term) {
    // The first append of this term's leader since we became amnesiac: its commit index
    // bounds what it committed with acknowledgements of our previous life (raw_node.h).
    repair_term = term;
    repair_commit = m.commit;
  }
  if (auto last_new = log.maybe_append(m.index, m.log_term, m.commit, m.entries)) {
    note_repair_progress(m, *last_new);
    // Sent only after the entries are durable: Ready carries them together (raw_node.h).
    send(Message{.type = MessageType::kAppendResponse, .to = m.from, .index = *last_new});
    return;
  }
  const auto [hint_index, hint_term] =
      log.find_conflict_by_term(std::min(m.index, log.last_index()), m.log_term);
  send(Message{.type = MessageType::kAppendResponse,
               .to = m.from,
               .index = m.index,
               .reject = true,
               .reject_hint = hint_index,
               .reject_hint_term = hint_term,
               .context = m.context});  // names the probe answered (replication.cc)
}

// Our log matches the leader's up to `matched_to` now (not yet durably). An amnesiac node is
// repaired once that covers the repair commit and reaches an entry of the leader's term.
void RawNode::Impl::note_repair_progress(const Message& m, Index matched_to) {
  if (!amnesiac || repair_term != term || matched_to < repair_commit) return;
  if (log.term(matched_to) != term) return;
  ENSURE(m.term == term);
  repaired_at = std::max(repaired_at, matched_to);
}

// A follower whose storage lost entries rejects the probe at its recorded match. The paper's
// leader never lowers matchIndex (§5.3: followers never lose entries); with storage faults
// (CTRL, FAST'18) it must, or it would wait forever for an answer above a match the follower
// no longer holds. The evidence must not be stale: a rejection sent before the follower had
// acknowledged match looks the same, and the network may deliver it late or twice. So only a
// rejection echoing the number of a probe sent since match took its value counts: the
// follower handled that probe after acknowledging match m, so a hint below m means its log
// went backwards (its entries up to m have terms <= the probe's log_term, so an intact log
// hints >= m). Other terms' responses never get here (term rules). A lower match never
// commits anything (commit never regresses), and re-sent entries the follower still holds
// are not truncated (RaftLog::maybe_append keeps a matching tail), so a reset is safe.
bool RawNode::Impl::maybe_reset_lost_follower(const Message& m, Progress& pr, Index next_probe) {
  if (pr.state() != ProgressState::kProbe || m.context.empty() || m.reject_hint >= pr.match()) {
    return false;
  }
  uint64_t probe_id = 0;
  const char* end = m.context.data() + m.context.size();
  const auto parsed = std::from_chars(m.context.data(), end, probe_id);
  if (parsed.ec != std::errc() || parsed.ptr != end || probe_id > probes_numbered ||
      !pr.probe_sent_since_match(probe_id)) {
    return false;  // not a number we sent, or one sent before match took its value
  }
  pr.reset_after_storage_loss(std::min(m.index, next_probe + 1));
  if (transfer_target == m.from) transfer_target = kNoNode;
  maybe_send_append(m.from, true);
  return true;
}

void RawNode::Impl::on_append_response(const Message& m) {
  Progress& pr = progress.at(m.from);
  pr.recent_active = true;
  if (m.reject) {
    Index next_probe = m.reject_hint;
    if (m.reject_hint_term > 0) {
      next_probe = log.find_conflict_by_term(m.reject_hint, m.reject_hint_term).first;
    }
    if (maybe_reset_lost_follower(m, pr, next_probe)) return;
    if (pr.state() != ProgressState::kSnapshot && pr.maybe_decrease_to(m.index, next_probe)) {
      if (pr.state() == ProgressState::kReplicate) pr.become_probe();
      maybe_send_append(m.from, true);
    }
    return;
  }
  const bool was_paused = pr.paused();
  if (!pr.maybe_update(m.index)) {
    if (was_paused && !pr.paused()) maybe_send_append(m.from, false);
    return;
  }
  const bool snapshot_installed =
      pr.state() == ProgressState::kSnapshot && pr.match() + 1 >= log.first_index();
  if (pr.state() == ProgressState::kProbe || snapshot_installed) pr.become_replicate();
  if (maybe_commit()) broadcast_append();
  // Thesis §3.10: once the transfer target holds our whole log, tell it to campaign.
  if (m.from == transfer_target && pr.match() == log.last_index()) {
    send(Message{.type = MessageType::kTimeoutNow, .to = m.from});
  }
  bool sent = false;
  while (pr.state() != ProgressState::kSnapshot && maybe_send_append(m.from, false)) sent = true;
  // After a snapshot, an append even without entries tells the follower our commit index
  // and that its log now matches ours (which an amnesiac follower needs to be repaired).
  if (snapshot_installed && !sent) maybe_send_append(m.from, true);
}

void RawNode::Impl::on_heartbeat(const Message& m) {
  ENSURE_MSG(role != Role::kLeader, "two leaders in term {}", term);
  if (role != Role::kFollower) become_follower(term, m.from);
  leader = m.from;
  election_elapsed = 0;
  // An amnesiac node's log may be shorter than the match the leader knew (the ignore filter
  // lets its heartbeats through): it learns commit from appends only.
  if (!amnesiac) log.commit_to(m.commit);
  send(Message{.type = MessageType::kHeartbeatResponse, .to = m.from, .context = m.context});
}

void RawNode::Impl::on_heartbeat_response(const Message& m) {
  Progress& pr = progress.at(m.from);
  pr.recent_active = true;
  pr.heartbeat_answered();
  if (pr.match() < log.last_index()) maybe_send_append(m.from, true);
  if (!m.context.empty()) ack_read_round(m.context, m.from);
}

void RawNode::Impl::on_snapshot(const Message& m) {
  ENSURE_MSG(role != Role::kLeader, "two leaders in term {}", term);
  if (role != Role::kFollower) become_follower(term, m.from);
  leader = m.from;
  election_elapsed = 0;
  const SnapshotMeta& meta = m.snapshot->meta;
  const bool includes_us =
      std::find(meta.conf.voters.begin(), meta.conf.voters.end(), id) != meta.conf.voters.end() ||
      std::find(meta.conf.learners.begin(), meta.conf.learners.end(), id) !=
          meta.conf.learners.end();
  if (meta.index <= log.committed() || !includes_us) {
    send(Message{.type = MessageType::kAppendResponse, .to = m.from, .index = log.committed()});
    return;
  }
  if (log.match_term(meta.index, meta.term)) {
    // We already hold the snapshot's last entry: just learn that it is committed (paper §7:
    // "retain log entries following it").
    log.commit_to(meta.index);
    send(Message{.type = MessageType::kAppendResponse, .to = m.from, .index = log.committed()});
    return;
  }
  log.restore(*m.snapshot);  // the configuration switches when advance() applies it
  send(Message{.type = MessageType::kAppendResponse, .to = m.from, .index = log.last_index()});
}

}  // namespace raft
