// Unit tests of kv-jepsen's pieces that need no kvd: partition shapes, nemesis specs, the peer
// proxy over real loopback sockets, and the outcome mapping of client errors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "jepsen_tests/cluster.h"
#include "jepsen_tests/nemesis.h"
#include "jepsen_tests/peer_proxy.h"
#include "jepsen_tests/recorder.h"
#include "net/frame.h"
#include "net/peer_codec.h"

using namespace jepsen;

namespace {

using Links = std::set<std::pair<uint64_t, uint64_t>>;

// Nodes `a` can send to (itself included).
std::set<uint64_t> reach(const Links& blocked, const std::vector<uint64_t>& ids, uint64_t a) {
  std::set<uint64_t> out;
  for (uint64_t b : ids)
    if (a == b || (blocked.count({a, b}) == 0 && blocked.count({b, a}) == 0)) out.insert(b);
  return out;
}

int listen_loopback(uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(::listen(fd, 16) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  port = ntohs(sa.sin_port);
  return fd;
}

int connect_to(const std::string& addr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1))));
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  return fd;
}

std::string hello_frame(uint64_t from, uint64_t to) {
  return net::encode_frame(net::encode_hello(net::PeerHello{from, to, "raftkv"}));
}

// Reads until `want` bytes arrived, EOF, or 5 s passed. Returns what arrived; eof set on EOF.
std::string read_some(int fd, size_t want, bool& eof) {
  std::string got;
  eof = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got.size() < want && std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      eof = true;
      break;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

int accept_within(int listener, std::chrono::seconds limit) {
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(limit.count() * 1000)) <= 0) return -1;
  return ::accept(listener, nullptr, nullptr);
}

}  // namespace

TEST_CASE("nemesis: halves, leader and one-node partitions split the cluster as named") {
  const std::vector<uint64_t> ids{1, 2, 3, 4, 5};
  base::Rng rng(7);
  const Links halves = partition_links(FaultKind::kPartitionHalves, ids, std::nullopt, rng);
  std::map<size_t, int> sizes;
  for (uint64_t id : ids) sizes[reach(halves, ids, id).size()]++;
  CHECK(sizes == std::map<size_t, int>{{2, 2}, {3, 3}});
  const Links lead = partition_links(FaultKind::kPartitionLeader, ids, 4, rng);
  CHECK(reach(lead, ids, 4) == std::set<uint64_t>{4});
  CHECK(reach(lead, ids, 1) == std::set<uint64_t>{1, 2, 3, 5});
  const Links one = partition_links(FaultKind::kPartitionOne, ids, std::nullopt, rng);
  int alone = 0;
  for (uint64_t id : ids) alone += reach(one, ids, id).size() == 1 ? 1 : 0;
  CHECK(alone == 1);
}

TEST_CASE("nemesis: in a majorities ring every node sees a different majority") {
  for (const std::vector<uint64_t>& ids :
       {std::vector<uint64_t>{1, 2, 3, 4, 5}, std::vector<uint64_t>{1, 2, 3}}) {
    base::Rng rng(11);
    const Links ring = partition_links(FaultKind::kPartitionRing, ids, std::nullopt, rng);
    CHECK(!ring.empty());
    std::set<std::set<uint64_t>> views;
    for (uint64_t id : ids) {
      const auto seen = reach(ring, ids, id);
      CHECK(seen.size() * 2 > ids.size());
      views.insert(seen);
    }
    if (ids.size() == 5) CHECK(views.size() == 5);
  }
}

TEST_CASE("nemesis: a bridge node reaches both halves; one-way blocks only the leader's sends") {
  const std::vector<uint64_t> ids{1, 2, 3, 4, 5};
  base::Rng rng(3);
  const Links bridge = partition_links(FaultKind::kPartitionBridge, ids, std::nullopt, rng);
  int bridges = 0;
  for (uint64_t id : ids) bridges += reach(bridge, ids, id).size() == 5 ? 1 : 0;
  CHECK(bridges == 1);
  const Links one_way = partition_links(FaultKind::kPartitionOneWay, ids, 2, rng);
  CHECK(one_way == Links{{2, 1}, {2, 3}, {2, 4}, {2, 5}});
}

TEST_CASE("nemesis: specs expand groups (power-loss, clock-skew too) and reject unknown faults") {
  auto kinds = expand_nemesis_spec("kill,partition-one,kill-one");
  REQUIRE(kinds.is_ok());
  CHECK(*kinds == std::vector<FaultKind>{FaultKind::kKillOne, FaultKind::kKillMinority,
                                         FaultKind::kKillLeader, FaultKind::kKillAll,
                                         FaultKind::kPartitionOne});
  CHECK(expand_nemesis_spec("none")->empty());
  CHECK(expand_nemesis_spec("all").value() == all_fault_kinds());
  CHECK(expand_nemesis_spec("power-loss").value() ==
        std::vector<FaultKind>{FaultKind::kPowerLossOne, FaultKind::kPowerLossAll});
  CHECK(expand_nemesis_spec("clock-skew,clock-drift").value() ==
        std::vector<FaultKind>{FaultKind::kClockSkewLeader, FaultKind::kClockSkewAll,
                               FaultKind::kClockDrift});
  // An unknown name (even one that only looks like a kind) is an error naming the valid ones;
  // it never runs as some other fault.
  for (const char* bad : {"explode", "lose-unsynced", "kill-", "partition-random", "member"}) {
    CAPTURE(bad);
    auto r = expand_nemesis_spec(std::string("kill-one,") + bad);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().message().find(std::string("'") + bad + "'") != std::string::npos);
    CHECK(r.status().message().find("power-loss-all") != std::string::npos);
    CHECK(r.status().message().find("member-replace-leader") != std::string::npos);
  }
}

TEST_CASE("nemesis: every kind has its own name, a group, and expands from its name alone") {
  std::set<std::string_view> names;
  for (FaultKind k : all_fault_kinds()) {
    CAPTURE(fault_kind_name(k));
    CHECK(names.insert(fault_kind_name(k)).second);
    CHECK(expand_nemesis_spec(std::string(fault_kind_name(k))).value() ==
          std::vector<FaultKind>{k});
    const auto group = expand_nemesis_spec(std::string(fault_group_name(fault_group(k))));
    REQUIRE(group.is_ok());
    CHECK(std::find(group->begin(), group->end(), k) != group->end());
    // Only partitions cut links.
    base::Rng rng(1);
    CHECK(partition_links(k, {1, 2, 3}, 1, rng).empty() ==
          (fault_group(k) != FaultGroup::kPartition));
  }
  CHECK(names.size() == 20);
}

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

TEST_CASE("cluster: a clock skew is written as kvd's one-line clock file; hooks come from --help") {
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("kv-jepsen-clock-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  PeerProxy proxy;
  ClusterOptions o;
  o.run_dir = dir;
  o.clock_files = true;
  {
    Cluster cluster(o, proxy);
    auto id = cluster.allocate_node();
    REQUIRE(id.is_ok());
    REQUIRE(cluster.set_clock(*id, -2500, 1.5).is_ok());
    CHECK(slurp(cluster.node(*id).clock_path) == "offset_ms=-2500 rate=1.5\n");
    REQUIRE(cluster.set_clock(*id, 0, 1.0).is_ok());
    CHECK(slurp(cluster.node(*id).clock_path) == "offset_ms=0 rate=1\n");
    CHECK(!std::filesystem::exists(cluster.node(*id).clock_path + ".tmp"));
    // Without the journal a rollback is refused, not attempted.
    CHECK(!cluster.roll_back_unsynced(*id).is_ok());
  }
  o.clock_files = false;
  {
    Cluster cluster(o, proxy);
    auto id = cluster.allocate_node();
    REQUIRE(id.is_ok());
    CHECK(!cluster.set_clock(*id, 100, 1.0).is_ok());
  }
  const std::string fake = dir + "/fake kvd";
  std::ofstream(fake)
      << "#!/bin/sh\necho '  --test-clock-file VALUE  x'\necho '  --plant-bug VALUE'\n";
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  const KvdHooks hooks = kvd_hooks(fake);
  CHECK(hooks.clock_file);
  CHECK(hooks.plant_bug);
  CHECK(!hooks.sync_journal);
  CHECK(!kvd_hooks(dir + "/missing").clock_file);
  std::filesystem::remove_all(dir);
}

TEST_CASE("proxy: forwards a peer link, cuts it when blocked, and passes it again once healed") {
  uint16_t port = 0;
  const int target = listen_loopback(port);
  PeerProxy proxy;
  auto addr = proxy.add_node(2, "127.0.0.1:0", "127.0.0.1:" + std::to_string(port));
  REQUIRE(addr.is_ok());
  proxy.start();
  const std::string hello = hello_frame(1, 2);

  const int sender = connect_to(*addr);
  REQUIRE(::send(sender, hello.data(), hello.size(), 0) == static_cast<ssize_t>(hello.size()));
  REQUIRE(::send(sender, "payload", 7, 0) == 7);
  const int receiver = accept_within(target, std::chrono::seconds(5));
  REQUIRE(receiver >= 0);
  bool eof = false;
  CHECK(read_some(receiver, hello.size() + 7, eof) == hello + "payload");

  proxy.set_blocked({{1, 2}});  // 1 -> 2 cut: the live link closes on both ends
  read_some(receiver, 1, eof);
  CHECK(eof);
  read_some(sender, 1, eof);
  CHECK(eof);
  ::close(receiver);
  ::close(sender);

  // While blocked, a new link from 1 is dropped right after its Hello; one from 3 passes.
  const int again = connect_to(*addr);
  REQUIRE(::send(again, hello.data(), hello.size(), 0) > 0);
  read_some(again, 1, eof);
  CHECK(eof);
  ::close(again);
  const int other = connect_to(*addr);
  const std::string hello3 = hello_frame(3, 2);
  REQUIRE(::send(other, hello3.data(), hello3.size(), 0) > 0);
  int got = accept_within(target, std::chrono::seconds(5));
  // The dropped link from 1 may have been connected upstream before its Hello was read.
  while (got >= 0 && read_some(got, hello3.size(), eof) != hello3) {
    ::close(got);
    got = accept_within(target, std::chrono::seconds(5));
  }
  CHECK(got >= 0);
  ::close(got);
  ::close(other);

  proxy.heal();
  const int healed = connect_to(*addr);
  REQUIRE(::send(healed, hello.data(), hello.size(), 0) > 0);
  got = accept_within(target, std::chrono::seconds(5));
  REQUIRE(got >= 0);
  CHECK(read_some(got, hello.size(), eof) == hello);
  CHECK(proxy.connections_cut() >= 2);
  ::close(got);
  ::close(healed);
  proxy.stop();
  ::close(target);
}

TEST_CASE("proxy: a first frame that is not a peer Hello is refused") {
  bool complete = false;
  CHECK(parse_hello_sender("short", complete).is_ok());
  CHECK(!complete);
  const std::string garbage = net::encode_frame(std::string(40, 'x'));
  CHECK(!parse_hello_sender(garbage, complete).is_ok());
  auto from = parse_hello_sender(hello_frame(9, 1), complete);
  REQUIRE(from.is_ok());
  CHECK(complete);
  CHECK(*from == 9);
}

TEST_CASE("recorder: only errors that prove nothing was applied become fail, the rest info") {
  CHECK(outcome_of_write_error(base::Status(base::Code::kUnavailable, "refused")) == OpType::kFail);
  CHECK(outcome_of_write_error(base::invalid_argument("too big")) == OpType::kFail);
  CHECK(outcome_of_write_error(base::Status(base::Code::kUnknownOutcome, "?")) == OpType::kInfo);
  CHECK(outcome_of_write_error(base::Status(base::Code::kTimeout, "slow")) == OpType::kInfo);
  CHECK(outcome_of_write_error(base::Status(base::Code::kInternal, "bug")) == OpType::kInfo);
}
