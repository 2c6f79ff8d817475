// ExpiryService: the leader deletes expired keys (spec §8) by proposing ExpirySweep{now} once
// next_expiry() <= now, `now` being the leader's clock carried in the entry (kvstate's
// replicated clock never goes back). The sweep is a versioned write: its changed keys wake
// watchers like any other write. A sweep deletes at most kSweepKeysMax keys; the next poll
// proposes another while expired keys remain. Single-threaded (node thread).
#pragma once

#include <chrono>
#include <optional>

#include "kvstate/command.h"
#include "node/service_host.h"

namespace node {

class ExpiryService {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  explicit ExpiryService(ServiceHost& host) : host_(host) {}

  void poll(SteadyTime now);
  void on_applied(const kvstate::Command& command);
  void on_propose_failed(const kvstate::Command& command);
  void reset() { sweep_proposed_at_.reset(); }  // leadership lost

 private:
  ServiceHost& host_;
  std::optional<SteadyTime> sweep_proposed_at_;  // one sweep in flight at a time
};

}  // namespace node
