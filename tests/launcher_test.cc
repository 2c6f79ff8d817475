// The process launcher that tests/ and kv-jepsen share: logs, environment, exit reporting,
// exec errors, dying with the parent, and the port pool.
#include "tests/launcher.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("raftkv-launcher-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits (up to 10 s) until `pid` has exited and is reaped by this process.
std::optional<std::string> wait_exit(pid_t pid) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    if (auto exit = launcher::reap_if_exited(pid)) return exit;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

// Whether `pid` is gone or a zombie (dead, waiting for whoever inherited it to reap it).
bool dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  const size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z';
}

}  // namespace

TEST_CASE("launcher: a child's stdout and stderr go to its log, with the extra environment") {
  const std::string log = temp_path("log");
  std::filesystem::remove(log);
  auto pid = launcher::start(
      {{"/bin/sh", "-c", "echo out $LAUNCHER_X; echo err >&2; exit 3"}, {"LAUNCHER_X=42"}, log});
  REQUIRE(pid.is_ok());
  CHECK(wait_exit(*pid) == "exit status 3");
  CHECK(slurp(log) == "out 42\nerr\n");
  // A second start appends (node logs accumulate across restarts), and an entry of the
  // environment can be replaced.
  ::setenv("LAUNCHER_X", "old", 1);
  pid = launcher::start({{"/bin/sh", "-c", "echo again $LAUNCHER_X"}, {"LAUNCHER_X=new"}, log});
  REQUIRE(pid.is_ok());
  CHECK(wait_exit(*pid) == "exit status 0");
  CHECK(slurp(log) == "out 42\nerr\nagain new\n");
  std::filesystem::remove(log);
}

TEST_CASE("launcher: a binary that cannot run is an error from start, not a child exiting 127") {
  const std::string log = temp_path("missing");
  auto pid = launcher::start({{"/nonexistent/kvd", "--help"}, {}, log});
  REQUIRE_FALSE(pid.is_ok());
  CHECK(pid.status().message().find("cannot start /nonexistent/kvd") != std::string::npos);
  CHECK(pid.status().message().find("No such file") != std::string::npos);
  auto no_log = launcher::start({{"/bin/true"}, {}, "/nonexistent/dir/log"});
  CHECK_FALSE(no_log.is_ok());
  std::filesystem::remove(log);
}

TEST_CASE("launcher: kill, terminate and reap say how the child ended") {
  const std::string log = temp_path("signals");
  auto sleeper = launcher::start({{"/bin/sleep", "60"}, {}, log});
  REQUIRE(sleeper.is_ok());
  CHECK_FALSE(launcher::reap_if_exited(*sleeper).has_value());
  ::kill(*sleeper, SIGSTOP);  // a stopped process dies too
  launcher::kill_and_reap(*sleeper);
  CHECK(dead(*sleeper));
  auto term = launcher::start({{"/bin/sleep", "60"}, {}, log});
  REQUIRE(term.is_ok());
  CHECK(launcher::terminate_and_reap(*term) == fmt::format("signal {}", SIGTERM));
  std::filesystem::remove(log);
}

TEST_CASE("launcher: a child dies with its parent, even when the parent is killed -9") {
  const std::string log = temp_path("orphan");
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t parent = ::fork();
  REQUIRE(parent >= 0);
  if (parent == 0) {  // the parent-to-be-killed: starts a sleeper, reports its pid, waits
    auto child = launcher::start({{"/bin/sleep", "60"}, {}, log});
    const pid_t pid = child.is_ok() ? *child : -1;
    ssize_t ignored = ::write(pipe_fds[1], &pid, sizeof pid);
    (void)ignored;
    ::pause();
    ::_exit(0);
  }
  pid_t child = -1;
  REQUIRE(::read(pipe_fds[0], &child, sizeof child) == static_cast<ssize_t>(sizeof child));
  REQUIRE(child > 0);
  CHECK_FALSE(dead(child));
  ::kill(parent, SIGKILL);
  ::waitpid(parent, nullptr, 0);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!dead(child) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(dead(child));
  if (!dead(child)) ::kill(child, SIGKILL);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  std::filesystem::remove(log);
}

TEST_CASE("launcher: a shell command's exit code, stdout and stderr come back apart") {
  auto r = launcher::run_command("echo out; echo err >&2; exit 4");
  CHECK(r.exit_code == 4);
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
  // Quoting makes any text one word, quotes included.
  r = launcher::run_command("printf '%s|' " + launcher::shell_quote("it's a $HOME `x`"));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "it's a $HOME `x`|");
}

TEST_CASE("launcher: port ranges parse as FROM-TO and reject everything else") {
  auto r = launcher::parse_port_range("21200-21399");
  REQUIRE(r.is_ok());
  CHECK(r->first == 21200);
  CHECK(r->last == 21399);
  for (const char* bad : {"", "21200", "21200-", "-21399", "21399-21200", "80-90", "1-2-3",
                          "21200-70000", "a-b", "21200 - 21399"}) {
    CAPTURE(bad);
    auto p = launcher::parse_port_range(bad);
    REQUIRE_FALSE(p.is_ok());
    CHECK(p.status().message().find("FROM-TO") != std::string::npos);
  }
}

TEST_CASE("launcher: the port pool hands out free ports of its range, skipping taken ones") {
  // A block of free ports to play in, probed like every real-process test's.
  auto found = launcher::PortPool().take_block(40);
  REQUIRE(found.is_ok());
  const int base = *found;
  launcher::PortPool pool({base, base + 9}, 1);
  std::set<int> seen;
  for (int i = 0; i < 5; ++i) {
    auto port = pool.take();
    REQUIRE(port.is_ok());
    CHECK(*port >= base);
    CHECK(*port <= base + 9);
    CHECK(seen.insert(*port).second);  // not handed out twice before the rotation wraps
  }
  // A port someone listens on is skipped.
  launcher::PortPool busy({base + 10, base + 11}, 1);
  auto first = busy.take();
  REQUIRE(first.is_ok());
  const int other_port = *first == base + 10 ? base + 11 : base + 10;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(static_cast<uint16_t>(other_port));
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  CHECK_FALSE(launcher::loopback_port_free(other_port));
  auto again = busy.take();  // skips the listener and wraps to *first, the only free one
  REQUIRE(again.is_ok());
  CHECK(*again == *first);
  ::close(fd);
  // Blocks are aligned to the range's start and wholly free.
  launcher::PortPool blocks({base, base + 39}, 7);
  auto block = blocks.take_block(20);
  REQUIRE(block.is_ok());
  CHECK((*block - base) % 20 == 0);
  auto next = blocks.take_block(20);
  REQUIRE(next.is_ok());
  CHECK(*next != *block);
  CHECK_FALSE(launcher::PortPool({base, base + 10}).take_block(20).is_ok());
}
