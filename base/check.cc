#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace base {

void fatal(std::string_view message, const char* file, int line) {
  std::fprintf(stderr, "fatal: %.*s (%s:%d)\n", static_cast<int>(message.size()), message.data(),
               file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace base
