// Vote handling: paper §5.2 (one vote per term), §5.4.1 (election restriction), thesis §9.6
// (PreVote), §3.10 (kTimeoutNow for leadership transfer).
#include "base/check.h"
#include "raft/core.h"
#include "raft/quorum.h"

namespace raft {

void RawNode::Impl::on_vote(const Message& m) {
  const bool pre_vote = m.type == MessageType::kPreVote;
  const MessageType response =
      pre_vote ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  // We may vote again for the same candidate (a retransmission), vote fresh when we have
  // neither voted nor know a leader in this term, and pre-vote for any future term.
  const bool can_vote =
      vote == m.from || (vote == kNoNode && leader == kNoNode) || (pre_vote && m.term > term);
  const bool log_ok =
      bug(PlantedBug::kVoteWithoutLogCheck) || log.is_up_to_date(m.index, m.log_term);
  // An amnesiac node may have promised a vote or entries it no longer has (raw_node.h).
  const bool trustworthy = !amnesiac || bug(PlantedBug::kAmnesiacVotes);
  if (!can_vote || !log_ok || !trustworthy) {
    send(Message{.type = response, .to = m.from, .term = term, .reject = true});
    return;
  }
  // A pre-vote grant echoes the future term it was asked about; a vote's term equals ours.
  send(Message{.type = response, .to = m.from, .term = m.term});
  if (!pre_vote) {
    ENSURE(m.term == term);
    election_elapsed = 0;
    vote = m.from;  // persisted through Ready.hard_state before the grant is sent
  }
}

void RawNode::Impl::on_vote_response(const Message& m) {
  const bool expected = (role == Role::kPreCandidate && m.type == MessageType::kPreVoteResponse &&
                         (m.reject || m.term == term + 1)) ||
                        (role == Role::kCandidate && m.type == MessageType::kVoteResponse);
  if (!expected) return;  // a late answer to an election already decided
  // A grant from a peer whose storage was lost may rest on a log it no longer has.
  votes.emplace(m.from, !m.reject && !untrusted_peers.contains(m.from));
  switch (vote_result(conf.voters, votes)) {
    case VoteResult::kWon:
      if (role == Role::kPreCandidate) {
        campaign(false, false);
      } else if (!is_voter(id)) {
        become_follower(term, kNoNode);  // removed while campaigning
      } else {
        become_leader();
        broadcast_append();
      }
      return;
    case VoteResult::kLost:
      become_follower(term, kNoNode);
      return;
    case VoteResult::kPending:
      return;
  }
}

void RawNode::Impl::on_timeout_now(const Message& m) {
  if (role == Role::kLeader) return;
  ENSURE(m.term == term);
  // The leader asked us to campaign now, skipping PreVote and the lease (thesis §3.10).
  hup(true);
}

}  // namespace raft
