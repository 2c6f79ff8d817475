// The step loop and the two phases of a simulated run (see cluster.h and simulation.h).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <stdexcept>

#include "base/check.h"
#include "raft/sim/cluster.h"

namespace raft::sim {
namespace {

enum Event : uint64_t {
  kEvDeliver = 40,
  kEvTick,
  kEvRestart,
  kEvLiveness,
};

// Thrown by the fatal hook: an ENSURE failed inside the core (or the driver) during a run.
class AssertionFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_assertion(std::string_view message, const char* file, int line) {
  throw AssertionFailure(fmt::format("{} ({}:{})", message, file, line));
}

const char* message_type_name(MessageType type) {
  static constexpr const char* kNames[] = {"Append",       "AppendResponse",    "Vote",
                                           "VoteResponse", "PreVote",           "PreVoteResponse",
                                           "Snapshot",     "Heartbeat",         "HeartbeatResponse",
                                           "ReadIndex",    "ReadIndexResponse", "TimeoutNow",
                                           "Propose",      "TransferLeader"};
  const auto i = static_cast<size_t>(type);
  return i < std::size(kNames) ? kNames[i] : "?";
}

}  // namespace

Cluster::Cluster(const SimOptions& options)
    : options_(options), rng_(options.seed), trace_(options.keep_trace) {}

Cluster::~Cluster() = default;

std::string Cluster::describe(const Message& m) const {
  return fmt::format(
      "{}->{} {} t{} idx{} lt{} commit{} entries{}{}{}{}", m.from, m.to, message_type_name(m.type),
      m.term, m.index, m.log_term, m.commit, m.entries.size(),
      m.reject ? fmt::format(" REJECT hint {}/t{}", m.reject_hint, m.reject_hint_term) : "",
      m.snapshot ? fmt::format(" snapshot@{}", m.snapshot->meta.index) : "",
      m.context.empty() ? "" : " context " + m.context);
}

void Cluster::run() {
  try {
    profile_ = draw_profile(rng_);
    network_.set_faults(profile_.network);
    for (int i = 1; i <= options_.nodes; ++i) initial_voters_.push_back(static_cast<NodeId>(i));
    next_node_id_ = static_cast<NodeId>(options_.nodes) + 1;
    for (NodeId id : initial_voters_) add_node(id, true);
    for (now_step_ = 0; now_step_ < options_.steps && !checker_.failed(); ++now_step_) {
      step_once(true);
    }
    if (!checker_.failed()) run_liveness();
  } catch (const AssertionFailure& e) {
    checker_.on_core_assertion(e.what());
  } catch (const std::exception& e) {
    checker_.on_core_assertion(std::string("exception: ") + e.what());
  }
  if (checker_.failed() || liveness_failure_) failed_at_step_ = now_step_;
}

void Cluster::step_once(bool chaos) {
  if (chaos) {
    inject_faults();
    client_operation();
  }
  for (auto& [id, node] : nodes_) {
    if (!node->up() && !node->retired && node->restart_due_step <= now_step_) {
      ++coverage_.restarts;
      start(*node);
    }
    if (node->retire_due_step && *node->retire_due_step <= now_step_) retire(*node);
  }
  if (transfer_ && now_step_ > transfer_->deadline_step) transfer_.reset();
  deliver_messages();
  tick_nodes();
  if (profile_.ready_after_batches) take_batched_readys();
  finish_due_ready();
}

void Cluster::deliver_messages() {
  std::vector<Message> due = network_.take_due(now_step_, rng_, [this](NodeId to) {
    SimNode* n = find(to);
    if (n == nullptr || !n->up()) return Receiver::kDown;
    return n->takes_inputs() ? Receiver::kReady : Receiver::kBusy;
  });
  for (Message& m : due) {
    SimNode* n = find(m.to);
    if (!n->takes_inputs()) {  // busy since an earlier message of this batch: try next step
      network_.hold(std::move(m), now_step_ + 1);
      continue;
    }
    trace({kEvDeliver, m.from, m.to, static_cast<uint64_t>(m.type), m.term, m.index},
          [&] { return "deliver " + describe(m); });
    step_node(*n, m);
  }
}

void Cluster::tick_nodes() {
  for (auto& [id, node] : nodes_) {
    if (!node->takes_inputs() || !rng_.chance(profile_.tick_per_mille, 1000)) continue;
    trace({kEvTick, id}, [] { return std::string(); });
    node->raft->tick();
    after_input(*node);
  }
}

void Cluster::finish_due_ready() {
  for (auto& [id, node] : nodes_) {
    if (node->in_hand() && node->persist_due_step <= now_step_) finish_ready(*node);
  }
}

NodeId Cluster::current_leader() const {
  NodeId best = kNoNode;
  Term best_term = 0;
  for (const auto& [id, node] : nodes_) {
    if (!node->up()) continue;
    const NodeStatus st = node->raft->status();
    if (st.role == Role::kLeader && st.term >= best_term) {
      best = id;
      best_term = st.term;
    }
  }
  return best;
}

void Cluster::heal_everything() {
  network_.heal_all();
  partition_heal_step_.reset();
  NetworkFaults calm;
  calm.delay_min_steps = 1;
  calm.delay_max_steps = std::min<uint64_t>(profile_.network.delay_max_steps, 3);
  network_.set_faults(calm);
  profile_.persist_delay_per_mille = 0;
  for (auto& [id, node] : nodes_) {
    node->disk_full_until_step = 0;
    if (!node->up() && !node->retired) {
      ++coverage_.restarts;
      start(*node);
    }
  }
  pending_proposals_.emplace("final", now_step_);
}

// Also: every member whose storage lost state has been repaired by the leader (no leader
// change is needed for that, raw_node.h "Amnesia").
bool Cluster::liveness_reached() {
  if (!pending_proposals_.empty()) return false;
  const SimNode* leader = find(current_leader());
  if (leader == nullptr) return false;
  const ConfState conf = leader->raft->status().conf;
  for (const auto& [id, node] : nodes_) {
    const bool member = std::binary_search(conf.voters.begin(), conf.voters.end(), id) ||
                        std::binary_search(conf.learners.begin(), conf.learners.end(), id);
    if (member && node->up() && node->amnesiac) return false;
  }
  return true;
}

void Cluster::run_liveness() {
  trace({kEvLiveness}, [] { return std::string("liveness phase: faults stop, all nodes up"); });
  heal_everything();
  const uint64_t steps_per_tick = 1000 / std::max<uint32_t>(profile_.tick_per_mille, 1) + 1;
  const uint64_t end_step = now_step_ + options_.liveness_ticks * steps_per_tick;
  for (; now_step_ < end_step && !checker_.failed(); ++now_step_) {
    if (liveness_reached()) return;
    step_once(false);
    if (now_step_ % (4 * steps_per_tick) != 0) continue;
    // Clients retry what is still pending once the leader has committed and applied all it
    // holds: a payload still missing then was lost (not merely slow), so a retry adds no
    // duplicate that would slow the catch-up further.
    SimNode* leader = find(current_leader());
    if (leader == nullptr || !leader->takes_inputs()) continue;
    const NodeStatus st = leader->raft->status();
    if (st.commit != st.last_index || st.applied != st.commit) continue;
    for (const auto& [payload, since] : pending_proposals_) {
      if (!leader->takes_inputs() || leader->raft->role() != Role::kLeader) break;
      (void)leader->raft->propose(payload);
      after_input(*leader);
    }
  }
  if (checker_.failed() || liveness_reached()) return;
  const NodeId leader = current_leader();
  std::string nodes;
  for (const auto& [id, node] : nodes_) {
    if (!node->up()) continue;
    const NodeStatus st = node->raft->status();
    nodes += fmt::format("; node {} {} t{} commit {} last {} voters {}{}", id, role_name(st.role),
                         st.term, st.commit, st.last_index, fmt::join(st.conf.voters, ","),
                         st.amnesiac ? " amnesiac" : "");
  }
  liveness_failure_ = Violation{
      "liveness",
      fmt::format("{} ticks after healing: leader {}, {} proposals still pending (first: {}){}",
                  options_.liveness_ticks, leader == kNoNode ? "none" : std::to_string(leader),
                  pending_proposals_.size(),
                  pending_proposals_.empty() ? "-" : pending_proposals_.begin()->first, nodes)};
}

SeedResult Cluster::result() const {
  SeedResult r;
  r.seed = options_.seed;
  r.violation = checker_.violation() ? checker_.violation() : liveness_failure_;
  r.failed_at_step = failed_at_step_;
  r.steps_run = now_step_;
  r.trace_hash = trace_.hash();
  r.trace_events = trace_.events();
  r.profile = profile_.describe();
  r.coverage = coverage_;
  const NetworkCounters& n = network_.counters();
  r.coverage.messages_sent = n.sent;
  r.coverage.messages_dropped = n.dropped;
  r.coverage.messages_duplicated = n.duplicated;
  r.coverage.messages_cut = n.cut;
  r.trace = trace_.lines();
  return r;
}

SeedResult run_seed(const SimOptions& options) {
  const base::FatalHook previous = base::set_fatal_hook(&throw_assertion);
  SeedResult r;
  {
    Cluster cluster(options);
    cluster.run();
    r = cluster.result();
  }
  base::set_fatal_hook(previous);
  return r;
}

}  // namespace raft::sim
