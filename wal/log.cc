#include "wal/log.h"

#include <algorithm>

#include "wal/format.h"

namespace wal {

namespace {

// Entry record size on disk, and its data size back from a record size.
uint64_t entry_record_bytes(const raft::Entry& entry) {
  return format::kRecordHeaderBytes + format::kEntryFixedPayloadBytes + entry.data.size();
}
uint64_t entry_data_bytes(uint32_t record_bytes) {
  return record_bytes - format::kRecordHeaderBytes - format::kEntryFixedPayloadBytes;
}

}  // namespace

// A failed write or fsync stops the process: the data may be half on disk and a retried fsync
// can report success for pages the kernel already dropped (the "fsyncgate" lesson).
void must_io(const base::Status& status, std::string_view what) {
  if (!status.is_ok()) {
    FATAL("wal: {} failed: {}; stopping the process (a failed write or fsync is never retried)",
          what, status.to_string());
  }
}

Log::Log(Env& env, std::string dir, LogOptions options)
    : env_(env), dir_(std::move(dir)), options_(options) {}

Log::~Log() = default;

Log::Segment& Log::segment(uint64_t sequence) const {
  ENSURE(!segments_.empty() && sequence >= segments_.front()->sequence);
  Segment& found = *segments_[sequence - segments_.front()->sequence];
  ENSURE(found.sequence == sequence);
  return found;
}

void Log::append(std::span<const raft::Entry> entries) {
  if (entries.empty()) return;
  const raft::Index start = entries.front().index;
  ENSURE_MSG(start >= first_ && start <= last_index() + 1,
             "append at index {} to a log holding [{}, {}]", start, first_, last_index());
  if (start <= last_index()) truncate_suffix(start);
  for (const raft::Entry& entry : entries) {
    ENSURE_MSG(entry.index == last_index() + 1, "entries must be consecutive (got {} after {})",
               entry.index, last_index());
    const uint64_t record_bytes = entry_record_bytes(entry);
    roll_if_full(record_bytes);
    Segment& active = *segments_.back();
    locations_.push_back(Location{entry.term, active.sequence, active.write_offset + buffer_.size(),
                                  static_cast<uint32_t>(record_bytes)});
    append_entry_record(buffer_, entry);
    stream_last_ = entry.index;
    active.max_index_written = std::max(active.max_index_written, entry.index);
    push_cache(entry);
  }
  flush_buffer();
}

void Log::set_hard_state(const raft::HardState& hard_state) {
  hard_state_ = hard_state;
  write_record(RecordType::kHardState, encode_hard_state(hard_state));
  flush_buffer();
}

void Log::sync() {
  flush_buffer();
  for (const auto& segment : segments_) {
    if (!segment->dirty) continue;
    must_io(segment->file->sync_data(), "fdatasync");
    segment->dirty = false;
  }
  if (dir_dirty_) {
    must_io(env_.sync_dir(dir_), "fsync of the data directory");
    dir_dirty_ = false;
  }
}

void Log::compact(raft::Index through_index) {
  const raft::SnapshotMeta& latest = snapshots_->latest_meta();
  ENSURE_MSG(latest.index == through_index, "compact({}) but the latest snapshot is at {}",
             through_index, latest.index);
  // through_index < first_: the log already starts after it (recovery applied the snapshot);
  // only the files remain to be removed.
  if (through_index >= first_) {
    ENSURE_MSG(through_index <= last_index(), "compact({}) beyond the last index {}", through_index,
               last_index());
    ENSURE_MSG(term(through_index) == latest.term, "compact({}): log term {} != snapshot term {}",
               through_index, term(through_index), latest.term);
    locations_.erase(locations_.begin(),
                     locations_.begin() + static_cast<ptrdiff_t>(through_index + 1 - first_));
    first_ = through_index + 1;
    while (!cache_.empty() && cache_first_ <= through_index) {
      cache_data_bytes_ -= cache_.front().data.size();
      cache_.pop_front();
      ++cache_first_;
    }
    cache_first_ = std::max(cache_first_, first_);
  }
  if (snapshot_meta_ != latest) snapshot_data_.reset();
  snapshot_meta_ = latest;
  uint64_t keep_from = segments_.back()->sequence;
  for (const auto& segment : segments_) {
    if (segment->max_index_written > through_index) {
      keep_from = segment->sequence;
      break;
    }
  }
  remove_segments_before(keep_from);
  sync();
}

void Log::install_snapshot(const raft::Snapshot& snapshot) {
  const raft::SnapshotMeta& meta = snapshot.meta;
  ENSURE_MSG(meta.index > snapshot_meta_.index, "installing snapshot {} over snapshot {}",
             meta.index, snapshot_meta_.index);
  base::Result<std::unique_ptr<SnapshotWriter>> writer = snapshots_->begin(meta);
  ENSURE_MSG(writer.is_ok(), "{}", writer.status().to_string());
  if (snapshot.data) (*writer)->append(*snapshot.data);
  const base::Status finished = (*writer)->finish();
  ENSURE_MSG(finished.is_ok(), "{}", finished.to_string());
  // Paper §7: keep the entries after the snapshot if the log has its last entry; else discard.
  if (meta.index >= first_ && meta.index <= last_index() && term(meta.index) == meta.term) {
    compact(meta.index);
  } else {
    snapshot_meta_ = meta;
    reset_to(meta.index + 1);
  }
  snapshot_data_ = snapshot.data ? snapshot.data : std::make_shared<const std::string>();
}

raft::Term Log::term(raft::Index index) const {
  ENSURE_MSG(index + 1 >= first_ && index <= last_index(), "term({}) outside [{}, {}]", index,
             first_ - 1, last_index());
  if (index + 1 == first_) return snapshot_meta_.term;
  return locations_[index - first_].term;
}

std::vector<raft::Entry> Log::entries(raft::Index lo, raft::Index hi, uint64_t max_bytes) const {
  ENSURE_MSG(first_ <= lo && lo < hi && hi <= last_index() + 1, "entries({}, {}) outside [{}, {}]",
             lo, hi, first_, last_index());
  // Find where the size limit stops us (always at least one entry).
  raft::Index stop = lo + 1;
  uint64_t total_bytes = entry_data_bytes(locations_[lo - first_].record_bytes);
  while (stop < hi) {
    total_bytes += entry_data_bytes(locations_[stop - first_].record_bytes);
    if (total_bytes > max_bytes) break;
    ++stop;
  }
  std::vector<raft::Entry> out;
  out.reserve(stop - lo);
  if (lo < cache_first_) read_run(lo, std::min(stop, cache_first_), out);
  for (raft::Index i = std::max(lo, cache_first_); i < stop; ++i)
    out.push_back(cache_[i - cache_first_]);
  return out;
}

raft::Snapshot Log::snapshot() const {
  if (!snapshot_data_) {
    if (snapshot_meta_.index == 0) {
      snapshot_data_ = std::make_shared<const std::string>();
    } else {
      ENSURE(snapshots_->latest_meta() == snapshot_meta_);
      base::Result<std::string> state = snapshots_->read_latest();
      if (!state.is_ok()) FATAL("wal: cannot read the snapshot: {}", state.status().to_string());
      snapshot_data_ = std::make_shared<const std::string>(std::move(state).value());
    }
  }
  return raft::Snapshot{snapshot_meta_, snapshot_data_};
}

// ---------------------------------------------------------------------------------------------
// Writing

void Log::roll_if_full(uint64_t record_bytes) {
  const Segment& active = *segments_.back();
  const uint64_t used = active.write_offset + buffer_.size();
  // A segment holding only its header records takes any record, however big.
  const uint64_t header_bytes = 2 * format::kRecordHeaderBytes +
                                format::kSegmentHeaderPayloadBytes + format::kHardStatePayloadBytes;
  if (used + record_bytes > options_.segment_bytes && used > header_bytes) roll();
}

void Log::write_record(RecordType type, std::string_view payload) {
  roll_if_full(format::kRecordHeaderBytes + payload.size());
  append_record(buffer_, type, payload);
}

void Log::flush_buffer() {
  if (buffer_.empty()) return;
  Segment& active = *segments_.back();
  must_io(active.file->pwrite(active.write_offset, buffer_), "write");
  active.write_offset += buffer_.size();
  active.dirty = true;
  buffer_.clear();
}

void Log::roll() {
  // FORMAT.md rule 2: a segment that is not the last is complete and durable.
  sync();
  create_segment();
}

void Log::create_segment() {
  ENSURE(buffer_.empty());
  auto created = std::make_unique<Segment>();
  created->sequence = segments_.empty() ? 1 : segments_.back()->sequence + 1;
  created->path = join_path(dir_, segment_file_name(created->sequence));
  created->base_index = stream_last_ + 1;
  base::Result<std::unique_ptr<File>> file = env_.open(created->path, OpenMode::kCreateNew);
  must_io(file.status(), "creating a segment");
  created->file = std::move(file).value();
  must_io(created->file->preallocate(options_.segment_bytes), "preallocating a segment");
  segments_.push_back(std::move(created));
  dir_dirty_ = true;
  append_record(buffer_, RecordType::kSegmentHeader,
                encode_segment_header(
                    {format::kVersion, segments_.back()->sequence, segments_.back()->base_index}));
  append_record(buffer_, RecordType::kHardState, encode_hard_state(hard_state_));
  flush_buffer();
}

void Log::truncate_suffix(raft::Index from_index) {
  ENSURE(from_index >= first_ && from_index <= last_index());
  locations_.resize(from_index - first_);
  while (!cache_.empty() && cache_first_ + cache_.size() > from_index) {
    cache_data_bytes_ -= cache_.back().data.size();
    cache_.pop_back();
  }
  if (cache_.empty()) cache_first_ = from_index;
}

void Log::reset_to(raft::Index next_index) {
  locations_.clear();
  first_ = next_index;
  cache_.clear();
  cache_first_ = next_index;
  cache_data_bytes_ = 0;
  // The reset record ends the old history; the new segment starts at next_index, so the old
  // segments can go (a crash before their removal replays them, then the reset: FORMAT.md 16).
  write_record(RecordType::kReset, encode_reset(next_index));
  stream_last_ = next_index - 1;
  roll();
  remove_segments_before(segments_.back()->sequence);
  sync();
}

void Log::remove_segments_before(uint64_t sequence) {
  while (segments_.front()->sequence < sequence) {
    ENSURE(segments_.size() > 1);
    must_io(env_.remove(segments_.front()->path), "removing a compacted segment");
    segments_.pop_front();
    dir_dirty_ = true;
  }
}

void Log::push_cache(const raft::Entry& entry) {
  ENSURE(cache_first_ + cache_.size() == entry.index);
  cache_.push_back(entry);
  cache_data_bytes_ += entry.data.size();
  while (!cache_.empty() && cache_data_bytes_ > options_.cache_bytes) {
    cache_data_bytes_ -= cache_.front().data.size();
    cache_.pop_front();
    ++cache_first_;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading from disk

void Log::read_run(raft::Index lo, raft::Index hi, std::vector<raft::Entry>& out) const {
  std::string bytes;
  raft::Index i = lo;
  while (i < hi) {
    // One pread for the longest run of records that sit back to back in one segment.
    const Location& start = locations_[i - first_];
    raft::Index j = i + 1;
    uint64_t end = start.offset + start.record_bytes;
    while (j < hi) {
      const Location& next = locations_[j - first_];
      if (next.sequence != start.sequence || next.offset != end) break;
      end += next.record_bytes;
      ++j;
    }
    const Segment& seg = segment(start.sequence);
    must_io(seg.file->pread(start.offset, end - start.offset, bytes), "read");
    std::string_view view = bytes;
    for (raft::Index k = i; k < j; ++k) {
      const DecodedRecord record = decode_record(view);
      std::optional<raft::Entry> entry;
      if (record.status == DecodeStatus::kOk && record.type == RecordType::kEntry) {
        entry = decode_entry(record.payload);
      }
      if (!entry || entry->index != k) {
        FATAL("wal: {}: entry {} unreadable at offset {} ({}): the disk changed under us", seg.path,
              k, locations_[k - first_].offset, decode_status_name(record.status));
      }
      out.push_back(std::move(*entry));
      view.remove_prefix(record.size_bytes);
    }
    i = j;
  }
}

}  // namespace wal
