#include "jepsen_tests/nemesis.h"

#include <algorithm>
#include <map>
#include <thread>

#include "base/json.h"
#include "cli/client.h"
#include "jepsen_tests/workload.h"

namespace jepsen {

std::string_view fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kKillOne:
      return "kill-one";
    case FaultKind::kKillMinority:
      return "kill-minority";
    case FaultKind::kKillLeader:
      return "kill-leader";
    case FaultKind::kKillAll:
      return "kill-all";
    case FaultKind::kPauseLeader:
      return "pause-leader";
    case FaultKind::kPauseMinority:
      return "pause-minority";
    case FaultKind::kPartitionHalves:
      return "partition-halves";
    case FaultKind::kPartitionLeader:
      return "partition-leader";
    case FaultKind::kPartitionOne:
      return "partition-one";
    case FaultKind::kPartitionRing:
      return "partition-ring";
    case FaultKind::kPartitionBridge:
      return "partition-bridge";
    case FaultKind::kPartitionOneWay:
      return "partition-one-way";
    case FaultKind::kTransferLeader:
      return "transfer-leader";
    case FaultKind::kMemberReplace:
      return "member-replace";
    case FaultKind::kMemberReplaceLeader:
      return "member-replace-leader";
    case FaultKind::kPowerLossOne:
      return "power-loss-one";
    case FaultKind::kPowerLossAll:
      return "power-loss-all";
    case FaultKind::kClockSkewLeader:
      return "clock-skew-leader";
    case FaultKind::kClockSkewAll:
      return "clock-skew-all";
    case FaultKind::kClockDrift:
      return "clock-drift";
  }
  FATAL("FaultKind {} out of range", static_cast<int>(kind));
}

std::string_view fault_group_name(FaultGroup group) {
  switch (group) {
    case FaultGroup::kKill:
      return "kill";
    case FaultGroup::kPause:
      return "pause";
    case FaultGroup::kPartition:
      return "partition";
    case FaultGroup::kTransfer:
      return "transfer";
    case FaultGroup::kMembership:
      return "membership";
    case FaultGroup::kPowerLoss:
      return "power-loss";
    case FaultGroup::kClockSkew:
      return "clock-skew";
  }
  FATAL("FaultGroup {} out of range", static_cast<int>(group));
}

FaultGroup fault_group(FaultKind kind) {
  switch (kind) {
    case FaultKind::kKillOne:
    case FaultKind::kKillMinority:
    case FaultKind::kKillLeader:
    case FaultKind::kKillAll:
      return FaultGroup::kKill;
    case FaultKind::kPauseLeader:
    case FaultKind::kPauseMinority:
      return FaultGroup::kPause;
    case FaultKind::kPartitionHalves:
    case FaultKind::kPartitionLeader:
    case FaultKind::kPartitionOne:
    case FaultKind::kPartitionRing:
    case FaultKind::kPartitionBridge:
    case FaultKind::kPartitionOneWay:
      return FaultGroup::kPartition;
    case FaultKind::kTransferLeader:
      return FaultGroup::kTransfer;
    case FaultKind::kMemberReplace:
    case FaultKind::kMemberReplaceLeader:
      return FaultGroup::kMembership;
    case FaultKind::kPowerLossOne:
    case FaultKind::kPowerLossAll:
      return FaultGroup::kPowerLoss;
    case FaultKind::kClockSkewLeader:
    case FaultKind::kClockSkewAll:
    case FaultKind::kClockDrift:
      return FaultGroup::kClockSkew;
  }
  FATAL("FaultKind {} out of range", static_cast<int>(kind));
}

bool targets_leader(FaultKind kind) {
  switch (kind) {
    case FaultKind::kKillLeader:
    case FaultKind::kPauseLeader:
    case FaultKind::kPartitionLeader:
    case FaultKind::kPartitionOneWay:  // the leader's messages reach nobody
    case FaultKind::kMemberReplaceLeader:
    case FaultKind::kClockSkewLeader:
      return true;
    case FaultKind::kKillOne:
    case FaultKind::kKillMinority:
    case FaultKind::kKillAll:
    case FaultKind::kPauseMinority:
    case FaultKind::kPartitionHalves:
    case FaultKind::kPartitionOne:
    case FaultKind::kPartitionRing:
    case FaultKind::kPartitionBridge:
    case FaultKind::kTransferLeader:  // to a random voter
    case FaultKind::kMemberReplace:
    case FaultKind::kPowerLossOne:
    case FaultKind::kPowerLossAll:
    case FaultKind::kClockSkewAll:
    case FaultKind::kClockDrift:
      return false;
  }
  FATAL("FaultKind {} out of range", static_cast<int>(kind));
}

const std::vector<FaultKind>& all_fault_kinds() {
  static const std::vector<FaultKind> kinds = [] {
    std::vector<FaultKind> all;
    for (int k = 0; k <= static_cast<int>(FaultKind::kClockDrift); ++k)
      all.push_back(static_cast<FaultKind>(k));
    return all;
  }();
  return kinds;
}

namespace {

std::string valid_nemesis_names() {
  std::string names = "none, all";
  for (int g = 0; g <= static_cast<int>(FaultGroup::kClockSkew); ++g)
    names += fmt::format(", {}", fault_group_name(static_cast<FaultGroup>(g)));
  for (FaultKind k : all_fault_kinds()) names += fmt::format(", {}", fault_kind_name(k));
  return names;
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

base::Result<std::vector<FaultKind>> expand_nemesis_spec(const std::string& spec) {
  std::vector<FaultKind> out;
  const auto add = [&](FaultKind k) {
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  };
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string::npos) comma = spec.size();
    const std::string name = spec.substr(start, comma - start);
    start = comma + 1;
    if (name.empty() || name == "none") continue;
    bool known = false;
    for (FaultKind k : all_fault_kinds()) {
      if (name == "all" || name == fault_kind_name(k) || name == fault_group_name(fault_group(k))) {
        add(k);
        known = true;
      }
    }
    if (!known)
      return base::invalid_argument("unknown nemesis '{}' (valid: {})", name,
                                    valid_nemesis_names());
  }
  return out;
}

std::set<std::pair<uint64_t, uint64_t>> partition_links(FaultKind kind,
                                                        const std::vector<uint64_t>& ids,
                                                        std::optional<uint64_t> leader,
                                                        base::Rng& rng) {
  std::set<std::pair<uint64_t, uint64_t>> out;
  const size_t n = ids.size();
  if (n < 2 || fault_group(kind) != FaultGroup::kPartition) return out;
  std::vector<uint64_t> shuffled = ids;
  for (size_t i = n - 1; i > 0; --i) std::swap(shuffled[i], shuffled[rng.uniform(i + 1)]);
  const uint64_t target = leader.value_or(shuffled[0]);
  switch (kind) {
    case FaultKind::kPartitionHalves: {
      const auto half = static_cast<std::ptrdiff_t>(n / 2);
      cut(out, {shuffled.begin(), shuffled.begin() + half},
          {shuffled.begin() + half, shuffled.end()});
      break;
    }
    case FaultKind::kPartitionLeader:
    case FaultKind::kPartitionOne: {
      const uint64_t victim = kind == FaultKind::kPartitionLeader ? target : shuffled[0];
      std::vector<uint64_t> rest;
      for (uint64_t id : ids)
        if (id != victim) rest.push_back(id);
      cut(out, {victim}, rest);
      break;
    }
    case FaultKind::kPartitionRing: {
      // Majorities ring: each node keeps links to its ring neighbours within distance d, so
      // every node sees a majority but no two see the same one. With 3 nodes one link is cut.
      const size_t d = n / 2 > 1 ? n / 2 - 1 : 1;
      for (size_t i = 0; i < n; ++i)
        for (size_t j = i + 1; j < n; ++j) {
          const size_t dist = std::min(j - i, n - (j - i));
          if (dist > d || (n == 3 && i == 0 && j == 2)) cut(out, {shuffled[i]}, {shuffled[j]});
        }
      break;
    }
    case FaultKind::kPartitionBridge: {
      // Two halves that both still reach one bridge node.
      const auto half = static_cast<std::ptrdiff_t>((n - 1) / 2);
      cut(out, {shuffled.begin(), shuffled.begin() + half},
          {shuffled.begin() + half + 1, shuffled.end()});
      break;
    }
    case FaultKind::kPartitionOneWay:
      // The leader's messages reach nobody, while everyone else's still reach it.
      for (uint64_t id : ids)
        if (id != target) out.insert({target, id});
      break;
    case FaultKind::kKillOne:
    case FaultKind::kKillMinority:
    case FaultKind::kKillLeader:
    case FaultKind::kKillAll:
    case FaultKind::kPauseLeader:
    case FaultKind::kPauseMinority:
    case FaultKind::kTransferLeader:
    case FaultKind::kMemberReplace:
    case FaultKind::kMemberReplaceLeader:
    case FaultKind::kPowerLossOne:
    case FaultKind::kPowerLossAll:
    case FaultKind::kClockSkewLeader:
    case FaultKind::kClockSkewAll:
    case FaultKind::kClockDrift:
      break;  // not a partition: returned above
  }
  return out;
}

Nemesis::Nemesis(Cluster& cluster, PeerProxy& proxy, Recorder& recorder,
                 std::vector<FaultKind> kinds, uint64_t seed, std::FILE* faults_file)
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
  f.kind = kinds_[static_cast<size_t>(injected_) % kinds_.size()];
  f.start_ns = recorder_.now_ns();
  std::optional<uint64_t> lead = targets_leader(f.kind) ? leader() : std::nullopt;
  if (targets_leader(f.kind) && !lead) f.detail = "leader unknown, random node; ";
  RETURN_IF_ERROR(inject_kind(f, lead));
  ++injected_;
  current_ = std::move(f);
  return base::Status::ok();
}

// The dispatch over every kind: no default, so a new kind must be handled here to compile.
base::Status Nemesis::inject_kind(Fault& f, std::optional<uint64_t> lead) {
  switch (f.kind) {
    case FaultKind::kKillOne:
    case FaultKind::kKillMinority:
    case FaultKind::kKillLeader:
    case FaultKind::kKillAll:
      f.killed = process_targets(f.kind, lead);
      for (uint64_t id : f.killed) cluster_.kill_node(id);
      f.detail += "killed " + ids_text(f.killed);
      return base::Status::ok();
    case FaultKind::kPauseLeader:
    case FaultKind::kPauseMinority:
      f.paused = process_targets(f.kind, lead);
      for (uint64_t id : f.paused) cluster_.pause_node(id);
      f.detail += "paused " + ids_text(f.paused);
      return base::Status::ok();
    case FaultKind::kPartitionHalves:
    case FaultKind::kPartitionLeader:
    case FaultKind::kPartitionOne:
    case FaultKind::kPartitionRing:
    case FaultKind::kPartitionBridge:
    case FaultKind::kPartitionOneWay: {
      auto links = partition_links(f.kind, cluster_.member_ids(), lead, rng_);
      f.detail += "cut";
      for (const auto& [from, to] : links) f.detail += fmt::format(" n{}->n{}", from, to);
      proxy_.set_blocked(std::move(links));
      return base::Status::ok();
    }
    case FaultKind::kTransferLeader:
      inject_transfer(f);
      return base::Status::ok();
    case FaultKind::kMemberReplace:
      return inject_membership(f, /*leader_only=*/false);
    case FaultKind::kMemberReplaceLeader:
      return inject_membership(f, /*leader_only=*/true);
    case FaultKind::kPowerLossOne:
    case FaultKind::kPowerLossAll:
      return inject_power_loss(f, lead);
    case FaultKind::kClockSkewLeader:
    case FaultKind::kClockSkewAll:
    case FaultKind::kClockDrift:
      return inject_clock(f, lead);
  }
  FATAL("FaultKind {} out of range", static_cast<int>(f.kind));
}

// Which members a kill or pause hits: the leader (a random member when none is known), a random
// minority, one random member, or all.
std::vector<uint64_t> Nemesis::process_targets(FaultKind kind, std::optional<uint64_t> lead) {
  const std::vector<uint64_t> ids = cluster_.member_ids();
  if (kind == FaultKind::kKillAll) return ids;
  if (kind == FaultKind::kKillMinority || kind == FaultKind::kPauseMinority)
    return pick(ids, (ids.size() - 1) / 2);
  if (lead) return {*lead};
  return pick(ids, 1);
}

void Nemesis::inject_transfer(Fault& f) {
  const std::vector<uint64_t> to = pick(cluster_.member_ids(), 1);
  cli::Client client(cluster_.client_addrs(), harness_client_options(rng_.next() | 1));
  auto r = client.call_leader(net::LeaderTransfer{to[0]});
  f.detail += fmt::format("to n{}: {}", to[0], r.is_ok() ? "ok" : r.status().to_string());
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
  f.killed = f.kind == FaultKind::kPowerLossAll ? ids : pick(ids, 1);
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
  if (f.kind == FaultKind::kClockSkewLeader) {
    const int64_t magnitude = static_cast<int64_t>(rng_.range(2000, 8000));
    f.skews.push_back(
        {lead ? *lead : pick(ids, 1)[0], rng_.chance(1, 2) ? magnitude : -magnitude, 1.0});
  } else {
    for (uint64_t id : ids) {
      if (f.kind == FaultKind::kClockSkewAll)
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

// Starts a replacement for the removed voter and adds it; the fault's detail names it.
base::Status Nemesis::heal_membership(Fault& f) {
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
      f.detail += fmt::format("; replaced by n{}", *id);
      return base::Status::ok();
    }
    last = r.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  f.detail += fmt::format("; replacement n{} not added: {}", *id, last.to_string());
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
                                  {"name", Json::string(std::string(fault_kind_name(f.kind)))},
                                  {"detail", Json::string(f.detail)}});
  const std::string text = line.serialize() + "\n";
  std::fputs(text.c_str(), faults_file_);
  std::fflush(faults_file_);
}

}  // namespace jepsen
