#include "tests/process_cluster.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "base/check.h"
#include "net/client_connection.h"
#include "tests/launcher.h"

namespace testing_support {

std::string binary_path(const char* env_name) {
  const char* p = std::getenv(env_name);
  ENSURE_MSG(p != nullptr && *p != '\0', "environment variable {} (a binary path) is not set",
             env_name);
  return p;
}

namespace {

// Client ports base+1..base+9, peer ports base+11..base+19.
constexpr int kPortsPerCluster = 20;

}  // namespace

ProcessCluster::ProcessCluster(ProcessClusterOptions options) : options_(std::move(options)) {
  char templ[] = "/tmp/raftkv-it-XXXXXX";
  ENSURE(mkdtemp(templ) != nullptr);
  dir_ = templ;
  auto block = launcher::PortPool().take_block(kPortsPerCluster);
  ENSURE_MSG(block.is_ok(), "{}", block.status().to_string());
  base_port_ = *block;
  for (int i = 1; i <= options_.nodes; ++i) members_.insert(i);
}

ProcessCluster::~ProcessCluster() {
  for (auto& [id, pid] : pids_) launcher::kill_and_reap(pid);
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

pid_t ProcessCluster::spawn(std::vector<std::string> args, int id) {
  auto pid = launcher::start({std::move(args), {}, log_path(id)});
  ENSURE_MSG(pid.is_ok(), "{}", pid.status().to_string());
  return *pid;
}

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
  pids_[id] = spawn(std::move(args), id);
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
  pids_[id] = spawn(std::move(args), id);
  members_.insert(id);
}

void ProcessCluster::forget(int id) { members_.erase(id); }

void ProcessCluster::start_all() {
  for (int i = 1; i <= options_.nodes; ++i) start(i);
}

void ProcessCluster::kill9(int id) {
  auto it = pids_.find(id);
  ENSURE(it != pids_.end());
  launcher::kill_and_reap(it->second);
  pids_.erase(it);
}

void ProcessCluster::terminate(int id) {
  auto it = pids_.find(id);
  ENSURE(it != pids_.end());
  launcher::terminate_and_reap(it->second);
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

}  // namespace testing_support
