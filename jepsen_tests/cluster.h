// A cluster of real kvd processes on loopback, started and faulted by kv-jepsen.
//
// Every node gets a client port, a real peer port and a proxy port, each probed free in
// ClusterOptions::ports (unique per run), a data dir <run>/n<ID>/data and a log <run>/n<ID>.log
// (appended across restarts). Every node's --peers names the *proxy* port of each peer
// (PeerProxy), so partitions are injected there, without root and without touching any
// firewall.
//
// Process hygiene: nodes are started by tests/launcher.h from the thread that owns the Cluster
// (which must outlive them), so they die with the harness even when it is killed -9;
// stop_all() and the destructor SIGCONT + SIGKILL and reap every node.
// Thread-safety: none; the harness's main thread drives it. status() may be called from any
// thread (it builds its own client).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "jepsen_tests/peer_proxy.h"
#include "tests/launcher.h"

namespace jepsen {

struct ClusterOptions {
  std::string kvd_path;       // the kvd binary
  std::string run_dir;        // data dirs and logs go here
  launcher::PortRange ports;  // every port of the run (client, peer, proxy) comes from here
  int nodes = 3;              // initial voters, ids 1..nodes
  uint64_t tick_ms = 20;
  uint64_t snapshot_entries = 1000;  // small, so snapshots and log compaction happen in a run
  uint64_t seed = 1;
  std::vector<std::string> extra_args;           // appended to every kvd command line
  std::map<std::string, std::string> extra_env;  // e.g. test-only planted-bug switches
  // Test-build kvd hooks (kvd_hooks() tells which the binary has):
  bool clock_files = false;             // --test-clock-file <run>/n<ID>/clock (clock-skew nemesis)
  bool sync_journal = false;            // --test-sync-journal (power-loss nemesis)
  std::vector<std::string> plant_bugs;  // --plant-bug NAME each
};

// The test-only flags a kvd binary accepts, read from its --help (a build without
// -Dtest_hooks has none of them).
struct KvdHooks {
  bool clock_file = false;
  bool sync_journal = false;
  bool plant_bug = false;
};
KvdHooks kvd_hooks(const std::string& kvd_path);

// What one power-loss rollback dropped (wal::RollbackReport, in the harness's terms).
struct RollbackSummary {
  uint64_t files_truncated = 0, files_removed = 0, bytes_dropped = 0;
};

struct NodeInfo {
  uint64_t id = 0;
  std::string client_addr;  // what clients connect to (direct, not proxied)
  std::string peer_addr;    // the node's real peer listener
  std::string proxy_addr;   // what other nodes dial to reach it (PeerProxy)
  std::string data_dir;
  std::string log_path;
  std::string clock_path;  // the node's --test-clock-file (when clock_files)
  int pid = 0;             // 0 when not running
  bool paused = false;
  bool member = true;  // false once removed from the configuration
};

class Cluster {
 public:
  Cluster(ClusterOptions options, PeerProxy& proxy);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Allocates ports and directories for nodes 1..nodes and starts them all.
  base::Status start();
  // (Re)starts a stopped node from its data dir. `join` starts it empty, waiting to be added.
  base::Status start_node(uint64_t id, bool join = false);
  // Allocates a new node id with its ports (not started, not a member). A non-empty
  // `client_addr` reuses that (free) client address: a replacement takes over a removed node's
  // address, so clients configured with the initial endpoints keep finding the cluster.
  // Errors when the port range has no free port left.
  base::Result<uint64_t> allocate_node(const std::string& client_addr = "");
  // SIGKILL and reap. No-op for a stopped node.
  void kill_node(uint64_t id);
  void pause_node(uint64_t id);   // SIGSTOP
  void resume_node(uint64_t id);  // SIGCONT
  // Power loss of a killed node: its data dir rolled back to what the sync journal says was
  // fsynced (wal::roll_back_unsynced). Needs sync_journal; the node must not be running.
  base::Result<RollbackSummary> roll_back_unsynced(uint64_t id);
  // Sets the node's clock skew (needs clock_files): the file is replaced atomically (temp +
  // rename) and kvd re-reads it within 100 ms. Offset 0, rate 1 is no skew.
  base::Status set_clock(uint64_t id, int64_t offset_ms, double rate);
  // Resumes paused nodes and restarts killed members: the "heal" of process faults.
  base::Status restart_stopped_members();
  void stop_all();

  // Whether a started process is still alive (reaps it if it exited on its own).
  bool alive(uint64_t id);
  // Ids of nodes that exited without being killed by us (crashes: always a finding).
  const std::vector<std::string>& crashes() const { return crashes_; }

  const std::map<uint64_t, NodeInfo>& nodes() const { return nodes_; }
  NodeInfo& node(uint64_t id);
  std::vector<uint64_t> member_ids() const;
  std::vector<std::string> client_addrs() const;  // of all allocated nodes, without repeats
  std::string name(uint64_t id) const { return "n" + std::to_string(id); }

  // The leader as reported by a majority-agreeing view of the running nodes (the node whose own
  // status says leader, highest term); nullopt when none answers as leader within `timeout`.
  std::optional<uint64_t> find_leader(std::chrono::milliseconds timeout) const;
  // Waits until some node leads and answers a strong read; errors at the deadline.
  base::Status wait_for_leader(std::chrono::milliseconds deadline) const;

 private:
  base::Status spawn(NodeInfo& node, bool join);
  std::string peers_flag() const;

  ClusterOptions options_;
  PeerProxy& proxy_;
  std::map<uint64_t, NodeInfo> nodes_;
  std::vector<std::string> crashes_;
  launcher::PortPool ports_;
};

}  // namespace jepsen
