#include "base/status.h"

namespace base {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kNotFound:
      return "not found";
    case Code::kCorruption:
      return "corruption";
    case Code::kNotLeader:
      return "not leader";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kTimeout:
      return "timeout";
    case Code::kUnknownOutcome:
      return "unknown outcome";
    case Code::kIoError:
      return "I/O error";
    case Code::kInternal:
      return "internal error";
    case Code::kResourceExhausted:
      return "resource exhausted";
  }
  return "unknown code";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return fmt::format("{}: {}", code_name(code_), message_);
}

}  // namespace base
