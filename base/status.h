// Expected failures are values: Status carries an error code and a message for the user;
// Result<T> is a T or a Status. No exceptions cross module boundaries.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>
#include <utility>

#include "base/check.h"

namespace base {

enum class Code {
  kOk = 0,
  kInvalidArgument,    // the caller's input is wrong (bad key, limit exceeded, wrong type)
  kNotFound,           // the thing asked for does not exist
  kCorruption,         // stored or received bytes fail a checksum or do not parse
  kNotLeader,          // this node cannot serve the request; try the leader
  kUnavailable,        // transient: no quorum, connection refused, shutting down
  kTimeout,            // no answer in time; the outcome may be unknown
  kUnknownOutcome,     // a write was sent but its outcome could not be learned
  kIoError,            // the operating system refused an I/O operation
  kInternal,           // a bug
  kResourceExhausted,  // out of a resource that may come back: the disk is full (ENOSPC, EDQUOT)
};
inline constexpr Code kLastCode = Code::kResourceExhausted;  // codes are numbered 0..kLastCode

std::string_view code_name(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  bool is_ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: Key too large for write (max 2048 bytes)"
  std::string to_string() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename... Args>
Status invalid_argument(fmt::format_string<Args...> f, Args&&... args) {
  return Status(Code::kInvalidArgument, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status corruption(fmt::format_string<Args...> f, Args&&... args) {
  return Status(Code::kCorruption, fmt::format(f, std::forward<Args>(args)...));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    ENSURE_MSG(!status_.is_ok(), "a Result built from a Status must carry an error");
  }

  bool is_ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & {
    ENSURE_MSG(is_ok(), "value() on an error Result: {}", status_.to_string());
    return *value_;
  }
  const T& value() const& {
    ENSURE_MSG(is_ok(), "value() on an error Result: {}", status_.to_string());
    return *value_;
  }
  T&& value() && {
    ENSURE_MSG(is_ok(), "value() on an error Result: {}", status_.to_string());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace base

// Returns early with the error of a Status-returning expression.
#define RETURN_IF_ERROR(expr)                     \
  do {                                            \
    ::base::Status status_tmp_ = (expr);          \
    if (!status_tmp_.is_ok()) return status_tmp_; \
  } while (0)
