// wal::Log: the durable Raft log of one node: segmented, checksummed, append-only files plus
// the hard state, implementing raft::LogStorage (raft/storage.h; its contract is binding), and
// the data directory's storage identity (identity.h). Format and recovery rules: wal/FORMAT.md.
//
// How the node drives it (one thread, the one that drives the RawNode):
//   auto log = wal::Log::open(env, dir, options);        // recovery (the decision table)
//   if (log->identity().needs_repair()) ...              // amnesiac: no votes, no acks (issue 12)
//   raft::RawNode node(config, **log);
//   each Ready (every call below returns a Status):
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
// Errors:
// - open() returns recovery failures as values: kCorruption naming file and offset where trusting
//   anything would be unsafe (FORMAT.md says which rows), kResourceExhausted, kIoError. Where the
//   directory may have lost something it had fsynced, open() succeeds with what it can trust, and
//   recovery_report().possible_loss says what and where; the identity then needs repair.
// - A full disk (ENOSPC, EDQUOT) is kResourceExhausted from append, set_hard_state, sync and
//   install_snapshot (and finish() of a snapshot writer): the log is then exactly as before the
//   call (what raft may read, and what replay will see once the next call succeeds); the same
//   call succeeds once space is back. Records a failed call left in a file may reappear after a
//   crash before the next successful call, like any unsynced write (nothing was promised).
// - Any other failed write, and every failed fsync, is FATAL: the process stops, because a
//   retried fsync may report success for data the kernel already dropped.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "raft/storage.h"
#include "wal/env.h"
#include "wal/identity.h"
#include "wal/segment.h"
#include "wal/snapshot_store.h"

namespace wal {

struct LogOptions {
  // The preallocated size of a new segment, lowered when the disk has little free space
  // (FORMAT.md, "Segment size"). A segment rolls once the records of the next call would not
  // fit (the records of a bigger call get a segment of their size).
  uint64_t segment_bytes = 64 << 20;
  // Entries kept in memory at the end of the log (data bytes).
  uint64_t cache_bytes = 32 << 20;
  // Seeds the random storage id of a new identity; 0 takes it from the OS (std::random_device).
  // Simulations pass a fresh seed per open so that a wiped node gets a new id.
  uint64_t identity_seed = 0;
};

// What open() found and did, for the node's startup log line.
struct RecoveryReport {
  uint64_t segments = 0;
  uint64_t bytes_read = 0;              // whole files, preallocated zeros included
  uint64_t record_bytes = 0;            // the records replayed
  uint64_t torn_bytes_dropped = 0;      // row 4: zeroed at the end of the last segment
  uint64_t stale_segments_removed = 0;  // row 12
  bool roll_completed = false;          // row 9: an interrupted roll's new segment put in place
  bool log_discarded = false;           // rows 1 and 22
  // Whether this open found that the directory may have lost state it had fsynced, and why:
  // the first finding; loss_message names every finding's file and offset. kNone also when an
  // earlier open's finding is still unrepaired: see identity().needs_repair().
  StorageLoss possible_loss = StorageLoss::kNone;
  std::string loss_message;
  uint64_t segments_dropped = 0;  // removed after the point where the log was cut
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
  // kResourceExhausted: nothing appended, nothing dropped.
  base::Status append(std::span<const raft::Entry> entries);
  // kResourceExhausted: the hard state is unchanged.
  base::Status set_hard_state(const raft::HardState& hard_state);
  // Makes everything appended so far durable: a footer record closing the batch, fdatasync of
  // the active segment, fsync of the directory when a file was created or removed since the
  // last one. kResourceExhausted (the footer could not be written): nothing new is durable.
  base::Status sync();
  // Drops entries <= through_index. Precondition: the snapshot store's latest snapshot is at
  // through_index and its term is term(through_index). Durable on return; needs no space.
  void compact(raft::Index through_index);
  // Persists a snapshot received from the leader and makes the log start after it: entries
  // after it are kept when the log has its (index, term), otherwise the log is emptied (§7).
  // Durable on return. kResourceExhausted: the log is unchanged (the snapshot file may already
  // be durable; calling again with the same snapshot goes on from there).
  base::Status install_snapshot(const raft::Snapshot& snapshot);

  SnapshotStore& snapshots() { return *snapshots_; }
  StorageIdentity& identity() { return *identity_; }
  const StorageIdentity& identity() const { return *identity_; }
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
    uint64_t size_bytes = 0;            // preallocated (header): records + tail reserve fit
    uint64_t write_offset = 0;          // records occupy [0, write_offset)
    // The open batch: records written since the last footer (what the next sync() closes).
    uint64_t batch_start = 0;
    uint32_t batch_records = 0;
    // > write_offset: a failed write (or a torn tail found at startup) may have left bytes up to
    // here; the next sync() overwrites them with zeros before any new record is written.
    uint64_t scrub_end = 0;
    // Recovery: the sealing footer, when it is the last record (FORMAT.md rule 2).
    std::optional<uint64_t> seal_offset;
    Footer seal;
  };
  // Where the record of one entry lives.
  struct Location {
    raft::Term term = 0;
    uint64_t sequence = 0;
    uint64_t offset = 0;
    uint32_t record_bytes = 0;
  };

  struct Recovery;  // what open() found (log_recovery.cc)

  Log(Env& env, std::string dir, LogOptions options);
  // Recovery (log_recovery.cc): analysis first, then the identity, then repairs.
  base::Status recover();
  base::Result<std::vector<uint64_t>> live_sequences(const std::vector<std::string>& names);
  base::Status replay_segments(Recovery& rec, const std::vector<uint64_t>& sequences,
                               const std::vector<std::string>& names);
  base::Status load_segment(Recovery& rec, uint64_t sequence, bool is_last, std::string& bytes);
  base::Status check_creation_records(Recovery& rec, Segment& seg, std::string_view bytes);
  void judge_segment_end(Recovery& rec, Segment& seg, const SegmentScan& scan, uint64_t file_bytes,
                         bool is_last);
  void cut_at_end(Recovery& rec, StorageLoss loss, std::string message);
  void cut_before(Recovery& rec, uint64_t sequence, StorageLoss loss, std::string message);
  base::Status replay_record(Segment& segment, const ScannedRecord& record);
  base::Status replay_entry(Segment& segment, const ScannedRecord& record);
  base::Status replay_footer(Segment& segment, const ScannedRecord& record);
  void salvage(Recovery& rec, const std::vector<uint64_t>& sequences, std::string& bytes);
  base::Status mark_losses(Recovery& rec, base::Result<StorageIdentity>& loaded, bool no_segments);
  base::Status create_identity(StorageLoss reason, std::string message);
  base::Status repair(Recovery& rec);
  base::Status cut_log(Recovery& rec);
  base::Status discard_for_corrupt_snapshot();
  base::Status apply_snapshot_rule();
  // Writing (log.cc)
  base::Status make_room(uint64_t record_bytes);
  base::Status flush_buffer();
  base::Status roll(uint64_t record_bytes, std::string_view final_record, raft::Index next_base);
  base::Result<std::unique_ptr<Segment>> create_segment_file(uint64_t sequence,
                                                             raft::Index base_index,
                                                             uint64_t record_bytes);
  base::Status install_segment_file(std::unique_ptr<Segment> created);
  uint64_t new_segment_bytes(uint64_t record_bytes) const;
  void truncate_suffix(raft::Index from_index);
  base::Status reset_to(raft::Index next_index);
  void remove_segments_before(uint64_t sequence);
  void sync_dir_if_dirty();
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
  std::optional<StorageIdentity> identity_;
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
