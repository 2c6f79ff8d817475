// wal::Log: the durable Raft log of one node: segmented, checksummed, append-only files plus
// the hard state, implementing raft::LogStorage (raft/storage.h; its contract is binding).
// Format and recovery rules: wal/FORMAT.md.
//
// How the node drives it (one thread, the one that drives the RawNode):
//   auto log = wal::Log::open(env, dir, options);        // recovery; refuses corrupt data
//   raft::RawNode node(config, **log);
//   each Ready:
//     if (ready.snapshot) log->install_snapshot(*ready.snapshot);   // durable on return
//     log->append(ready.entries);          // may replace a conflicting suffix
//     if (ready.hard_state) log->set_hard_state(*ready.hard_state);
//     if (ready.must_sync) log->sync();    // one fdatasync for everything appended (group commit)
//     ...send, apply, node.advance(ready)
//   own snapshot of the state machine at applied index i (term t):
//     auto w = log->snapshots().begin({i, t, conf}); w->append(...); w->finish();
//     log->compact(i);                     // right after finish(), before raft runs again
//
// Durability: append() and set_hard_state() write at once (pwrite) but promise nothing until
// sync() returns. Reads see appended entries immediately (raft only reads what advance()
// reported durable). Recent entries are served from an in-memory cache; older ones with pread.
//
// Errors: open() returns recovery failures as values (kCorruption naming file and offset,
// kIoError). After open, any failed write or fsync is FATAL: the process stops, because a
// retried fsync may report success for data the kernel already dropped.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "raft/storage.h"
#include "wal/env.h"
#include "wal/segment.h"
#include "wal/snapshot_store.h"

namespace wal {

struct LogOptions {
  // A segment rolls once the next record would not fit (a bigger record gets a segment alone).
  uint64_t segment_bytes = 64 << 20;
  // Entries kept in memory at the end of the log (data bytes).
  uint64_t cache_bytes = 32 << 20;
};

// What open() found and did, for the node's startup log line.
struct RecoveryReport {
  uint64_t segments = 0;
  uint64_t bytes_read = 0;              // whole files, preallocated zeros included
  uint64_t record_bytes = 0;            // the records replayed
  uint64_t torn_bytes_dropped = 0;      // row 4: cut from the end of the last segment
  bool torn_segment_removed = false;    // row 6
  uint64_t stale_segments_removed = 0;  // row 9
  bool log_discarded = false;           // row 18
};

class Log final : public raft::LogStorage {
 public:
  static base::Result<std::unique_ptr<Log>> open(Env& env, std::string dir,
                                                 LogOptions options = {});
  ~Log() override;
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Appends entries with consecutive indexes starting at first_index() <= e <= last_index()+1.
  // An index <= last_index() first drops the stored suffix from there (a Raft conflict, §5.3).
  void append(std::span<const raft::Entry> entries);
  void set_hard_state(const raft::HardState& hard_state);
  // Makes everything appended so far durable: fdatasync of each written segment, fsync of the
  // directory when a file was created or removed since the last one.
  void sync();
  // Drops entries <= through_index. Precondition: the snapshot store's latest snapshot is at
  // through_index and its term is term(through_index). Durable on return.
  void compact(raft::Index through_index);
  // Persists a snapshot received from the leader and makes the log start after it: entries
  // after it are kept when the log has its (index, term), otherwise the log is emptied (§7).
  // Durable on return.
  void install_snapshot(const raft::Snapshot& snapshot);

  SnapshotStore& snapshots() { return *snapshots_; }
  const RecoveryReport& recovery_report() const { return report_; }

  // raft::LogStorage
  raft::HardState initial_hard_state() const override { return hard_state_; }
  raft::SnapshotMeta snapshot_meta() const override { return snapshot_meta_; }
  raft::Index first_index() const override { return first_; }
  raft::Index last_index() const override { return first_ + locations_.size() - 1; }
  raft::Term term(raft::Index index) const override;
  std::vector<raft::Entry> entries(raft::Index lo, raft::Index hi,
                                   uint64_t max_bytes) const override;
  raft::Snapshot snapshot() const override;

 private:
  struct Segment {
    uint64_t sequence = 0;
    std::string path;
    std::unique_ptr<File> file;
    raft::Index base_index = 1;
    raft::Index max_index_written = 0;  // compaction removes the segment once this is covered
    uint64_t write_offset = 0;          // records occupy [0, write_offset)
    bool dirty = false;                 // written since its last fdatasync
  };
  // Where the record of one entry lives.
  struct Location {
    raft::Term term = 0;
    uint64_t sequence = 0;
    uint64_t offset = 0;
    uint32_t record_bytes = 0;
  };

  Log(Env& env, std::string dir, LogOptions options);
  base::Status recover();
  base::Result<std::vector<uint64_t>> live_sequences();
  base::Status load_segment(uint64_t sequence, bool is_last, std::string& bytes);
  base::Status replay_record(Segment& segment, const ScannedRecord& record);
  base::Status replay_entry(Segment& segment, const ScannedRecord& record);
  void cut_torn_tail(Segment& segment, uint64_t end_offset);
  void apply_snapshot_rule();
  void roll_if_full(uint64_t record_bytes);
  void write_record(RecordType type, std::string_view payload);
  void flush_buffer();
  void roll();
  void create_segment();
  void truncate_suffix(raft::Index from_index);
  void reset_to(raft::Index next_index);
  void remove_segments_before(uint64_t sequence);
  void push_cache(const raft::Entry& entry);
  Segment& segment(uint64_t sequence) const;
  raft::Entry read_entry(raft::Index index) const;
  void read_run(raft::Index lo, raft::Index hi, std::vector<raft::Entry>& out) const;

  Env& env_;
  std::string dir_;
  LogOptions options_;
  std::unique_ptr<SnapshotStore> snapshots_;
  std::deque<std::unique_ptr<Segment>> segments_;  // ascending sequence; back() is written
  std::deque<Location> locations_;                 // locations_[i] is index first_ + i
  raft::Index first_ = 1;
  raft::HardState hard_state_;
  raft::SnapshotMeta snapshot_meta_;
  mutable std::shared_ptr<const std::string> snapshot_data_;  // loaded on first snapshot()
  // The newest entries: cache_[i] is index cache_first_ + i, and the cache always ends at
  // last_index() (it is a suffix of the log).
  std::deque<raft::Entry> cache_;
  raft::Index cache_first_ = 1;
  uint64_t cache_data_bytes_ = 0;
  // The last index as replay of the records written so far would see it (a conflicting append
  // shrinks last_index() at once, but the stream only when its first entry is written).
  // A new segment's base index is stream_last_ + 1.
  raft::Index stream_last_ = 0;
  base::Bytes buffer_;  // records encoded but not yet written to the active segment
  bool dir_dirty_ = false;
  RecoveryReport report_;
};

}  // namespace wal
