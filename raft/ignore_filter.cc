// Untrusted input first passes the ignore filter (TigerBeetle's ignore_* before on_*):
// anything stale, addressed elsewhere, from an unknown peer or internally impossible is
// dropped and counted, never asserted on. Then the term rules of paper §5.1 / Fig. 2 ("if
// RPC request or response contains term T > currentTerm: set currentTerm = T, convert to
// follower") with the PreVote and leader-lease exceptions of thesis §9.6 and §4.2.3.
#include "base/check.h"
#include "raft/core.h"

namespace raft {
namespace {

bool is_request_from_leader(MessageType type) {
  return type == MessageType::kAppend || type == MessageType::kHeartbeat ||
         type == MessageType::kSnapshot;
}

bool is_response(MessageType type) {
  return type == MessageType::kAppendResponse || type == MessageType::kHeartbeatResponse ||
         type == MessageType::kVoteResponse || type == MessageType::kPreVoteResponse ||
         type == MessageType::kReadIndexResponse;
}

bool is_forwarded(MessageType type) {
  return type == MessageType::kPropose || type == MessageType::kReadIndex ||
         type == MessageType::kTransferLeader;
}

// kAppend entries must follow (index, log_term) contiguously, with terms that never decrease
// and never exceed the sender's term.
bool append_is_well_formed(const Message& m) {
  if (m.log_term > m.term) return false;
  Index expected = m.index + 1;
  Term previous = m.log_term;
  for (const Entry& entry : m.entries) {
    if (entry.index != expected++ || entry.term < previous || entry.term > m.term) return false;
    previous = entry.term;
  }
  return true;
}

}  // namespace

const char* RawNode::Impl::ignore_reason(const Message& m) const {
  if (m.to != id) return "addressed to another node";
  if (m.from == kNoNode || m.from == id) return "bad sender";
  if (static_cast<uint8_t>(m.type) > static_cast<uint8_t>(MessageType::kTransferLeader)) {
    return "unknown message type";
  }
  if (is_forwarded(m.type)) return is_member(m.from) ? nullptr : "forwarded by an unknown peer";
  if (m.term == 0) return "term 0";
  if (role == Role::kLeader && m.term == term && is_request_from_leader(m.type)) {
    return "another leader in our term";  // impossible unless a peer is broken (§5.2)
  }
  switch (m.type) {
    case MessageType::kVote:
    case MessageType::kPreVote:
      // Not filtered by membership: a voter that has not yet learned the configuration that
      // made the candidate a voter must still answer, or no leader may ever be elected. A
      // removed server cannot disrupt a live cluster: followers that hear from their leader
      // ignore it under the leader lease in step_term() (thesis §4.2.3).
      if (m.log_term > m.term) return "candidate's last log term above its term";
      return nullptr;
    case MessageType::kAppend:
      return append_is_well_formed(m) ? nullptr : "malformed append";
    case MessageType::kHeartbeat:
      // The leader sends min(our acknowledged match, commit): beyond our log is impossible
      // unless our own durability was broken, which an amnesiac node knows it was (it keeps
      // following the leader, and does not commit from heartbeats).
      if (m.term >= term && m.commit > log.last_index() && !amnesiac) {
        return "heartbeat commit beyond log";
      }
      return nullptr;
    case MessageType::kSnapshot:
      if (!m.snapshot || m.snapshot->meta.index == 0 || m.snapshot->meta.term > m.term) {
        return "malformed snapshot";
      }
      return nullptr;
    case MessageType::kAppendResponse:
    case MessageType::kHeartbeatResponse:
      if (m.term == term && role == Role::kLeader) {
        if (!progress.contains(m.from)) return "response from a non-member";
        if (!m.reject && m.index > log.last_index()) return "ack beyond the leader's log";
      }
      return nullptr;
    case MessageType::kVoteResponse:
    case MessageType::kPreVoteResponse:
    case MessageType::kReadIndex:
    case MessageType::kReadIndexResponse:
    case MessageType::kTimeoutNow:
    case MessageType::kPropose:
    case MessageType::kTransferLeader:
      return nullptr;  // the term rules and the handlers decide
  }
  return nullptr;
}

// Applies the term rules. Returns false when the message is fully handled (or dropped).
bool RawNode::Impl::step_term(const Message& m) {
  if (m.term == 0) return true;  // forwarded local request
  const bool vote_request = m.type == MessageType::kVote || m.type == MessageType::kPreVote;
  if (m.term > term) {
    if (vote_request) {
      // Leader lease (thesis §4.2.3, etcd): a follower that heard from a live leader within
      // the minimum election timeout ignores votes, unless the leader itself asked for them.
      const bool forced = m.context == kTransferContext;
      const bool in_lease =
          config.check_quorum && leader != kNoNode && election_elapsed < config.election_ticks;
      if (!forced && in_lease) {
        ++ignored_messages;
        return false;
      }
    }
    const bool granted_pre_vote = m.type == MessageType::kPreVoteResponse && !m.reject;
    if (bug(PlantedBug::kLeaderIgnoresHigherTerm) && role == Role::kLeader && is_response(m.type) &&
        !granted_pre_vote) {
      ++ignored_messages;  // planted bug 9: a leader keeps leading a term that is over
      return false;
    }
    if (m.type != MessageType::kPreVote && !granted_pre_vote) {
      // A pre-vote request carries the term its sender would campaign in; a granted
      // pre-vote response echoes it. Neither is a reason to change terms (thesis §9.6).
      become_follower(m.term, is_request_from_leader(m.type) ? m.from : kNoNode);
    }
    return true;
  }
  if (m.term < term) {
    if ((config.check_quorum || config.pre_vote) && is_request_from_leader(m.type)) {
      // A stale leader cut off by PreVote/CheckQuorum would never hear our higher term
      // otherwise (no one sends it votes): tell it, so it steps down.
      send(Message{.type = MessageType::kAppendResponse, .to = m.from});
    } else if (m.type == MessageType::kPreVote) {
      send(Message{.type = MessageType::kPreVoteResponse, .to = m.from, .reject = true});
    }
    ++ignored_messages;
    return false;
  }
  return true;
}

void RawNode::Impl::step(const Message& m) {
  if (ignore_reason(m) != nullptr) {
    ++ignored_messages;
    return;
  }
  if (!step_term(m)) return;
  dispatch(m);
}

void RawNode::Impl::dispatch(const Message& m) {
  switch (m.type) {
    case MessageType::kVote:
    case MessageType::kPreVote:
      return on_vote(m);
    case MessageType::kVoteResponse:
    case MessageType::kPreVoteResponse:
      return on_vote_response(m);
    case MessageType::kAppend:
      return on_append(m);
    case MessageType::kHeartbeat:
      return on_heartbeat(m);
    case MessageType::kSnapshot:
      return on_snapshot(m);
    case MessageType::kAppendResponse:
      if (role == Role::kLeader) return on_append_response(m);
      return;
    case MessageType::kHeartbeatResponse:
      if (role == Role::kLeader) return on_heartbeat_response(m);
      return;
    case MessageType::kReadIndex:
      if (role == Role::kLeader) return read_index(m.context, m.from);
      return;  // not the leader (any more): the requester times out and retries
    case MessageType::kReadIndexResponse:
      return on_read_index_response(m);
    case MessageType::kTimeoutNow:
      return on_timeout_now(m);
    case MessageType::kPropose:
      if (role == Role::kLeader) return on_propose(m);
      return;
    case MessageType::kTransferLeader:
      if (role == Role::kLeader) return transfer_leadership(m.from);
      return;
  }
}

}  // namespace raft
