// Proposals, membership changes (thesis §4.1: one server at a time, §4.2.2: a leader that is
// removed steps down once the change commits) and leadership transfer (thesis §3.10).
// A configuration change takes effect when its committed entry is applied, i.e. inside
// advance() for the Ready that handed it out (as in etcd); one may be pending at a time.
#include <algorithm>

#include "base/check.h"
#include "raft/core.h"

namespace raft {
namespace {

void insert_sorted(std::vector<NodeId>& ids, NodeId node) {
  auto it = std::lower_bound(ids.begin(), ids.end(), node);
  if (it == ids.end() || *it != node) ids.insert(it, node);
}

void erase_sorted(std::vector<NodeId>& ids, NodeId node) {
  ids.erase(std::remove(ids.begin(), ids.end(), node), ids.end());
}

}  // namespace

base::Status RawNode::Impl::propose(std::string data) {
  return accept_proposal(Entry{.type = EntryType::kNormal, .data = std::move(data)});
}

base::Status RawNode::Impl::propose_conf_change(const ConfChange& change) {
  return accept_proposal(Entry{.type = EntryType::kConfChange, .data = change.encode()});
}

// Leader: validates and appends. Follower: forwards to the known leader.
base::Status RawNode::Impl::accept_proposal(Entry entry) {
  if (role != Role::kLeader) {
    if (leader == kNoNode) return base::Status(base::Code::kNotLeader, "no leader known");
    send(Message{.type = MessageType::kPropose, .to = leader, .entries = {std::move(entry)}});
    return base::Status::ok();
  }
  if (transfer_target != kNoNode) {
    return base::Status(base::Code::kUnavailable,
                        fmt::format("leadership transfer to {} in progress", transfer_target));
  }
  if (uncommitted_bytes + entry.data.size() > config.max_uncommitted_bytes) {
    return base::Status(base::Code::kUnavailable, "too many uncommitted bytes");
  }
  if (entry.type == EntryType::kConfChange) {
    auto change = ConfChange::decode(entry.data);
    if (!change.is_ok()) return change.status();
    RETURN_IF_ERROR(validate_conf_change(*change));
    if (pending_conf_index > log.applied()) {
      return base::Status(
          base::Code::kUnavailable,
          fmt::format("a configuration change (index {}) is not yet applied", pending_conf_index));
    }
    pending_conf_index = log.last_index() + 1;
  } else if (entry.type != EntryType::kNormal) {
    return base::invalid_argument("only normal and conf-change entries can be proposed");
  }
  append_as_leader({std::move(entry)});
  return base::Status::ok();
}

base::Status RawNode::Impl::validate_conf_change(const ConfChange& change) const {
  const bool voter = is_voter(change.node);
  const bool member = is_member(change.node);
  switch (change.type) {
    case ConfChange::Type::kAddVoter:
      if (voter) return base::invalid_argument("node {} is already a voter", change.node);
      return base::Status::ok();  // a learner is promoted
    case ConfChange::Type::kAddLearner:
      if (voter) return base::invalid_argument("node {} is a voter; remove it first", change.node);
      if (member) return base::invalid_argument("node {} is already a learner", change.node);
      return base::Status::ok();
    case ConfChange::Type::kRemoveNode:
      if (!member) return base::invalid_argument("node {} is not a member", change.node);
      if (voter && conf.voters.size() == 1) {
        return base::invalid_argument("cannot remove the last voter {}", change.node);
      }
      return base::Status::ok();
  }
  return base::invalid_argument("unknown conf change type");
}

void RawNode::Impl::on_propose(const Message& m) {
  for (const Entry& entry : m.entries) {
    // Forwarded proposals that cannot be accepted are dropped; the client retries.
    if (!accept_proposal(Entry{.type = entry.type, .data = entry.data}).is_ok()) ++ignored_messages;
  }
}

// Applies a committed change to the configuration. Idempotent, and a no-op for a change that
// no longer makes sense (every node applies the same entries to the same configuration, so
// they all decide alike).
void RawNode::Impl::apply_conf_change(const ConfChange& change) {
  const NodeId node = change.node;
  switch (change.type) {
    case ConfChange::Type::kAddVoter:
      erase_sorted(conf.learners, node);
      insert_sorted(conf.voters, node);
      break;
    case ConfChange::Type::kAddLearner:
      if (is_voter(node)) return;
      insert_sorted(conf.learners, node);
      break;
    case ConfChange::Type::kRemoveNode:
      if (is_voter(node) && conf.voters.size() == 1) return;
      erase_sorted(conf.voters, node);
      erase_sorted(conf.learners, node);
      break;
  }
  if (role != Role::kLeader) return;
  if (!is_member(node)) {
    progress.erase(node);
    if (transfer_target == node) transfer_target = kNoNode;
  } else if (auto it = progress.find(node); it != progress.end()) {
    it->second.set_learner(!is_voter(node));
  } else {
    progress.emplace(node,
                     Progress(log.last_index() + 1, config.max_inflight_appends, !is_voter(node)));
    maybe_send_append(node, true);
  }
  if (!is_voter(id)) {
    // Thesis §4.2.2: the removed leader steps down once the change is committed; the rest
    // elect a leader among themselves after an election timeout.
    become_follower(term, kNoNode);
    return;
  }
  if (maybe_commit()) broadcast_append();  // the quorum may have shrunk
}

void RawNode::Impl::apply_conf_state(const ConfState& conf_state) {
  ENSURE(role != Role::kLeader);
  conf = conf_state;
}

void RawNode::Impl::transfer_leadership(NodeId target) {
  if (role != Role::kLeader) {
    if (leader != kNoNode && target != leader) {
      // Forwarded with from = target (the leader reads the target from the sender field).
      Message forward{.type = MessageType::kTransferLeader, .to = leader};
      forward.term = 0;
      outbox.push_back(forward);
      outbox.back().from = target;
    }
    return;
  }
  if (target == id || !is_voter(target) || transfer_target == target) return;
  transfer_target = target;
  election_elapsed = 0;  // abort if not done within an election timeout (tick_leader)
  if (progress.at(target).match() == log.last_index()) {
    send(Message{.type = MessageType::kTimeoutNow, .to = target});
  } else {
    maybe_send_append(target, true);
  }
}

}  // namespace raft
