// Membership and leadership requests (thesis §4.1 single-server changes, §3.10 transfer):
//
// - MemberList: the applied configuration (voters and learners) with every member's peer and
//   client address, answered by any member from its own applied state (a node that is not a
//   member answers kUnavailable).
// - MemberAdd{id, peer_addr, client_addr} (leader): proposes add-learner with both addresses in
//   the ConfChange context (member_context.h). The new node (`kvd --join`) receives the log or a
//   snapshot as a learner; the leader promotes it to voter automatically once its log is within
//   promote_lag_entries of the leader's. The answer (the member list) comes once the node is a
//   voter, or kTimeout if it has not been promoted member_change_timeout_ms after it became a
//   learner (it stays a learner and is promoted later). Adding a node that is already a member
//   at the same peer address (a retried add) waits for its promotion the same way, or answers
//   at once if it is a voter; a different address is refused.
// - MemberRemove{id} (leader): proposes the removal and answers once it applied. Removing the
//   leader works: it applies its own removal, answers, then steps down (raft/README.md).
// - LeaderTransfer{to} (leader; to = 0 picks the most caught-up voter): answered Ok once `to`
//   leads, or kTimeout.
// Followers answer the leader-only requests NotLeader with a hint.
#include <algorithm>

#include "base/log.h"
#include "node/member_context.h"
#include "node/node.h"

namespace node {

namespace {

net::Error invalid(std::string message) {
  return net::Error{base::Code::kInvalidArgument, std::move(message), std::nullopt};
}

bool contains(const std::vector<raft::NodeId>& ids, raft::NodeId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// A pending kAddVoter change is a MemberAdd waiting for its learner's promotion (the request
// itself proposes kAddLearner; the promotions of poll_membership have no pending request).
bool awaits_promotion(const raft::ConfChange& change) {
  return change.type == raft::ConfChange::Type::kAddVoter;
}

}  // namespace

void Node::on_member_request(const net::RequestBody& request, Reply reply) {
  if (std::holds_alternative<net::MemberList>(request)) {
    // A removed (or not yet added) node's view never changes again: it must not pose as the
    // cluster's. kUnavailable sends the client on to the next endpoint.
    raft::ConfState conf = raft_->status().conf;
    if (!contains(conf.voters, options_.id) && !contains(conf.learners, options_.id)) {
      return reply(net::Error{base::Code::kUnavailable,
                              fmt::format("node {} is not a member of the cluster (removed, or "
                                          "not added yet); ask another node",
                                          options_.id),
                              std::nullopt});
    }
    return reply(member_list());
  }
  if (!is_leader_) return reply(not_leader_error());
  if (const auto* add = std::get_if<net::MemberAdd>(&request)) {
    std::string host;
    uint16_t port = 0;
    if (add->id == 0) return reply(invalid("a member id must be a positive integer"));
    if (base::Status s = split_host_port(add->peer_addr, host, port); !s.is_ok())
      return reply(invalid(fmt::format("peer address: {}", s.message())));
    if (!add->client_addr.empty()) {
      if (base::Status s = split_host_port(add->client_addr, host, port); !s.is_ok())
        return reply(invalid(fmt::format("client address: {}", s.message())));
    }
    if (add->peer_addr.find(' ') != std::string::npos ||
        add->client_addr.find(' ') != std::string::npos)
      return reply(invalid("addresses cannot contain spaces"));
    // A retried add (same id and peer address): wait for the promotion, or it is done.
    auto known = peer_addrs_.find(add->id);
    if (known != peer_addrs_.end() && known->second == add->peer_addr) {
      raft::ConfState conf = raft_->status().conf;
      if (contains(conf.learners, add->id)) return await_promotion(add->id, std::move(reply));
      if (contains(conf.voters, add->id)) return reply(member_list());
    }
    raft::ConfChange change{raft::ConfChange::Type::kAddLearner, add->id,
                            encode_member_context({add->peer_addr, add->client_addr})};
    return propose_member_change(std::move(change), std::move(reply));
  }
  if (const auto* remove = std::get_if<net::MemberRemove>(&request)) {
    // kNotFound (not "invalid"): a client whose earlier attempt lost its answer learns from it
    // that the removal applied.
    raft::ConfState conf = raft_->status().conf;
    if (!contains(conf.voters, remove->id) && !contains(conf.learners, remove->id)) {
      return reply(net::Error{base::Code::kNotFound,
                              fmt::format("node {} is not a member of the cluster", remove->id),
                              std::nullopt});
    }
    raft::ConfChange change{raft::ConfChange::Type::kRemoveNode, remove->id, ""};
    return propose_member_change(std::move(change), std::move(reply));
  }
  if (const auto* transfer = std::get_if<net::LeaderTransfer>(&request))
    return start_transfer(transfer->to, std::move(reply));
}

void Node::propose_member_change(raft::ConfChange change, Reply reply) {
  base::Status s = raft_->propose_conf_change(change);
  if (!s.is_ok()) {
    // kInvalidArgument (already a member, last voter, ...) or kUnavailable (another change is
    // still being applied, a transfer is in progress: retry).
    return reply(s.code() == base::Code::kNotLeader ? not_leader_error() : net::Error::of(s));
  }
  LOG(kInfo, "member change proposed", "type={} id={} context={}", static_cast<int>(change.type),
      change.node, base::log_quote(change.context));
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(options_.member_change_timeout_ms);
  member_changes_.push_back(PendingMemberChange{std::move(change), std::move(reply), deadline});
}

void Node::start_transfer(raft::NodeId to, Reply reply) {
  raft::NodeStatus st = raft_->status();
  if (to == 0) {
    raft::Index best_match = 0;
    for (const auto& p : st.progress) {
      if (p.id == options_.id || p.learner) continue;
      if (to == 0 || p.match > best_match) {
        to = p.id;
        best_match = p.match;
      }
    }
    if (to == 0) return reply(invalid("there is no other voter to transfer leadership to"));
  }
  if (to == options_.id) return reply(net::Ok{});
  if (!contains(st.conf.voters, to))
    return reply(invalid(fmt::format("node {} is not a voter", to)));
  if (transfer_) {
    return reply(net::Error{base::Code::kUnavailable,
                            fmt::format("a transfer to node {} is in progress", transfer_->to),
                            std::nullopt});
  }
  LOG(kInfo, "transferring leadership", "to={}", to);
  raft_->transfer_leadership(to);
  // Raft aborts a transfer after an election timeout; give it two before answering kTimeout.
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(options_.tick_ms * options_.election_ticks * 4);
  transfer_ = PendingTransfer{to, std::move(reply), deadline};
}

net::MemberListResult Node::member_list() const {
  raft::NodeStatus st = raft_->status();
  net::MemberListResult out;
  auto add = [&](raft::NodeId id, net::MemberRole role) {
    auto peer = peer_addrs_.find(id);
    auto client = client_addrs_.find(id);
    out.members.push_back(net::Member{id, role, peer == peer_addrs_.end() ? "" : peer->second,
                                      client == client_addrs_.end() ? "" : client->second});
  };
  for (raft::NodeId id : st.conf.voters) add(id, net::MemberRole::kVoter);
  for (raft::NodeId id : st.conf.learners) add(id, net::MemberRole::kLearner);
  std::sort(out.members.begin(), out.members.end(),
            [](const net::Member& a, const net::Member& b) { return a.id < b.id; });
  return out;
}

void Node::learn_addresses(raft::NodeId id, const std::string& context) {
  if (context.empty()) return;  // bootstrap entries: addresses come from the command line
  MemberAddresses addresses = decode_member_context(context);
  if (!addresses.peer_addr.empty()) {
    peer_addrs_[id] = addresses.peer_addr;
    if (id != options_.id) transport_.set_peer(id, addresses.peer_addr);
  }
  if (!addresses.client_addr.empty()) client_addrs_[id] = addresses.client_addr;
}

void Node::await_promotion(raft::NodeId id, Reply reply) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(options_.member_change_timeout_ms);
  raft::ConfChange promotion{raft::ConfChange::Type::kAddVoter, id, ""};
  member_changes_.push_back(PendingMemberChange{std::move(promotion), std::move(reply), deadline});
}

// After advance(): the configuration now includes the applied changes. An applied add-learner
// is answered only once the learner is promoted (apply_conf_change matches the kAddVoter).
void Node::answer_member_changes() {
  if (member_answers_.empty()) return;
  net::MemberListResult members = member_list();
  raft::NodeStatus st = raft_->status();
  for (auto& pending : member_answers_) {
    if (pending.change.type == raft::ConfChange::Type::kAddLearner && is_leader_ &&
        contains(st.conf.learners, pending.change.node)) {
      await_promotion(pending.change.node, std::move(pending.reply));
    } else {
      pending.reply(members);
    }
  }
  member_answers_.clear();
}

std::string Node::not_promoted_message(raft::NodeId id) const {
  return fmt::format(
      "node {} was added as a learner but has not caught up in {:g} s; it stays a learner and "
      "will be promoted when it catches up (see `kv member list`)",
      id, static_cast<double>(options_.member_change_timeout_ms) / 1000.0);
}

// Leader: promote caught-up learners; answer a finished leadership transfer.
void Node::poll_membership(std::chrono::steady_clock::time_point now) {
  if (transfer_) {
    raft::NodeStatus st = raft_->status();
    if (!is_leader_ && st.leader == transfer_->to) {
      transfer_->reply(net::Ok{});
      transfer_.reset();
    } else if (now >= transfer_->deadline) {
      transfer_->reply(net::Error{
          base::Code::kTimeout,
          fmt::format(
              "node {} did not take over leadership in time (is it caught up and reachable?)",
              transfer_->to),
          std::nullopt});
      transfer_.reset();
    }
  }
  if (!serving_as_leader() || now < next_promotion_attempt_) return;
  next_promotion_attempt_ = now + std::chrono::milliseconds(options_.tick_ms * 5);
  raft::NodeStatus st = raft_->status();
  if (st.conf.learners.empty()) return;
  for (const auto& p : st.progress) {
    // match == 0: the learner has acknowledged nothing yet (perhaps it is not even running);
    // with a short log the lag test alone would promote it, and a dead voter costs quorum.
    if (!p.learner || p.match == 0 || p.match + options_.promote_lag_entries < st.last_index)
      continue;
    auto peer = peer_addrs_.find(p.id);
    auto client = client_addrs_.find(p.id);
    MemberAddresses addresses{peer == peer_addrs_.end() ? "" : peer->second,
                              client == client_addrs_.end() ? "" : client->second};
    raft::ConfChange change{raft::ConfChange::Type::kAddVoter, p.id,
                            encode_member_context(addresses)};
    // Refused while another change is pending; the next poll tries again.
    if (raft_->propose_conf_change(change).is_ok()) {
      LOG(kInfo, "promoting learner", "id={} match={} last={}", p.id, p.match, st.last_index);
      return;
    }
  }
}

void Node::expire_member_requests(std::chrono::steady_clock::time_point now) {
  std::erase_if(member_changes_, [&](PendingMemberChange& p) {
    if (p.deadline > now) return false;
    if (awaits_promotion(p.change)) {
      p.reply(net::Error{base::Code::kTimeout, not_promoted_message(p.change.node), std::nullopt});
    } else {
      p.reply(net::Error{base::Code::kUnknownOutcome,
                         "the membership change did not apply in time; check `kv member list`",
                         std::nullopt});
    }
    return true;
  });
}

void Node::fail_member_requests(const net::Error& error) {
  for (auto& p : member_changes_) {
    if (awaits_promotion(p.change)) {
      p.reply(net::Error{base::Code::kUnavailable,
                         fmt::format("node {} was added as a learner; leadership changed before "
                                     "its promotion ({}); the new leader promotes it once it "
                                     "catches up",
                                     p.change.node, error.message),
                         std::nullopt});
    } else {
      p.reply(net::Error{base::Code::kUnknownOutcome, error.message, std::nullopt});
    }
  }
  member_changes_.clear();
  for (auto& p : member_answers_) p.reply(member_list());
  member_answers_.clear();
  if (transfer_) transfer_->reply(error);
  transfer_.reset();
}

}  // namespace node
