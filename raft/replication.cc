// The leader's side of log replication (paper §5.3, thesis §3.5, §10.2): appends from each
// follower's progress, snapshots for followers behind our first index, heartbeats, and the
// commit rule of §5.4.2.
#include "base/check.h"
#include "raft/core.h"
#include "raft/quorum.h"

namespace raft {

// Sends the entries from the follower's next index (or a snapshot). Returns true when a
// message was sent.
bool RawNode::Impl::maybe_send_append(NodeId to, bool send_if_empty) {
  Progress& pr = progress.at(to);
  if (pr.paused()) return false;
  const Index prev_index = pr.next() - 1;
  const auto prev_term = log.term(prev_index);
  auto entries = log.entries_from(pr.next(), config.max_append_bytes);
  if (!prev_term || !entries) return send_snapshot(to, pr);
  if (entries->empty() && !send_if_empty) return false;
  const Index last_sent = prev_index + entries->size();
  const bool has_entries = !entries->empty();
  Message append{.type = MessageType::kAppend,
                 .to = to,
                 .log_term = *prev_term,
                 .index = prev_index,
                 .entries = std::move(*entries),
                 .commit = log.committed()};
  if (pr.state() == ProgressState::kProbe && pr.match() > 0) {
    // A follower echoes the context in a rejection: the probe's number tells an answer to
    // it from one to a probe older than match (on_replication.cc, maybe_reset_lost_follower).
    append.context = std::to_string(++probes_numbered);
    pr.sent_probe(probes_numbered);
  }
  send(std::move(append));
  pr.sent_append(last_sent, has_entries);
  return true;
}

bool RawNode::Impl::send_snapshot(NodeId to, Progress& pr) {
  Snapshot snapshot = log.snapshot();
  // Entries are compacted only below a snapshot (LogStorage contract).
  ENSURE_MSG(snapshot.meta.index > 0, "entries for {} compacted without a snapshot", to);
  pr.become_snapshot(snapshot.meta.index);
  send(Message{.type = MessageType::kSnapshot, .to = to, .snapshot = std::move(snapshot)});
  return true;
}

void RawNode::Impl::broadcast_append() {
  append_broadcast_pending = false;
  for (const auto& [peer, pr] : progress) {
    if (peer != id) maybe_send_append(peer, true);
  }
}

void RawNode::Impl::broadcast_heartbeat(const std::string& context) {
  for (const auto& [peer, pr] : progress) {
    if (peer == id) continue;
    // Never tell a follower to commit beyond what it is known to hold (etcd): its log past
    // match may still differ from ours.
    send(Message{.type = MessageType::kHeartbeat,
                 .to = peer,
                 .commit = std::min(pr.match(), log.committed()),
                 .context = context});
  }
}

// Paper §5.4.2 / Fig. 8: only an entry of the current term is committed by counting
// replicas; earlier entries are then committed indirectly by Log Matching.
bool RawNode::Impl::maybe_commit() {
  std::map<NodeId, Index> match;
  for (const auto& [peer, pr] : progress) match[peer] = pr.match();
  const Index candidate = committed_index(conf.voters, match);
  if (candidate <= log.committed()) return false;
  if (!bug(PlantedBug::kCommitPreviousTermByCount) && log.term(candidate) != term) return false;
  log.commit_to(candidate);
  return true;
}

// Appends new entries at the end of the leader's log, stamping index and term. They are
// sent in one batch by the next ready() (or at once by a caller that broadcasts).
void RawNode::Impl::append_as_leader(std::vector<Entry> entries) {
  ENSURE(role == Role::kLeader);
  Index next = log.last_index() + 1;
  for (Entry& entry : entries) {
    entry.index = next++;
    entry.term = term;
    uncommitted_bytes += entry.data.size();
  }
  log.append(entries);
  append_broadcast_pending = true;
  // Our own match advances only once the driver reports the entries durable (advance()).
}

}  // namespace raft
