// Node lifecycle, the node thread's loop and the handling of Ready (contract: raft/raw_node.h).
#include "node/node.h"

#include <algorithm>
#include <chrono>
#include <future>

#include "base/log.h"
#include "kvstate/snapshot.h"
#include "node/member_context.h"
#include "node/snapshot_payload.h"
#include "wal/fault_env.h"
#include "wal/posix_env.h"
#ifdef RAFTKV_TEST_HOOKS
#include "node/test_hooks.h"
#include "wal/no_sync_env.h"
#include "wal/sync_journal.h"
#endif

namespace node {

using Clock = std::chrono::steady_clock;

uint64_t wall_clock_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// The node's wall clock: the real one, or in test builds the one --test-clock-file skews.
uint64_t wall_clock_ms(const NodeOptions& options) {
#ifdef RAFTKV_TEST_HOOKS
  if (options.test_hooks && options.test_hooks->clock)
    return options.test_hooks->clock->now_ms(wall_clock_ms());
#else
  (void)options;
#endif
  return wall_clock_ms();
}

#ifdef RAFTKV_TEST_HOOKS
namespace {
// --test-sync-journal and --plant-bug ack-before-fsync wrap the WAL's env; hooks owns them.
base::Result<wal::Env*> hooked_env(TestHooks& hooks, wal::Env* env, const std::string& dir,
                                   bool in_memory) {
  if (hooks.sync_journal && !in_memory) {
    auto journal = wal::SyncJournalEnv::open(dir);
    if (!journal.is_ok()) return journal.status();
    env = journal->get();
    hooks.envs.push_back(std::move(*journal));
  }
  if (hooks.has(PlantedBug::kAckBeforeFsync)) {
    hooks.envs.push_back(std::make_unique<wal::NoSyncEnv>(*env));
    env = hooks.envs.back().get();
    LOG(kWarn, "PLANTED BUG ack-before-fsync: the WAL never fsyncs");
  }
  return env;
}
}  // namespace
#endif

Node::Node(NodeOptions options, PeerTransport& transport)
    : options_(std::move(options)), transport_(transport) {}

Node::~Node() { stop(false); }

base::Result<std::unique_ptr<Node>> Node::open(NodeOptions options, PeerTransport& transport) {
  if (options.id == 0) return base::invalid_argument("--id must be a positive integer");
  if (!options.in_memory && options.data_dir.empty())
    return base::invalid_argument("--data-dir is required (or --in-memory)");
  if (!options.join && options.peers.count(options.id) == 0)
    return base::invalid_argument("--peers must list this node's own id {}", options.id);
  std::unique_ptr<Node> node(new Node(std::move(options), transport));
  RETURN_IF_ERROR(node->recover());
  return node;
}

// Until raft and the node can run an amnesiac node (no votes, no acknowledgements until the
// leader repaired it: issue 12), a node that may have lost what it fsynced refuses to start, as
// it did before wal/ could tell; the operator replaces it.
base::Status Node::open_log(wal::Env& env, const std::string& dir) {
  auto log = wal::Log::open(env, dir);
  if (!log.is_ok()) return log.status();
  log_ = std::move(*log);
  const auto& report = log_->recovery_report();
  const wal::StorageIdentity& identity = log_->identity();
  LOG(kInfo, "log recovered",
      "dir={} segments={} bytes={} torn_bytes_dropped={} first={} last={} storage_id={} "
      "possible_loss={}",
      base::log_quote(dir), report.segments, report.bytes_read, report.torn_bytes_dropped,
      log_->first_index(), log_->last_index(), identity.id().to_string(),
      wal::storage_loss_name(report.possible_loss));
  if (!identity.needs_repair()) return base::Status::ok();
  return base::Status(
      base::Code::kCorruption,
      fmt::format("the storage of node {} may have lost data it had fsynced ({}: {}); this build "
                  "cannot repair it from the leader yet: remove the node from the cluster (`kv "
                  "member remove {}`), empty {} and add it back with `kvd --join`",
                  options_.id, wal::storage_loss_name(identity.reason()), identity.message(),
                  options_.id, dir));
}

base::Status Node::recover() {
  uint64_t seed =
      options_.seed != 0 ? options_.seed : (options_.id * 0x9e3779b97f4a7c15ull) ^ wall_clock_ms();
  std::string dir = options_.data_dir;
  wal::Env* env = &wal::posix_env();
  if (options_.in_memory) {
    env_ = std::make_unique<wal::FaultEnv>(seed);
    env = env_.get();
    dir = "/in-memory/node";
  }
#ifdef RAFTKV_TEST_HOOKS
  if (options_.test_hooks) {
    auto hooked = hooked_env(*options_.test_hooks, env, dir, options_.in_memory);
    if (!hooked.is_ok()) return hooked.status();
    env = *hooked;
  }
#endif
  RETURN_IF_ERROR(open_log(*env, dir));

  peer_addrs_ = options_.peers;
  client_addrs_ = options_.client_addrs;
  if (!options_.client_addr.empty()) client_addrs_[options_.id] = options_.client_addr;
  raft::SnapshotMeta meta = log_->snapshot_meta();
  if (meta.index > 0) {
    auto data = log_->snapshots().read_latest();
    if (!data.is_ok()) return data.status();
    auto payload = decode_snapshot_payload(*data);
    if (!payload.is_ok()) return payload.status();
    RETURN_IF_ERROR(state_.load_snapshot(payload->state));
    for (const auto& [id, addr] : payload->peer_addrs) peer_addrs_[id] = addr;
    for (const auto& [id, addr] : payload->client_addrs)
      if (id != options_.id) client_addrs_[id] = addr;
    applied_ = last_snapshot_index_ = meta.index;
    LOG(kInfo, "snapshot loaded", "index={} term={} keys={}", meta.index, meta.term,
        state_.key_count());
  }
  for (const auto& [id, addr] : peer_addrs_)
    if (id != options_.id) transport_.set_peer(id, addr);

  raft::Config config;
  config.id = options_.id;
  config.election_ticks = options_.election_ticks;
  config.check_quorum = options_.check_quorum;
  config.heartbeat_ticks = options_.heartbeat_ticks;
  config.seed = seed;
  if (!options_.join)
    for (const auto& [id, addr] : options_.peers) config.initial_voters.push_back(id);
  raft_ = std::make_unique<raft::RawNode>(config, *log_);
  node_client_id_ = seed | 1;
  ServiceHost& host = *this;
  watch_ = std::make_unique<WatchHub>(host);
#ifdef RAFTKV_TEST_HOOKS
  if (options_.test_hooks)
    watch_->planted_stale_watch = options_.test_hooks->has(PlantedBug::kStaleWatch);
#endif
  queue_ = std::make_unique<QueueService>(host, seed,
                                          std::chrono::milliseconds(options_.write_timeout_ms));
  expiry_ = std::make_unique<ExpiryService>(host);
  return base::Status::ok();
}

void Node::start() {
  ENSURE(!thread_.joinable());
  thread_ = std::thread([this] { run(); });
}

void Node::stop(bool transfer_leadership) {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    if (!stop_requested_) {
      stop_requested_ = true;
      stop_with_transfer_ = transfer_leadership;
    }
  }
  wake_.notify_one();
  thread_.join();
}

void Node::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mutex_);
    inbox_.push_back(std::move(fn));
  }
  wake_.notify_one();
}

void Node::deliver(raft::Message message) {
  post([this, m = std::move(message)]() mutable { raft_->step(m); });
}

void Node::submit(net::RequestBody request, Reply reply, Origin origin) {
  post([this, r = std::move(request), rp = std::move(reply), origin]() mutable {
    if (net::opens_stream(r) || std::holds_alternative<net::Cancel>(r)) {
      on_stream_request(std::move(r), std::move(rp), origin);
    } else {
      on_request(std::move(r), std::move(rp));
    }
  });
}

void Node::close_connection(uint64_t connection) {
  post([this, connection] {
    watch_->close_connection(connection);
    queue_->close_connection(connection);
  });
}

uint64_t Node::now_ms() const { return std::max(wall_clock_ms(options_), state_.clock_ms()); }

net::NodeStatus Node::status() {
  auto promise = std::make_shared<std::promise<net::NodeStatus>>();
  auto future = promise->get_future();
  post([this, promise] { promise->set_value(local_status()); });
  if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) return {};
  return future.get();
}

// The loop: inputs, ticks, proposals, Ready. See the header comment.
void Node::run() {
  const auto tick = std::chrono::milliseconds(options_.tick_ms);
  auto next_tick = Clock::now() + tick;
  auto next_housekeeping = Clock::now();
  std::vector<std::function<void()>> inputs;
  bool campaign_alone_pending = true;
  while (true) {
    bool stop_now = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, next_tick, [&] { return !inbox_.empty() || stop_requested_; });
      inputs.swap(inbox_);
      if (stop_requested_) stop_now = begin_or_finish_stop();
    }
    if (stop_now) break;
    for (auto& fn : inputs) fn();
    inputs.clear();
    auto now = Clock::now();
    if (now >= next_tick) {
      raft_->tick();
      next_tick += tick;
      // After a long stall (a slow fsync, a paused process) do not replay missed ticks in a
      // burst: that would start elections for no reason.
      if (next_tick < now) next_tick = now + tick;
    }
    poll_services(now);
    propose_batch();
    request_read_index();
    while (raft_->has_ready()) handle_ready();
    if (campaign_alone_pending) campaign_alone_pending = !campaign_if_alone();
    answer_reads();
    watch_->flush();
    if (now >= next_housekeeping) {
      expire_requests(now);
      maybe_snapshot();
      next_housekeeping = now + std::chrono::milliseconds(50);
    }
  }
  net::Error stopping{base::Code::kUnavailable, "the node is shutting down; retry on another node",
                      std::nullopt};
  fail_all_pending(stopping);
  watch_->end_all(stopping);
  queue_->end_all(stopping);
  fail_member_requests(stopping);
  LOG(kInfo, "node stopped", "applied={}", applied_);
}

// A single-voter cluster (kvd --in-memory) need not wait an election timeout to lead. Raft
// refuses to campaign while a committed configuration change is unapplied (the bootstrap
// entries at startup), so this waits for that. Returns true when done (or not applicable).
bool Node::campaign_if_alone() {
  raft::NodeStatus st = raft_->status();
  if (st.applied < st.commit) return false;  // the configuration is not known yet
  if (st.conf.voters.size() != 1 || st.conf.voters[0] != options_.id) return true;
  if (st.role != raft::Role::kLeader) raft_->campaign();
  return true;
}

// Called with mutex_ held when a stop was requested. A leader asked to transfer first hands
// leadership to its most caught-up voter, then keeps running (bounded) until it is no longer
// leader. Returns true when the loop should exit now.
bool Node::begin_or_finish_stop() {
  if (!stop_with_transfer_) return true;
  auto now = Clock::now();
  if (!stop_transfer_started_) {
    stop_transfer_started_ = true;
    stop_deadline_ =
        now + std::chrono::milliseconds(options_.tick_ms * options_.election_ticks * 2);
    raft::NodeStatus st = raft_->status();
    if (st.role != raft::Role::kLeader) return true;
    raft::NodeId best = raft::kNoNode;
    raft::Index best_match = 0;
    for (const auto& p : st.progress) {
      if (p.id == options_.id || p.learner) continue;
      if (best == raft::kNoNode || p.match > best_match) {
        best = p.id;
        best_match = p.match;
      }
    }
    if (best == raft::kNoNode) return true;
    LOG(kInfo, "shutting down: transferring leadership", "to={}", best);
    inbox_.push_back([this, best] { raft_->transfer_leadership(best); });
    return false;
  }
  if (now >= stop_deadline_) return true;
  return raft_->status().role != raft::Role::kLeader;
}

namespace {
// wal/ returns kResourceExhausted on a full disk and leaves the log unchanged; the node cannot
// keep the Ready for a retry yet (issue 12's disk-full wiring), so a full disk still stops it.
void must_persist(const base::Status& status) {
  if (!status.is_ok()) FATAL("persisting a Ready failed: {}", status.to_string());
}
}  // namespace

void Node::handle_ready() {
  raft::Ready rd = raft_->ready();
  // A leader may send before its own write is durable (thesis §10.2.1): its entries count
  // toward the quorum only after advance(). Everyone else persists first, because votes and
  // append acknowledgements promise durability.
  const bool send_first = is_leader_;
  if (send_first)
    for (auto& m : rd.messages) transport_.send(std::move(m));
  if (rd.snapshot) must_persist(log_->install_snapshot(*rd.snapshot));
  if (!rd.entries.empty()) must_persist(log_->append(rd.entries));
  if (rd.hard_state) must_persist(log_->set_hard_state(*rd.hard_state));
  if (rd.must_sync) must_persist(log_->sync());
  if (!send_first)
    for (auto& m : rd.messages) transport_.send(std::move(m));
  if (rd.snapshot) install_snapshot(*rd.snapshot);
  for (const raft::Entry& entry : rd.committed_entries) {
    if (entry.index <= applied_) continue;  // covered by a snapshot
    if (entry.type == raft::EntryType::kNormal) apply_committed(entry);
    if (entry.type == raft::EntryType::kConfChange) apply_conf_change(entry);
    applied_ = entry.index;
  }
  for (const raft::ReadState& rs : rd.read_states) {
    auto it = reads_awaiting_index_.find(rs.context);
    if (it == reads_awaiting_index_.end()) continue;
    for (auto& read : it->second) reads_awaiting_apply_.emplace(rs.index, std::move(read));
    reads_awaiting_index_.erase(it);
  }
  raft_->advance(rd);
  answer_member_changes();
  update_role();
}

void Node::update_role() {
  raft::NodeStatus st = raft_->status();
  bool leader = st.role == raft::Role::kLeader;
  if (leader != is_leader_ || st.leader != leader_id_) {
    LOG(kInfo, "role changed", "role={} term={} leader={}", raft::role_name(st.role), st.term,
        st.leader);
  }
  if (leader && !is_leader_) {
    // Services start once this entry (our term's first, appended on election) has applied.
    leader_first_index_ = st.last_index;
  } else if (!leader && is_leader_) {
    leader_first_index_ = 0;
  }
  const bool lost_leadership = is_leader_ && !leader;
  const bool leader_changed = st.leader != leader_id_;
  is_leader_ = leader;
  leader_id_ = st.leader;
  if (leader_changed) retry_after_leader_change();
  if (lost_leadership) {
    // Clients reconnect to the new leader (the hint, when it is known already).
    watch_->end_all(not_leader_error());
    queue_->end_streams(not_leader_error());
    expiry_->reset();
  }
}

void Node::install_snapshot(const raft::Snapshot& snapshot) {
  auto payload = decode_snapshot_payload(*snapshot.data);
  // The snapshot's bytes were checksummed in transit and on disk; a payload that does not
  // decode here means a bug on the sender, and continuing would diverge from the cluster.
  ENSURE_MSG(payload.is_ok(), "snapshot at index {} does not decode: {}", snapshot.meta.index,
             payload.status().to_string());
  base::Status s = state_.load_snapshot(payload->state);
  ENSURE_MSG(s.is_ok(), "snapshot at index {} does not load: {}", snapshot.meta.index,
             s.to_string());
  for (const auto& [id, addr] : payload->peer_addrs) {
    peer_addrs_[id] = addr;
    if (id != options_.id) transport_.set_peer(id, addr);
  }
  for (const auto& [id, addr] : payload->client_addrs)
    if (id != options_.id) client_addrs_[id] = addr;
  applied_ = last_snapshot_index_ = snapshot.meta.index;
  LOG(kInfo, "snapshot installed", "index={} term={} keys={}", snapshot.meta.index,
      snapshot.meta.term, state_.key_count());
}

void Node::apply_conf_change(const raft::Entry& entry) {
  auto change = raft::ConfChange::decode(entry.data);
  if (!change.is_ok()) return;  // the core treats it as a no-op too
  for (auto& pending : member_changes_) {
    if (pending.reply && pending.change.type == change->type && pending.change.node == change->node)
      member_answers_.push_back(std::exchange(pending, PendingMemberChange{}));
  }
  std::erase_if(member_changes_, [](const PendingMemberChange& p) { return !p.reply; });
  if (change->type == raft::ConfChange::Type::kRemoveNode) {
    peer_addrs_.erase(change->node);
    client_addrs_.erase(change->node);
    if (change->node != options_.id) transport_.remove_peer(change->node);
    LOG(kInfo, "member removed", "id={}{}", change->node,
        change->node == options_.id ? " (this node; it no longer takes part)" : "");
    return;
  }
  learn_addresses(change->node, change->context);
  LOG(kInfo, "member added", "id={} context={} learner={}", change->node,
      base::log_quote(change->context), change->type == raft::ConfChange::Type::kAddLearner);
}

void Node::maybe_snapshot() {
  if (applied_ < last_snapshot_index_ + options_.snapshot_entries) return;
  raft::NodeStatus st = raft_->status();
  if (st.applied != applied_) return;
  raft::SnapshotMeta meta{applied_, log_->term(applied_), st.conf};
  auto writer = log_->snapshots().begin(meta);
  if (!writer.is_ok()) {
    LOG(kWarn, "snapshot skipped", "index={} reason={}", applied_,
        base::log_quote(writer.status().message()));
    return;
  }
  auto started = Clock::now();
  (*writer)->append(encode_snapshot_header(peer_addrs_, client_addrs_));
  state_.snapshot_view().write([&](base::BytesView chunk) { (*writer)->append(chunk); });
  base::Status s = (*writer)->finish();
  ENSURE_MSG(s.is_ok(), "snapshot write failed: {}", s.to_string());
  log_->compact(applied_);
  last_snapshot_index_ = applied_;
  LOG(kInfo, "snapshot taken", "index={} keys={} ms={}", applied_, state_.key_count(),
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
}

net::NodeStatus Node::local_status() const {
  raft::NodeStatus st = raft_->status();
  net::NodeStatus out;
  out.id = options_.id;
  out.role = st.role;
  for (raft::NodeId l : st.conf.learners)
    if (l == options_.id) out.learner = true;
  out.term = st.term;
  out.leader = st.leader;
  out.commit = st.commit;
  out.applied = applied_;
  out.last_index = st.last_index;
  out.log_bytes = log_bytes_estimate();
  out.last_snapshot_index = last_snapshot_index_;
  out.address = options_.client_addr;
  return out;
}

// The stored log's size: entries since the last compaction, read back from the log's index.
uint64_t Node::log_bytes_estimate() const {
  raft::Index first = log_->first_index(), last = log_->last_index();
  if (last < first) return 0;
  uint64_t bytes = 0;
  for (const raft::Entry& e : log_->entries(first, last + 1, UINT64_MAX))
    bytes += e.data.size() + 24;
  return bytes;
}

}  // namespace node
