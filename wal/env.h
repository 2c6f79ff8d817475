// The file-system interface every byte of wal/ goes through, so tests can swap in FaultEnv
// (fault_env.h) and simulate power loss. PosixEnv (posix_env.h) is the real one.
//
// Contract:
// - Paths are "dir/name"; wal/ uses one flat directory. A created, renamed or removed name is
//   durable only after sync_dir() of its directory; file data only after File::sync_data().
// - Failures are base::Status values naming the operation, the path and the OS error: code
//   kResourceExhausted when the file system is out of space or quota (ENOSPC, EDQUOT), kIoError
//   for everything else. Whether to stop the process is the caller's decision (wal::Log stops
//   on kIoError and on any failed fsync; it returns kResourceExhausted from writes).
// - File handles must not outlive their Env. Not thread-safe: one thread per Env.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace wal {

class File {
 public:
  virtual ~File() = default;
  const std::string& path() const { return path_; }

  // Writes all of `data` at `offset`, extending the file if needed. On failure a prefix of
  // `data` may have been written (as write(2) does when the disk fills up).
  virtual base::Status pwrite(uint64_t offset, std::string_view data) = 0;
  // Reads up to `size` bytes at `offset` into `out` (resized; shorter only at end of file).
  virtual base::Status pread(uint64_t offset, size_t size, std::string& out) const = 0;
  // fdatasync: the data written so far (and the size) survive power loss.
  virtual base::Status sync_data() = 0;
  virtual base::Status truncate(uint64_t size_bytes) = 0;
  // Makes the file at least `size_bytes` long; the added bytes read as zeros.
  virtual base::Status preallocate(uint64_t size_bytes) = 0;
  virtual base::Result<uint64_t> size() const = 0;

 protected:
  explicit File(std::string path) : path_(std::move(path)) {}

 private:
  std::string path_;
};

enum class OpenMode : uint8_t {
  kExisting,        // the file must exist
  kCreateNew,       // the file must not exist
  kCreateTruncate,  // create, or empty an existing file
};

class Env {
 public:
  virtual ~Env() = default;

  virtual base::Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
  // Creates the directory if missing (its own entry is assumed durable).
  virtual base::Status create_dir(const std::string& dir) = 0;
  // Names (not paths) in `dir`, sorted, without "." and "..".
  virtual base::Result<std::vector<std::string>> list_dir(const std::string& dir) const = 0;
  virtual base::Status rename(const std::string& from, const std::string& to) = 0;
  virtual base::Status remove(const std::string& path) = 0;
  // fsync of the directory: creations, renames and removals in it become durable.
  virtual base::Status sync_dir(const std::string& dir) = 0;
  // Bytes the file system holding `dir` can still allocate for this process (statvfs
  // f_bavail * f_frsize); wal/ sizes new segments by it (FORMAT.md, "Segment size").
  virtual base::Result<uint64_t> free_bytes(const std::string& dir) const = 0;
};

// wal/'s policy for a failed fsync, or a failed call whose failure is not a full disk: FATAL,
// naming what failed (never retried).
void must_io(const base::Status& status, std::string_view what);
// wal/'s policy for a failed write, preallocation, creation or rename: a full disk
// (kResourceExhausted) is returned, naming the data directory and what failed; anything else is
// FATAL as in must_io.
base::Status space_or_fatal(const base::Status& status, std::string_view dir,
                            std::string_view what);

inline std::string join_path(std::string_view dir, std::string_view name) {
  std::string path(dir);
  path += '/';
  path += name;
  return path;
}

}  // namespace wal
