// Client requests on the node thread: writes are batched into one Raft proposal per loop
// iteration (group commit) and answered when their entry applies; strong reads wait for a
// ReadIndex round shared by every read that arrived meanwhile (thesis §6.4).
#include <chrono>

#include "base/check.h"
#include "base/log.h"
#include "kvmodel/write_validation.h"
#include "node/node.h"
#ifdef RAFTKV_TEST_HOOKS
#include "node/test_hooks.h"
#endif

namespace node {

uint64_t wall_clock_ms(const NodeOptions& options);  // node.cc

namespace {
// A proposal's size bounds: Raft entries stay well under the 16 MiB frame limit.
constexpr size_t kBatchCommandsMax = 4096;
constexpr size_t kBatchBytesMax = 4 << 20;

size_t approximate_size(const kvstate::Command& command) {
  const auto* w = std::get_if<kvmodel::AtomicWrite>(&command);
  if (w == nullptr) return 64;
  size_t n = 64;
  for (const auto& c : w->checks) n += c.key.size() + 16;
  for (const auto& m : w->mutations) n += m.key.size() + m.value.data.size() + 24;
  for (const auto& e : w->enqueues) n += e.payload.size() + 64;
  return n;
}

// The answer to a write: what the state machine decided.
net::ResponseBody write_response(const kvstate::WriteOutcome& outcome) {
  using Kind = kvstate::WriteOutcome::Kind;
  switch (outcome.kind) {
    case Kind::kCommitted:
      return net::AtomicWriteResult{true, outcome.versionstamp, {}};
    case Kind::kCheckFailed:
      return net::AtomicWriteResult{false, std::nullopt, outcome.failed_checks};
    case Kind::kError:
      break;
  }
  return net::Error::of(outcome.error);
}
}  // namespace

void Node::on_request(net::RequestBody request, Reply reply) {
  if (auto* write = std::get_if<kvmodel::AtomicWrite>(&request)) {
    on_write(std::move(*write), std::move(reply));
  } else if (auto* read = std::get_if<kvmodel::SnapshotRead>(&request)) {
    on_read(std::move(*read), std::move(reply));
  } else if (std::holds_alternative<net::StatusRequest>(request)) {
    reply(net::StatusResult{{local_status()}});
#ifdef RAFTKV_TEST_HOOKS
  } else if (std::holds_alternative<kvmodel::QueueAck>(request) && options_.test_hooks &&
             options_.test_hooks->has(PlantedBug::kDropQueueAcks)) {
    reply(net::Ok{});  // planted bug: the ack is never proposed
#endif
  } else if (std::holds_alternative<kvmodel::QueueAck>(request) ||
             std::holds_alternative<kvmodel::QueueNack>(request) ||
             std::holds_alternative<kvmodel::QueueExtend>(request)) {
    queue_->on_request(request, std::move(reply), std::chrono::steady_clock::now());
  } else if (std::holds_alternative<net::MemberList>(request) ||
             std::holds_alternative<net::MemberAdd>(request) ||
             std::holds_alternative<net::MemberRemove>(request) ||
             std::holds_alternative<net::LeaderTransfer>(request)) {
    on_member_request(request, std::move(reply));
  } else {
    reply(net::Error{base::Code::kInvalidArgument, "this request is not supported by this node",
                     std::nullopt});
  }
}

// Watch, QueueListen and Cancel: streams are named by their origin.
void Node::on_stream_request(net::RequestBody request, Reply reply, Origin origin) {
  if (auto* watch = std::get_if<net::Watch>(&request)) {
    watch_->subscribe(origin, std::move(*watch), std::move(reply));
  } else if (auto* listen = std::get_if<net::QueueListen>(&request)) {
    queue_->listen(origin, *listen, std::move(reply));
  } else if (auto* cancel = std::get_if<net::Cancel>(&request)) {
    Origin stream{origin.connection, cancel->stream_id};
    if (watch_->cancel(stream) || queue_->cancel(stream)) {
      reply(net::Ok{});
    } else {
      reply(net::Error{base::Code::kNotFound,
                       fmt::format("no open stream {} on this connection", cancel->stream_id),
                       std::nullopt});
    }
  }
}

// A client's write becomes the replicated command as it is, once stamped with this node's clock
// and, when it came without a session, this node's own. It is validated first: a write the
// command format cannot carry must never reach the log (its entry would not decode on any
// replica, and every other write batched with it would be lost with it).
void Node::on_write(kvmodel::AtomicWrite write, Reply reply) {
  if (base::Status valid = kvmodel::validate_atomic_write(write); !valid.is_ok()) {
    reply(net::Error::of(valid));
    return;
  }
  write.now_ms = wall_clock_ms(options_);
  if (write.client_id == 0) {
    write.client_id = node_client_id_;
    write.sequence = ++node_sequence_;
  }
  auto key = std::make_pair(write.client_id, write.sequence);
  auto& slot = writes_[key];
  if (slot) {
    // The client retried on this node while the first attempt is still in flight: the retry's
    // connection gets the answer; the session makes sure the write applies once.
    slot->reply(net::Error{base::Code::kUnknownOutcome, "superseded by a retry of the same write",
                           std::nullopt});
  }
  slot = std::make_unique<PendingWrite>(PendingWrite{
      std::move(reply),
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.write_timeout_ms),
      false});
  batch_.push_back(std::move(write));
}

void Node::propose_batch() {
  size_t begin = 0;
  while (begin < batch_.size()) {
    size_t end = begin, bytes = 0;
    while (end < batch_.size() && end - begin < kBatchCommandsMax && bytes < kBatchBytesMax)
      bytes += approximate_size(batch_[end++]);
    std::vector<kvstate::Command> part(std::make_move_iterator(batch_.begin() + begin),
                                       std::make_move_iterator(batch_.begin() + end));
    base::Status s = raft_->propose(kvstate::encode_batch(part));
    for (const kvstate::Command& c : part) {
      const auto* w = std::get_if<kvmodel::AtomicWrite>(&c);
      if (w == nullptr) {
        if (!s.is_ok())
          on_command_failed(
              c, s.code() == base::Code::kNotLeader ? not_leader_error() : net::Error::of(s));
        continue;
      }
      auto it = writes_.find({w->client_id, w->sequence});
      if (it == writes_.end()) continue;
      if (s.is_ok()) {
        it->second->proposed = true;
        continue;
      }
      net::Error error =
          s.code() == base::Code::kNotLeader ? not_leader_error() : net::Error::of(s);
      it->second->reply(std::move(error));
      writes_.erase(it);
    }
    begin = end;
  }
  batch_.clear();
}

void Node::apply_committed(const raft::Entry& entry) {
  auto batch = kvstate::decode_batch(entry.data);
  auto results = state_.apply_entry(entry.index, entry.data);
  if (!results.is_ok() || !batch.is_ok()) {
    LOG(kWarn, "entry does not decode; applied as a no-op", "index={} error={}", entry.index,
        base::log_quote(results.status().message()));
    return;
  }
  for (size_t i = 0; i < batch->size(); ++i) {
    const auto* w = std::get_if<kvmodel::AtomicWrite>(&(*batch)[i]);
    if (w == nullptr) continue;
    auto it = writes_.find({w->client_id, w->sequence});
    if (it == writes_.end()) continue;
    it->second->reply(write_response((*results)[i].outcome));
    writes_.erase(it);
  }
  dispatch_applied(*batch, *results);
}

// A service's command (lease, ack, sweep, ...) was refused by Raft.
void Node::on_command_failed(const kvstate::Command& command, const net::Error& error) {
  queue_->on_propose_failed(command, error);
  expiry_->on_propose_failed(command);
}

// Every replica tells the services what applied; only the leader's have streams to feed.
void Node::dispatch_applied(const std::vector<kvstate::Command>& batch,
                            const std::vector<kvstate::CommandResult>& results) {
  for (size_t i = 0; i < batch.size() && i < results.size(); ++i) {
    watch_->on_applied(results[i]);
    queue_->on_applied(batch[i], results[i]);
    expiry_->on_applied(batch[i]);
  }
}

void Node::poll_services(std::chrono::steady_clock::time_point now) {
  queue_->poll(now);
  expiry_->poll(now);
  poll_membership(now);
}

void Node::on_read(kvmodel::SnapshotRead read, Reply reply) {
  auto now = std::chrono::steady_clock::now();
  auto pending = std::make_unique<PendingRead>(
      PendingRead{std::move(read), std::move(reply),
                  now + std::chrono::milliseconds(options_.read_timeout_ms), now});
  if (pending->read.consistency == kvmodel::Consistency::kEventual) {
    serve_read(*pending);
    return;
  }
#ifdef RAFTKV_TEST_HOOKS
  if (options_.test_hooks && options_.test_hooks->has(PlantedBug::kLocalReads)) {
    serve_read(*pending);  // planted bug: no ReadIndex, no leadership check
    return;
  }
#endif
  reads_unindexed_.push_back(std::move(pending));
}

// One ReadIndex round for every strong read that arrived since the last round.
void Node::request_read_index() {
  if (reads_unindexed_.empty()) return;
  std::string context = std::to_string(next_read_context_++);
  auto now = std::chrono::steady_clock::now();
  for (auto& r : reads_unindexed_) r->requested_at = now;
  auto& group = reads_awaiting_index_[context];
  for (auto& r : reads_unindexed_) group.push_back(std::move(r));
  reads_unindexed_.clear();
  raft_->read_index(context);
}

void Node::answer_reads() {
  while (!reads_awaiting_apply_.empty() && reads_awaiting_apply_.begin()->first <= applied_) {
    serve_read(*reads_awaiting_apply_.begin()->second);
    reads_awaiting_apply_.erase(reads_awaiting_apply_.begin());
  }
}

void Node::read_barrier(std::function<void()> confirmed, std::function<void(net::Error)> failed) {
  auto now = std::chrono::steady_clock::now();
  Reply on_error = [failed = std::move(failed)](net::ResponseBody body) {
    auto* error = std::get_if<net::Error>(&body);
    ENSURE(error != nullptr);  // a barrier is only ever answered with an error
    failed(std::move(*error));
  };
  reads_unindexed_.push_back(std::make_unique<PendingRead>(PendingRead{
      kvmodel::SnapshotRead{}, std::move(on_error),
      now + std::chrono::milliseconds(options_.read_timeout_ms), now, std::move(confirmed)}));
}

void Node::serve_read(PendingRead& pending) {
  if (pending.confirmed) {
    pending.confirmed();
    return;
  }
  auto result = state_.read(pending.read.ranges);
  if (!result.is_ok()) {
    pending.reply(net::Error::of(result.status()));
    return;
  }
  pending.reply(net::SnapshotReadResult{std::move(*result),
                                        pending.read.consistency == kvmodel::Consistency::kStrong});
}

// Requests whose deadline passed are answered; ReadIndex rounds that got no answer (the
// leader changed or the request was dropped) are retried with a fresh context.
void Node::expire_requests(std::chrono::steady_clock::time_point now) {
  for (auto it = writes_.begin(); it != writes_.end();) {
    if (it->second->deadline > now) {
      ++it;
      continue;
    }
    it->second->reply(net::Error{
        it->second->proposed ? base::Code::kUnknownOutcome : base::Code::kTimeout,
        fmt::format("no commit within {} ms; the write may still apply: retry it with the same "
                    "session to learn its outcome",
                    options_.write_timeout_ms),
        std::nullopt});
    it = writes_.erase(it);
  }
  queue_->expire_requests(now);
  expire_member_requests(now);
  const auto retry_after = std::chrono::milliseconds(options_.tick_ms * options_.election_ticks);
  for (auto it = reads_awaiting_index_.begin(); it != reads_awaiting_index_.end();) {
    auto& group = it->second;
    for (auto r = group.begin(); r != group.end();) {
      if ((*r)->deadline <= now) {
        (*r)->reply(net::Error{base::Code::kUnavailable,
                               "no leader confirmed this strong read in time; retry",
                               std::nullopt});
        r = group.erase(r);
      } else if ((*r)->requested_at + retry_after <= now) {
        reads_unindexed_.push_back(std::move(*r));
        r = group.erase(r);
      } else {
        ++r;
      }
    }
    it = group.empty() ? reads_awaiting_index_.erase(it) : std::next(it);
  }
}

// A proposal forwarded to (or made by) a leader that is gone may never be answered: tell its
// client at once that the outcome is unknown, so it retries with the same session (the state
// machine applies a session's write once) instead of waiting for a timeout. Strong reads whose
// ReadIndex round went to the old leader start a new round.
void Node::retry_after_leader_change() {
  for (auto it = writes_.begin(); it != writes_.end();) {
    if (!it->second->proposed) {
      ++it;
      continue;
    }
    it->second->reply(net::Error{base::Code::kUnknownOutcome,
                                 "the leader changed before this write was seen to commit; retry "
                                 "it with the same session to learn its outcome",
                                 std::nullopt});
    it = writes_.erase(it);
  }
  for (auto& [context, group] : reads_awaiting_index_)
    for (auto& r : group) reads_unindexed_.push_back(std::move(r));
  reads_awaiting_index_.clear();
}

void Node::fail_all_pending(const net::Error& error) {
  for (auto& [key, w] : writes_) {
    net::Error e = error;
    if (w->proposed) e.code = base::Code::kUnknownOutcome;
    w->reply(std::move(e));
  }
  writes_.clear();
  for (auto& r : reads_unindexed_) r->reply(error);
  reads_unindexed_.clear();
  for (auto& [ctx, group] : reads_awaiting_index_)
    for (auto& r : group) r->reply(error);
  reads_awaiting_index_.clear();
  for (auto& [index, r] : reads_awaiting_apply_) r->reply(error);
  reads_awaiting_apply_.clear();
}

net::Error Node::not_leader_error() const {
  net::Error error{base::Code::kNotLeader, "this node is not the leader and knows no leader yet",
                   std::nullopt};
  if (leader_id_ != raft::kNoNode) {
    error.message = fmt::format("not the leader; the leader is node {}", leader_id_);
    auto it = client_addrs_.find(leader_id_);
    error.leader_hint = net::LeaderHint{leader_id_, it == client_addrs_.end() ? "" : it->second};
  }
  return error;
}

}  // namespace node
