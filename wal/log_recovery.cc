// Log::open: rebuilds the index from the segments, applying the recovery decision table of
// FORMAT.md (row numbers are cited below).
#include <algorithm>

#include "wal/format.h"
#include "wal/log.h"

namespace wal {

namespace {

base::Result<SegmentHeader> read_segment_header(Env& env, const std::string& path) {
  base::Result<std::unique_ptr<File>> file = env.open(path, OpenMode::kExisting);
  if (!file.is_ok()) return file.status();
  std::string bytes;
  RETURN_IF_ERROR(
      (*file)->pread(0, format::kRecordHeaderBytes + format::kSegmentHeaderPayloadBytes, bytes));
  const DecodedRecord record = decode_record(bytes);
  std::optional<SegmentHeader> header;
  if (record.status == DecodeStatus::kOk && record.type == RecordType::kSegmentHeader) {
    header = decode_segment_header(record.payload);
  }
  if (!header) return base::corruption("{}: no valid segment header at offset 0", path);
  return *header;
}

}  // namespace

base::Result<std::unique_ptr<Log>> Log::open(Env& env, std::string dir, LogOptions options) {
  ENSURE(options.segment_bytes > 0);
  std::unique_ptr<Log> log(new Log(env, std::move(dir), options));
  RETURN_IF_ERROR(log->recover());
  return log;
}

base::Status Log::recover() {
  RETURN_IF_ERROR(env_.create_dir(dir_));
  base::Result<std::unique_ptr<SnapshotStore>> store = SnapshotStore::open(env_, dir_);
  if (!store.is_ok()) return store.status();
  snapshots_ = std::move(store).value();
  snapshot_meta_ = snapshots_->latest_meta();  // row 1 was checked by the store
  first_ = snapshot_meta_.index + 1;
  base::Result<std::vector<uint64_t>> sequences = live_sequences();
  if (!sequences.is_ok()) return sequences.status();
  report_.segments = sequences->size();
  std::string bytes;  // one buffer for every segment: no page faults after the first
  for (size_t i = 0; i < sequences->size(); ++i) {
    RETURN_IF_ERROR(load_segment((*sequences)[i], i + 1 == sequences->size(), bytes));
  }
  cache_first_ = last_index() + 1;
  stream_last_ = last_index();
  if (segments_.empty()) {
    first_ = snapshot_meta_.index + 1;
    stream_last_ = snapshot_meta_.index;
    create_segment();
    sync();
    return base::Status::ok();
  }
  apply_snapshot_rule();
  sync();
  return base::Status::ok();
}

// The segments to replay, in order. Rows 9 and 10: a gap in the sequence numbers is an
// interrupted compaction if the snapshot covers everything before the later segment;
// otherwise a segment is missing.
base::Result<std::vector<uint64_t>> Log::live_sequences() {
  base::Result<std::vector<std::string>> names = env_.list_dir(dir_);
  if (!names.is_ok()) return names.status();
  std::vector<uint64_t> sequences;
  for (const std::string& name : *names) {
    if (auto sequence = parse_segment_file_name(name)) sequences.push_back(*sequence);
  }
  std::sort(sequences.begin(), sequences.end());
  const raft::Index snapshot_index = snapshot_meta_.index;
  size_t live_from = 0;
  for (size_t i = 1; i < sequences.size(); ++i) {
    if (sequences[i] == sequences[i - 1] + 1) continue;
    const std::string path = join_path(dir_, segment_file_name(sequences[i]));
    base::Result<SegmentHeader> header = read_segment_header(env_, path);
    if (!header.is_ok()) return header.status();
    if (header->base_index - 1 > snapshot_index) {
      return base::corruption(
          "{}: missing segment(s) {:016x}..{:016x} before it (offset 0): "
          "it starts at index {} but the snapshot covers only {}",
          path, sequences[i - 1] + 1, sequences[i] - 1, header->base_index, snapshot_index);
    }
    live_from = i;
  }
  for (size_t i = 0; i < live_from; ++i) {
    must_io(env_.remove(join_path(dir_, segment_file_name(sequences[i]))),
            "removing a stale segment");
    ++report_.stale_segments_removed;
    dir_dirty_ = true;
  }
  sequences.erase(sequences.begin(), sequences.begin() + static_cast<ptrdiff_t>(live_from));
  return sequences;
}

base::Status Log::load_segment(uint64_t sequence, bool is_last, std::string& bytes) {
  auto loaded = std::make_unique<Segment>();
  loaded->sequence = sequence;
  loaded->path = join_path(dir_, segment_file_name(sequence));
  base::Result<std::unique_ptr<File>> file = env_.open(loaded->path, OpenMode::kExisting);
  if (!file.is_ok()) return file.status();
  loaded->file = std::move(file).value();
  base::Result<uint64_t> size = loaded->file->size();
  if (!size.is_ok()) return size.status();
  RETURN_IF_ERROR(loaded->file->pread(0, static_cast<size_t>(*size), bytes));
  report_.bytes_read += bytes.size();
  Segment& seg = *loaded;
  base::Result<SegmentScan> scan =
      scan_segment(seg.path, bytes, is_last,
                   [&](const ScannedRecord& record) { return replay_record(seg, record); });
  if (!scan.is_ok()) return scan.status();
  if (scan->header_torn) {  // row 6: nothing in this segment was ever synced
    must_io(env_.remove(seg.path), "removing a torn segment");
    report_.torn_segment_removed = true;
    dir_dirty_ = true;
    return base::Status::ok();
  }
  seg.write_offset = scan->end_offset;
  report_.record_bytes += scan->end_offset;
  if (scan->torn_tail) cut_torn_tail(seg, scan->end_offset);  // row 4
  segments_.push_back(std::move(loaded));
  return base::Status::ok();
}

// FORMAT.md rule 4: cut the garbage, zero the space again, and make that durable before any
// new record can land in front of stale bytes.
void Log::cut_torn_tail(Segment& seg, uint64_t end_offset) {
  base::Result<uint64_t> size = seg.file->size();
  must_io(size.status(), "stat of a torn segment");
  report_.torn_bytes_dropped += *size - end_offset;
  must_io(seg.file->truncate(end_offset), "truncating a torn segment");
  must_io(seg.file->preallocate(std::max(options_.segment_bytes, end_offset)), "preallocating");
  must_io(seg.file->sync_data(), "fdatasync of a truncated segment");
}

base::Status Log::replay_record(Segment& seg, const ScannedRecord& record) {
  const raft::Index snapshot_index = snapshot_meta_.index;
  if (record.offset == 0) {
    std::optional<SegmentHeader> header;
    if (record.type == RecordType::kSegmentHeader) header = decode_segment_header(record.payload);
    if (!header || header->version != format::kVersion ||
        header->sequence != seg.sequence) {  // row 8
      return base::corruption(
          "{}: bad segment header at offset 0 (wrong type, version or sequence)", seg.path);
    }
    seg.base_index = header->base_index;
    if (segments_.empty()) {
      if (header->base_index - 1 > snapshot_index) {  // row 10
        return base::corruption(
            "{}: first segment starts at index {} but the snapshot covers only "
            "{} (offset 0): a segment is missing",
            seg.path, header->base_index, snapshot_index);
      }
      first_ = header->base_index;
      locations_.clear();
    } else if (header->base_index != last_index() + 1) {  // row 11
      return base::corruption(
          "{}: segment starts at index {} but the log ends at {} (offset 0): "
          "broken index sequence",
          seg.path, header->base_index, last_index());
    }
    return base::Status::ok();
  }
  switch (record.type) {
    case RecordType::kHardState: {
      const std::optional<raft::HardState> hard_state = decode_hard_state(record.payload);
      if (!hard_state)
        return base::corruption("{}: bad hard state at offset {}", seg.path, record.offset);
      hard_state_ = *hard_state;
      return base::Status::ok();
    }
    case RecordType::kEntry:
      return replay_entry(seg, record);
    case RecordType::kReset: {  // row 16
      const std::optional<raft::Index> next = decode_reset(record.payload);
      if (!next || *next - 1 > snapshot_index) {
        return base::corruption("{}: reset record at offset {} not covered by the snapshot at {}",
                                seg.path, record.offset, snapshot_index);
      }
      first_ = *next;
      locations_.clear();
      return base::Status::ok();
    }
    default:
      return base::corruption("{}: unexpected record type {} at offset {}", seg.path,
                              static_cast<int>(record.type), record.offset);
  }
}

base::Status Log::replay_entry(Segment& seg, const ScannedRecord& record) {
  const std::optional<EntryHead> head = decode_entry_head(record.payload);
  if (!head) return base::corruption("{}: bad entry at offset {}", seg.path, record.offset);
  const raft::Index i = head->index;
  if (i > last_index() + 1 || (i < first_ && i - 1 > snapshot_meta_.index)) {  // row 15
    return base::corruption(
        "{}: entry {} at offset {} does not follow the log [{}, {}] "
        "(snapshot at {}): broken index sequence",
        seg.path, i, record.offset, first_, last_index(), snapshot_meta_.index);
  }
  if (i < first_) {  // row 14
    first_ = i;
    locations_.clear();
  } else if (i <= last_index()) {  // row 13
    locations_.resize(i - first_);
  }
  locations_.push_back(Location{head->term, seg.sequence, record.offset,
                                static_cast<uint32_t>(record.size_bytes)});  // row 12
  seg.max_index_written = std::max(seg.max_index_written, i);
  return base::Status::ok();
}

// Rows 17 and 18 (paper §7): the snapshot decides where the log starts.
void Log::apply_snapshot_rule() {
  const raft::Index s = snapshot_meta_.index;
  if (s == 0 || first_ == s + 1) return;
  ENSURE_MSG(first_ <= s, "log starts at {} after the snapshot at {}", first_, s);
  if (s <= last_index() && locations_[s - first_].term == snapshot_meta_.term) {
    locations_.erase(locations_.begin(),
                     locations_.begin() + static_cast<ptrdiff_t>(s + 1 - first_));
    first_ = s + 1;
    cache_first_ = std::max(cache_first_, first_);
    return;
  }
  report_.log_discarded = true;
  reset_to(s + 1);
}

}  // namespace wal
