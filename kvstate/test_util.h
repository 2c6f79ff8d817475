// Helpers shared by the kvstate tests: terse builders for commands.
#pragma once

#include <string>

#include "kvstate/command.h"
#include "kvstate/state_machine.h"

namespace kvstate::testing {

inline Mutation set(std::string key, std::string value, uint64_t expire_at_ms = 0) {
  Mutation m;
  m.kind = MutationKind::kSet;
  m.key = std::move(key);
  m.value = Value{ValueEncoding::kBytes, std::move(value)};
  m.expire_at_ms = expire_at_ms;
  return m;
}
inline Mutation del(std::string key) {
  Mutation m;
  m.kind = MutationKind::kDelete;
  m.key = std::move(key);
  return m;
}
inline Mutation rmw(MutationKind kind, std::string key, Value operand) {
  Mutation m;
  m.kind = kind;
  m.key = std::move(key);
  m.value = std::move(operand);
  return m;
}
inline AtomicWrite write_of(std::vector<Mutation> mutations, std::vector<Check> checks = {},
                            uint64_t now_ms = 1000) {
  AtomicWrite w;
  w.now_ms = now_ms;
  w.mutations = std::move(mutations);
  w.checks = std::move(checks);
  return w;
}

// Applies commands with versionstamps (next_index, 0), (next_index + 1, 0), ...
class Driver {
 public:
  CommandResult apply(const Command& c) { return sm.apply(c, Versionstamp::of(next_index++, 0)); }
  Versionstamp next_versionstamp() const { return Versionstamp::of(next_index, 0); }
  StateMachine sm;
  uint64_t next_index = 1;
};

}  // namespace kvstate::testing
