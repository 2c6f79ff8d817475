// The recorded history of a Jepsen-style run: one event per line in history.jsonl
// (format documented in jepsen_tests/HISTORY.md), plus pairing of invocations with completions.
//
// Events: every client operation is an `invoke` followed by exactly one completion from the
// same process: `ok` (happened, value = the result), `fail` (definitely had no effect), or
// `info` (unknown outcome: it may take effect at any time after its invocation, or never).
// A process runs one operation at a time. An invoke with no completion by the end of the
// history is treated as `info`.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace jepsen {

// Histories, check results and reports use base's JSON value (strict, exact numbers).
using base::Json;

enum class OpType { kInvoke, kOk, kFail, kInfo };
std::string_view op_type_name(OpType type);

// One line of history.jsonl.
struct Event {
  int64_t index = 0;  // position in the history, 0-based, strictly increasing
  OpType type = OpType::kInvoke;
  int64_t process = 0;  // client process id; one outstanding operation per process
  std::string node;     // node the client talked to ("" when not applicable)
  std::string f;        // operation name, per workload (HISTORY.md)
  Json value;           // argument (invoke) or result (completion), per workload
  int64_t time_ns = 0;  // harness CLOCK_MONOTONIC, one clock for the whole history
  int64_t wall_ms = 0;  // wall clock (Unix ms), for humans and wall-clock features
  Json extra;           // any other members (e.g. "error"), kept as an object or null
};
using History = std::vector<Event>;

// Strictly parses history.jsonl text (blank lines allowed). Errors name the line number.
base::Result<History> parse_history(std::string_view jsonl);
base::Result<History> read_history_file(const std::string& path);
// One JSON line, no trailing newline.
std::string format_event(const Event& event);
Json event_to_json(const Event& event);
base::Result<Event> event_from_json(const Json& json);

// Appends events to a history.jsonl file, assigning indexes in order. Thread-safe: many client
// threads may share one writer. Each line is written with one write() and flushed, so a crash
// of the harness leaves at most a torn last line.
class HistoryWriter {
 public:
  static base::Result<std::unique_ptr<HistoryWriter>> open(const std::string& path);
  ~HistoryWriter();
  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;

  // Sets event.index and writes it; returns the index.
  base::Result<int64_t> append(Event event);

 private:
  explicit HistoryWriter(int fd) : fd_(fd) {}
  std::mutex mu_;
  int fd_;
  int64_t next_index_ = 0;
};

// An invocation paired with its completion.
struct Operation {
  int64_t process = 0;
  std::string node;
  std::string f;
  OpType outcome = OpType::kInfo;  // kOk, kFail or kInfo (never kInvoke)
  Json invoke_value;
  Json value;  // completion value for ok/fail; the invoke value for info
  int64_t invoke_index = 0;
  int64_t complete_index = -1;  // -1 when the history ended with the op pending
  int64_t invoke_ns = 0;
  int64_t complete_ns = kNever;  // recorded completion time; kNever when pending at the end
  int64_t invoke_wall_ms = 0;

  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  bool ok() const { return outcome == OpType::kOk; }
  bool failed() const { return outcome == OpType::kFail; }
  bool indeterminate() const { return outcome == OpType::kInfo; }
  // The latest time the op can have taken effect: +inf for info ops.
  int64_t effect_deadline_ns() const { return ok() || failed() ? complete_ns : kNever; }
};

// Pairs events into operations, ordered by invocation. Errors on a completion without an
// outstanding invoke, an invoke while the process has one outstanding, or a completion whose
// f differs from its invoke, or a completion timed before its invoke. Events are taken in index
// order; time_ns need not be sorted across processes (threads race to record).
base::Result<std::vector<Operation>> pair_operations(const History& history);

// "p3 write {"key":"r1","value":4} -> ok [12.301 ms .. 12.412 ms]": for counterexamples.
std::string describe_operation(const Operation& op, int64_t origin_ns = 0);

}  // namespace jepsen
