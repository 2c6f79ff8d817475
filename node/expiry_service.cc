#include "node/expiry_service.h"

namespace node {

namespace {
// A sweep that neither applied nor failed within this long was lost: propose again.
constexpr std::chrono::seconds kProposalLost{3};
}  // namespace

void ExpiryService::poll(SteadyTime now) {
  if (!host_.serving_as_leader()) return;
  const uint64_t now_ms = host_.now_ms();
  auto next = host_.state().next_expiry();
  if (!next || *next > now_ms) return;
  if (sweep_proposed_at_ && *sweep_proposed_at_ + kProposalLost > now) return;
  sweep_proposed_at_ = now;
  host_.propose_command(kvstate::ExpirySweep{now_ms});
}

void ExpiryService::on_applied(const kvstate::Command& command) {
  if (std::holds_alternative<kvstate::ExpirySweep>(command)) sweep_proposed_at_.reset();
}

void ExpiryService::on_propose_failed(const kvstate::Command& command) {
  if (std::holds_alternative<kvstate::ExpirySweep>(command)) sweep_proposed_at_.reset();
}

}  // namespace node
