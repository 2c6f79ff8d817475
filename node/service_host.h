// What the leader's services (watch hub, queue service, expiry service) may see and do.
// They act ONLY by proposing commands (DESIGN.md "node"); every replica then applies the same
// entries. Node implements this; every call happens on the node thread.
#pragma once

#include <cstdint>
#include <functional>

#include "kvstate/command.h"
#include "kvstate/state_machine.h"
#include "net/client_types.h"
#include "raft/types.h"

namespace node {

class ServiceHost {
 public:
  virtual const kvstate::StateMachine& state() const = 0;
  virtual raft::Index applied_index() const = 0;
  virtual bool is_leader() const = 0;
  // True on a leader that has applied the first entry of its own term: from then on its
  // applied state contains every entry any earlier leader acknowledged or served from, so
  // what a service reads from it never goes back in time.
  virtual bool serving_as_leader() const = 0;
  // Adds a command to the next proposal (group commit). The service learns the outcome when
  // the entry applies; a command lost in a leader change is simply never applied.
  virtual void propose_command(kvstate::Command command) = 0;
  // "Not the leader" with a leader hint when one is known.
  virtual net::Error not_leader_error() const = 0;
  // Calls `confirmed` once a ReadIndex round that started after this call has confirmed this
  // node's leadership and the state has applied up to that round's index: from then on the
  // state holds every write acknowledged before the call. If no round confirms it in time,
  // `failed` gets the error instead. Exactly one of the two is called, on the node thread.
  virtual void read_barrier(std::function<void()> confirmed,
                            std::function<void(net::Error)> failed) = 0;
  // The leader's clock for proposals, never behind the replicated clock (ms since the epoch).
  virtual uint64_t now_ms() const = 0;

 protected:
  ~ServiceHost() = default;
};

}  // namespace node
