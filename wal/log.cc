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

base::Status space_or_fatal(const base::Status& status, std::string_view dir,
                            std::string_view what) {
  if (status.code() != base::Code::kResourceExhausted) {
    must_io(status, what);
    return status;
  }
  return base::Status(base::Code::kResourceExhausted,
                      fmt::format("no space left for the data directory {}: {} failed: {}", dir,
                                  what, status.message()));
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

base::Status Log::append(std::span<const raft::Entry> entries) {
  if (entries.empty()) return base::Status::ok();
  const raft::Index start = entries.front().index;
  ENSURE_MSG(start >= first_ && start <= last_index() + 1,
             "append at index {} to a log holding [{}, {}]", start, first_, last_index());
  uint64_t record_bytes = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    ENSURE_MSG(entries[i].index == start + i, "entries must be consecutive (got {} after {})",
               entries[i].index, start + i - 1);
    record_bytes += entry_record_bytes(entries[i]);
  }
  RETURN_IF_ERROR(make_room(record_bytes));
  Segment& active = *segments_.back();
  const uint64_t offset = active.write_offset;
  for (const raft::Entry& entry : entries) append_entry_record(buffer_, entry);
  RETURN_IF_ERROR(flush_buffer());
  // Written: only now does the in-memory log follow, so a failed call changes nothing.
  if (start <= last_index()) truncate_suffix(start);
  uint64_t at = offset;
  for (const raft::Entry& entry : entries) {
    const auto bytes = static_cast<uint32_t>(entry_record_bytes(entry));
    locations_.push_back(Location{entry.term, active.sequence, at, bytes});
    at += bytes;
    push_cache(entry);
  }
  stream_last_ = entries.back().index;
  active.max_index_written = std::max(active.max_index_written, stream_last_);
  active.batch_records += static_cast<uint32_t>(entries.size());
  return base::Status::ok();
}

base::Status Log::set_hard_state(const raft::HardState& hard_state) {
  RETURN_IF_ERROR(make_room(format::kRecordHeaderBytes + format::kHardStatePayloadBytes));
  append_record(buffer_, RecordType::kHardState, encode_hard_state(hard_state));
  RETURN_IF_ERROR(flush_buffer());
  hard_state_ = hard_state;
  ++segments_.back()->batch_records;
  return base::Status::ok();
}

// Rule 1: the footer closes the batch in the same fdatasync that makes it durable, so every
// synced record has a valid record after it (recovery's torn-versus-corrupt test).
base::Status Log::sync() {
  ENSURE(buffer_.empty());
  Segment& active = *segments_.back();
  const bool closes_batch = active.batch_records > 0;
  if (closes_batch) {
    append_record(buffer_, RecordType::kFooter,
                  encode_footer({active.batch_start, active.batch_records, 0}));
  }
  if (closes_batch || active.scrub_end > active.write_offset) {
    RETURN_IF_ERROR(flush_buffer());
    must_io(active.file->sync_data(), "fdatasync");
    if (closes_batch) {
      active.batch_start = active.write_offset;
      active.batch_records = 0;
    }
  }
  sync_dir_if_dirty();
  return base::Status::ok();
}

void Log::sync_dir_if_dirty() {
  if (!dir_dirty_) return;
  must_io(env_.sync_dir(dir_), "fsync of the data directory");
  dir_dirty_ = false;
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
  sync_dir_if_dirty();
}

base::Status Log::install_snapshot(const raft::Snapshot& snapshot) {
  const raft::SnapshotMeta& meta = snapshot.meta;
  ENSURE_MSG(meta.index > snapshot_meta_.index, "installing snapshot {} over snapshot {}",
             meta.index, snapshot_meta_.index);
  RETURN_IF_ERROR(sync());  // entries it keeps are durable on return too
  // An earlier call that failed after the snapshot file was durable goes on from there.
  if (snapshots_->latest_meta() != meta) {
    base::Result<std::unique_ptr<SnapshotWriter>> writer = snapshots_->begin(meta);
    if (!writer.is_ok()) {
      ENSURE_MSG(writer.status().code() == base::Code::kResourceExhausted, "{}",
                 writer.status().to_string());
      return writer.status();
    }
    if (snapshot.data) (*writer)->append(*snapshot.data);
    RETURN_IF_ERROR((*writer)->finish());
  }
  // Paper §7: keep the entries after the snapshot if the log has its last entry; else discard.
  if (meta.index >= first_ && meta.index <= last_index() && term(meta.index) == meta.term) {
    compact(meta.index);
  } else {
    RETURN_IF_ERROR(reset_to(meta.index + 1));
    snapshot_meta_ = meta;
  }
  snapshot_data_ = snapshot.data ? snapshot.data : std::make_shared<const std::string>();
  return base::Status::ok();
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

// Room in the active segment for `record_bytes` of records plus the tail reserve (FORMAT.md,
// "Segment size"): first the bytes a failed write may have left are zeroed (rule 4), then the
// log rolls if the records do not fit. Nothing of the caller's records is written yet, so a
// failure here leaves the log as it was.
base::Status Log::make_room(uint64_t record_bytes) {
  const Segment& active = *segments_.back();
  if (active.scrub_end > active.write_offset) RETURN_IF_ERROR(sync());
  if (active.write_offset + record_bytes + format::kTailReserveBytes <= active.size_bytes) {
    return base::Status::ok();
  }
  return roll(record_bytes, {}, stream_last_ + 1);
}

// Writes buffer_ at the write offset of the active segment, followed by zeros over whatever a
// failed write left after it. On failure none of it counts as written: the next sync() zeroes
// what it may have left (scrub_end).
base::Status Log::flush_buffer() {
  Segment& active = *segments_.back();
  const uint64_t records_end = active.write_offset + buffer_.size();
  if (active.scrub_end > records_end) buffer_.resize(active.scrub_end - active.write_offset, 0);
  if (buffer_.empty()) return base::Status::ok();
  const base::Status written = active.file->pwrite(active.write_offset, buffer_);
  if (!written.is_ok()) {
    active.scrub_end = std::max(active.scrub_end, active.write_offset + buffer_.size());
    buffer_.clear();
    return space_or_fatal(written, dir_, fmt::format("writing to {}", active.path));
  }
  ENSURE_MSG(records_end <= active.size_bytes, "{}: records up to {} beyond its {} bytes",
             active.path, records_end, active.size_bytes);
  active.write_offset = records_end;
  active.scrub_end = 0;
  buffer_.clear();
  return base::Status::ok();
}

// Rule 2. The new segment is made whole under a tmp name first, so a failure (a full disk) leaves
// the old one active; then the old one is sealed (its last batch closed by a footer naming the
// new one, after `final_record`), then the new one is renamed into place.
base::Status Log::roll(uint64_t record_bytes, std::string_view final_record,
                       raft::Index next_base) {
  ENSURE(buffer_.empty());
  Segment& old = *segments_.back();
  base::Result<std::unique_ptr<Segment>> created =
      create_segment_file(old.sequence + 1, next_base, record_bytes);
  if (!created.is_ok()) return created.status();
  const std::string tmp_path = (*created)->file->path();
  const uint32_t records = old.batch_records + (final_record.empty() ? 0 : 1);
  buffer_.append(final_record);
  append_record(buffer_, RecordType::kFooter,
                encode_footer({old.batch_start, records, old.sequence + 1}));
  if (base::Status sealed = flush_buffer(); !sealed.is_ok()) {
    created->reset();
    (void)env_.remove(tmp_path);  // best effort: recovery removes it (the old one is unsealed)
    return sealed;
  }
  must_io(old.file->sync_data(), "fdatasync");
  old.batch_start = old.write_offset;
  old.batch_records = 0;
  return install_segment_file(std::move(created).value());
}

// The segment size rule of FORMAT.md: min(configured, max(free / 8, 1 MiB)), at least what one
// call's records need.
uint64_t Log::new_segment_bytes(uint64_t record_bytes) const {
  uint64_t bytes = options_.segment_bytes;
  if (bytes > format::kMinSegmentBytes) {
    const base::Result<uint64_t> free = env_.free_bytes(dir_);
    if (free.is_ok()) {
      bytes =
          std::min(bytes, std::max(*free / format::kFreeSpaceDivisor, format::kMinSegmentBytes));
    }
  }
  return std::max(bytes, format::kCreationRecordsBytes + record_bytes + format::kTailReserveBytes);
}

// wal-<sequence>.log.tmp, preallocated, holding the creation records, fdatasynced, its name
// durable. kResourceExhausted (nothing left behind) when the disk is full.
base::Result<std::unique_ptr<Log::Segment>> Log::create_segment_file(uint64_t sequence,
                                                                     raft::Index base_index,
                                                                     uint64_t record_bytes) {
  auto created = std::make_unique<Segment>();
  created->sequence = sequence;
  created->path = join_path(dir_, segment_file_name(sequence));
  created->base_index = base_index;
  created->size_bytes = new_segment_bytes(record_bytes);
  const std::string tmp_path = join_path(dir_, segment_tmp_file_name(sequence));
  base::Result<std::unique_ptr<File>> file = env_.open(tmp_path, OpenMode::kCreateTruncate);
  if (!file.is_ok()) return space_or_fatal(file.status(), dir_, "creating a segment");
  created->file = std::move(file).value();
  base::Bytes records;
  append_record(
      records, RecordType::kSegmentHeader,
      encode_segment_header({format::kVersion, sequence, base_index, created->size_bytes}));
  append_record(records, RecordType::kHardState, encode_hard_state(hard_state_));
  base::Status written = created->file->preallocate(created->size_bytes);
  if (written.is_ok()) written = created->file->pwrite(0, records);
  if (!written.is_ok()) {
    created->file.reset();
    (void)env_.remove(tmp_path);  // best effort: recovery removes leftover tmp files
    return space_or_fatal(
        written, dir_,
        fmt::format("preallocating {} bytes for segment {}", created->size_bytes, tmp_path));
  }
  must_io(created->file->sync_data(), "fdatasync of a new segment");
  must_io(env_.sync_dir(dir_), "fsync of the data directory");
  created->write_offset = created->batch_start = records.size();
  return created;
}

// Renames a segment made by create_segment_file to its name (durably) and makes it active.
base::Status Log::install_segment_file(std::unique_ptr<Segment> created) {
  const std::string tmp_path = created->file->path();
  const base::Status renamed = env_.rename(tmp_path, created->path);
  if (!renamed.is_ok()) {
    created->file.reset();
    (void)env_.remove(tmp_path);
    return space_or_fatal(renamed, dir_, fmt::format("renaming {}", tmp_path));
  }
  must_io(env_.sync_dir(dir_), "fsync of the data directory");
  segments_.push_back(std::move(created));
  return base::Status::ok();
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

// The reset record goes into the sealing batch of a roll to a segment starting at next_index,
// so the old segments can go (a crash before their removal replays them, then the reset:
// FORMAT.md row 20). A failed roll leaves everything as it was.
base::Status Log::reset_to(raft::Index next_index) {
  base::Bytes reset;
  append_record(reset, RecordType::kReset, encode_reset(next_index));
  RETURN_IF_ERROR(roll(0, reset, next_index));
  locations_.clear();
  first_ = next_index;
  cache_.clear();
  cache_first_ = next_index;
  cache_data_bytes_ = 0;
  stream_last_ = next_index - 1;
  remove_segments_before(segments_.back()->sequence);
  sync_dir_if_dirty();
  return base::Status::ok();
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
