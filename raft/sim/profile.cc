#include "raft/sim/profile.h"

#include <fmt/format.h>

#include <iterator>

namespace raft::sim {
namespace {

// Off, low or high: the three levels a swarm draws from for each knob.
uint32_t level(base::Rng& rng, uint32_t low, uint32_t high) {
  switch (rng.uniform(3)) {
    case 0:
      return 0;
    case 1:
      return low;
    default:
      return high;
  }
}

}  // namespace

bool SwarmProfile::faulty() const {
  return network.drop_per_mille > 0 || network.duplicate_per_mille > 0 ||
         network.long_delay_per_mille > 0 || crash_per_mille > 0 || partition_per_mille > 0 ||
         persist_delay_per_mille > 0 || disk_full_per_mille > 0 || wipe_per_mille > 0 ||
         truncate_per_mille > 0;
}

SwarmProfile draw_profile(base::Rng& rng) {
  SwarmProfile p;
  const bool calm = rng.chance(1, 8);
  p.network.delay_min_steps = rng.range(1, 2);
  p.network.delay_max_steps = p.network.delay_min_steps + rng.range(0, 8);
  if (!calm) {
    p.network.drop_per_mille = level(rng, 20, 150);
    p.network.duplicate_per_mille = level(rng, 20, 100);
    p.network.long_delay_per_mille = level(rng, 10, 60);
    p.network.long_delay_max_steps = rng.range(20, 120);
    p.crash_per_mille = level(rng, 2, 8);
    p.restart_delay_max_steps = rng.range(30, 300);
    p.partition_per_mille = level(rng, 3, 12);
    p.partition_max_steps = rng.range(60, 500);
    p.persist_delay_per_mille = level(rng, 100, 500);
    // Now and then a slow disk: one fsync takes up to 200 steps (kvd's loop waits for it; a
    // seed with inputs_while_persisting keeps stepping the node meanwhile).
    p.persist_delay_max_steps = rng.chance(1, 4) ? rng.range(50, 200) : rng.range(1, 25);
    p.disk_full_per_mille = level(rng, 1, 4);
    p.disk_full_max_steps = rng.range(5, 150);
    p.wipe_per_mille = level(rng, 1, 3);
    p.truncate_per_mille = level(rng, 1, 3);
    p.peers_learn_storage_loss = rng.chance(1, 2);
  }
  p.tick_per_mille = static_cast<uint32_t>(rng.range(150, 350));
  p.propose_per_mille = static_cast<uint32_t>(rng.range(20, 150));
  p.read_per_mille = level(rng, 20, 80);
  p.conf_change_per_mille = level(rng, 2, 8);
  p.transfer_per_mille = level(rng, 1, 5);
  p.snapshot_per_mille = level(rng, 3, 20);
  p.leader_sends_before_persist = rng.chance(1, 2);
  p.ready_after_batches = rng.chance(1, 2);
  p.inputs_while_persisting = rng.chance(1, 3);
  static constexpr uint64_t kAppendBytes[] = {1, 1, 64, 4096};
  p.max_append_bytes = kAppendBytes[rng.uniform(std::size(kAppendBytes))];
  static constexpr int kInflight[] = {1, 4, 64};
  p.max_inflight_appends = kInflight[rng.uniform(std::size(kInflight))];
  return p;
}

std::string SwarmProfile::describe() const {
  return fmt::format(
      "delay={}..{} drop={} dup={} long={}/{} crash={} partition={}/{} persist_delay={}/{} "
      "tick={} propose={} read={} conf={} transfer={} snapshot={} leader_early={} "
      "batched_readys={} inputs_while_persisting={} append_bytes={} inflight={} disk_full={}/{} "
      "wipe={} truncate={} "
      "peers_told={}",
      network.delay_min_steps, network.delay_max_steps, network.drop_per_mille,
      network.duplicate_per_mille, network.long_delay_per_mille, network.long_delay_max_steps,
      crash_per_mille, partition_per_mille, partition_max_steps, persist_delay_per_mille,
      persist_delay_max_steps, tick_per_mille, propose_per_mille, read_per_mille,
      conf_change_per_mille, transfer_per_mille, snapshot_per_mille, leader_sends_before_persist,
      ready_after_batches, inputs_while_persisting, max_append_bytes, max_inflight_appends,
      disk_full_per_mille, disk_full_max_steps, wipe_per_mille, truncate_per_mille,
      peers_learn_storage_loss);
}

}  // namespace raft::sim
