// The nemesis: injects one fault at a time into a running cluster and heals it.
//
// Fault kinds (`--nemesis` takes a comma list of kinds or groups):
//   kill      kill-one, kill-minority, kill-leader, kill-all      SIGKILL; heal = restart
//   pause     pause-leader, pause-minority                        SIGSTOP; heal = SIGCONT
//   partition partition-halves, partition-leader, partition-one,  PeerProxy cuts links;
//             partition-ring, partition-bridge, partition-one-way heal = reconnect all
//   transfer  transfer-leader                                     LeaderTransfer to a random voter
//   membership member-replace, member-replace-leader              MemberRemove a voter (the
//             leader for -leader) and kill it; heal = start a fresh node with --join (on the
//             removed node's client address, which clients know) and MemberAdd
//   power-loss power-loss-one, power-loss-all                    SIGKILL, then the node's data
//             dir rolled back to what was last fsynced (kvd --test-sync-journal); heal = restart
//   clock-skew clock-skew-leader, clock-skew-all, clock-drift     kvd --test-clock-file: the
//             leader's clock jumps +-2..8 s / every node's by -8..+8 s / every node's clock
//             runs at rate 0.5..2; heal = offset 0, rate 1
//   all       every kind above; none: no faults (the control run)
// power-loss and clock-skew need a test build of kvd (Cluster's sync_journal / clock_files).
// Every fault period is appended to faults.jsonl ({"start_ns","end_ns","name","detail"}) on the
// recorder's clock when it is healed, and listed by in_force() meanwhile.
// Thread-safety: none; the harness main thread drives it (it forks kvd processes).
#pragma once

#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/rng.h"
#include "base/status.h"
#include "jepsen_tests/cluster.h"
#include "jepsen_tests/peer_proxy.h"
#include "jepsen_tests/recorder.h"

namespace jepsen {

// The fault kinds. Dispatch is a switch over this enum with no default, so a new kind that is
// not handled everywhere does not compile. Names as in --nemesis: kill-one, ..., clock-drift.
enum class FaultKind {
  kKillOne,
  kKillMinority,
  kKillLeader,
  kKillAll,
  kPauseLeader,
  kPauseMinority,
  kPartitionHalves,
  kPartitionLeader,
  kPartitionOne,
  kPartitionRing,
  kPartitionBridge,
  kPartitionOneWay,
  kTransferLeader,
  kMemberReplace,
  kMemberReplaceLeader,
  kPowerLossOne,
  kPowerLossAll,
  kClockSkewLeader,
  kClockSkewAll,
  kClockDrift,  // the last kind: all_fault_kinds() counts up to it
};
// The groups --nemesis accepts besides single kinds (kill, pause, partition, transfer,
// membership, power-loss, clock-skew).
enum class FaultGroup { kKill, kPause, kPartition, kTransfer, kMembership, kPowerLoss, kClockSkew };

std::string_view fault_kind_name(FaultKind kind);
std::string_view fault_group_name(FaultGroup group);
FaultGroup fault_group(FaultKind kind);
// Whether the fault is aimed at the current leader (when one is known).
bool targets_leader(FaultKind kind);
const std::vector<FaultKind>& all_fault_kinds();  // in declaration order
// Expands a --nemesis spec (comma list of kinds, groups, "all", "none") into kinds without
// repeats, in spec order; an unknown name is an error that lists every valid name.
base::Result<std::vector<FaultKind>> expand_nemesis_spec(const std::string& spec);

// Directed links the fault blocks, for member ids `ids` (sorted) and `leader` (if known): empty
// for a kind that is not a partition. Pure, for tests.
std::set<std::pair<uint64_t, uint64_t>> partition_links(FaultKind kind,
                                                        const std::vector<uint64_t>& ids,
                                                        std::optional<uint64_t> leader,
                                                        base::Rng& rng);

class Nemesis {
 public:
  Nemesis(Cluster& cluster, PeerProxy& proxy, Recorder& recorder, std::vector<FaultKind> kinds,
          uint64_t seed, std::FILE* faults_file);

  bool enabled() const { return !kinds_.empty(); }
  // Injects one fault: the enabled kinds in a seeded shuffled order, round robin. A fault that
  // cannot apply right now (no leader known for kill-leader, ...) falls back to its non-leader
  // form.
  base::Status inject();
  // Ends the fault in force (no-op when none).
  base::Status heal();
  std::string in_force() const {
    return current_ ? std::string(fault_kind_name(current_->kind)) : "";
  }
  int injected() const { return injected_; }
  // The widest spread between two clock skews (ms) any node had at any time of the run, 0
  // included (an unskewed node). Bounds how early a timer set on one leader's clock can fire
  // on another's: the queue checker's delay tolerance under clock-skew.
  int64_t clock_skew_spread_ms() const { return max_skew_ms_ - min_skew_ms_; }

 private:
  struct Fault {
    FaultKind kind = FaultKind::kKillOne;
    std::string detail;
    int64_t start_ns = 0;
    std::vector<uint64_t> killed, paused;
    uint64_t removed = 0;  // membership: the voter removed
    struct Skew {
      uint64_t id;
      int64_t offset_ms;
      double rate;
    };
    std::vector<Skew> skews;  // clock-skew: what each skewed node got
  };
  std::vector<uint64_t> pick(std::vector<uint64_t> ids, size_t count);
  std::optional<uint64_t> leader();
  base::Status inject_kind(Fault& fault, std::optional<uint64_t> leader);
  std::vector<uint64_t> process_targets(FaultKind kind, std::optional<uint64_t> leader);
  void inject_transfer(Fault& fault);
  base::Status inject_membership(Fault& fault, bool leader_only);
  base::Status heal_membership(Fault& fault);
  base::Status inject_power_loss(Fault& fault, std::optional<uint64_t> leader);
  base::Status inject_clock(Fault& fault, std::optional<uint64_t> leader);
  base::Status heal_clock(const Fault& fault);
  void log_fault(const Fault& fault, int64_t end_ns);

  Cluster& cluster_;
  PeerProxy& proxy_;
  Recorder& recorder_;
  std::vector<FaultKind> kinds_;
  base::Rng rng_;
  std::FILE* faults_file_;
  std::optional<Fault> current_;
  int injected_ = 0;
  int64_t min_skew_ms_ = 0, max_skew_ms_ = 0;
};

}  // namespace jepsen
