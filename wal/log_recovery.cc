// Log::open: rebuilds the index from the segments, applying the recovery decision table of
// FORMAT.md (row numbers are cited below). Three phases, so that a loss is recorded before
// anything that showed it is touched:
//   1. analysis: read the snapshot, the identity and every segment; the only writes are repairs
//      that lose nothing (rows 9 and 12);
//   2. the identity: created, or marked as needing repair when anything fsynced may be lost;
//   3. repairs: cut the log where it can no longer be trusted, zero a torn tail, discard the log
//      of a corrupt snapshot, apply the snapshot rule, create the first segment.
#include <algorithm>
#include <random>
#include <utility>

#include "wal/format.h"
#include "wal/log.h"

namespace wal {

struct Log::Recovery {
  struct Finding {
    StorageLoss loss = StorageLoss::kNone;
    std::string message;
  };
  // Where the log is cut: everything from (sequence, offset) on goes; offset 0 means the whole
  // segment, which is replaced by an empty one of the same sequence.
  struct Cut {
    uint64_t sequence = 0;
    uint64_t offset = 0;
  };
  std::vector<Finding> findings;
  std::optional<Cut> cut;
  std::vector<uint64_t> dropped;  // segments after the cut
  // The damaged end of a segment that is not the last (row 8): nothing is lost if the next
  // segment starts right after its last entry; otherwise the log is cut there.
  std::optional<Finding> damaged_end;
  std::optional<raft::HardState> salvaged;  // the last hard state found after the cut
};

namespace {

// The header record at the start of a segment image: nullopt when it does not decode;
// kCorruption for a format version this build does not read (row 11).
base::Result<std::optional<SegmentHeader>> header_of(const std::string& path,
                                                     std::string_view bytes) {
  const DecodedRecord record = decode_record(bytes);
  if (record.status != DecodeStatus::kOk || record.type != RecordType::kSegmentHeader) {
    return std::optional<SegmentHeader>();
  }
  const std::optional<uint32_t> version = segment_header_version(record.payload);
  if (version && *version != format::kVersion) {
    return base::corruption(
        "{}: format version {} at offset 0; this build reads version {} only. Remove the node "
        "from the cluster, empty its data directory and add it back with --join",
        path, *version, format::kVersion);
  }
  return decode_segment_header(record.payload);
}

base::Result<std::optional<SegmentHeader>> read_segment_header(Env& env, const std::string& path) {
  base::Result<std::unique_ptr<File>> file = env.open(path, OpenMode::kExisting);
  if (!file.is_ok()) return file.status();
  std::string bytes;
  RETURN_IF_ERROR(
      (*file)->pread(0, format::kRecordHeaderBytes + format::kSegmentHeaderPayloadBytes, bytes));
  return header_of(path, bytes);
}

uint64_t os_random_seed() {
  std::random_device device;
  return (uint64_t{device()} << 32) ^ device();
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
  base::Result<std::vector<std::string>> names = env_.list_dir(dir_);
  if (!names.is_ok()) return names.status();
  Recovery rec;
  base::Result<std::unique_ptr<SnapshotStore>> store = SnapshotStore::open(env_, dir_);
  if (!store.is_ok()) return store.status();
  snapshots_ = std::move(store).value();
  snapshot_meta_ = snapshots_->latest_meta();
  if (const auto& corrupt = snapshots_->corrupt_newest()) {  // row 1
    // Replay as if it were there (rows 12-20 need its index), then discard the log.
    snapshot_meta_ = raft::SnapshotMeta{corrupt->index, corrupt->term, {}};
    rec.findings.push_back({StorageLoss::kCorruptSnapshot, corrupt->why});
  }
  first_ = snapshot_meta_.index + 1;
  base::Result<StorageIdentity> identity = StorageIdentity::load(env_, dir_);
  if (!identity.is_ok() && identity.status().code() != base::Code::kNotFound &&
      identity.status().code() != base::Code::kCorruption) {
    return identity.status();
  }
  base::Result<std::vector<uint64_t>> sequences = live_sequences(*names);
  if (!sequences.is_ok()) return sequences.status();
  report_.segments = sequences->size();
  RETURN_IF_ERROR(replay_segments(rec, *sequences, *names));
  cache_first_ = last_index() + 1;
  stream_last_ = last_index();
  RETURN_IF_ERROR(mark_losses(rec, identity, sequences->empty()));
  RETURN_IF_ERROR(repair(rec));
  // A first start: only now, after the first segment, so that a crash in between is a first
  // start again and not a lost hard state (rows 23 and 26).
  if (!identity_) return create_identity(StorageLoss::kNone, {});
  return base::Status::ok();
}

base::Status Log::create_identity(StorageLoss reason, std::string message) {
  base::Rng random(options_.identity_seed != 0 ? options_.identity_seed : os_random_seed());
  base::Result<StorageIdentity> created =
      StorageIdentity::create(env_, dir_, random, reason, std::move(message));
  if (!created.is_ok()) return created.status();
  identity_ = std::move(created).value();
  return base::Status::ok();
}

// The segments to replay, in order. Row 12: a gap in the sequence numbers is an interrupted
// compaction if the snapshot covers everything before the later segment; the older segments
// go. Any other gap stays, for replay to find (row 13).
base::Result<std::vector<uint64_t>> Log::live_sequences(const std::vector<std::string>& names) {
  std::vector<uint64_t> sequences;
  for (const std::string& name : names) {
    if (auto sequence = parse_segment_file_name(name)) sequences.push_back(*sequence);
  }
  std::sort(sequences.begin(), sequences.end());
  size_t live_from = 0;
  for (size_t i = 1; i < sequences.size(); ++i) {
    if (sequences[i] == sequences[i - 1] + 1) continue;
    const std::string path = join_path(dir_, segment_file_name(sequences[i]));
    base::Result<std::optional<SegmentHeader>> header = read_segment_header(env_, path);
    if (!header.is_ok()) return header.status();
    if (*header && (*header)->base_index - 1 <= snapshot_meta_.index) live_from = i;
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

base::Status Log::replay_segments(Recovery& rec, const std::vector<uint64_t>& sequences,
                                  const std::vector<std::string>& names) {
  std::string bytes;  // one buffer for every segment: no page faults after the first
  for (size_t i = 0; i < sequences.size() && !rec.cut; ++i) {
    if (i > 0 && sequences[i] != sequences[i - 1] + 1) {  // row 13
      cut_at_end(rec, StorageLoss::kMissingSegment,
                 fmt::format("{}: segment(s) {:016x}..{:016x} after it are missing",
                             segments_.back()->path, sequences[i - 1] + 1, sequences[i] - 1));
      break;
    }
    RETURN_IF_ERROR(load_segment(rec, sequences[i], i + 1 == sequences.size(), bytes));
  }
  // Rows 9 and 10: a last segment that is sealed names its successor. A crash between sealing it
  // and renaming the successor into place left that one as a tmp file, complete: finish the roll.
  if (!rec.cut && !segments_.empty() && segments_.back()->seal_offset) {
    const uint64_t next = segments_.back()->sequence + 1;
    const std::string tmp_name = segment_tmp_file_name(next);
    if (std::binary_search(names.begin(), names.end(), tmp_name)) {
      must_io(env_.rename(join_path(dir_, tmp_name), join_path(dir_, segment_file_name(next))),
              "completing an interrupted segment roll");
      dir_dirty_ = true;
      report_.roll_completed = true;
      ++report_.segments;
      RETURN_IF_ERROR(load_segment(rec, next, true, bytes));
    } else {
      cut_at_end(rec, StorageLoss::kMissingSegment,
                 fmt::format("{}: sealed for segment {:016x}, which is missing",
                             segments_.back()->path, next));
    }
  }
  ENSURE(!rec.damaged_end || rec.cut);
  if (rec.cut) salvage(rec, sequences, bytes);
  return base::Status::ok();
}

base::Status Log::load_segment(Recovery& rec, uint64_t sequence, bool is_last, std::string& bytes) {
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
  RETURN_IF_ERROR(check_creation_records(rec, *loaded, bytes));
  if (rec.cut) return base::Status::ok();  // this segment is replaced or dropped
  Segment& seg = *loaded;
  base::Result<SegmentScan> scan =
      scan_segment(bytes, format::kCreationRecordsBytes,
                   [&](const ScannedRecord& record) { return replay_record(seg, record); });
  if (!scan.is_ok()) return scan.status();
  seg.write_offset = scan->end_offset;
  if (scan->end != SegmentEnd::kClean) seg.scrub_end = scan->dirty_end;
  report_.record_bytes += scan->end_offset;
  segments_.push_back(std::move(loaded));
  judge_segment_end(rec, *segments_.back(), *scan, *size, is_last);
  return base::Status::ok();
}

// Rows 6, 11, 13 and 14: the header and the first hard state of a segment. A segment gets its
// name only once they are durable (rule 2), so a named segment without them lost them.
base::Status Log::check_creation_records(Recovery& rec, Segment& seg, std::string_view bytes) {
  const DecodedRecord first = decode_record(bytes);
  base::Result<std::optional<SegmentHeader>> read = header_of(seg.path, bytes);
  if (!read.is_ok()) return read.status();  // another format version: refused
  const std::optional<SegmentHeader> header = *read;
  std::optional<raft::HardState> hard_state;
  if (header) {
    const DecodedRecord second = decode_record(bytes.substr(first.size_bytes));
    if (second.status == DecodeStatus::kOk && second.type == RecordType::kHardState) {
      hard_state = decode_hard_state(second.payload);
    }
  }
  if (!header || !hard_state) {  // row 6
    const bool short_file = bytes.size() < format::kCreationRecordsBytes;
    cut_before(rec, seg.sequence,
               short_file ? StorageLoss::kTruncatedSegment : StorageLoss::kCorruptSyncedRecord,
               fmt::format("{}: {} bytes, without a valid segment header and hard state at "
                           "offset 0",
                           seg.path, bytes.size()));
    return base::Status::ok();
  }
  if (header->sequence != seg.sequence) {  // row 11
    return base::corruption("{}: bad segment header at offset 0 (it names sequence {:016x})",
                            seg.path, header->sequence);
  }
  if (segments_.empty() && header->base_index - 1 > snapshot_meta_.index) {  // row 13
    cut_before(rec, seg.sequence, StorageLoss::kMissingSegment,
               fmt::format("{}: the first segment starts at index {} but the snapshot covers "
                           "only {} (offset 0): a segment or the snapshot is missing",
                           seg.path, header->base_index, snapshot_meta_.index));
    return base::Status::ok();
  }
  if (!segments_.empty() && header->base_index != last_index() + 1) {  // rows 8 and 14
    if (!rec.damaged_end) {
      return base::corruption(
          "{}: segment starts at index {} but the log ends at {} (offset 0): broken index "
          "sequence",
          seg.path, header->base_index, last_index());
    }
    cut_before(rec, seg.sequence, StorageLoss::kCorruptSyncedRecord,
               fmt::format("{}: starts at index {}, so entries {}..{} are "
                           "gone",
                           seg.path, header->base_index, last_index() + 1, header->base_index - 1));
    return base::Status::ok();
  }
  rec.damaged_end.reset();  // row 8: the next segment shows that nothing is missing
  if (segments_.empty()) {
    first_ = header->base_index;
    locations_.clear();
  }
  hard_state_ = *hard_state;
  seg.base_index = header->base_index;
  seg.size_bytes = header->segment_bytes;
  seg.batch_start = format::kCreationRecordsBytes;
  return base::Status::ok();
}

// Rows 3-5, 7 and 8: what follows the records of a segment.
void Log::judge_segment_end(Recovery& rec, Segment& seg, const SegmentScan& scan,
                            uint64_t file_bytes, bool is_last) {
  const bool truncated = file_bytes < seg.size_bytes;
  if (scan.end == SegmentEnd::kCorrupt) {  // row 5
    cut_at_end(rec, StorageLoss::kCorruptSyncedRecord,
               fmt::format("{}: {} at offset {}, but a valid record follows at offset {}", seg.path,
                           decode_status_name(scan.bad), scan.end_offset, scan.valid_after));
    return;
  }
  if (is_last) {
    if (truncated) {  // row 7
      cut_at_end(rec, StorageLoss::kTruncatedSegment,
                 fmt::format("{}: {} bytes, created with {}: truncated (records end at "
                             "offset {})",
                             seg.path, file_bytes, seg.size_bytes, scan.end_offset));
    } else if (scan.end == SegmentEnd::kTorn) {  // row 4: never synced (no footer after it)
      report_.torn_bytes_dropped += scan.dirty_end - scan.end_offset;
    }
    return;
  }
  if (truncated || scan.end == SegmentEnd::kTorn || !seg.seal_offset) {  // row 8
    rec.damaged_end = Recovery::Finding{
        truncated ? StorageLoss::kTruncatedSegment : StorageLoss::kCorruptSyncedRecord,
        fmt::format("{}: {} bytes (created with {}), {} at offset {} where its seal should be",
                    seg.path, file_bytes, seg.size_bytes, decode_status_name(scan.bad),
                    scan.end_offset)};
  }
}

// The log can be trusted up to the end of the records replayed from the last segment loaded
// (a sealing footer there goes too: the cut segment becomes the active one again).
void Log::cut_at_end(Recovery& rec, StorageLoss loss, std::string message) {
  if (rec.damaged_end) rec.findings.push_back(*std::exchange(rec.damaged_end, std::nullopt));
  rec.findings.push_back({loss, std::move(message)});
  Segment& seg = *segments_.back();
  if (seg.seal_offset) {
    seg.scrub_end = std::max(seg.scrub_end, seg.write_offset);
    seg.write_offset = *seg.seal_offset;
    seg.batch_start = seg.seal.batch_start;
    seg.batch_records = seg.seal.records;
    seg.seal_offset.reset();
  }
  rec.cut = Recovery::Cut{seg.sequence, seg.write_offset};
}

// A loss found at the start of segment `sequence`: the cut goes before it, or at the damaged
// end of the segment before it.
void Log::cut_before(Recovery& rec, uint64_t sequence, StorageLoss loss, std::string message) {
  if (rec.damaged_end) {
    cut_at_end(rec, loss, std::move(message));
    return;
  }
  rec.findings.push_back({loss, std::move(message)});
  rec.cut = Recovery::Cut{sequence, 0};
}

base::Status Log::replay_record(Segment& seg, const ScannedRecord& record) {
  seg.seal_offset.reset();  // a seal counts only as the last record
  switch (record.type) {
    case RecordType::kFooter:
      return replay_footer(seg, record);
    case RecordType::kHardState: {
      const std::optional<raft::HardState> hard_state = decode_hard_state(record.payload);
      if (!hard_state)
        return base::corruption("{}: bad hard state at offset {}", seg.path, record.offset);
      hard_state_ = *hard_state;
      break;
    }
    case RecordType::kEntry:
      RETURN_IF_ERROR(replay_entry(seg, record));
      break;
    case RecordType::kReset: {  // row 20
      const std::optional<raft::Index> next = decode_reset(record.payload);
      if (!next || *next - 1 > snapshot_meta_.index) {
        return base::corruption("{}: reset record at offset {} not covered by the snapshot at {}",
                                seg.path, record.offset, snapshot_meta_.index);
      }
      first_ = *next;
      locations_.clear();
      break;
    }
    case RecordType::kSegmentHeader:
    case RecordType::kInvalid:
      return base::corruption("{}: unexpected record type {} at offset {}", seg.path,
                              static_cast<int>(record.type), record.offset);
  }
  ++seg.batch_records;
  return base::Status::ok();
}

// A footer must close exactly the records since the previous one (a valid footer that does not
// is a writer bug or files changed by hand: refused, row 15).
base::Status Log::replay_footer(Segment& seg, const ScannedRecord& record) {
  const std::optional<Footer> footer = decode_footer(record.payload);
  if (!footer || footer->batch_start != seg.batch_start || footer->records != seg.batch_records ||
      (footer->next_sequence != 0 && footer->next_sequence != seg.sequence + 1)) {
    return base::corruption(
        "{}: the footer at offset {} does not match its batch (which starts at offset {} with {} "
        "records)",
        seg.path, record.offset, seg.batch_start, seg.batch_records);
  }
  seg.batch_start = record.offset + record.size_bytes;
  seg.batch_records = 0;
  if (footer->next_sequence != 0) {
    seg.seal_offset = record.offset;
    seg.seal = *footer;
  }
  return base::Status::ok();
}

base::Status Log::replay_entry(Segment& seg, const ScannedRecord& record) {
  const std::optional<EntryHead> head = decode_entry_head(record.payload);
  if (!head) return base::corruption("{}: bad entry at offset {}", seg.path, record.offset);
  const raft::Index i = head->index;
  if (i > last_index() + 1 || (i < first_ && i - 1 > snapshot_meta_.index)) {  // row 19
    return base::corruption(
        "{}: entry {} at offset {} does not follow the log [{}, {}] "
        "(snapshot at {}): broken index sequence",
        seg.path, i, record.offset, first_, last_index(), snapshot_meta_.index);
  }
  if (i < first_) {  // row 18
    first_ = i;
    locations_.clear();
  } else if (i <= last_index()) {  // row 17
    locations_.resize(i - first_);
  }
  locations_.push_back(Location{head->term, seg.sequence, record.offset,
                                static_cast<uint32_t>(record.size_bytes)});  // row 16
  seg.max_index_written = std::max(seg.max_index_written, i);
  return base::Status::ok();
}

// The newest hard state may be in what the cut drops (the term and vote it promised matter
// most to an amnesiac node): take the last valid one after the cut, in log order (terms never
// go down along the log).
void Log::salvage(Recovery& rec, const std::vector<uint64_t>& sequences, std::string& bytes) {
  for (uint64_t sequence : sequences) {
    if (sequence < rec.cut->sequence) continue;
    if (sequence > rec.cut->sequence) rec.dropped.push_back(sequence);
    base::Result<std::unique_ptr<File>> file =
        env_.open(join_path(dir_, segment_file_name(sequence)), OpenMode::kExisting);
    if (!file.is_ok()) continue;
    base::Result<uint64_t> size = (*file)->size();
    if (!size.is_ok() || !(*file)->pread(0, static_cast<size_t>(*size), bytes).is_ok()) continue;
    const uint64_t from = sequence == rec.cut->sequence ? rec.cut->offset : 0;
    if (auto hard_state = last_hard_state_in(bytes, from)) rec.salvaged = hard_state;
  }
}

// Rows 23-26: the identity; then every finding is recorded in it, durably, before repair().
base::Status Log::mark_losses(Recovery& rec, base::Result<StorageIdentity>& loaded,
                              bool no_segments) {
  const bool has_data = snapshot_meta_.index > 0 || last_index() > 0 ||
                        hard_state_ != raft::HardState{} || !rec.findings.empty();
  if (loaded.is_ok()) {
    identity_ = std::move(loaded).value();
    if (no_segments) {
      rec.findings.push_back(
          {StorageLoss::kMissingHardState,
           fmt::format("{}: no log segment, although its storage identity {} exists: the hard "
                       "state (term, vote) is gone",
                       dir_, identity_->id().to_string())});
    }
  } else if (loaded.status().code() == base::Code::kCorruption || has_data) {
    rec.findings.push_back(
        {StorageLoss::kLostIdentity,
         loaded.status().code() == base::Code::kCorruption
             ? loaded.status().message()
             : fmt::format("{}/{} is missing, but the directory holds a log or a snapshot", dir_,
                           format::kIdentityName)});
  }
  if (rec.findings.empty()) return base::Status::ok();
  report_.possible_loss = rec.findings.front().loss;
  for (const Recovery::Finding& finding : rec.findings) {
    if (!report_.loss_message.empty()) report_.loss_message += "; ";
    report_.loss_message += finding.message;
  }
  if (identity_) return identity_->mark_needs_repair(report_.possible_loss, report_.loss_message);
  return create_identity(report_.possible_loss, report_.loss_message);
}

base::Status Log::repair(Recovery& rec) {
  base::Result<std::vector<std::string>> names = env_.list_dir(dir_);
  if (!names.is_ok()) return names.status();
  for (const std::string& name : *names) {  // row 2: leftovers of interrupted creations
    if (name.ends_with(format::kTmpSuffix) &&
        (name.starts_with(format::kSegmentPrefix) || name.starts_with(format::kIdentityName))) {
      must_io(env_.remove(join_path(dir_, name)), "removing a leftover tmp file");
      dir_dirty_ = true;
    }
  }
  if (rec.cut) RETURN_IF_ERROR(cut_log(rec));
  if (segments_.empty()) {
    base::Result<std::unique_ptr<Segment>> created = create_segment_file(1, first_, 0);
    if (!created.is_ok()) return created.status();
    RETURN_IF_ERROR(install_segment_file(std::move(created).value()));
  }
  RETURN_IF_ERROR(sync());  // rule 4: zeroes a torn tail before anything new is written
  if (snapshots_->corrupt_newest()) {
    RETURN_IF_ERROR(discard_for_corrupt_snapshot());
  } else {
    RETURN_IF_ERROR(apply_snapshot_rule());
  }
  return sync();
}

// Rows 5-8, 10 and 13: the log ends at the cut. The term and vote of the newest hard state found
// are kept (what a node promised matters most); the commit index is the one the kept part of
// the log recorded, because the kept entries above it may be ones a later conflicting append
// replaced, which were never committed. Written before the segments after the cut are removed.
base::Status Log::cut_log(Recovery& rec) {
  if (rec.salvaged) {
    hard_state_.term = rec.salvaged->term;
    hard_state_.vote = rec.salvaged->vote;
  }
  hard_state_.commit = std::min(hard_state_.commit, last_index());
  if (rec.cut->offset == 0) {  // replaces the damaged segment file by an empty one
    base::Result<std::unique_ptr<Segment>> created =
        create_segment_file(rec.cut->sequence, last_index() + 1, 0);
    if (!created.is_ok()) return created.status();
    RETURN_IF_ERROR(install_segment_file(std::move(created).value()));
  } else {
    Segment& seg = *segments_.back();
    ENSURE(seg.sequence == rec.cut->sequence);
    base::Result<uint64_t> size = seg.file->size();
    must_io(size.status(), "stat of a segment");
    if (*size < seg.size_bytes) {
      RETURN_IF_ERROR(space_or_fatal(seg.file->preallocate(seg.size_bytes), dir_,
                                     fmt::format("re-extending {}", seg.path)));
    }
    RETURN_IF_ERROR(set_hard_state(hard_state_));  // first zeroes the rest of the segment
    RETURN_IF_ERROR(sync());
  }
  for (uint64_t sequence : rec.dropped) {
    const bool live = std::any_of(segments_.begin(), segments_.end(),
                                  [&](const auto& seg) { return seg->sequence == sequence; });
    if (live) continue;  // a roll above replaced it
    must_io(env_.remove(join_path(dir_, segment_file_name(sequence))),
            "removing a segment after the cut");
    ++report_.segments_dropped;
    dir_dirty_ = true;
  }
  sync_dir_if_dirty();
  return base::Status::ok();
}

// Row 1: without its snapshot the log cannot be applied. The node starts empty (its term and
// vote kept) and the leader sends it a snapshot; the corrupt file is set aside last, so a crash
// before that repeats this.
base::Status Log::discard_for_corrupt_snapshot() {
  snapshot_meta_ = raft::SnapshotMeta{};
  hard_state_.commit = 0;
  RETURN_IF_ERROR(reset_to(1));
  snapshots_->set_aside_corrupt();
  report_.log_discarded = true;
  return base::Status::ok();
}

// Rows 21 and 22 (paper §7): the snapshot decides where the log starts.
base::Status Log::apply_snapshot_rule() {
  const raft::Index s = snapshot_meta_.index;
  if (s == 0 || first_ == s + 1) return base::Status::ok();
  ENSURE_MSG(first_ <= s, "log starts at {} after the snapshot at {}", first_, s);
  if (s <= last_index() && locations_[s - first_].term == snapshot_meta_.term) {
    locations_.erase(locations_.begin(),
                     locations_.begin() + static_cast<ptrdiff_t>(s + 1 - first_));
    first_ = s + 1;
    cache_first_ = std::max(cache_first_, first_);
    return base::Status::ok();
  }
  report_.log_discarded = true;
  hard_state_.commit = std::min(hard_state_.commit, s);
  return reset_to(s + 1);
}

}  // namespace wal
