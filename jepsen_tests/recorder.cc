#include "jepsen_tests/recorder.h"

#include "base/check.h"

namespace jepsen {

Recorder::Recorder(std::unique_ptr<HistoryWriter> writer)
    : writer_(std::move(writer)), origin_(std::chrono::steady_clock::now()) {}

int64_t Recorder::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              origin_)
      .count();
}

int64_t Recorder::wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Recorder::write(Event event) {
  auto written = writer_->append(std::move(event));
  if (!written.is_ok()) {
    std::lock_guard lock(mu_);
    if (status_.is_ok()) status_ = written.status();
  }
}

base::Status Recorder::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void Recorder::invoke(int64_t process, const std::string& node, const std::string& f, Json value) {
  Event e;
  e.type = OpType::kInvoke;
  e.process = process;
  e.node = node;
  e.f = f;
  e.value = std::move(value);
  e.time_ns = now_ns();
  e.wall_ms = wall_ms();
  write(std::move(e));
}

void Recorder::complete(int64_t process, const std::string& node, const std::string& f, OpType type,
                        Json value, const std::string& error) {
  ENSURE(type != OpType::kInvoke);
  Event e;
  e.type = type;
  e.process = process;
  e.node = node;
  e.f = f;
  e.value = std::move(value);
  e.time_ns = now_ns();
  e.wall_ms = wall_ms();
  if (!error.empty()) e.extra = Json::object({{"error", Json::string(error)}});
  (type == OpType::kOk ? ok_ : type == OpType::kFail ? fail_ : info_)++;
  write(std::move(e));
}

OpType outcome_of_write_error(const base::Status& status) {
  switch (status.code()) {
    case base::Code::kInvalidArgument:  // rejected before sending
    case base::Code::kNotLeader:        // refused, never proposed
    case base::Code::kUnavailable:      // the library proved it never reached a node
      return OpType::kFail;
    // Anything else may have been applied: the outcome is indeterminate.
    case base::Code::kOk:
    case base::Code::kNotFound:
    case base::Code::kCorruption:
    case base::Code::kTimeout:
    case base::Code::kUnknownOutcome:
    case base::Code::kIoError:
    case base::Code::kInternal:
    case base::Code::kResourceExhausted:
      return OpType::kInfo;
  }
  return OpType::kInfo;  // not an enumerator: cannot happen
}

}  // namespace jepsen
