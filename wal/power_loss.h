// Test-only: simulate a power loss on a real data directory written through SyncJournalEnv
// (sync_journal.h, journal format SYNC_JOURNAL.md). The Jepsen harness calls it after kill -9
// and before restarting the node.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace wal {

struct RollbackReport {
  uint64_t files_truncated = 0, files_removed = 0, bytes_dropped = 0;
};

// Rolls every file under data_dir back to what the sync journal says was durable, as a power
// loss would: files truncated to their last synced length, files created (or renamed into
// place) but whose directory was never synced after that removed (or renamed back), unsynced
// removals undone where possible. The node must be dead. Missing journal = error.
//
// Details: files_truncated counts files whose size or bytes changed; bytes_dropped counts the
// written (non-zero) bytes beyond each file's synced data end plus the written bytes of removed
// files (preallocated zeros are not counted). A file renamed back or restored from the trash is
// in neither count. Running it twice changes nothing the second time.
base::Status roll_back_unsynced(const std::string& data_dir, RollbackReport* report);

}  // namespace wal
