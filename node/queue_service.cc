#include "node/queue_service.h"

#include <fmt/format.h>

#include "base/check.h"
#include "kvstate/state_limits.h"

namespace node {

namespace {
// A proposal that neither applied nor failed within this long was lost (e.g. dropped while
// forwarding); propose again.
constexpr std::chrono::seconds kProposalLost{3};
}  // namespace

void QueueService::listen(Origin origin, const net::QueueListen& listen, Reply reply) {
  if (!host_.is_leader()) return reply(host_.not_leader_error());
  auto invalid = [&](std::string message) {
    reply(net::Error{base::Code::kInvalidArgument, std::move(message), std::nullopt});
  };
  if (listen.max_in_flight > kInFlightMax)
    return invalid(fmt::format("max_in_flight must be at most {}", kInFlightMax));
  if (listen.visibility_ms > kvstate::kVisibilityMaxMs)
    return invalid(fmt::format("visibility_ms must be at most {}", kvstate::kVisibilityMaxMs));
  if ((origin.connection != 0 || origin.request_id != 0) && by_origin_.count(origin))
    return invalid("a stream with this request id is open");
  if (consumers_.size() >= kConsumersMax) {
    return reply(net::Error{base::Code::kUnavailable, "too many queue listeners on this node",
                            std::nullopt});
  }
  const uint64_t id = next_consumer_++;
  Consumer c;
  c.origin = origin;
  c.reply = std::move(reply);
  c.max_in_flight = listen.max_in_flight == 0 ? 1 : listen.max_in_flight;
  c.visibility_ms = listen.visibility_ms == 0 ? kDefaultVisibilityMs : listen.visibility_ms;
  consumers_.emplace(id, std::move(c));
  if (origin.connection != 0 || origin.request_id != 0) by_origin_[origin] = id;
}

void QueueService::on_request(const net::RequestBody& request, Reply reply, SteadyTime now) {
  if (!host_.is_leader()) return reply(host_.not_leader_error());
  kvstate::Command command;
  OpKey key;
  if (const auto* ack = std::get_if<kvmodel::QueueAck>(&request)) {
    key = {OpKind::kAck, ack->message_id, ack->lease_token};
    command = *ack;
  } else if (const auto* nack = std::get_if<kvmodel::QueueNack>(&request)) {
    key = {OpKind::kNack, nack->message_id, nack->lease_token};
    kvmodel::QueueNack stamped = *nack;
    stamped.now_ms = host_.now_ms();
    command = std::move(stamped);
  } else if (const auto* extend = std::get_if<kvmodel::QueueExtend>(&request)) {
    key = {OpKind::kExtend, extend->message_id, extend->lease_token};
    kvmodel::QueueExtend stamped = *extend;
    stamped.now_ms = host_.now_ms();
    if (stamped.visibility_ms == 0) stamped.visibility_ms = visibility_for(extend->message_id);
    command = std::move(stamped);
  } else {
    FATAL("not a queue request");
  }
  if (std::get<1>(key).size() != kvmodel::kMessageIdBytes) {
    return reply(net::Error{base::Code::kInvalidArgument,
                            fmt::format("a message id has {} bytes", kvmodel::kMessageIdBytes),
                            std::nullopt});
  }
  ops_.emplace(std::move(key), PendingOp{std::move(reply), now + request_timeout_});
  host_.propose_command(std::move(command));
}

bool QueueService::cancel(Origin stream) {
  auto it = by_origin_.find(stream);
  if (it == by_origin_.end()) return false;
  const uint64_t id = it->second;
  consumers_.at(id).reply(net::StreamEnd{});
  remove(id);
  return true;
}

void QueueService::close_connection(uint64_t connection) {
  std::vector<uint64_t> ids;
  for (auto it = by_origin_.lower_bound(Origin{connection, 0});
       it != by_origin_.end() && it->first.connection == connection; ++it)
    ids.push_back(it->second);
  // Their unfinished deliveries stay leased until the lease runs out: then they are retried
  // like any failed delivery.
  for (uint64_t id : ids) remove(id);
}

void QueueService::remove(uint64_t consumer_id) {
  auto it = consumers_.find(consumer_id);
  ENSURE(it != consumers_.end());
  by_origin_.erase(it->second.origin);
  consumers_.erase(it);
}

void QueueService::on_applied(const kvstate::Command& command,
                              const kvstate::CommandResult& result) {
  if (const auto* lease = std::get_if<kvstate::QueueLease>(&command)) {
    deliver(lease->consumer_id, result);
  } else if (const auto* ack = std::get_if<kvmodel::QueueAck>(&command)) {
    answer_op({OpKind::kAck, ack->message_id, ack->lease_token}, result.outcome);
  } else if (const auto* nack = std::get_if<kvmodel::QueueNack>(&command)) {
    answer_op({OpKind::kNack, nack->message_id, nack->lease_token}, result.outcome);
  } else if (const auto* extend = std::get_if<kvmodel::QueueExtend>(&command)) {
    answer_op({OpKind::kExtend, extend->message_id, extend->lease_token}, result.outcome);
  } else if (std::holds_alternative<kvstate::ExpireLeases>(command)) {
    expire_proposed_at_.reset();
  }
  if (result.queue_changed && !consumers_.empty()) forget_finished_deliveries();
}

void QueueService::deliver(uint64_t consumer_id, const kvstate::CommandResult& result) {
  auto it = consumers_.find(consumer_id);
  if (it == consumers_.end()) return;  // gone: the leases run out and the messages retry
  Consumer& c = it->second;
  c.lease_proposed_at.reset();
  for (const kvstate::LeasedMessage& m : result.leased) {
    c.in_flight[m.message_id] = m.lease_token;
    c.reply(net::QueueDelivery{m.message_id, m.lease_token, m.payload, m.delivery});
  }
}

void QueueService::answer_op(const OpKey& key, const kvstate::WriteOutcome& outcome) {
  auto it = ops_.find(key);
  if (it == ops_.end()) return;
  if (outcome.kind == kvstate::WriteOutcome::Kind::kCommitted) {
    it->second.reply(net::Ok{});
  } else {
    it->second.reply(net::Error{outcome.error.code(), outcome.error.message(), std::nullopt});
  }
  ops_.erase(it);
}

// A delivery is finished once its message is gone or no longer leased with its token (acked,
// nacked, expired, or leased again), wherever the ack came from.
void QueueService::forget_finished_deliveries() {
  for (auto& [id, c] : consumers_) {
    std::erase_if(c.in_flight, [&](const auto& item) {
      const kvstate::QueueMessage* m = host_.state().find_message(item.first);
      return m == nullptr || !m->leased || m->lease_token != item.second;
    });
  }
}

uint32_t QueueService::visibility_for(base::BytesView message_id) const {
  for (const auto& [id, c] : consumers_)
    if (c.in_flight.count(base::Bytes(message_id))) return c.visibility_ms;
  return kDefaultVisibilityMs;
}

void QueueService::on_propose_failed(const kvstate::Command& command, const net::Error& error) {
  if (const auto* lease = std::get_if<kvstate::QueueLease>(&command)) {
    auto it = consumers_.find(lease->consumer_id);
    if (it != consumers_.end()) it->second.lease_proposed_at.reset();
    return;
  }
  if (std::holds_alternative<kvstate::ExpireLeases>(command)) {
    expire_proposed_at_.reset();
    return;
  }
  std::optional<OpKey> key;
  if (const auto* ack = std::get_if<kvmodel::QueueAck>(&command))
    key = OpKey{OpKind::kAck, ack->message_id, ack->lease_token};
  if (const auto* nack = std::get_if<kvmodel::QueueNack>(&command))
    key = OpKey{OpKind::kNack, nack->message_id, nack->lease_token};
  if (const auto* extend = std::get_if<kvmodel::QueueExtend>(&command))
    key = OpKey{OpKind::kExtend, extend->message_id, extend->lease_token};
  if (!key) return;
  auto it = ops_.find(*key);
  if (it == ops_.end()) return;
  it->second.reply(error);
  ops_.erase(it);
}

void QueueService::poll(SteadyTime now) {
  if (!host_.serving_as_leader()) return;
  const kvstate::StateMachine& state = host_.state();
  const uint64_t now_ms = host_.now_ms();
  if (auto deadline = state.next_lease_deadline(); deadline && *deadline <= now_ms) {
    if (!expire_proposed_at_ || *expire_proposed_at_ + kProposalLost <= now) {
      expire_proposed_at_ = now;
      host_.propose_command(kvstate::ExpireLeases{now_ms});
    }
  }
  auto ready = state.next_ready_at();
  if (!ready || *ready > now_ms) return;
  for (auto& [id, c] : consumers_) {
    if (c.in_flight.size() >= c.max_in_flight) continue;
    if (c.lease_proposed_at && *c.lease_proposed_at + kProposalLost > now) continue;
    c.lease_proposed_at = now;
    auto capacity = static_cast<uint32_t>(c.max_in_flight - c.in_flight.size());
    host_.propose_command(kvstate::QueueLease{now_ms, id, capacity, c.visibility_ms});
  }
}

void QueueService::expire_requests(SteadyTime now) {
  for (auto it = ops_.begin(); it != ops_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    it->second.reply(net::Error{base::Code::kUnknownOutcome,
                                "no commit in time; the queue operation may still apply",
                                std::nullopt});
    it = ops_.erase(it);
  }
}

void QueueService::end_streams(const net::Error& error) {
  for (auto& [id, c] : consumers_) c.reply(error);
  consumers_.clear();
  by_origin_.clear();
  expire_proposed_at_.reset();
}

void QueueService::end_all(const net::Error& error) {
  end_streams(error);
  for (auto& [key, op] : ops_) {
    // The command was proposed and may still commit: its outcome is unknown.
    op.reply(net::Error{base::Code::kUnknownOutcome, error.message, std::nullopt});
  }
  ops_.clear();
}

}  // namespace node
