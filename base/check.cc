#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace base {

namespace {
FatalHook fatal_hook = nullptr;
}  // namespace

FatalHook set_fatal_hook(FatalHook hook) {
  FatalHook previous = fatal_hook;
  fatal_hook = hook;
  return previous;
}

void fatal(std::string_view message, const char* file, int line) {
  if (fatal_hook != nullptr) fatal_hook(message, file, line);
  std::fprintf(stderr, "fatal: %.*s (%s:%d)\n", static_cast<int>(message.size()), message.data(),
               file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace base
