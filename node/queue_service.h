// QueueService: the leader's queue scheduler (spec §6, DESIGN.md "Queues").
//
// The leader keeps the listening consumers (QueueListen streams). When a consumer has capacity
// (max_in_flight minus its unfinished deliveries) and a message is due (next_ready_at() <= now)
// it proposes QueueLease; when the lease applies, each LeasedMessage is pushed to that consumer
// as a QueueDelivery. QueueAck / QueueNack / QueueExtend requests become proposals and are
// answered (Ok or an error) when they apply. When a lease deadline passes it proposes
// ExpireLeases, which retries (after the next backoff interval) or dead-letters the message.
// After a leader change the new leader has no consumers; the old leases run out and its
// ExpireLeases makes the messages deliverable again (at least once). A client that finished a
// message may still ack it at the new leader with its token: the lease is replicated.
//
// Delivery tokens: the lease token is the 10-byte versionstamp (raft index, position) of the
// QueueLease command, on the wire as in the state machine.
//
// Times come from ServiceHost::now_ms() (the leader's clock, never behind the replicated one).
// Single-threaded: the node thread calls everything. Only the leader accepts listeners and
// queue requests; followers answer NotLeader.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <tuple>

#include "kvmodel/queue.h"
#include "kvstate/command.h"
#include "kvstate/types.h"
#include "net/client_types.h"
#include "node/service_host.h"
#include "node/stream.h"

namespace node {

class QueueService {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  static constexpr uint32_t kDefaultVisibilityMs = 5000;  // denokv's MESSAGE_DEADLINE_TIMEOUT
  static constexpr uint32_t kInFlightMax = 1000;          // per consumer
  static constexpr size_t kConsumersMax = 10'000;

  // Consumer ids start from `seed` (differs per process) so that a QueueLease proposed by an
  // earlier life of this node is never mistaken for one of ours.
  QueueService(ServiceHost& host, uint64_t seed, std::chrono::milliseconds request_timeout)
      : host_(host), next_consumer_((seed << 20) | 1), request_timeout_(request_timeout) {}

  void listen(Origin origin, const net::QueueListen& listen, Reply reply);
  // QueueAck / QueueNack / QueueExtend from a client (any connection): stamped with the
  // leader's clock (and an extension's default visibility) and proposed as they are.
  void on_request(const net::RequestBody& request, Reply reply, SteadyTime now);
  bool cancel(Origin stream);
  void close_connection(uint64_t connection);

  // After each applied command (every replica calls it; only the leader has consumers).
  void on_applied(const kvstate::Command& command, const kvstate::CommandResult& result);
  // A command of ours could not be proposed (e.g. a leadership transfer is in progress).
  void on_propose_failed(const kvstate::Command& command, const net::Error& error);
  // Once per loop iteration: proposes leases and lease expiry when due.
  void poll(SteadyTime now);
  // Answers requests whose deadline passed (their commands may still apply).
  void expire_requests(SteadyTime now);
  // This node stopped leading: every stream ends with `error`. Pending requests stay: their
  // commands may still apply here (answered then) or time out.
  void end_streams(const net::Error& error);
  // The node is stopping: streams end and pending requests are answered with `error`
  // (kUnknownOutcome for requests whose command was proposed).
  void end_all(const net::Error& error);
  size_t consumer_count() const { return consumers_.size(); }

 private:
  struct Consumer {
    Origin origin;
    Reply reply;
    uint32_t max_in_flight = 1;
    uint32_t visibility_ms = kDefaultVisibilityMs;
    std::map<base::Bytes, kvmodel::Versionstamp> in_flight;  // message id -> lease token
    std::optional<SteadyTime> lease_proposed_at;             // a QueueLease is in flight
  };
  enum class OpKind : uint8_t { kAck, kNack, kExtend };
  using OpKey = std::tuple<OpKind, base::Bytes, kvmodel::Versionstamp>;
  struct PendingOp {
    Reply reply;
    SteadyTime deadline;
  };

  void deliver(uint64_t consumer_id, const kvstate::CommandResult& result);
  void answer_op(const OpKey& key, const kvstate::WriteOutcome& outcome);
  void forget_finished_deliveries();
  uint32_t visibility_for(base::BytesView message_id) const;
  void remove(uint64_t consumer_id);

  ServiceHost& host_;
  uint64_t next_consumer_;
  std::chrono::milliseconds request_timeout_;
  std::map<uint64_t, Consumer> consumers_;  // consumer id -> consumer
  std::map<Origin, uint64_t> by_origin_;
  std::multimap<OpKey, PendingOp> ops_;
  std::optional<SteadyTime> expire_proposed_at_;  // an ExpireLeases is in flight
};

}  // namespace node
