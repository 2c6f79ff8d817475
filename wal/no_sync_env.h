// Test-only planted bug `ack-before-fsync` (kvd --plant-bug): an Env whose fdatasync and
// directory fsync do nothing but report success, so the node acknowledges writes that are not
// durable. Over SyncJournalEnv the journal then never records a sync, and roll_back_unsynced()
// loses those writes: that is how the Jepsen harness catches the bug. Everything else passes
// through to `inner`, which must outlive this Env.
#pragma once

#include <memory>

#include "wal/env.h"

namespace wal {

class NoSyncEnv final : public Env {
 public:
  explicit NoSyncEnv(Env& inner) : inner_(inner) {}

  base::Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  base::Status create_dir(const std::string& dir) override { return inner_.create_dir(dir); }
  base::Result<std::vector<std::string>> list_dir(const std::string& dir) const override {
    return inner_.list_dir(dir);
  }
  base::Status rename(const std::string& from, const std::string& to) override {
    return inner_.rename(from, to);
  }
  base::Status remove(const std::string& path) override { return inner_.remove(path); }
  base::Status sync_dir(const std::string&) override { return base::Status::ok(); }
  base::Result<uint64_t> free_bytes(const std::string& dir) const override {
    return inner_.free_bytes(dir);
  }

 private:
  Env& inner_;
};

}  // namespace wal
