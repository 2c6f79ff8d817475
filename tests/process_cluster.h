// Real kvd processes on loopback for integration tests: start, SIGKILL, SIGTERM, restart, join,
// and a way to wait for a leader. Processes are started by tests/launcher.h (they die with the
// test, even on kill -9; logs in log_path(id)). Each cluster takes a block of 20 free ports
// below the ephemeral port range (so no outgoing connection can hold one), chosen by pid so
// parallel test binaries do not collide; data lives under a fresh temporary directory removed
// at the end.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "net/client_types.h"
#include "tests/launcher.h"

namespace testing_support {

struct ProcessClusterOptions {
  int nodes = 3;
  std::vector<std::string> extra_flags;  // passed to every kvd
};

class ProcessCluster {
 public:
  explicit ProcessCluster(ProcessClusterOptions options = {});
  ~ProcessCluster();  // SIGKILLs every node still running and removes the data

  // Starts node `id` as one of the initial voters (ids 1..nodes); `extra` is appended to the
  // command line after the options' extra_flags.
  void start(int id, const std::vector<std::string>& extra = {});
  void start_all();
  // Starts node `id` (1..9, not yet a member) with --join and --peers naming the current
  // members; it counts as a member from now on (endpoints(), wait_leader()). Then add it with
  // MemberAdd{id, peer_addr(id), client_addr(id)}.
  void start_joining(int id);
  // After a MemberRemove: `id` no longer counts for endpoints() and wait_leader()'s majority.
  void forget(int id);
  const std::set<int>& members() const { return members_; }
  void kill9(int id);      // SIGKILL and reap
  void terminate(int id);  // SIGTERM and reap (clean shutdown); returns after exit
  bool running(int id) const;

  std::string client_addr(int id) const;
  std::string peer_addr(int id) const;
  std::string endpoints() const;  // the members' client addresses: "127.0.0.1:a,127.0.0.1:b,..."
  std::string log_path(int id) const;
  std::string data_dir(int id) const;

  // Asks every running member for its status; returns the leader id once one member says it
  // leads and a majority of the members agree on it, or 0 at the deadline.
  int wait_leader(std::chrono::milliseconds deadline = std::chrono::seconds(30));
  std::optional<net::NodeStatus> status(int id);

 private:
  pid_t spawn(std::vector<std::string> args, int id);

  ProcessClusterOptions options_;
  std::string dir_;
  int base_port_;
  std::map<int, pid_t> pids_;
  std::set<int> members_;  // initial voters, plus joined nodes, minus forgotten ones
};

// Shell commands run through the launcher (exit code, stdout, stderr).
using launcher::CommandResult;
using launcher::run_command;

// The path of a built binary, from the environment variable meson sets for the test.
std::string binary_path(const char* env_name);

}  // namespace testing_support
