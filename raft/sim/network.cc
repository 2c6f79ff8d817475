#include "raft/sim/network.h"

#include <algorithm>

namespace raft::sim {

uint64_t Network::draw_delay(base::Rng& rng) const {
  if (faults_.long_delay_per_mille > 0 && rng.chance(faults_.long_delay_per_mille, 1000)) {
    return rng.range(faults_.delay_max_steps,
                     std::max(faults_.delay_max_steps, faults_.long_delay_max_steps));
  }
  return rng.range(faults_.delay_min_steps,
                   std::max(faults_.delay_min_steps, faults_.delay_max_steps));
}

void Network::send(Message message, uint64_t now_step, base::Rng& rng) {
  ++counters_.sent;
  if (faults_.drop_per_mille > 0 && rng.chance(faults_.drop_per_mille, 1000)) {
    ++counters_.dropped;
    return;
  }
  if (faults_.duplicate_per_mille > 0 && rng.chance(faults_.duplicate_per_mille, 1000)) {
    ++counters_.duplicated;
    in_flight_.push_back({now_step + draw_delay(rng), next_sequence_++, message});
  }
  in_flight_.push_back({now_step + draw_delay(rng), next_sequence_++, std::move(message)});
}

void Network::drop_involving(NodeId node) {
  counters_.lost_with_node += std::erase_if(in_flight_, [&](const InFlight& f) {
    return f.message.from == node || f.message.to == node;
  });
}

void Network::hold(Message message, uint64_t due_step) {
  --counters_.delivered;
  in_flight_.push_back({due_step, next_sequence_++, std::move(message)});
}

std::vector<Message> Network::take_due(uint64_t now_step, base::Rng& rng,
                                       const std::function<Receiver(NodeId)>& receiver) {
  std::vector<InFlight> due;
  std::vector<InFlight> keep;
  keep.reserve(in_flight_.size());
  for (InFlight& f : in_flight_) {
    if (f.due_step > now_step) {
      keep.push_back(std::move(f));
      continue;
    }
    if (is_cut(f.message.from, f.message.to)) {
      ++counters_.cut;
      continue;
    }
    switch (receiver(f.message.to)) {
      case Receiver::kReady:
        due.push_back(std::move(f));
        break;
      case Receiver::kBusy:
        keep.push_back(std::move(f));
        break;
      case Receiver::kDown:
        ++counters_.to_down_node;
        break;
    }
  }
  in_flight_ = std::move(keep);
  // Deterministic order first (send order), then a seeded shuffle: reordering among messages
  // due together.
  std::sort(due.begin(), due.end(),
            [](const InFlight& a, const InFlight& b) { return a.sequence < b.sequence; });
  for (size_t i = due.size(); i > 1; --i) std::swap(due[i - 1], due[rng.uniform(i)]);
  std::vector<Message> out;
  out.reserve(due.size());
  for (InFlight& f : due) out.push_back(std::move(f.message));
  counters_.delivered += out.size();
  return out;
}

}  // namespace raft::sim
