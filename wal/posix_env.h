// The real Env: POSIX calls (pwrite, pread, fdatasync, fallocate, rename, fsync of a
// directory). Errors carry the operation, the path and strerror.
#pragma once

#include "wal/env.h"

namespace wal {

// The process-wide POSIX environment (stateless; safe to share).
Env& posix_env();

}  // namespace wal
