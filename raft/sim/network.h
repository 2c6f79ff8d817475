// The simulated network: every message sent is held in flight with a delivery step drawn from
// the seed's fault profile, may be dropped or duplicated, and is delivered in a random order
// among those due. Links can be cut one way (A cannot reach B) or both ways; a message whose
// link is cut when it falls due is lost, as on a real partitioned network.
//
// Time is the simulator's step counter. Deterministic: all randomness comes from the Rng the
// caller passes. Not thread-safe (nothing in the simulator is).
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <utility>
#include <vector>

#include "base/rng.h"
#include "raft/types.h"

namespace raft::sim {

struct NetworkFaults {
  uint32_t drop_per_mille = 0;       // each message is lost with this probability
  uint32_t duplicate_per_mille = 0;  // each message is delivered twice (independent delays)
  uint64_t delay_min_steps = 1;      // delivery delay, uniform in [min, max]
  uint64_t delay_max_steps = 1;
  uint32_t long_delay_per_mille = 0;  // a few messages take much longer (reordering)
  uint64_t long_delay_max_steps = 1;
};

// What the receiver can do with a due message right now.
enum class Receiver : uint8_t {
  kReady,  // deliver it
  kBusy,   // keep it in flight (the node is persisting a Ready)
  kDown,   // crashed or gone: the message is lost
};

struct NetworkCounters {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t dropped = 0;  // by the drop probability
  uint64_t duplicated = 0;
  uint64_t cut = 0;  // lost to a partition
  uint64_t to_down_node = 0;
  uint64_t lost_with_node = 0;  // by drop_involving()
};

class Network {
 public:
  void set_faults(const NetworkFaults& faults) { faults_ = faults; }
  const NetworkFaults& faults() const { return faults_; }

  void send(Message message, uint64_t now_step, base::Rng& rng);
  // Puts back a message taken by take_due() that could not be delivered after all (its
  // receiver became busy with an earlier message of the same batch). No faults apply again.
  void hold(Message message, uint64_t due_step);

  // Messages due at or before now_step whose receiver is ready, in a random order. Messages to
  // a busy receiver stay; messages on a cut link or to a down receiver are discarded.
  std::vector<Message> take_due(uint64_t now_step, base::Rng& rng,
                                const std::function<Receiver(NodeId)>& receiver);

  // A node's storage fault came with the death of its connections: what is in flight to or
  // from it is lost (its next life hears nothing its previous life sent or was sent).
  void drop_involving(NodeId node);

  void cut(NodeId from, NodeId to) { cut_links_.insert({from, to}); }
  void cut_both(NodeId a, NodeId b) {
    cut(a, b);
    cut(b, a);
  }
  bool is_cut(NodeId from, NodeId to) const { return cut_links_.count({from, to}) > 0; }
  void heal_all() { cut_links_.clear(); }
  size_t cut_link_count() const { return cut_links_.size(); }

  size_t in_flight() const { return in_flight_.size(); }
  const NetworkCounters& counters() const { return counters_; }

 private:
  struct InFlight {
    uint64_t due_step;
    uint64_t sequence;  // send order, to make the shuffle deterministic
    Message message;
  };
  uint64_t draw_delay(base::Rng& rng) const;

  NetworkFaults faults_;
  std::vector<InFlight> in_flight_;
  std::set<std::pair<NodeId, NodeId>> cut_links_;
  uint64_t next_sequence_ = 0;
  NetworkCounters counters_;
};

}  // namespace raft::sim
