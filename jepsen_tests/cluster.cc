#include "jepsen_tests/cluster.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/check.h"
#include "cli/client.h"
#include "wal/power_loss.h"

namespace jepsen {
namespace {

std::string loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

}  // namespace

KvdHooks kvd_hooks(const std::string& kvd_path) {
  KvdHooks hooks;
  const auto help = launcher::run_command(launcher::shell_quote(kvd_path) + " --help");
  const std::string text = help.out + help.err;
  hooks.clock_file = text.find("--test-clock-file") != std::string::npos;
  hooks.sync_journal = text.find("--test-sync-journal") != std::string::npos;
  hooks.plant_bug = text.find("--plant-bug") != std::string::npos;
  return hooks;
}

Cluster::Cluster(ClusterOptions options, PeerProxy& proxy)
    : options_(std::move(options)), proxy_(proxy), ports_(options_.ports) {}

Cluster::~Cluster() { stop_all(); }

NodeInfo& Cluster::node(uint64_t id) {
  auto it = nodes_.find(id);
  ENSURE_MSG(it != nodes_.end(), "unknown node {}", id);
  return it->second;
}

base::Result<uint64_t> Cluster::allocate_node(const std::string& client_addr) {
  const uint64_t id = nodes_.empty() ? 1 : nodes_.rbegin()->first + 1;
  NodeInfo info;
  info.id = id;
  info.member = false;
  info.client_addr = client_addr;
  if (info.client_addr.empty()) {
    auto client = ports_.take();
    if (!client.is_ok()) return client.status();
    info.client_addr = loopback(*client);
  }
  auto peer = ports_.take();
  if (!peer.is_ok()) return peer.status();
  info.peer_addr = loopback(*peer);
  auto proxy = ports_.take();
  if (!proxy.is_ok()) return proxy.status();
  info.proxy_addr = loopback(*proxy);
  auto proxy_listening = proxy_.add_node(id, info.proxy_addr, info.peer_addr);
  if (!proxy_listening.is_ok()) return proxy_listening.status();
  const std::string dir = options_.run_dir + "/" + name(id);
  info.data_dir = dir + "/data";
  info.log_path = options_.run_dir + "/" + name(id) + ".log";
  info.clock_path = dir + "/clock";
  std::error_code ec;
  std::filesystem::create_directories(info.data_dir, ec);
  if (ec)
    return base::Status(base::Code::kInternal, "mkdir " + info.data_dir + ": " + ec.message());
  nodes_[id] = info;
  return id;
}

std::string Cluster::peers_flag() const {
  std::string out;
  for (const auto& [id, info] : nodes_) {
    if (!info.member) continue;
    if (!out.empty()) out += ',';
    out += fmt::format("{}={}", id, info.proxy_addr);
  }
  return out;
}

base::Status Cluster::start() {
  for (int i = 0; i < options_.nodes; ++i) {
    auto id = allocate_node();
    if (!id.is_ok()) return id.status();
    node(*id).member = true;
  }
  for (auto& [id, info] : nodes_) RETURN_IF_ERROR(spawn(info, /*join=*/false));
  return base::Status::ok();
}

base::Status Cluster::start_node(uint64_t id, bool join) {
  NodeInfo& info = node(id);
  if (info.pid != 0 && alive(id)) return base::Status::ok();
  return spawn(info, join);
}

base::Status Cluster::spawn(NodeInfo& info, bool join) {
  std::vector<std::string> args{options_.kvd_path,
                                "--id",
                                std::to_string(info.id),
                                "--data-dir",
                                info.data_dir,
                                "--client-addr",
                                info.client_addr,
                                "--peer-addr",
                                info.peer_addr,
                                "--tick-ms",
                                std::to_string(options_.tick_ms),
                                "--snapshot-entries",
                                std::to_string(options_.snapshot_entries),
                                "--seed",
                                std::to_string(options_.seed * 131 + info.id)};
  std::string client_peers;
  for (const auto& [id, other] : nodes_) {
    if (!client_peers.empty()) client_peers += ',';
    client_peers += fmt::format("{}={}", id, other.client_addr);
  }
  args.insert(args.end(), {"--client-peers", client_peers});
  // A joining node is not a member yet, so --peers names exactly the current members.
  args.insert(args.end(), {"--peers", peers_flag()});
  if (join) args.push_back("--join");
  if (options_.clock_files) args.insert(args.end(), {"--test-clock-file", info.clock_path});
  if (options_.sync_journal) args.push_back("--test-sync-journal");
  for (const auto& bug : options_.plant_bugs) args.insert(args.end(), {"--plant-bug", bug});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::vector<std::string> env;
  for (const auto& [k, v] : options_.extra_env) env.push_back(k + "=" + v);
  auto pid = launcher::start({std::move(args), std::move(env), info.log_path});
  if (!pid.is_ok()) return pid.status();
  info.pid = *pid;
  info.paused = false;
  return base::Status::ok();
}

bool Cluster::alive(uint64_t id) {
  NodeInfo& info = node(id);
  if (info.pid == 0) return false;
  const auto exit = launcher::reap_if_exited(info.pid);
  if (!exit) return true;
  crashes_.push_back(fmt::format("{} exited on its own ({})", name(id), *exit));
  info.pid = 0;
  info.paused = false;
  return false;
}

void Cluster::kill_node(uint64_t id) {
  NodeInfo& info = node(id);
  if (info.pid == 0) return;
  launcher::kill_and_reap(info.pid);
  info.pid = 0;
  info.paused = false;
}

void Cluster::pause_node(uint64_t id) {
  NodeInfo& info = node(id);
  if (info.pid == 0 || info.paused) return;
  ::kill(info.pid, SIGSTOP);
  info.paused = true;
}

void Cluster::resume_node(uint64_t id) {
  NodeInfo& info = node(id);
  if (info.pid == 0 || !info.paused) return;
  ::kill(info.pid, SIGCONT);
  info.paused = false;
}

base::Result<RollbackSummary> Cluster::roll_back_unsynced(uint64_t id) {
  const NodeInfo& info = node(id);
  ENSURE_MSG(info.pid == 0, "n{} must be dead before its files are rolled back", id);
  if (!options_.sync_journal)
    return base::invalid_argument("power loss needs kvd --test-sync-journal");
  wal::RollbackReport report;
  RETURN_IF_ERROR(wal::roll_back_unsynced(info.data_dir, &report));
  return RollbackSummary{report.files_truncated, report.files_removed, report.bytes_dropped};
}

base::Status Cluster::set_clock(uint64_t id, int64_t offset_ms, double rate) {
  const NodeInfo& info = node(id);
  if (!options_.clock_files)
    return base::invalid_argument("clock skew needs kvd --test-clock-file");
  const std::string tmp = info.clock_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << fmt::format("offset_ms={} rate={}\n", offset_ms, rate);
    if (!out.flush()) return base::Status(base::Code::kIoError, "cannot write " + tmp);
  }
  if (::rename(tmp.c_str(), info.clock_path.c_str()) != 0)
    return base::Status(base::Code::kIoError,
                        fmt::format("rename {}: {}", tmp, std::strerror(errno)));
  return base::Status::ok();
}

base::Status Cluster::restart_stopped_members() {
  for (auto& [id, info] : nodes_) {
    if (info.paused) resume_node(id);
    if (info.member && !alive(id)) RETURN_IF_ERROR(spawn(info, false));
  }
  return base::Status::ok();
}

void Cluster::stop_all() {
  for (auto& [id, info] : nodes_) kill_node(id);
}

std::vector<uint64_t> Cluster::member_ids() const {
  std::vector<uint64_t> ids;
  for (const auto& [id, info] : nodes_)
    if (info.member) ids.push_back(id);
  return ids;
}

std::vector<std::string> Cluster::client_addrs() const {
  std::vector<std::string> out;
  for (const auto& [id, info] : nodes_)
    if (std::find(out.begin(), out.end(), info.client_addr) == out.end())
      out.push_back(info.client_addr);
  return out;
}

std::optional<uint64_t> Cluster::find_leader(std::chrono::milliseconds timeout) const {
  std::vector<std::string> addrs;
  for (const auto& [id, info] : nodes_)
    if (info.pid != 0 && !info.paused) addrs.push_back(info.client_addr);
  if (addrs.empty()) return std::nullopt;
  cli::ClientOptions options;
  options.attempt_timeout = timeout;
  options.deadline = timeout;
  cli::Client client(addrs, options);
  std::optional<uint64_t> leader;
  uint64_t best_term = 0;
  for (const net::NodeStatus& row : client.status_all(timeout)) {
    if (row.error.empty() && row.role == raft::Role::kLeader && row.term >= best_term) {
      best_term = row.term;
      leader = row.id;
    }
  }
  return leader;
}

base::Status Cluster::wait_for_leader(std::chrono::milliseconds deadline) const {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (find_leader(std::chrono::milliseconds(500))) return base::Status::ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return base::Status(base::Code::kTimeout,
                      fmt::format("no leader within {} ms", deadline.count()));
}

}  // namespace jepsen
