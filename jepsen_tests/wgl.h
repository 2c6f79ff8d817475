// Linearizability search for one register (one key): Wing & Gong's depth-first search over
// the time-ordered call/return list with Lowe's memoisation of (linearized set, model state),
// as in Porcupine's checkSingle.
//
// Model: a register holding a value id (0 = absent). Values are interned by the caller, so the
// model state is one int32 and configurations compare cheaply. Operations:
//   read  -> out:  legal iff state == out
//   write v:       state := v
//   cas e -> n:    legal iff state == e, then state := n. An indeterminate cas whose check
//                  does not hold is a legal no-op (it may equally never have happened).
// Indeterminate (info) ops have no return event: they may be linearized at any time after
// their call, or never. The search succeeds once every determinate op is linearized.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace jepsen {

enum class RegisterOpKind : uint8_t { kRead, kWrite, kCas };

struct RegisterOp {
  RegisterOpKind kind = RegisterOpKind::kRead;
  int32_t value = 0;           // read: the value returned; write: the value written; cas: new value
  int32_t expected = 0;        // cas only
  bool indeterminate = false;  // info: no return, may take effect any time after call_ns
  int64_t call_ns = 0;
  int64_t return_ns = 0;  // ignored when indeterminate
  int64_t source = 0;     // caller's id for reporting (e.g. an index into its op list)
};

struct WglBudget {
  int64_t time_ms = 10'000;                // wall-clock cap for this search
  int64_t max_configurations = 4'000'000;  // memoised configurations cap
};

enum class WglVerdict { kLinearizable, kNotLinearizable, kGaveUp };

struct WglResult {
  WglVerdict verdict = WglVerdict::kLinearizable;
  int64_t configurations = 0;  // distinct (linearized set, state) pairs visited
  int64_t steps = 0;
  // When not linearizable: the deepest point the search reached.
  int64_t linearized_max = 0;             // most ops linearized at once
  int32_t stuck_op = -1;                  // op whose return could not be passed there
  std::vector<int32_t> states_at_stuck;   // model states seen at that depth (deduplicated)
  std::vector<int32_t> last_linearized;   // up to 8 ops linearized last, in order
  std::vector<int32_t> pending_at_stuck;  // ops called before stuck's return, not linearized
};

// Initial state: value id `initial` (0 = absent). ops may be in any order.
WglResult check_linearizable(const std::vector<RegisterOp>& ops, int32_t initial,
                             const WglBudget& budget);

}  // namespace jepsen
