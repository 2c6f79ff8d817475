// Helpers shared by wal/ tests (not part of the library).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/rng.h"
#include "doctest/doctest.h"
#include "wal/fault_env.h"
#include "wal/log.h"
#include "wal/sync_journal.h"

namespace wal::testing {

inline const std::string kDir = "/data";

// A Status-returning call that must succeed.
#define REQUIRE_OK(expr)                                           \
  do {                                                             \
    const ::base::Status require_ok_ = (expr);                     \
    REQUIRE_MESSAGE(require_ok_.is_ok(), require_ok_.to_string()); \
  } while (0)

// Entry i of a deterministic history: its data depends on (index, term), so a stale or
// invented entry is detectable.
inline raft::Entry make_entry(raft::Index index, raft::Term term, size_t data_bytes = 20) {
  std::string data = "e" + std::to_string(index) + "t" + std::to_string(term) + ":";
  while (data.size() < data_bytes)
    data.push_back(static_cast<char>('a' + (index + data.size()) % 26));
  return raft::Entry{index, term, raft::EntryType::kNormal, data};
}

inline std::vector<raft::Entry> make_entries(raft::Index first, raft::Index last, raft::Term term,
                                             size_t data_bytes = 20) {
  std::vector<raft::Entry> out;
  for (raft::Index i = first; i <= last; ++i) out.push_back(make_entry(i, term, data_bytes));
  return out;
}

inline std::vector<raft::Entry> all_entries(const Log& log) {
  if (log.last_index() < log.first_index()) return {};
  return log.entries(log.first_index(), log.last_index() + 1, UINT64_MAX);
}

// What raft can see of a log, for comparing states.
struct LogState {
  raft::Index first = 1;
  std::vector<raft::Entry> entries;  // entries[i] has index first + i
  raft::HardState hard_state;
  raft::Index snapshot_index = 0;

  raft::Index last() const { return first + entries.size() - 1; }
  void append(const raft::Entry& entry) {
    entries.resize(entry.index - first);
    entries.push_back(entry);
  }
  bool operator==(const LogState&) const = default;
};

inline LogState observe(const Log& log) {
  LogState state;
  state.first = log.first_index();
  state.entries = all_entries(log);
  state.hard_state = log.initial_hard_state();
  state.snapshot_index = log.snapshot_meta().index;
  return state;
}

// Tests keep segments small: FaultEnv holds (and copies on every sync) whole files in memory.
inline LogOptions test_options() {
  LogOptions options;
  options.segment_bytes = 16 << 10;
  return options;
}

inline std::unique_ptr<Log> open_ok(Env& env, LogOptions options = test_options()) {
  base::Result<std::unique_ptr<Log>> log = Log::open(env, kDir, options);
  REQUIRE_MESSAGE(log.is_ok(), log.status().to_string());
  return std::move(log).value();
}

inline std::string segment_path(uint64_t sequence) {
  return join_path(kDir, segment_file_name(sequence));
}

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/raftkv-wal-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// The journaling env (sync_journal.h) over `dir`, which must open.
inline std::unique_ptr<SyncJournalEnv> open_env(const std::string& dir) {
  auto env = SyncJournalEnv::open(dir);
  REQUIRE_MESSAGE(env.is_ok(), env.status().to_string());
  return std::move(env).value();
}

// A new file at `path` through `env`, which must not exist yet.
inline std::unique_ptr<File> create(Env& env, const std::string& path) {
  auto file = env.open(path, OpenMode::kCreateNew);
  REQUIRE_MESSAGE(file.is_ok(), file.status().to_string());
  return std::move(file).value();
}

}  // namespace wal::testing
