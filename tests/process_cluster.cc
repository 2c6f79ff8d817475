#include "tests/process_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/check.h"
#include "net/client_connection.h"

extern char** environ;

namespace testing_support {

std::string binary_path(const char* env_name) {
  const char* p = std::getenv(env_name);
  ENSURE_MSG(p != nullptr && *p != '\0', "environment variable {} (a binary path) is not set",
             env_name);
  return p;
}

namespace {

constexpr int kPortsPerCluster = 20;
// Below Linux's ephemeral range (32768..60999 by default), so that no outgoing connection of
// any process on the machine can hold one of our ports.
constexpr int kFirstPort = 20000;
constexpr int kBlocks = (32760 - kFirstPort) / kPortsPerCluster;

bool port_free(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// A block of 20 free ports, the first candidate chosen by pid so that parallel test binaries
// start apart; a block with a port in use (another test's cluster) is skipped.
int pick_port_block() {
  int start = static_cast<int>(getpid() % kBlocks);
  for (int i = 0; i < kBlocks; ++i) {
    int base = kFirstPort + ((start + i) % kBlocks) * kPortsPerCluster;
    bool all_free = true;
    for (int p = base; p < base + kPortsPerCluster && all_free; ++p) all_free = port_free(p);
    if (all_free) return base;
  }
  FATAL("no block of {} free ports in {}..32759", kPortsPerCluster, kFirstPort);
}

}  // namespace

ProcessCluster::ProcessCluster(ProcessClusterOptions options) : options_(std::move(options)) {
  char templ[] = "/tmp/raftkv-it-XXXXXX";
  ENSURE(mkdtemp(templ) != nullptr);
  dir_ = templ;
  base_port_ = pick_port_block();
  for (int i = 1; i <= options_.nodes; ++i) members_.insert(i);
}

ProcessCluster::~ProcessCluster() {
  for (auto& [id, pid] : pids_) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string ProcessCluster::client_addr(int id) const {
  return "127.0.0.1:" + std::to_string(base_port_ + id);
}
std::string ProcessCluster::peer_addr(int id) const {
  ENSURE_MSG(id >= 1 && id <= 9, "node id {} is outside the test port range 1..9", id);
  return "127.0.0.1:" + std::to_string(base_port_ + 10 + id);
}

std::string ProcessCluster::endpoints() const {
  std::string out;
  for (int i : members_) out += (out.empty() ? "" : ",") + client_addr(i);
  return out;
}
std::string ProcessCluster::log_path(int id) const {
  return dir_ + "/node" + std::to_string(id) + ".log";
}
std::string ProcessCluster::data_dir(int id) const { return dir_ + "/node" + std::to_string(id); }

namespace {

pid_t spawn(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ENSURE_MSG(rc == 0, "cannot start {}: {}", argv[0], rc);
  return pid;
}

}  // namespace

void ProcessCluster::start(int id, const std::vector<std::string>& extra) {
  ENSURE(!running(id));
  std::string peers, client_peers;
  for (int i = 1; i <= options_.nodes; ++i) {
    peers += (i > 1 ? "," : "") + std::to_string(i) + "=" + peer_addr(i);
    client_peers += (i > 1 ? "," : "") + std::to_string(i) + "=" + client_addr(i);
  }
  std::vector<std::string> args = {binary_path("KVD"), "--id",        std::to_string(id),
                                   "--data-dir",       data_dir(id),  "--client-addr",
                                   client_addr(id),    "--peer-addr", peer_addr(id),
                                   "--peers",          peers,         "--client-peers",
                                   client_peers};
  for (const auto& f : options_.extra_flags) args.push_back(f);
  for (const auto& f : extra) args.push_back(f);
  pids_[id] = spawn(args, log_path(id));
}

void ProcessCluster::start_joining(int id) {
  ENSURE(!running(id) && members_.count(id) == 0);
  std::string peers, client_peers;
  for (int i : members_) {
    peers += (peers.empty() ? "" : ",") + std::to_string(i) + "=" + peer_addr(i);
    client_peers += (client_peers.empty() ? "" : ",") + std::to_string(i) + "=" + client_addr(i);
  }
  std::vector<std::string> args = {
      binary_path("KVD"), "--join",        "--id",           std::to_string(id), "--data-dir",
      data_dir(id),       "--client-addr", client_addr(id),  "--peer-addr",      peer_addr(id),
      "--peers",          peers,           "--client-peers", client_peers};
  for (const auto& f : options_.extra_flags) args.push_back(f);
  pids_[id] = spawn(args, log_path(id));
  members_.insert(id);
}

void ProcessCluster::forget(int id) { members_.erase(id); }

void ProcessCluster::start_all() {
  for (int i = 1; i <= options_.nodes; ++i) start(i);
}

void ProcessCluster::kill9(int id) {
  auto it = pids_.find(id);
  ENSURE(it != pids_.end());
  kill(it->second, SIGKILL);
  waitpid(it->second, nullptr, 0);
  pids_.erase(it);
}

void ProcessCluster::terminate(int id) {
  auto it = pids_.find(id);
  ENSURE(it != pids_.end());
  kill(it->second, SIGTERM);
  waitpid(it->second, nullptr, 0);
  pids_.erase(it);
}

bool ProcessCluster::running(int id) const { return pids_.count(id) > 0; }

std::optional<net::NodeStatus> ProcessCluster::status(int id) {
  if (!running(id)) return std::nullopt;
  net::BlockingClient client;
  if (!client.connect(client_addr(id)).is_ok()) return std::nullopt;
  auto r = client.call(net::StatusRequest{true}, std::chrono::seconds(2));
  if (!r.is_ok()) return std::nullopt;
  auto* s = std::get_if<net::StatusResult>(&r->body);
  if (s == nullptr || s->nodes.empty()) return std::nullopt;
  return s->nodes[0];
}

int ProcessCluster::wait_leader(std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    std::map<uint64_t, int> votes;
    int leader = 0;
    for (const auto& [id, pid] : pids_) {
      if (members_.count(id) == 0) continue;
      auto st = status(id);
      if (!st) continue;
      if (st->role == raft::Role::kLeader) leader = id;
      if (st->leader != 0) votes[st->leader]++;
    }
    if (leader != 0 && votes[static_cast<uint64_t>(leader)] > static_cast<int>(members_.size()) / 2)
      return leader;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

CommandResult run_command(const std::string& command) {
  char err_templ[] = "/tmp/raftkv-cmd-XXXXXX";
  int fd = mkstemp(err_templ);
  ENSURE(fd >= 0);
  close(fd);
  CommandResult result;
  FILE* pipe = popen((command + " 2>" + err_templ).c_str(), "r");
  ENSURE(pipe != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) result.out.append(buf, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_templ);
  std::stringstream ss;
  ss << in.rdbuf();
  result.err = ss.str();
  std::remove(err_templ);
  return result;
}

}  // namespace testing_support
