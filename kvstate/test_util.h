// Helpers shared by the kvstate tests: terse builders for commands.
#pragma once

#include <string>

#include "kvstate/command.h"
#include "kvstate/state_machine.h"

namespace kvstate::testing {

inline kvmodel::Mutation set(std::string key, std::string value, uint64_t expire_at_ms = 0) {
  kvmodel::Mutation m;
  m.kind = kvmodel::MutationKind::kSet;
  m.key = std::move(key);
  m.value = kvmodel::Value{kvmodel::ValueEncoding::kBytes, std::move(value)};
  m.expire_at_ms = expire_at_ms;
  return m;
}
inline kvmodel::Mutation del(std::string key) {
  kvmodel::Mutation m;
  m.kind = kvmodel::MutationKind::kDelete;
  m.key = std::move(key);
  return m;
}
inline kvmodel::Mutation rmw(kvmodel::MutationKind kind, std::string key, kvmodel::Value operand) {
  kvmodel::Mutation m;
  m.kind = kind;
  m.key = std::move(key);
  m.value = std::move(operand);
  return m;
}
inline kvmodel::AtomicWrite write_of(std::vector<kvmodel::Mutation> mutations,
                                     std::vector<kvmodel::Check> checks = {},
                                     uint64_t now_ms = 1000) {
  kvmodel::AtomicWrite w;
  w.now_ms = now_ms;
  w.mutations = std::move(mutations);
  w.checks = std::move(checks);
  return w;
}

// Applies commands with versionstamps (next_index, 0), (next_index + 1, 0), ...
class Driver {
 public:
  CommandResult apply(const Command& c) {
    return sm.apply(c, kvmodel::Versionstamp::of(next_index++, 0));
  }
  kvmodel::Versionstamp next_versionstamp() const {
    return kvmodel::Versionstamp::of(next_index, 0);
  }
  StateMachine sm;
  uint64_t next_index = 1;
};

}  // namespace kvstate::testing
