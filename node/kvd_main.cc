// kvd: one raftkv node. See `kvd --help` and the README's quick start.
#include <csignal>
#include <cstdio>

#include <asio.hpp>

#include "base/flags.h"
#include "base/log.h"
#include "net/peer_links.h"
#include "node/client_service.h"
#include "node/node.h"
#ifdef RAFTKV_TEST_HOOKS
#include "node/test_hooks.h"
#endif

namespace {

// Raft messages leave through the peer links (one connection per peer, net/peer_links.h).
class LinksTransport final : public node::PeerTransport {
 public:
  explicit LinksTransport(std::shared_ptr<net::PeerLinks> links) : links_(std::move(links)) {}
  void send(raft::Message message) override { links_->send(std::move(message)); }
  void set_peer(raft::NodeId id, const std::string& addr) override { links_->set_peer(id, addr); }
  void remove_peer(raft::NodeId id) override { links_->remove_peer(id); }

 private:
  std::shared_ptr<net::PeerLinks> links_;
};

int usage_error(const base::Status& s) {
  std::fprintf(stderr, "kvd: %s\n", s.message().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  node::NodeOptions o;
  std::string peers, client_peers, log_level = "info";
  int64_t election_ticks = o.election_ticks, heartbeat_ticks = o.heartbeat_ticks;
  base::Flags flags(
      "usage: kvd --id N --data-dir DIR --client-addr HOST:PORT --peer-addr HOST:PORT\n"
      "           --peers 1=HOST:PORT,2=HOST:PORT,3=HOST:PORT [flags]\n"
      "       kvd --in-memory [--client-addr 127.0.0.1:4501]   (a throwaway single node)\n"
      "       kvd --join --id 4 --data-dir DIR --client-addr HOST:PORT --peer-addr HOST:PORT\n"
      "           --peers 1=HOST:PORT,2=HOST:PORT,3=HOST:PORT   (then: kv member add 4 ...)\n\n"
      "Runs one raftkv node. The first start of every node in --peers forms the cluster; a\n"
      "restart recovers from --data-dir. With --join, --peers names the current members (this\n"
      "node is not among them): it starts empty and receives the data once `kv member add`\n"
      "adds it; it becomes a voter when caught up. --in-memory alone runs a single-node cluster\n"
      "with no data dir and no peer port. SIGTERM stops cleanly (a leader hands over first).");
  flags.add_uint("id", &o.id, "this node's id (a positive integer, unique in the cluster)");
  flags.add_string("data-dir", &o.data_dir, "where the WAL and snapshots live");
  flags.add_bool("in-memory", &o.in_memory, "keep everything in memory (tests; nothing survives)");
  flags.add_string("client-addr", &o.client_addr, "address clients connect to");
  flags.add_string("peer-addr", &o.peer_addr, "address other nodes connect to");
  flags.add_string("peers", &peers,
                   "initial voters: ID=PEER_ADDR,... including this node (with --join: the "
                   "current members)");
  flags.add_string("client-peers", &client_peers,
                   "client addresses of the peers, ID=CLIENT_ADDR,... (for leader hints)");
  flags.add_bool("join", &o.join, "start empty and wait to be added with `kv member add`");
  flags.add_uint("tick-ms", &o.tick_ms, "length of one Raft tick");
  flags.add_int("election-ticks", &election_ticks,
                "election timeout, in ticks (randomized up to 2x)");
  flags.add_int("heartbeat-ticks", &heartbeat_ticks, "heartbeat interval, in ticks");
  flags.add_uint("snapshot-entries", &o.snapshot_entries,
                 "take a snapshot every N applied entries");
  flags.add_uint("seed", &o.seed, "random seed for election timeouts (0: from id and clock)");
  flags.add_string("log-level", &log_level, "debug, info, warn or error");
#ifdef RAFTKV_TEST_HOOKS
  // Test builds only (-Dtest_hooks=true): hooks for the Jepsen harness (node/README.md).
  bool test_sync_journal = false;
  std::string test_clock_file;
  std::vector<std::string> plant_bugs;
  flags.add_bool("test-sync-journal", &test_sync_journal,
                 "TEST BUILD: journal what each fsync made durable to "
                 "DATA_DIR/test-sync-journal.log (wal/SYNC_JOURNAL.md)");
  flags.add_string("test-clock-file", &test_clock_file,
                   "TEST BUILD: skew the wall clock by the file's 'offset_ms=N rate=R'");
  flags.add_list("plant-bug", &plant_bugs,
                 "TEST BUILD: plant a known bug: local-reads, ack-before-fsync, "
                 "drop-queue-acks, stale-watch (repeatable or comma-separated)");
#endif
  if (auto s = flags.parse(argc, argv); !s.is_ok()) return usage_error(s);
  if (flags.help_requested()) {
    std::fputs(flags.usage().c_str(), stdout);
    return 0;
  }
  if (!flags.positional().empty())
    return usage_error(base::invalid_argument("unexpected argument '{}'", flags.positional()[0]));
  if (log_level == "debug")
    base::set_log_level(base::LogLevel::kDebug);
  else if (log_level == "warn")
    base::set_log_level(base::LogLevel::kWarn);
  else if (log_level == "error")
    base::set_log_level(base::LogLevel::kError);
  else if (log_level != "info")
    return usage_error(base::invalid_argument("--log-level: unknown level '{}'", log_level));
  if (election_ticks < 2 || heartbeat_ticks < 1 || heartbeat_ticks >= election_ticks)
    return usage_error(base::invalid_argument("need 1 <= --heartbeat-ticks < --election-ticks"));
  o.election_ticks = static_cast<int>(election_ticks);
  o.heartbeat_ticks = static_cast<int>(heartbeat_ticks);
  if (o.tick_ms == 0) return usage_error(base::invalid_argument("--tick-ms must be positive"));
  if (!peers.empty()) {
    auto parsed = node::parse_peer_list(peers);
    if (!parsed.is_ok()) return usage_error(parsed.status());
    o.peers = *parsed;
  }
  // `kvd --in-memory` alone: a single-node cluster that needs no peer port.
  const bool single_in_memory = o.in_memory && peers.empty() && !o.join;
  if (single_in_memory) {
    if (o.id == 0) o.id = 1;
    o.peers[o.id] = o.peer_addr;
  }
  if (!client_peers.empty()) {
    auto parsed = node::parse_peer_list(client_peers);
    if (!parsed.is_ok()) return usage_error(parsed.status());
    o.client_addrs = *parsed;
  }
  if (o.id == 0) return usage_error(base::invalid_argument("--id is required (see --help)"));
  if (o.peers.empty() && o.join)
    return usage_error(
        base::invalid_argument("--join needs --peers: the current members' peer addresses"));
  if (o.peers.empty())
    return usage_error(
        base::invalid_argument("--peers is required (or --in-memory for a single throwaway node)"));
  if (o.join && o.peers.count(o.id))
    return usage_error(base::invalid_argument(
        "--join: --peers lists the current members; node {} is not one yet", o.id));
  o.client_addrs.emplace(o.id, o.client_addr);
#ifdef RAFTKV_TEST_HOOKS
  if (test_sync_journal || !test_clock_file.empty() || !plant_bugs.empty()) {
    auto hooks = std::make_shared<node::TestHooks>();
    for (const std::string& names : plant_bugs)
      if (auto s = hooks->bugs.add_names(names); !s.is_ok()) return usage_error(s);
    if (test_sync_journal && o.in_memory)
      return usage_error(base::invalid_argument("--test-sync-journal needs --data-dir"));
    hooks->sync_journal = test_sync_journal;
    if (!test_clock_file.empty())
      hooks->clock = std::make_unique<node::SkewedClock>(test_clock_file);
    o.test_hooks = std::move(hooks);
  }
#endif
  base::set_log_prefix(fmt::format("node={}", o.id));
#ifdef RAFTKV_TEST_HOOKS
  if (o.test_hooks) {
    for (const std::string& names : plant_bugs)
      LOG(kWarn, "PLANTED BUGS: this node is broken on purpose (test build)", "bugs={}",
          base::log_quote(names));
    if (test_sync_journal) LOG(kInfo, "test sync journal on");
    if (!test_clock_file.empty())
      LOG(kInfo, "test clock file", "path={}", base::log_quote(test_clock_file));
  }
#endif

  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  asio::io_context io;
  std::unique_ptr<node::Node> node_ptr;
  net::PeerLinksOptions link_options;
  link_options.self_id = o.id;
  link_options.jitter_seed = o.id;
  auto links = net::PeerLinks::create(io, link_options, [&node_ptr](raft::Message m) {
    if (node_ptr) node_ptr->deliver(std::move(m));
  });
  LinksTransport transport(links);
  auto created = node::Node::open(o, transport);
  if (!created.is_ok()) {
    LOG(kError, "cannot start", "error={}", base::log_quote(created.status().to_string()));
    return 1;
  }
  node_ptr = std::move(*created);
  if (single_in_memory) {
    // No other node will ever connect.
  } else if (auto s = links->listen(o.peer_addr); !s.is_ok()) {
    LOG(kError, "cannot listen for peers", "addr={} error={}", o.peer_addr,
        base::log_quote(s.message()));
    return 1;
  }
  node::ClientService clients(io, *node_ptr);
  if (auto s = clients.listen(o.client_addr); !s.is_ok()) {
    LOG(kError, "cannot listen for clients", "addr={} error={}", o.client_addr,
        base::log_quote(s.message()));
    return 1;
  }
  node_ptr->start();
  std::thread io_thread([&io] { io.run(); });
  LOG(kInfo, "kvd started", "client_addr={} peer_addr={} data_dir={}", o.client_addr, o.peer_addr,
      o.in_memory ? "(in-memory)" : base::log_quote(o.data_dir));

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LOG(kInfo, "stopping", "signal={}", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  node_ptr->stop(/*transfer_leadership=*/true);
  asio::post(io, [&] {
    clients.stop();
    links->stop();
    io.stop();
  });
  io_thread.join();
  LOG(kInfo, "kvd stopped cleanly");
  return 0;
}
