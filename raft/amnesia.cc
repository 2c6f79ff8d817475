// A node, or a peer, whose storage may have lost what it promised (raw_node.h, "Amnesia";
// Alagappan et al., "Protocol-Aware Recovery for Consensus-Based Storage", FAST 2018).
#include <algorithm>

#include "base/check.h"
#include "raft/core.h"

namespace raft {

void RawNode::Impl::become_amnesiac() {
  amnesiac = true;
  repair_term = 0;  // the next append of a leader sets the repair target afresh
  repair_commit = 0;
  repaired_at = 0;
  // A leader or candidate on lost state must not go on: its log may lack committed entries.
  if (role != Role::kFollower) become_follower(term, kNoNode);
}

// Called by advance(): the entries that repaired us count once they are durable (they may
// have arrived after the Ready being advanced was taken). Within the leader's term they are
// never rewritten, and reset() forgets them when the term changes.
void RawNode::Impl::maybe_finish_repair() {
  if (!amnesiac || repaired_at == 0 || repair_term != term) return;
  if (log.stable_last_index() < repaired_at) return;
  amnesiac = false;
  repair_term = 0;
  repair_commit = 0;
  repaired_at = 0;
}

void RawNode::Impl::peer_storage_lost(NodeId peer, Index peer_last_index) {
  if (peer == id || peer == kNoNode) return;
  untrusted_peers.insert(peer);
  votes.erase(peer);  // a grant it already gave may rest on what it lost
  if (role != Role::kLeader) return;
  auto it = progress.find(peer);
  if (it == progress.end()) return;
  it->second.reset_after_storage_loss(std::min(peer_last_index, log.last_index()) + 1);
  if (transfer_target == peer) transfer_target = kNoNode;
  maybe_send_append(peer, true);
}

void RawNode::Impl::peer_storage_repaired(NodeId peer) { untrusted_peers.erase(peer); }

}  // namespace raft
