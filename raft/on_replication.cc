// Handlers for replication messages: the follower side of AppendEntries (paper Fig. 2),
// heartbeats, InstallSnapshot (paper §7), and the leader's handling of their answers
// (fast backtracking as in etcd: the follower hints the last index whose term is <= the
// leader's probe term, the leader jumps over a whole term at a time).
#include <algorithm>

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
  if (auto last_new = log.maybe_append(m.index, m.log_term, m.commit, m.entries)) {
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
               .reject_hint_term = hint_term});
}

void RawNode::Impl::on_append_response(const Message& m) {
  Progress& pr = progress.at(m.from);
  pr.recent_active = true;
  if (m.reject) {
    Index next_probe = m.reject_hint;
    if (m.reject_hint_term > 0) {
      next_probe = log.find_conflict_by_term(m.reject_hint, m.reject_hint_term).first;
    }
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
  if (pr.state() == ProgressState::kProbe ||
      (pr.state() == ProgressState::kSnapshot && pr.match() + 1 >= log.first_index())) {
    pr.become_replicate();
  }
  if (maybe_commit()) broadcast_append();
  // Thesis §3.10: once the transfer target holds our whole log, tell it to campaign.
  if (m.from == transfer_target && pr.match() == log.last_index()) {
    send(Message{.type = MessageType::kTimeoutNow, .to = m.from});
  }
  while (pr.state() != ProgressState::kSnapshot && maybe_send_append(m.from, false)) {
  }
}

void RawNode::Impl::on_heartbeat(const Message& m) {
  ENSURE_MSG(role != Role::kLeader, "two leaders in term {}", term);
  if (role != Role::kFollower) become_follower(term, m.from);
  leader = m.from;
  election_elapsed = 0;
  log.commit_to(m.commit);
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
