// Everything a kvd node is configured with, with the defaults a three-node loopback cluster
// wants. Parsed from the command line in kvd_main.cc.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/status.h"
#include "raft/types.h"

namespace node {

#ifdef RAFTKV_TEST_HOOKS
struct TestHooks;  // node/test_hooks.h
#endif

struct NodeOptions {
  raft::NodeId id = 0;
  std::string data_dir;    // empty only with in_memory
  bool in_memory = false;  // keep the WAL in memory (tests, `kvd --in-memory`): nothing survives
  std::string client_addr = "127.0.0.1:4501";
  std::string peer_addr = "127.0.0.1:4601";
  // Every initial voter's peer address, including this node's own (id -> host:port).
  std::map<raft::NodeId, std::string> peers;
  // Client addresses of the peers, for leader hints (id -> host:port); optional.
  std::map<raft::NodeId, std::string> client_addrs;
  bool join = false;  // start empty and wait to be added by `kv member add`

  uint64_t tick_ms = 20;
  int election_ticks = 15;  // election timeout drawn from [15, 30) ticks = 300..600 ms
  int heartbeat_ticks = 2;
  uint64_t snapshot_entries = 20000;  // take a snapshot after this many applied entries
  uint64_t write_timeout_ms = 5000;   // a write with no outcome by then is answered "unknown"
  uint64_t read_timeout_ms = 5000;
  uint64_t seed = 0;  // 0: derived from the id and the clock
  // The leader promotes a learner to voter once its log is within this many entries of the
  // leader's last index (and a leadership transfer or member change waits this long at most).
  uint64_t promote_lag_entries = 64;
  uint64_t member_change_timeout_ms = 10000;
  // Off only in tests that need a leader cut off from its quorum that has not yet noticed.
  bool check_quorum = true;
#ifdef RAFTKV_TEST_HOOKS
  // Planted bugs, the skewed clock and the sync journal (test builds only); null: none.
  std::shared_ptr<TestHooks> test_hooks;
#endif
};

// Parses "1=127.0.0.1:4601,2=127.0.0.1:4602" into a map; clear errors for anything else.
base::Result<std::map<raft::NodeId, std::string>> parse_peer_list(std::string_view text);

// Splits "host:port" (IPv4 or a name) into its parts.
base::Status split_host_port(std::string_view addr, std::string& host, uint16_t& port);

}  // namespace node
