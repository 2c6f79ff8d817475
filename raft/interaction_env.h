// The environment behind the data-driven scripts in testdata/ (etcd's interaction_test):
// a handful of RawNodes with MemoryStorage, a list of messages in flight, partitions, and a
// toy state machine (the list of applied data). Each command returns its transcript.
// Test-only code: it asserts (ENSURE) on script mistakes it cannot report as output.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raft/memory_storage.h"
#include "raft/raw_node.h"

namespace raft {

struct ScriptNode {
  Config config;
  std::unique_ptr<MemoryStorage> storage;  // survives crash/restart: the durable state
  std::unique_ptr<RawNode> raw;            // null while crashed
  std::vector<std::string> applied;        // the toy state machine
};

class InteractionEnv {
 public:
  // Runs one command ("propose 1 x") and returns its output ("ok" when silent).
  std::string run(const std::string& command, const std::vector<std::string>& args);

 private:
  using Args = std::vector<std::string>;
  void add_nodes(const Args& args);
  void process_ready(NodeId id);
  void deliver(const Args& args);
  bool deliver_to(const std::set<NodeId>& targets, const std::set<NodeId>& drop);
  void stabilize(const Args& args);
  void tick(NodeId id, int ticks);
  void tick_election(NodeId id);
  void status(NodeId id);
  void raft_log(NodeId id);
  void compact(NodeId id, Index index);
  void crash(NodeId id);
  void restart(NodeId id);
  void propose_conf_change(const Args& args);
  void check_all_invariants() const;
  ScriptNode& node(const std::string& arg);
  RawNode& live(const std::string& arg);
  bool cut(NodeId from, NodeId to) const;

  std::map<NodeId, ScriptNode> nodes_;
  std::vector<Message> in_flight_;
  std::set<NodeId> partition_;  // when non-empty, messages between it and the rest are lost
  std::string out_;
};

}  // namespace raft
