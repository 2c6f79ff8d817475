// SnapshotStore: the snapshot files of a data directory (FORMAT.md, "Snapshot files").
//
// Writing is streamed, because a follower receives a snapshot in chunks over the network:
//   auto writer = store.begin(meta);           // snap-<index>-<term>.snap.tmp
//   writer->append(chunk); ...                 // any number of chunks
//   writer->finish(sender_checksum);           // verify, fdatasync, rename, fsync dir,
//                                              // then remove older snapshots
// A writer destroyed without finish() removes its tmp file; it must not outlive its store. Reading
// is streamed as well (open_latest() -> SnapshotReader::read(max_bytes) until empty), or whole
// (read_latest()).
//
// open() finds the newest snapshot, verifies its checksums and removes older snapshots and tmp
// files. A newest snapshot that fails verification is not used (the store then has none) but
// reported by corrupt_newest(); wal::Log discards the log it started (the log is compacted past
// the older snapshots, so falling back to one would lose data) and then set_aside_corrupt()s it.
// A full disk is kResourceExhausted from begin() or finish(); any other write failure, and every
// fsync failure, stops the process (FATAL). Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "raft/types.h"
#include "wal/env.h"

namespace wal {

class SnapshotStore;

class SnapshotWriter {
 public:
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Never fails: a write error is kept and returned by finish().
  void append(std::string_view chunk);
  // kCorruption (and nothing installed) when expected_state_checksum is given and differs from
  // the xxh3 of the appended bytes; kResourceExhausted (nothing installed) when the disk filled
  // up. On success the snapshot is durable and the newest.
  base::Status finish(std::optional<uint64_t> expected_state_checksum = std::nullopt);

 private:
  friend class SnapshotStore;
  struct Impl;
  explicit SnapshotWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class SnapshotReader {
 public:
  ~SnapshotReader();
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  const raft::SnapshotMeta& meta() const;
  uint64_t state_bytes() const;
  uint64_t state_checksum() const;
  // The next at most max_bytes of state; empty once everything was read. kCorruption if the
  // bytes no longer match the checksum (checked when the last chunk is read).
  base::Result<std::string> read(size_t max_bytes);

 private:
  friend class SnapshotStore;
  struct Impl;
  explicit SnapshotReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The newest snapshot file when it failed verification at open().
struct CorruptSnapshot {
  std::string path;
  raft::Index index = 0;  // from its name
  raft::Term term = 0;
  std::string why;  // names the file and the offset
};

class SnapshotStore {
 public:
  static base::Result<std::unique_ptr<SnapshotStore>> open(Env& env, std::string dir);

  const std::optional<CorruptSnapshot>& corrupt_newest() const { return corrupt_newest_; }
  // Renames the corrupt newest snapshot to <name>.corrupt, durably (an older *.corrupt file is
  // removed: at most one is kept for inspection).
  void set_aside_corrupt();

  // Index 0 (and an empty configuration) when there is no snapshot.
  const raft::SnapshotMeta& latest_meta() const { return latest_meta_; }
  uint64_t latest_state_checksum() const { return latest_state_checksum_; }
  // Refuses (kInvalidArgument) a snapshot not newer than the latest; kResourceExhausted when
  // the disk is full.
  base::Result<std::unique_ptr<SnapshotWriter>> begin(const raft::SnapshotMeta& meta);
  // kNotFound without a snapshot.
  base::Result<std::unique_ptr<SnapshotReader>> open_latest() const;
  base::Result<std::string> read_latest() const;

 private:
  friend class SnapshotWriter;
  SnapshotStore(Env& env, std::string dir) : env_(env), dir_(std::move(dir)) {}
  base::Status recover();
  void install(const raft::SnapshotMeta& meta, uint64_t state_checksum, const std::string& path);

  Env& env_;
  std::string dir_;
  raft::SnapshotMeta latest_meta_;
  uint64_t latest_state_checksum_ = 0;
  std::string latest_path_;
  std::optional<CorruptSnapshot> corrupt_newest_;
  bool writer_open_ = false;
};

// File names (FORMAT.md): snap-<index:016x>-<term:016x>.snap
std::string snapshot_file_name(raft::Index index, raft::Term term);

}  // namespace wal
