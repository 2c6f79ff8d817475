// FaultEnv: an in-memory Env for crash tests (after leveldb's fault_injection_test).
//
// Every file keeps two versions: the bytes written so far and the bytes as of its last
// sync_data(). Every directory keeps two listings: the current one and the one as of its last
// sync_dir(); a created, renamed or removed name is durable only after that. power_loss()
// throws away everything not durable, in one of two ways:
//   kDrop: each file reverts to its synced bytes, each directory to its synced listing.
//   kTear: as kDrop, but each file keeps a random part of its unsynced change: the bytes that
//          differ from the synced version survive up to a random point (in order, as a disk
//          writes them), optionally followed by a run of random garbage; the size is the new
//          or the old one at random.
// Randomness comes from the seed, so a failing test reproduces exactly. After power_loss()
// every open File fails with kIoError (the process it belonged to is gone).
//
// inject_error() makes the n-th next write-like call (pwrite, truncate, preallocate) or sync
// call fail with the given errno; the failed call changes nothing, except that a pwrite injected
// with `partial` first writes a random prefix of its data (as write(2) may when the disk fills).
// ENOSPC and EDQUOT fail with kResourceExhausted, every other errno with kIoError (env.h).
//
// set_capacity() is "disk full after N bytes": the files' sizes (every named inode once) may not
// add up to more than N. A pwrite that would grow past that writes the part that fits and fails
// with ENOSPC; a preallocate or truncate that would grows past it fails and changes nothing.
// free_bytes() reports what is left. Writes inside a file's current size never need space (as
// with preallocated blocks on a real file system).
// Directories themselves (create_dir) are durable at once. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/rng.h"
#include "wal/env.h"

namespace wal {

enum class PowerLossMode : uint8_t { kDrop, kTear };
enum class FaultOp : uint8_t { kWrite, kSyncData, kSyncDir };

class FaultEnv final : public Env {
 public:
  explicit FaultEnv(uint64_t seed) : rng_(seed) {}

  base::Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  base::Status create_dir(const std::string& dir) override;
  base::Result<std::vector<std::string>> list_dir(const std::string& dir) const override;
  base::Status rename(const std::string& from, const std::string& to) override;
  base::Status remove(const std::string& path) override;
  base::Status sync_dir(const std::string& dir) override;
  base::Result<uint64_t> free_bytes(const std::string& dir) const override;

  void power_loss(PowerLossMode mode);
  // The (countdown + 1)-th next call of kind `op` fails with errno_value (once).
  void inject_error(FaultOp op, int errno_value, int countdown = 0, bool partial = false);
  size_t pending_injections() const { return injections_.size(); }
  // Disk full after `bytes` (nullopt: unlimited, the default). Lowering it below what is used
  // fails every later growth until it is raised again.
  void set_capacity(std::optional<uint64_t> bytes) { capacity_bytes_ = bytes; }
  uint64_t used_bytes() const;

  // Test access to the current bytes of a file (nullopt when the name does not exist), and a
  // way to damage them durably (bit flips, truncation) as if the medium had done it.
  std::optional<std::string> contents(const std::string& path) const;
  void set_durable_contents(const std::string& path, std::string bytes);
  uint64_t sync_data_calls() const { return sync_data_calls_; }
  uint64_t sync_dir_calls() const { return sync_dir_calls_; }

  // Internal state shared with the file handles.
  struct Inode {
    std::string data;
    std::string synced;
  };
  // The injected failure due now for `op` on `path`, if any; *partial tells whether a pwrite
  // should write a prefix first.
  base::Status check_injection(FaultOp op, const std::string& path, bool* partial = nullptr);
  // ENOSPC unless the files may grow by `growth_bytes`; *allowed_bytes (when given) is how
  // much of that growth fits.
  base::Status check_space(uint64_t growth_bytes, const std::string& path,
                           uint64_t* allowed_bytes = nullptr) const;
  uint64_t random_below(uint64_t bound) { return rng_.uniform(bound); }
  uint64_t generation() const { return generation_; }
  void count_sync_data() { ++sync_data_calls_; }

 private:
  struct Directory {
    std::map<std::string, std::shared_ptr<Inode>> names;
    std::map<std::string, std::shared_ptr<Inode>> synced_names;
  };
  struct Injection {
    FaultOp op;
    int errno_value;
    int countdown;
    bool partial;
  };

  Directory* find_dir(const std::string& dir);
  const Directory* find_dir(const std::string& dir) const;
  void tear(Inode& inode);

  base::Rng rng_;
  std::map<std::string, Directory> dirs_;
  std::vector<Injection> injections_;
  std::optional<uint64_t> capacity_bytes_;
  uint64_t generation_ = 0;
  uint64_t sync_data_calls_ = 0;
  uint64_t sync_dir_calls_ = 0;
};

}  // namespace wal
