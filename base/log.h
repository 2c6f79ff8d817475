// Structured logs on stderr, one line per event, logfmt style:
//   ts=2026-11-26T10:21:49.123Z level=info msg="became leader" term=5 node=1
// Thread-safe (one mutex around the write). The process-wide prefix (e.g. "node=1") is set once
// at startup with set_log_prefix().
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace base {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
void set_log_prefix(std::string prefix);
// Writes one line; `fields` is already formatted as ` key=value key=value`.
void log_line(LogLevel level, std::string_view message, std::string_view fields);

// Quotes a value when it contains spaces, quotes or '=' (logfmt).
std::string log_quote(std::string_view value);

}  // namespace base

// LOG(kInfo, "became leader", "term={} node={}", term, id)
#define LOG(level, message, ...)                                                        \
  do {                                                                                  \
    if (::base::log_enabled(::base::LogLevel::level))                                   \
      ::base::log_line(::base::LogLevel::level, message, fmt::format(" " __VA_ARGS__)); \
  } while (0)
