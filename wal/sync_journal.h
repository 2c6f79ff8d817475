// Test-only durability journal (format: SYNC_JOURNAL.md). SyncJournalEnv wraps posix_env() for
// one data directory and appends to <data_dir>/test-sync-journal.log what each successful
// fdatasync and directory fsync made durable, so that after kill -9 roll_back_unsynced()
// (power_loss.h) can put the directory back the way a power loss would have left it.
//
// What it tracks:
// - per inode, the end of the data written so far (pwrite raises it, truncate lowers it); each
//   successful sync_data() journals (inode, data end, file size);
// - removals become renames into hidden trash names until the next sync_dir(), so a removal the
//   directory never made durable can be undone; each successful sync_dir() of the data
//   directory empties the trash and journals the directory's durable listing (name -> inode).
// When opened it journals a baseline: every file already in the directory counts as durable
// (a previous process that was only killed, not power-cut, left them in the page cache).
//
// The model assumes what wal/ does: files are written append-style (bytes after the synced
// data end were zeros, or absent, before the unsynced writes) and live in the one flat data
// directory; paths elsewhere pass through untouched. Journal writes are plain write(2) calls
// with no fsync: the harness reads the journal after kill -9, when the page cache is intact.
// Not thread-safe (one thread per Env, as env.h says).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/status.h"
#include "wal/env.h"

namespace wal {

inline constexpr std::string_view kSyncJournalName = "test-sync-journal.log";
inline constexpr std::string_view kSyncJournalTrashPrefix = ".sync-journal-trash-";

class SyncJournalEnv final : public Env {
 public:
  // Creates data_dir if missing, opens (appending) its journal and writes the baseline.
  static base::Result<std::unique_ptr<SyncJournalEnv>> open(std::string data_dir);
  ~SyncJournalEnv() override;
  SyncJournalEnv(const SyncJournalEnv&) = delete;
  SyncJournalEnv& operator=(const SyncJournalEnv&) = delete;

  base::Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  base::Status create_dir(const std::string& dir) override { return inner_.create_dir(dir); }
  // Hides the journal and the trash.
  base::Result<std::vector<std::string>> list_dir(const std::string& dir) const override;
  base::Status rename(const std::string& from, const std::string& to) override;
  base::Status remove(const std::string& path) override;
  base::Status sync_dir(const std::string& dir) override;
  base::Result<uint64_t> free_bytes(const std::string& dir) const override {
    return inner_.free_bytes(dir);
  }

  // For the journaling File (internal).
  struct Inode {
    uint64_t number = 0;
    uint64_t data_end_bytes = 0;
  };
  base::Status journal_sync(const Inode& inode, uint64_t size_bytes);

 private:
  SyncJournalEnv(std::string data_dir, int journal_fd);
  bool in_data_dir(const std::string& path) const;
  base::Status write_baseline();
  base::Status journal_listing();
  base::Status append_line(const std::string& line);
  base::Result<std::shared_ptr<Inode>> inode_of(const std::string& path, bool fresh);

  Env& inner_;
  std::string dir_;
  int journal_fd_;
  uint64_t trash_count_ = 0;
  // Every inode seen in the data directory, by number; open Files share the entry.
  std::map<uint64_t, std::shared_ptr<Inode>> inodes_;
};

// What a journal says was durable (the parser is shared with roll_back_unsynced).
struct SyncJournalState {
  struct Synced {
    uint64_t data_end_bytes = 0;
    uint64_t size_bytes = 0;
  };
  bool has_listing = false;
  std::map<std::string, uint64_t> names;  // the last durable listing: name -> inode number
  std::map<uint64_t, Synced> synced;      // by inode number: the last sync record
};
base::Result<SyncJournalState> read_sync_journal(const std::string& journal_path);

// Offset just past the last non-zero byte of the file at `fd` in [from, size_bytes), or `from`.
base::Result<uint64_t> content_end_bytes(int fd, uint64_t from, uint64_t size_bytes);

}  // namespace wal
