// Starting, signalling and reaping the real processes that the integration tests (tests/) and
// kv-jepsen (jepsen_tests/) run, running short shell commands, and the loopback ports the
// processes listen on. One launcher for both.
//
// A started child:
//   - dies with its parent: PR_SET_PDEATHSIG=SIGKILL, so not even a kill -9 of the test or the
//     harness leaves a kvd behind. The kernel sends the signal when the *thread* that started
//     the child exits: start children from a thread that outlives them (the main thread);
//   - runs in its own process group, so a terminal's Ctrl-C reaches only the parent, which then
//     stops its children in order;
//   - has stdout and stderr appended to `log_path` and stdin from /dev/null;
//   - sees this process's environment with `env` (KEY=VALUE) added or replaced.
// An exec failure (missing binary, not executable) is an error from start(), not a child that
// exits 127 later. Thread-safety: the functions may be called from any thread; a PortPool from
// one thread at a time.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace launcher {

struct Command {
  std::vector<std::string> argv;  // argv[0] is the binary's path (no PATH search)
  std::vector<std::string> env;   // KEY=VALUE, added to or replacing this process's environment
  std::string log_path;           // created if missing; stdout and stderr are appended to it
};

base::Result<pid_t> start(const Command& command);

// How a reaped child ended: "exit status 3" or "signal 9".
std::string describe_wait_status(int status);
// nullopt while `pid` runs; once it has exited, reaps it and says how it ended.
std::optional<std::string> reap_if_exited(pid_t pid);
// SIGKILL (after SIGCONT, in case it is stopped) and reap. Returns once the process is gone.
void kill_and_reap(pid_t pid);
// SIGTERM, then waits for the exit (a clean shutdown) and says how it ended.
std::string terminate_and_reap(pid_t pid);

// Runs `command` through /bin/sh to its end: its exit code (-1 when it did not exit normally or
// could not be run; `err` then says why), stdout and stderr.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult run_command(const std::string& command);
// `text` as one single-quoted /bin/sh word.
std::string shell_quote(std::string_view text);

// Inclusive range of loopback TCP ports. The default lies below Linux's ephemeral range
// (32768..60999): there, any outgoing connection on the machine could take a port that a
// restarted node needs again.
struct PortRange {
  int first = 20000;
  int last = 32759;
};
// "FROM-TO" with 1024 <= FROM <= TO <= 65535; errors name the expected form.
base::Result<PortRange> parse_port_range(std::string_view text);

// Whether a TCP listener could bind 127.0.0.1:port right now.
bool loopback_port_free(int port);

// Hands out free loopback ports from a range, probed by binding them. Ports are handed out in
// rotation from a start chosen by `spread` (0: this process's pid, so parallel test binaries
// start apart), and a port is not handed out again until the rotation wraps: a node's ports stay
// its own across restarts.
class PortPool {
 public:
  explicit PortPool(PortRange range = {}, uint64_t spread = 0);
  // One free port.
  base::Result<int> take();
  // `count` consecutive free ports (the first is returned), aligned to multiples of `count`
  // from the range's start.
  base::Result<int> take_block(int count);
  const PortRange& range() const { return range_; }

 private:
  PortRange range_;
  int next_;  // the next candidate of take()
};

}  // namespace launcher
