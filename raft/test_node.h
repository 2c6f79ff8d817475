// Test helpers for raft/'s unit tests: a node with MemoryStorage driven through ReadyDriver,
// whose I/O records every call in order and can fail on request. Test-only code.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "raft/memory_storage.h"
#include "raft/ready_driver.h"

namespace raft::test {

// Persists into MemoryStorage, records every call in order, fails on request.
class RecordingIo final : public ReadyIo {
 public:
  explicit RecordingIo(MemoryStorage& storage) : storage_(storage) {}

  int fail_entries = 0;     // that many persist_entries calls fail (kResourceExhausted)
  int fail_hard_state = 0;  // likewise persist_hard_state
  std::vector<std::string> calls;
  std::vector<Message> sent;

  base::Status persist_snapshot(const Snapshot& snapshot) override {
    calls.push_back("snapshot");
    return storage_.apply_snapshot(snapshot);
  }
  base::Status persist_entries(const std::vector<Entry>& entries) override {
    if (fail_entries > 0 && fail_entries-- > 0) return disk_full("entries");
    calls.push_back("entries");
    storage_.append(entries);
    return base::Status::ok();
  }
  base::Status persist_hard_state(const HardState& hard_state) override {
    if (fail_hard_state > 0 && fail_hard_state-- > 0) return disk_full("hard state");
    calls.push_back("hard state");
    storage_.set_hard_state(hard_state);
    return base::Status::ok();
  }
  base::Status sync() override {
    calls.push_back("sync");
    return base::Status::ok();
  }
  void send(Message m) override {
    calls.push_back("send " + type_name(m));
    sent.push_back(std::move(m));
  }
  void apply_snapshot(const Snapshot&) override { calls.push_back("apply snapshot"); }
  void apply_entry(const Entry& e) override { calls.push_back("apply " + std::to_string(e.index)); }
  void deliver_read_states(std::vector<ReadState> read_states) override {
    calls.push_back("reads " + std::to_string(read_states.size()));
  }

  // The position of the first call starting with `prefix` (calls.size() when none).
  size_t first(const std::string& prefix) const {
    for (size_t i = 0; i < calls.size(); ++i) {
      if (calls[i].rfind(prefix, 0) == 0) return i;
    }
    return calls.size();
  }

 private:
  static base::Status disk_full(const char* what) {
    return base::Status(base::Code::kResourceExhausted, std::string("disk full writing ") + what);
  }
  static std::string type_name(const Message& m) {
    if (m.type == MessageType::kAppend) return "append";
    if (m.type == MessageType::kAppendResponse) return m.reject ? "append reject" : "append ack";
    if (m.type == MessageType::kVoteResponse) return m.reject ? "vote reject" : "vote grant";
    return "other";
  }

  MemoryStorage& storage_;
};

// One node with its storage, io and driver, fresh or restarted on the same storage.
struct TestNode {
  MemoryStorage storage;
  Config config;
  std::unique_ptr<RawNode> raw;
  RecordingIo io{storage};
  std::unique_ptr<ReadyDriver> driver;

  TestNode(const TestNode&) = delete;  // io and driver refer to the members
  TestNode& operator=(const TestNode&) = delete;
  TestNode(NodeId id, std::vector<NodeId> voters, bool leader_sends_early = true) {
    config.id = id;
    config.initial_voters = std::move(voters);
    restart(leader_sends_early);
  }
  void restart(bool leader_sends_early = true) {
    driver.reset();
    raw = std::make_unique<RawNode>(config, storage);
    driver = std::make_unique<ReadyDriver>(*raw, io, leader_sends_early);
  }
  // Handles everything, then forgets what was recorded.
  void settle() {
    REQUIRE(driver->handle_all().is_ok());
    io.calls.clear();
    io.sent.clear();
  }
  // A 3-voter member that leads term 2, with its first entries applied.
  static std::unique_ptr<TestNode> leader_of_three(bool leader_sends_early) {
    auto n = std::make_unique<TestNode>(1, std::vector<NodeId>{1, 2, 3}, leader_sends_early);
    n->settle();
    n->raw->campaign();  // pre-vote for term 2
    n->settle();
    n->raw->step(Message{.type = MessageType::kPreVoteResponse, .from = 2, .to = 1, .term = 2});
    n->settle();  // candidate of term 2: its term and vote are durable
    n->raw->step(Message{.type = MessageType::kVoteResponse, .from = 2, .to = 1, .term = 2});
    REQUIRE(n->raw->role() == Role::kLeader);
    return n;
  }
};

inline Message append_from(NodeId leader, NodeId to, Term term, Index prev, Term prev_term,
                           std::vector<Entry> entries, Index commit) {
  return Message{.type = MessageType::kAppend,
                 .from = leader,
                 .to = to,
                 .term = term,
                 .log_term = prev_term,
                 .index = prev,
                 .entries = std::move(entries),
                 .commit = commit};
}

}  // namespace raft::test
