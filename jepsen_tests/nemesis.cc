#include "jepsen_tests/nemesis.h"

#include <algorithm>
#include <map>
#include <thread>

#include "base/json.h"
#include "cli/client.h"
#include "jepsen_tests/workload.h"

namespace jepsen {
namespace {

const std::map<std::string, std::vector<std::string>>& groups() {
  static const std::map<std::string, std::vector<std::string>> g{
      {"kill", {"kill-one", "kill-minority", "kill-leader", "kill-all"}},
      {"pause", {"pause-leader", "pause-minority"}},
      {"partition",
       {"partition-halves", "partition-leader", "partition-one", "partition-ring",
        "partition-bridge", "partition-one-way"}},
      {"transfer", {"transfer-leader"}},
      {"membership", {"member-replace", "member-replace-leader"}},
      {"power-loss", {"power-loss-one", "power-loss-all"}},
      {"clock-skew", {"clock-skew-leader", "clock-skew-all", "clock-drift"}},
  };
  return g;
}

// Blocks both directions between every node of `a` and every node of `b`.
void cut(std::set<std::pair<uint64_t, uint64_t>>& out, const std::vector<uint64_t>& a,
         const std::vector<uint64_t>& b) {
  for (uint64_t x : a)
    for (uint64_t y : b)
      if (x != y) {
        out.insert({x, y});
        out.insert({y, x});
      }
}

std::string ids_text(const std::vector<uint64_t>& ids) {
  std::string s;
  for (uint64_t id : ids) s += (s.empty() ? "n" : ",n") + std::to_string(id);
  return s;
}

}  // namespace

const std::vector<std::string>& nemesis_kinds() {
  static const std::vector<std::string> kinds = [] {
    std::vector<std::string> all;
    for (const auto& [group, members] : groups())
      all.insert(all.end(), members.begin(), members.end());
    return all;
  }();
  return kinds;
}

base::Result<std::vector<std::string>> expand_nemesis_spec(const std::string& spec) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string::npos) comma = spec.size();
    const std::string name = spec.substr(start, comma - start);
    start = comma + 1;
    if (name.empty() || name == "none") continue;
    std::vector<std::string> add;
    if (name == "all") {
      add = nemesis_kinds();
    } else if (auto g = groups().find(name); g != groups().end()) {
      add = g->second;
    } else if (std::find(nemesis_kinds().begin(), nemesis_kinds().end(), name) !=
               nemesis_kinds().end()) {
      add = {name};
    } else {
      std::string known = "none, all";
      for (const auto& [group, members] : groups()) known += ", " + group;
      for (const auto& k : nemesis_kinds()) known += ", " + k;
      return base::invalid_argument("unknown nemesis '{}' (known: {})", name, known);
    }
    for (auto& k : add)
      if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  }
  return out;
}

std::set<std::pair<uint64_t, uint64_t>> partition_links(const std::string& kind,
                                                        const std::vector<uint64_t>& ids,
                                                        std::optional<uint64_t> leader,
                                                        base::Rng& rng) {
  std::set<std::pair<uint64_t, uint64_t>> out;
  const size_t n = ids.size();
  if (n < 2) return out;
  std::vector<uint64_t> shuffled = ids;
  for (size_t i = n - 1; i > 0; --i) std::swap(shuffled[i], shuffled[rng.uniform(i + 1)]);
  const uint64_t target = leader.value_or(shuffled[0]);
  std::vector<uint64_t> others;
  for (uint64_t id : ids)
    if (id != target) others.push_back(id);
  if (kind == "partition-halves") {
    const auto half = static_cast<std::ptrdiff_t>(n / 2);
    cut(out, {shuffled.begin(), shuffled.begin() + half},
        {shuffled.begin() + half, shuffled.end()});
  } else if (kind == "partition-leader" || kind == "partition-one") {
    const uint64_t victim = kind == "partition-leader" ? target : shuffled[0];
    std::vector<uint64_t> rest;
    for (uint64_t id : ids)
      if (id != victim) rest.push_back(id);
    cut(out, {victim}, rest);
  } else if (kind == "partition-ring") {
    // Majorities ring: each node keeps links to its ring neighbours within distance d, so
    // every node sees a majority but no two see the same one. With 3 nodes one link is cut.
    const size_t d = n / 2 > 1 ? n / 2 - 1 : 1;
    for (size_t i = 0; i < n; ++i)
      for (size_t j = i + 1; j < n; ++j) {
        const size_t dist = std::min(j - i, n - (j - i));
        if (dist > d || (n == 3 && i == 0 && j == 2)) cut(out, {shuffled[i]}, {shuffled[j]});
      }
  } else if (kind == "partition-bridge") {
    // Two halves that both still reach one bridge node.
    const size_t half = (n - 1) / 2;
    std::vector<uint64_t> a(shuffled.begin(), shuffled.begin() + static_cast<std::ptrdiff_t>(half));
    std::vector<uint64_t> b(shuffled.begin() + static_cast<std::ptrdiff_t>(half) + 1,
                            shuffled.end());
    cut(out, a, b);
  } else if (kind == "partition-one-way") {
    // The leader's messages reach nobody, while everyone else's still reach it.
    for (uint64_t id : others) out.insert({target, id});
  }
  return out;
}

Nemesis::Nemesis(Cluster& cluster, PeerProxy& proxy, Recorder& recorder,
                 std::vector<std::string> kinds, uint64_t seed, std::FILE* faults_file)
    : cluster_(cluster),
      proxy_(proxy),
      recorder_(recorder),
      kinds_(std::move(kinds)),
      rng_(seed ^ 0x6e656d65736973),
      faults_file_(faults_file) {
  // A seeded shuffle, then round robin: every enabled kind runs once before any repeats, so a
  // short CI run with at least as many fault periods as kinds covers them all.
  for (size_t i = kinds_.size(); i > 1; --i) std::swap(kinds_[i - 1], kinds_[rng_.uniform(i)]);
}

std::vector<uint64_t> Nemesis::pick(std::vector<uint64_t> ids, size_t count) {
  for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[rng_.uniform(i)]);
  ids.resize(std::min(count, ids.size()));
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::optional<uint64_t> Nemesis::leader() {
  return cluster_.find_leader(std::chrono::milliseconds(1000));
}

base::Status Nemesis::inject() {
  if (kinds_.empty() || current_) return base::Status::ok();
  Fault f;
  f.name = kinds_[static_cast<size_t>(injected_) % kinds_.size()];
  f.start_ns = recorder_.now_ns();
  const std::vector<uint64_t> ids = cluster_.member_ids();
  const size_t minority = (ids.size() - 1) / 2;
  const bool wants_leader =
      f.name.find("leader") != std::string::npos || f.name == "partition-one-way";
  std::optional<uint64_t> lead = wants_leader ? leader() : std::nullopt;
  if (wants_leader && !lead) f.detail = "leader unknown, random node; ";
  if (f.name.starts_with("kill-")) {
    f.killed = f.name == "kill-all"        ? ids
               : f.name == "kill-minority" ? pick(ids, minority)
               : lead                      ? std::vector<uint64_t>{*lead}
                                           : pick(ids, 1);
    for (uint64_t id : f.killed) cluster_.kill_node(id);
    f.detail += "killed " + ids_text(f.killed);
  } else if (f.name.starts_with("pause-")) {
    f.paused = f.name == "pause-minority" ? pick(ids, minority)
               : lead                     ? std::vector<uint64_t>{*lead}
                                          : pick(ids, 1);
    for (uint64_t id : f.paused) cluster_.pause_node(id);
    f.detail += "paused " + ids_text(f.paused);
  } else if (f.name.starts_with("partition-")) {
    auto links = partition_links(f.name, ids, lead, rng_);
    for (const auto& [from, to] : links) f.detail += fmt::format("n{}->n{} ", from, to);
    proxy_.set_blocked(std::move(links));
  } else if (f.name.starts_with("power-loss-")) {
    RETURN_IF_ERROR(inject_power_loss(f, lead));
  } else if (f.name.starts_with("clock-")) {
    RETURN_IF_ERROR(inject_clock(f, lead));
  } else if (f.name == "transfer-leader") {
    const std::vector<uint64_t> to = pick(ids, 1);
    cli::Client client(cluster_.client_addrs(), harness_client_options(rng_.next() | 1));
    auto r = client.call_leader(net::LeaderTransfer{to[0]});
    f.detail += fmt::format("to n{}: {}", to[0], r.is_ok() ? "ok" : r.status().to_string());
  } else {
    RETURN_IF_ERROR(inject_membership(f, f.name == "member-replace-leader" ? true : false));
  }
  ++injected_;
  current_ = std::move(f);
  return base::Status::ok();
}

base::Status Nemesis::inject_membership(Fault& f, bool leader_only) {
  std::optional<uint64_t> lead = leader_only ? leader() : std::nullopt;
  const uint64_t victim = lead ? *lead : pick(cluster_.member_ids(), 1)[0];
  cli::Client client(cluster_.client_addrs(), harness_client_options(rng_.next() | 1));
  auto r = client.call_leader(net::MemberRemove{victim});
  f.detail += fmt::format("remove n{}: {}", victim, r.is_ok() ? "ok" : r.status().to_string());
  if (!r.is_ok()) return base::Status::ok();
  cluster_.node(victim).member = false;
  f.removed = victim;
  // Kill the removed node only once a survivor leads: killed at once, it could take with it the
  // only copy of the commit index that makes the survivors apply the smaller configuration, and
  // two voters that still count it in their quorum never elect a leader again.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    const auto survivor = leader();
    if (survivor && *survivor != victim) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  cluster_.kill_node(victim);
  return base::Status::ok();
}

base::Status Nemesis::inject_power_loss(Fault& f, std::optional<uint64_t>) {
  const std::vector<uint64_t> ids = cluster_.member_ids();
  f.killed = f.name == "power-loss-all" ? ids : pick(ids, 1);
  // Kill them all before rolling any back: a coordinated power loss hits every node at once.
  for (uint64_t id : f.killed) cluster_.kill_node(id);
  f.detail += "killed " + ids_text(f.killed) + "; rolled back";
  for (uint64_t id : f.killed) {
    auto r = cluster_.roll_back_unsynced(id);
    if (!r.is_ok()) return r.status();
    f.detail += fmt::format(" n{}: {} files truncated, {} removed, {} bytes dropped;", id,
                            r->files_truncated, r->files_removed, r->bytes_dropped);
  }
  return base::Status::ok();
}

base::Status Nemesis::inject_clock(Fault& f, std::optional<uint64_t> lead) {
  const std::vector<uint64_t> ids = cluster_.member_ids();
  if (f.name == "clock-skew-leader") {
    const int64_t magnitude = static_cast<int64_t>(rng_.range(2000, 8000));
    f.skews.push_back(
        {lead ? *lead : pick(ids, 1)[0], rng_.chance(1, 2) ? magnitude : -magnitude, 1.0});
  } else {
    for (uint64_t id : ids) {
      if (f.name == "clock-skew-all")
        f.skews.push_back({id, static_cast<int64_t>(rng_.range(0, 16000)) - 8000, 1.0});
      else  // clock-drift: rates 0.5..2, half of the nodes slower, half faster
        f.skews.push_back({id, 0, rng_.chance(1, 2) ? 0.5 + 0.5 * rng_.unit() : 1 + rng_.unit()});
    }
  }
  for (const auto& s : f.skews) {
    RETURN_IF_ERROR(cluster_.set_clock(s.id, s.offset_ms, s.rate));
    f.detail += fmt::format("n{} offset_ms={} rate={:.2f}; ", s.id, s.offset_ms, s.rate);
    min_skew_ms_ = std::min(min_skew_ms_, s.offset_ms);
    max_skew_ms_ = std::max(max_skew_ms_, s.offset_ms);
  }
  return base::Status::ok();
}

// Clears every skew and widens the recorded spread by what the rates accumulated while held.
base::Status Nemesis::heal_clock(const Fault& f) {
  const double held_ms = static_cast<double>(recorder_.now_ns() - f.start_ns) / 1e6;
  base::Status status;
  for (const auto& s : f.skews) {
    const auto drifted = s.offset_ms + static_cast<int64_t>((s.rate - 1.0) * held_ms);
    min_skew_ms_ = std::min(min_skew_ms_, drifted);
    max_skew_ms_ = std::max(max_skew_ms_, drifted);
    if (auto st = cluster_.set_clock(s.id, 0, 1.0); !st.is_ok() && status.is_ok()) status = st;
  }
  return status;
}

base::Status Nemesis::heal_membership(const Fault& f) {
  if (f.removed == 0) return base::Status::ok();
  auto id = cluster_.allocate_node(cluster_.node(f.removed).client_addr);
  if (!id.is_ok()) return id.status();
  RETURN_IF_ERROR(cluster_.start_node(*id, /*join=*/true));
  const NodeInfo& info = cluster_.node(*id);
  cli::Client client(cluster_.client_addrs(), harness_client_options(rng_.next() | 1));
  // The add may race with an election right after the removal: retry for a while.
  base::Status last;
  for (int attempt = 0; attempt < 40; ++attempt) {
    auto r = client.call_leader(net::MemberAdd{*id, info.proxy_addr, info.client_addr});
    if (r.is_ok()) {
      cluster_.node(*id).member = true;
      return base::Status::ok();
    }
    last = r.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return base::Status(base::Code::kUnavailable,
                      fmt::format("could not add replacement n{}: {}", *id, last.to_string()));
}

base::Status Nemesis::heal() {
  if (!current_) return base::Status::ok();
  Fault f = std::move(*current_);
  current_.reset();
  proxy_.heal();
  for (uint64_t id : f.paused) cluster_.resume_node(id);
  base::Status status = heal_clock(f);
  if (auto s = cluster_.restart_stopped_members(); status.is_ok()) status = s;
  if (status.is_ok()) status = heal_membership(f);
  log_fault(f, recorder_.now_ns());
  return status;
}

void Nemesis::log_fault(const Fault& f, int64_t end_ns) {
  if (faults_file_ == nullptr) return;
  const Json line = Json::object({{"start_ns", Json::number(f.start_ns)},
                                  {"end_ns", Json::number(end_ns)},
                                  {"name", Json::string(f.name)},
                                  {"detail", Json::string(f.detail)}});
  const std::string text = line.serialize() + "\n";
  std::fputs(text.c_str(), faults_file_);
  std::fflush(faults_file_);
}

}  // namespace jepsen
