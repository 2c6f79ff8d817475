// RawNode: the public face of the core; every method forwards to RawNode::Impl (core.h).
#include "raft/raw_node.h"

#include "raft/core.h"

namespace raft {

RawNode::RawNode(const Config& config, const LogStorage& storage)
    : impl_(std::make_unique<Impl>(config, storage)) {}
RawNode::~RawNode() = default;

void RawNode::tick() { impl_->tick(); }
void RawNode::step(const Message& message) { impl_->step(message); }
base::Status RawNode::propose(std::string data) { return impl_->propose(std::move(data)); }
base::Status RawNode::propose_conf_change(const ConfChange& change) {
  return impl_->propose_conf_change(change);
}
void RawNode::read_index(std::string context) { impl_->read_index(std::move(context), impl_->id); }
void RawNode::transfer_leadership(NodeId target) { impl_->transfer_leadership(target); }
void RawNode::campaign() { impl_->hup(false); }
void RawNode::become_amnesiac() { impl_->become_amnesiac(); }
void RawNode::peer_storage_lost(NodeId peer, Index peer_last_index) {
  impl_->peer_storage_lost(peer, peer_last_index);
}
void RawNode::peer_storage_repaired(NodeId peer) { impl_->peer_storage_repaired(peer); }
bool RawNode::has_ready() const { return impl_->has_ready(); }
Ready RawNode::ready() { return impl_->ready(); }
void RawNode::advance(const Ready& ready) { impl_->advance(ready); }
NodeStatus RawNode::status() const { return impl_->status(); }
Role RawNode::role() const { return impl_->role; }
Term RawNode::term() const { return impl_->term; }
void RawNode::check_invariants() const { impl_->check_invariants(); }

}  // namespace raft
