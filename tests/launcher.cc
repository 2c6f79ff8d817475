#include "tests/launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "base/check.h"

extern char** environ;

namespace launcher {
namespace {

base::Status errno_status(std::string_view what, int error) {
  return base::Status(base::Code::kInternal, fmt::format("{}: {}", what, std::strerror(error)));
}

// This process's environment with `overrides` (KEY=VALUE) added or replacing entries.
std::vector<std::string> merged_environment(const std::vector<std::string>& overrides) {
  const auto key_of = [](std::string_view kv) { return kv.substr(0, kv.find('=')); };
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    bool replaced = false;
    for (const auto& o : overrides) replaced = replaced || key_of(o) == key_of(entry);
    if (!replaced) env.emplace_back(entry);
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

// In the child, between fork and exec: only async-signal-safe calls. On failure the errno goes
// to `report_fd` (close-on-exec, so a successful exec closes it without a word).
[[noreturn]] void exec_child(pid_t parent, int log_fd, int report_fd, char* const argv[],
                             char* const envp[]) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
  ::setpgid(0, 0);
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) ::dup2(null_fd, 0);
  ::dup2(log_fd, 1);
  ::dup2(log_fd, 2);
  ::execve(argv[0], argv, envp);
  const int error = errno;
  ssize_t ignored = ::write(report_fd, &error, sizeof error);
  (void)ignored;
  ::_exit(127);
}

}  // namespace

base::Result<pid_t> start(const Command& command) {
  ENSURE(!command.argv.empty());
  // Everything the child touches is prepared before fork: after fork only async-signal-safe
  // calls are allowed in a multi-threaded parent.
  std::vector<std::string> args = command.argv;
  std::vector<std::string> env = merged_environment(command.env);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int log_fd =
      ::open(command.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return errno_status("open " + command.log_path, errno);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(log_fd);
    return errno_status("pipe", error);
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) exec_child(parent, log_fd, report[1], argv.data(), envp.data());
  const int fork_error = errno;
  ::close(log_fd);
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    return errno_status("fork", fork_error);
  }
  int exec_error = 0;
  ssize_t n;
  while ((n = ::read(report[0], &exec_error, sizeof exec_error)) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof exec_error)) {
    ::waitpid(pid, nullptr, 0);
    return errno_status("cannot start " + command.argv[0], exec_error);
  }
  return pid;
}

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status)) return fmt::format("signal {}", WTERMSIG(status));
  return fmt::format("exit status {}", WEXITSTATUS(status));
}

std::optional<std::string> reap_if_exited(pid_t pid) {
  int status = 0;
  pid_t r;
  while ((r = ::waitpid(pid, &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (r == 0) return std::nullopt;
  ENSURE_MSG(r == pid, "waitpid({}): {}", pid, std::strerror(errno));
  return describe_wait_status(status);
}

namespace {
int wait_for_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    ENSURE_MSG(errno == EINTR, "waitpid({}): {}", pid, std::strerror(errno));
  }
  return status;
}
}  // namespace

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGCONT);
  ::kill(pid, SIGKILL);
  wait_for_exit(pid);
}

std::string terminate_and_reap(pid_t pid) {
  ::kill(pid, SIGTERM);
  return describe_wait_status(wait_for_exit(pid));
}

CommandResult run_command(const std::string& command) {
  CommandResult result;
  char err_path[] = "/tmp/raftkv-cmd-XXXXXX";
  const int fd = ::mkstemp(err_path);
  if (fd < 0) {
    result.err = fmt::format("mkstemp: {}", std::strerror(errno));
    return result;
  }
  ::close(fd);
  // The braces send the stderr of every command of a list to the file, not only the last's.
  const std::string line = "{ " + command + "\n} 2>" + err_path;
  if (FILE* pipe = ::popen(line.c_str(), "r"); pipe == nullptr) {
    result.err = fmt::format("popen: {}", std::strerror(errno));
  } else {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) result.out.append(buf, n);
    const int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(err_path);
    result.err.assign(std::istreambuf_iterator<char>(in), {});
  }
  ::unlink(err_path);
  return result;
}

std::string shell_quote(std::string_view text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

base::Result<PortRange> parse_port_range(std::string_view text) {
  const auto bad = [&] {
    return base::invalid_argument(
        "port range '{}': expected FROM-TO with 1024 <= FROM <= TO <= 65535, e.g. 21200-21399",
        text);
  };
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) return bad();
  PortRange range;
  const auto number = [](std::string_view s, int& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() && !s.empty();
  };
  if (!number(text.substr(0, dash), range.first) || !number(text.substr(dash + 1), range.last))
    return bad();
  if (range.first < 1024 || range.first > range.last || range.last > 65535) return bad();
  return range;
}

bool loopback_port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // As a listener binds (SO_REUSEADDR): a port held only by TIME_WAIT connections is free.
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

PortPool::PortPool(PortRange range, uint64_t spread) : range_(range) {
  ENSURE(range_.first <= range_.last);
  if (spread == 0) spread = static_cast<uint64_t>(::getpid()) * 37;
  const auto size = static_cast<uint64_t>(range_.last - range_.first + 1);
  next_ = range_.first + static_cast<int>(spread % size);
}

base::Result<int> PortPool::take() {
  const int size = range_.last - range_.first + 1;
  for (int tries = 0; tries < size; ++tries) {
    const int port = next_;
    next_ = port == range_.last ? range_.first : port + 1;
    if (loopback_port_free(port)) return port;
  }
  return base::Status(base::Code::kUnavailable,
                      fmt::format("no free loopback port in {}-{}", range_.first, range_.last));
}

base::Result<int> PortPool::take_block(int count) {
  ENSURE(count >= 1);
  const int blocks = (range_.last - range_.first + 1) / count;
  const int start = (next_ - range_.first) / count;
  for (int i = 0; i < blocks; ++i) {
    const int first = range_.first + ((start + i) % blocks) * count;
    bool all_free = true;
    for (int p = first; p < first + count && all_free; ++p) all_free = loopback_port_free(p);
    if (!all_free) continue;
    next_ = first + count > range_.last ? range_.first : first + count;
    return first;
  }
  return base::Status(
      base::Code::kUnavailable,
      fmt::format("no block of {} free loopback ports in {}-{}", count, range_.first, range_.last));
}

}  // namespace launcher
