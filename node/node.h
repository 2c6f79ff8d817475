// Node: one raftkv replica. It owns the Raft core (raft::RawNode), the durable log
// (wal::Log), and the state machine (kvstate::StateMachine), and drives them from ONE thread,
// the node thread, in the loop described in docs/architecture.md:
//
//   wait for input or the next tick -> run queued inputs (peer messages, client requests)
//   -> tick -> propose the batch of writes gathered meanwhile (group commit: one entry, one
//   fsync for all of them) -> handle every Ready exactly as raft/raw_node.h orders it
//   (persist + fsync, send, apply, answer reads) -> answer clients whose entries applied.
//
// On the leader the loop also runs the services (watch_hub.h, queue_service.h,
// expiry_service.h, and membership in node_membership.cc); each acts only by proposing entries.
//
// Thread-safety: deliver(), submit() and close_connection() may be called from any thread; they
// only enqueue. Replies and stream pushes are invoked on the node thread and must not block
// (net posts them to the connection's executor). PeerTransport::send is called on the node
// thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/status.h"
#include "kvstate/state_machine.h"
#include "net/client_types.h"
#include "node/expiry_service.h"
#include "node/options.h"
#include "node/queue_service.h"
#include "node/service_host.h"
#include "node/stream.h"
#include "node/watch_hub.h"
#include "raft/raw_node.h"
#include "wal/env.h"
#include "wal/log.h"

namespace node {

// Where Raft messages go. kvd implements it over net::PeerLinks; tests route in memory.
class PeerTransport {
 public:
  virtual ~PeerTransport() = default;
  // Never blocks; a message to an unreachable peer is dropped (Raft retries).
  virtual void send(raft::Message message) = 0;
  // Membership changed: (re)configure the link to `id`, or forget it.
  virtual void set_peer(raft::NodeId id, const std::string& peer_addr) = 0;
  virtual void remove_peer(raft::NodeId id) = 0;
};

class Node final : private ServiceHost {
 public:
  // Recovers the log and the latest snapshot from options.data_dir (or starts in memory).
  static base::Result<std::unique_ptr<Node>> open(NodeOptions options, PeerTransport& transport);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  void start();
  // Stops the node thread. With transfer_leadership, a leader first hands leadership to the
  // most caught-up voter and waits (bounded) for it to take over, so clients see no election
  // timeout. Pending requests are answered kUnavailable.
  void stop(bool transfer_leadership);

  void deliver(raft::Message message);
  // A client request. Streams (Watch, QueueListen) are named by `origin`: a later
  // Cancel{stream_id = origin.request_id} with the same origin.connection ends them with
  // StreamEnd (the Cancel itself is answered Ok, or NotFound when no such stream is open).
  void submit(net::RequestBody request, Reply reply, Origin origin = {});
  // The client connection closed: its streams end without a final reply.
  void close_connection(uint64_t connection);

  // A snapshot of the node's state for `kv status` and tests; blocks until the node thread
  // answers (or returns a default status when the node is stopped).
  net::NodeStatus status();
  raft::NodeId id() const { return options_.id; }

 private:
  struct PendingWrite {
    Reply reply;
    std::chrono::steady_clock::time_point deadline;
    bool proposed = false;  // once proposed, a timeout means "unknown outcome", not "failed"
  };
  struct PendingRead {
    kvmodel::SnapshotRead read;
    Reply reply;
    std::chrono::steady_clock::time_point deadline;
    std::chrono::steady_clock::time_point requested_at;  // of its current ReadIndex round
    // Set for a read barrier (ServiceHost::read_barrier): called instead of reading.
    std::function<void()> confirmed;
  };
  struct PendingMemberChange {
    raft::ConfChange change;
    Reply reply;
    std::chrono::steady_clock::time_point deadline;
  };
  struct PendingTransfer {
    raft::NodeId to = raft::kNoNode;
    Reply reply;
    std::chrono::steady_clock::time_point deadline;
  };

  explicit Node(NodeOptions options, PeerTransport& transport);

  // ServiceHost (for the services; node thread).
  const kvstate::StateMachine& state() const override { return state_; }
  raft::Index applied_index() const override { return applied_; }
  bool is_leader() const override { return is_leader_; }
  bool serving_as_leader() const override {
    return is_leader_ && leader_first_index_ != 0 && applied_ >= leader_first_index_;
  }
  void propose_command(kvstate::Command command) override { batch_.push_back(std::move(command)); }
  net::Error not_leader_error() const override;
  void read_barrier(std::function<void()> confirmed,
                    std::function<void(net::Error)> failed) override;
  uint64_t now_ms() const override;

  base::Status recover();
  base::Status open_log(wal::Env& env, const std::string& dir);
  void run();
  void post(std::function<void()> fn);
  void run_inbox();
  void on_request(net::RequestBody request, Reply reply);
  void on_write(kvmodel::AtomicWrite write, Reply reply);
  void on_read(kvmodel::SnapshotRead read, Reply reply);
  void on_stream_request(net::RequestBody request, Reply reply, Origin origin);
  void on_command_failed(const kvstate::Command& command, const net::Error& error);
  void dispatch_applied(const std::vector<kvstate::Command>& batch,
                        const std::vector<kvstate::CommandResult>& results);
  void poll_services(std::chrono::steady_clock::time_point now);

  // Membership and leadership (node_membership.cc).
  void on_member_request(const net::RequestBody& request, Reply reply);
  void propose_member_change(raft::ConfChange change, Reply reply);
  void start_transfer(raft::NodeId to, Reply reply);
  net::MemberListResult member_list() const;
  void learn_addresses(raft::NodeId id, const std::string& context);
  void answer_member_changes();
  void await_promotion(raft::NodeId id, Reply reply);  // answer once `id` is a voter
  std::string not_promoted_message(raft::NodeId id) const;
  void poll_membership(std::chrono::steady_clock::time_point now);
  void expire_member_requests(std::chrono::steady_clock::time_point now);
  void fail_member_requests(const net::Error& error);
  void propose_batch();
  void request_read_index();
  bool begin_or_finish_stop();
  bool campaign_if_alone();
  void handle_ready();
  void update_role();
  void install_snapshot(const raft::Snapshot& snapshot);
  void apply_committed(const raft::Entry& entry);
  void apply_conf_change(const raft::Entry& entry);
  void answer_reads();
  void serve_read(PendingRead& read);
  void expire_requests(std::chrono::steady_clock::time_point now);
  void maybe_snapshot();
  void fail_all_pending(const net::Error& error);
  void retry_after_leader_change();
  net::NodeStatus local_status() const;
  uint64_t log_bytes_estimate() const;

  NodeOptions options_;
  PeerTransport& transport_;
  std::unique_ptr<wal::Env> env_;
  std::unique_ptr<wal::Log> log_;
  std::unique_ptr<raft::RawNode> raft_;
  kvstate::StateMachine state_;
  raft::Index applied_ = 0;
  raft::Index last_snapshot_index_ = 0;
  std::map<raft::NodeId, std::string> peer_addrs_;    // every known member's peer address
  std::map<raft::NodeId, std::string> client_addrs_;  // known client addresses (leader hints)

  // Inputs from other threads.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::function<void()>> inbox_;
  bool stop_requested_ = false;
  bool stop_with_transfer_ = false;
  std::thread thread_;

  // Node-thread state: shutdown.
  bool stop_transfer_started_ = false;
  std::chrono::steady_clock::time_point stop_deadline_;
  bool is_leader_ = false;
  raft::NodeId leader_id_ = raft::kNoNode;
  raft::Index leader_first_index_ = 0;  // the first entry of our term as leader; 0 = not leader

  // Node-thread state.
  uint64_t node_client_id_ = 0;  // session id for writes that arrive without one
  uint64_t node_sequence_ = 0;
  std::vector<kvstate::Command> batch_;  // writes waiting for the next proposal
  std::map<std::pair<uint64_t, uint64_t>, std::unique_ptr<PendingWrite>> writes_;
  std::vector<std::unique_ptr<PendingRead>> reads_unindexed_;
  std::map<std::string, std::vector<std::unique_ptr<PendingRead>>> reads_awaiting_index_;
  std::multimap<raft::Index, std::unique_ptr<PendingRead>> reads_awaiting_apply_;
  uint64_t next_read_context_ = 1;

  // Node-thread state: the leader's services and membership requests.
  std::unique_ptr<WatchHub> watch_;
  std::unique_ptr<QueueService> queue_;
  std::unique_ptr<ExpiryService> expiry_;
  std::vector<PendingMemberChange> member_changes_;  // proposed, answered once applied
  std::vector<PendingMemberChange> member_answers_;  // applied, answered after advance()
  std::optional<PendingTransfer> transfer_;
  std::chrono::steady_clock::time_point next_promotion_attempt_{};
};

}  // namespace node
