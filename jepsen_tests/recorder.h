// Records client operations into history.jsonl as they happen (HISTORY.md): one clock
// (CLOCK_MONOTONIC, ns since the run's origin) for real-time order, plus wall-clock ms.
//
// Outcome mapping from the client library: ok -> "ok"; a definite failure (check failed,
// kUnavailable = never reached a node, invalid argument) -> "fail"; anything that may have
// been applied (kUnknownOutcome, timeouts) -> "info". Reads are never "info" in effect: a read
// without an answer is recorded as "fail" (it had no effect and observed nothing).
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "jepsen_tests/history.h"

namespace jepsen {

class Recorder {
 public:
  explicit Recorder(std::unique_ptr<HistoryWriter> writer);

  int64_t now_ns() const;  // ns since construction, monotonic
  static int64_t wall_ms();

  void invoke(int64_t process, const std::string& node, const std::string& f, Json value);
  // type must be kOk, kFail or kInfo. `error` (if not empty) goes into the event's "error".
  void complete(int64_t process, const std::string& node, const std::string& f, OpType type,
                Json value, const std::string& error = "");

  // Live counters for the progress line.
  uint64_t completed() const { return ok_ + fail_ + info_; }
  uint64_t ok() const { return ok_; }
  uint64_t failed() const { return fail_; }
  uint64_t info() const { return info_; }
  // The first write error (the disk filled up, ...): a harness error, not a verdict.
  base::Status status() const;

 private:
  void write(Event event);

  std::unique_ptr<HistoryWriter> writer_;
  std::chrono::steady_clock::time_point origin_;
  std::atomic<uint64_t> ok_{0}, fail_{0}, info_{0};
  mutable std::mutex mu_;
  base::Status status_;
};

// The outcome class of a client-library error.
OpType outcome_of_write_error(const base::Status& status);

}  // namespace jepsen
