#include "raft/interaction_env.h"

#include <fmt/format.h>

#include <sstream>

#include "base/check.h"
#include "raft/describe.h"
#include "raft/ready_driver.h"

namespace raft {
namespace {

uint64_t to_u64(const std::string& text) {
  size_t used = 0;
  const uint64_t value = std::stoull(text, &used);
  ENSURE_MSG(used == text.size(), "not a number: {}", text);
  return value;
}

// "key=value" -> (key, value); a bare word -> (word, "").
std::pair<std::string, std::string> split_option(const std::string& arg) {
  const auto eq = arg.find('=');
  if (eq == std::string::npos) return {arg, ""};
  return {arg.substr(0, eq), arg.substr(eq + 1)};
}

std::set<NodeId> id_list(const std::string& text) {
  std::set<NodeId> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.insert(to_u64(item));
  return out;
}

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

}  // namespace

std::string InteractionEnv::run(const std::string& command, const Args& args) {
  out_.clear();
  auto arg = [&](size_t i) -> const std::string& {
    ENSURE_MSG(i < args.size(), "{}: missing argument {}", command, i + 1);
    return args[i];
  };
  if (command == "add-nodes")
    add_nodes(args);
  else if (command == "campaign")
    live(arg(0)).campaign();
  else if (command == "propose") {
    auto status = live(arg(0)).propose(arg(1));
    if (!status.is_ok()) out_ += status.to_string() + "\n";
  } else if (command == "propose-conf-change")
    propose_conf_change(args);
  else if (command == "tick")
    tick(to_u64(arg(0)), args.size() > 1 ? static_cast<int>(to_u64(arg(1))) : 1);
  else if (command == "tick-heartbeat")
    tick(to_u64(arg(0)), node(arg(0)).config.heartbeat_ticks);
  else if (command == "tick-election")
    tick_election(to_u64(arg(0)));
  else if (command == "deliver-msgs")
    deliver(args);
  else if (command == "process-ready")
    for (const auto& a : args) process_ready(to_u64(a));
  else if (command == "stabilize")
    stabilize(args);
  else if (command == "partition") {
    partition_.clear();
    for (const auto& a : args) partition_.insert(to_u64(a));
  } else if (command == "heal")
    partition_.clear();
  else if (command == "status")
    for (const auto& a : args) status(to_u64(a));
  else if (command == "raft-log")
    raft_log(to_u64(arg(0)));
  else if (command == "read-index")
    live(arg(0)).read_index(arg(1));
  else if (command == "transfer-leadership")
    live(arg(0)).transfer_leadership(to_u64(arg(1)));
  else if (command == "crash")
    node(arg(0)).raw.reset();
  else if (command == "restart")
    restart(to_u64(arg(0)));
  else if (command == "compact")
    compact(to_u64(arg(0)), to_u64(arg(1)));
  else
    FATAL("unknown command {}", command);
  check_all_invariants();
  return out_.empty() ? "ok\n" : out_;
}

// add-nodes N [pre-vote=false] [check-quorum=false] [election=10] [heartbeat=1]
//           [inflight=256] [append-bytes=N] [join] [bug=NAME|N]
// The first nodes added form the initial cluster; `join` starts nodes with no configuration
// (to be added by a conf change).
void InteractionEnv::add_nodes(const Args& args) {
  Config base;
  bool join = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const auto [key, value] = split_option(args[i]);
    if (key == "pre-vote")
      base.pre_vote = value == "true";
    else if (key == "check-quorum")
      base.check_quorum = value == "true";
    else if (key == "election")
      base.election_ticks = static_cast<int>(to_u64(value));
    else if (key == "heartbeat")
      base.heartbeat_ticks = static_cast<int>(to_u64(value));
    else if (key == "inflight")
      base.max_inflight_appends = static_cast<int>(to_u64(value));
    else if (key == "append-bytes")
      base.max_append_bytes = to_u64(value);
    else if (key == "join")
      join = true;
#ifdef RAFTKV_TEST_HOOKS
    else if (key == "bug")
      base.planted_bug = parse_planted_bug(value).value();
#endif
    else
      FATAL("add-nodes: unknown option {}", args[i]);
  }
  const NodeId first = nodes_.size() + 1;
  const NodeId count = to_u64(args.at(0));
  if (!join) {
    for (NodeId id = first; id < first + count; ++id) base.initial_voters.push_back(id);
  }
  for (NodeId id = first; id < first + count; ++id) {
    ScriptNode& n = nodes_[id];
    n.config = base;
    n.config.id = id;
    n.storage = std::make_unique<MemoryStorage>();
    n.raw = std::make_unique<RawNode>(n.config, *n.storage);
  }
}

// A crash loses the node's unstable state and the messages on their way to it.
void InteractionEnv::crash(NodeId id) {
  nodes_.at(id).raw.reset();
  std::erase_if(in_flight_, [&](const Message& m) {
    if (m.to != id) return false;
    out_ += "  dropped: " + describe(m) + "\n";
    return true;
  });
}

void InteractionEnv::restart(NodeId id) {
  ScriptNode& n = nodes_.at(id);
  ENSURE_MSG(!n.raw, "restart {}: not crashed", id);
  n.raw = std::make_unique<RawNode>(n.config, *n.storage);
  // The toy state machine restarts from the snapshot and re-applies committed entries.
  n.applied.clear();
  const auto snapshot = n.storage->snapshot();
  std::stringstream in(*snapshot.data);
  for (std::string item; std::getline(in, item, ',');) n.applied.push_back(item);
}

namespace {

// The scripts' side of the Ready contract: MemoryStorage is the durable store, the list of
// messages in flight the network, ScriptNode::applied the state machine; each step is also
// printed. ReadyDriver calls it in the contract's order.
class ScriptIo final : public ReadyIo {
 public:
  ScriptIo(ScriptNode& node, std::vector<Message>& in_flight, std::string& out)
      : node_(node), in_flight_(in_flight), out_(out) {}

  base::Status persist_snapshot(const Snapshot& snapshot) override {
    ENSURE(node_.storage->apply_snapshot(snapshot).is_ok());
    return base::Status::ok();
  }
  base::Status persist_entries(const std::vector<Entry>& entries) override {
    node_.storage->append(entries);
    return base::Status::ok();
  }
  base::Status persist_hard_state(const HardState& hard_state) override {
    node_.storage->set_hard_state(hard_state);
    return base::Status::ok();
  }
  base::Status sync() override { return base::Status::ok(); }
  void send(Message m) override {
    if (!sent_any_) out_ += "  Messages:\n";
    sent_any_ = true;
    out_ += "    " + describe(m) + "\n";
    in_flight_.push_back(std::move(m));
  }
  void apply_snapshot(const Snapshot& snapshot) override {
    node_.applied.clear();
    std::stringstream in(*snapshot.data);
    for (std::string item; std::getline(in, item, ',');) node_.applied.push_back(item);
  }
  void apply_entry(const Entry& e) override {
    if (!applied_any_) out_ += "  CommittedEntries:\n";
    applied_any_ = true;
    out_ += "    " + describe(e) + "\n";
    if (e.type == EntryType::kNormal) node_.applied.push_back(e.data);
  }
  void deliver_read_states(std::vector<ReadState> read_states) override {
    for (const ReadState& rs : read_states) {
      out_ += fmt::format("  ReadState index={} context=\"{}\"\n", rs.index, rs.context);
    }
  }

 private:
  ScriptNode& node_;
  std::vector<Message>& in_flight_;
  std::string& out_;
  bool sent_any_ = false;
  bool applied_any_ = false;
};

}  // namespace

// Handles one Ready through ReadyDriver (no early sends: the transcript shows the contract's
// order) and prints it.
void InteractionEnv::process_ready(NodeId id) {
  ScriptNode& n = nodes_.at(id);
  if (!n.raw || !n.raw->has_ready()) return;
  ScriptIo io(n, in_flight_, out_);
  ReadyDriver driver(*n.raw, io, /*leader_sends_early=*/false);
  driver.take();
  const Ready& rd = *driver.ready_in_hand();
  out_ += fmt::format("> {} handling Ready\n", id);
  if (rd.snapshot) {
    out_ += fmt::format("  Snapshot {}/{} {}\n", rd.snapshot->meta.term, rd.snapshot->meta.index,
                        describe(rd.snapshot->meta.conf));
  }
  if (rd.hard_state) out_ += "  HardState " + describe(*rd.hard_state) + "\n";
  if (!rd.entries.empty()) out_ += "  Entries:\n";
  for (const Entry& e : rd.entries) out_ += "    " + describe(e) + "\n";
  ENSURE(driver.finish().is_ok());
}

bool InteractionEnv::cut(NodeId from, NodeId to) const {
  return !partition_.empty() && partition_.contains(from) != partition_.contains(to);
}

// deliver-msgs [ID...] [drop=ID,...]: delivers the messages in flight to the given nodes
// (all by default); messages to nodes in drop=, to crashed nodes or across a partition are
// lost.
void InteractionEnv::deliver(const Args& args) {
  std::set<NodeId> targets;
  std::set<NodeId> drop;
  for (const auto& a : args) {
    const auto [key, value] = split_option(a);
    if (key == "drop")
      drop = id_list(value);
    else
      targets.insert(to_u64(a));
  }
  deliver_to(targets, drop);
}

bool InteractionEnv::deliver_to(const std::set<NodeId>& targets, const std::set<NodeId>& drop) {
  std::vector<Message> now;
  std::vector<Message> later;
  for (Message& m : in_flight_) {
    const bool chosen = targets.empty() || targets.contains(m.to) || drop.contains(m.to);
    (chosen ? now : later).push_back(std::move(m));
  }
  in_flight_ = std::move(later);
  for (const Message& m : now) {
    ScriptNode& n = nodes_.at(m.to);
    if (drop.contains(m.to) || cut(m.from, m.to) || !n.raw) {
      out_ += "  dropped: " + describe(m) + "\n";
      continue;
    }
    out_ += describe(m) + "\n";
    n.raw->step(m);
    n.raw->check_invariants();
  }
  return !now.empty();
}

// stabilize [ID...]: handles Readys and delivers messages among the given nodes (all by
// default) until nothing is left to do.
void InteractionEnv::stabilize(const Args& args) {
  std::set<NodeId> ids;
  for (const auto& a : args) ids.insert(to_u64(a));
  if (ids.empty()) {
    for (const auto& [id, n] : nodes_) ids.insert(id);
  }
  for (int round = 0;; ++round) {
    ENSURE_MSG(round < 1000, "stabilize does not converge");
    bool busy = false;
    for (NodeId id : ids) {
      ScriptNode& n = nodes_.at(id);
      if (n.raw && n.raw->has_ready()) {
        process_ready(id);
        busy = true;
      }
    }
    for (NodeId id : ids) busy = deliver_to({id}, {}) || busy;
    if (!busy) return;
  }
}

void InteractionEnv::tick(NodeId id, int ticks) {
  RawNode& raw = live(std::to_string(id));
  for (int i = 0; i < ticks; ++i) {
    raw.tick();
    raw.check_invariants();
  }
}

// Ticks until the node's election timer fires: a follower or candidate campaigns (its role
// or term changes, or it has something to send), a leader without a live quorum steps down
// (CheckQuorum). At most 2x election_ticks ticks.
void InteractionEnv::tick_election(NodeId id) {
  RawNode& raw = live(std::to_string(id));
  const NodeStatus before = raw.status();
  const int election_ticks = nodes_.at(id).config.election_ticks;
  for (int i = 0; i < 2 * election_ticks; ++i) {
    raw.tick();
    raw.check_invariants();
    const NodeStatus now = raw.status();
    if (now.role != before.role || now.term != before.term) return;
    if (before.role != Role::kLeader && raw.has_ready()) return;
  }
}

void InteractionEnv::status(NodeId id) {
  const ScriptNode& n = nodes_.at(id);
  if (!n.raw) {
    out_ += fmt::format("{}: crashed\n", id);
    return;
  }
  const NodeStatus st = n.raw->status();
  out_ += fmt::format("{}: {} term={} leader={} vote={} commit={} applied={} last={} {}\n", id,
                      role_name(st.role), st.term, st.leader, st.vote, st.commit, st.applied,
                      st.last_index, describe(st.conf));
  for (const ProgressStatus& p : st.progress) {
    out_ += fmt::format("  {}: match={} next={} {}{}\n", p.id, p.match, p.next, p.state,
                        p.learner ? " learner" : "");
  }
  out_ += "  applied: [" + join(n.applied, " ") + "]\n";
}

void InteractionEnv::raft_log(NodeId id) {
  const MemoryStorage& storage = *nodes_.at(id).storage;
  const SnapshotMeta meta = storage.snapshot_meta();
  if (meta.index > 0) {
    out_ += fmt::format("snapshot {}/{} {}\n", meta.term, meta.index, describe(meta.conf));
  }
  if (storage.last_index() < storage.first_index()) {
    out_ += "log is empty\n";
    return;
  }
  for (const Entry& e :
       storage.entries(storage.first_index(), storage.last_index() + 1, UINT64_MAX)) {
    out_ += describe(e) + "\n";
  }
}

// compact ID INDEX: snapshots the toy state machine at the applied index, then discards
// the log up to INDEX (which must not exceed the applied index).
void InteractionEnv::compact(NodeId id, Index index) {
  ScriptNode& n = nodes_.at(id);
  const NodeStatus st = live(std::to_string(id)).status();
  ENSURE_MSG(index <= st.applied, "compact {} {}: applied is only {}", id, index, st.applied);
  auto data = std::make_shared<const std::string>(join(n.applied, ","));
  if (n.storage->snapshot_meta().index < st.applied) {
    ENSURE(n.storage->create_snapshot(st.applied, st.conf, data).is_ok());
  }
  const auto compacted = n.storage->compact(index);
  if (!compacted.is_ok()) out_ += compacted.to_string() + "\n";
}

void InteractionEnv::propose_conf_change(const Args& args) {
  ENSURE_MSG(args.size() == 3, "propose-conf-change ID add|add-learner|remove NODE");
  ConfChange change{.node = to_u64(args[2])};
  if (args[1] == "add")
    change.type = ConfChange::Type::kAddVoter;
  else if (args[1] == "add-learner")
    change.type = ConfChange::Type::kAddLearner;
  else if (args[1] == "remove")
    change.type = ConfChange::Type::kRemoveNode;
  else
    FATAL("unknown conf change {}", args[1]);
  auto status = live(args[0]).propose_conf_change(change);
  if (!status.is_ok()) out_ += status.to_string() + "\n";
}

void InteractionEnv::check_all_invariants() const {
  for (const auto& [id, n] : nodes_) {
    if (n.raw) n.raw->check_invariants();
  }
}

ScriptNode& InteractionEnv::node(const std::string& arg) {
  auto it = nodes_.find(to_u64(arg));
  ENSURE_MSG(it != nodes_.end(), "no node {}", arg);
  return it->second;
}

RawNode& InteractionEnv::live(const std::string& arg) {
  ScriptNode& n = node(arg);
  ENSURE_MSG(n.raw != nullptr, "node {} is crashed", arg);
  return *n.raw;
}

}  // namespace raft
