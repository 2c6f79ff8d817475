// Assertions that stay on in release builds. A broken invariant, or a failed write or fsync,
// stops the process: continuing would risk acknowledging data we do not have.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace base {

// Prints "fatal: <message> (file:line)" to stderr and aborts. Never returns.
[[noreturn]] void fatal(std::string_view message, const char* file, int line);

// A test harness (the Raft simulator) may install a hook that fatal() calls first. A hook that
// throws turns a broken invariant into a reportable finding ("reproduce with --seed N") instead
// of a dead process; a hook that returns changes nothing (fatal still aborts). Install it once,
// before any other thread exists. Returns the previous hook (nullptr: none).
using FatalHook = void (*)(std::string_view message, const char* file, int line);
FatalHook set_fatal_hook(FatalHook hook);

}  // namespace base

// ENSURE(cond) aborts with the condition's text when cond is false, in every build type.
#define ENSURE(cond)                                                      \
  do {                                                                   \
    if (!(cond)) [[unlikely]]                                            \
      ::base::fatal("check failed: " #cond, __FILE__, __LINE__);         \
  } while (0)

// ENSURE_MSG(cond, fmt, args...) adds a formatted explanation.
#define ENSURE_MSG(cond, ...)                                                                  \
  do {                                                                                        \
    if (!(cond)) [[unlikely]]                                                                 \
      ::base::fatal(fmt::format("check failed: " #cond ": {}", fmt::format(__VA_ARGS__)),     \
                    __FILE__, __LINE__);                                                      \
  } while (0)

#define FATAL(...) ::base::fatal(fmt::format(__VA_ARGS__), __FILE__, __LINE__)
