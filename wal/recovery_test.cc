// Every row of the recovery decision table in FORMAT.md, plus exhaustive sweeps: torn tails
// and truncations at every offset, bit flips in synced records, and a crash at every fsync of
// an open that repairs.
#include <algorithm>
#include <map>
#include <stdexcept>

#include "doctest/doctest.h"
#include "wal/format.h"
#include "wal/test_util.h"

namespace wal {
namespace {

using testing::all_entries;
using testing::kDir;
using testing::make_entries;
using testing::make_entry;
using testing::open_ok;
using testing::segment_path;

// Record start offsets in a segment image from `from` (up to the first non-record).
std::vector<uint64_t> record_offsets(const std::string& bytes, uint64_t from = 0) {
  std::vector<uint64_t> offsets;
  uint64_t offset = from;
  for (;;) {
    const DecodedRecord record = decode_record(std::string_view(bytes).substr(offset));
    if (record.status != DecodeStatus::kOk) return offsets;
    offsets.push_back(offset);
    offset += record.size_bytes;
  }
}

RecordType type_at(const std::string& bytes, uint64_t offset) {
  return decode_record(std::string_view(bytes).substr(offset)).type;
}

base::Status open_status(Env& env, LogOptions options = testing::test_options()) {
  return Log::open(env, kDir, options).status();
}

bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Every file of a directory, to copy into a fresh env.
using Files = std::map<std::string, std::string>;
Files files_of(const FaultEnv& env) {
  Files files;
  const std::vector<std::string> names = *env.list_dir(kDir);
  for (const std::string& name : names) files[name] = *env.contents(join_path(kDir, name));
  return files;
}
void put_files(FaultEnv& env, const Files& files) {
  REQUIRE(env.create_dir(kDir).is_ok());
  for (const auto& [name, bytes] : files) env.set_durable_contents(join_path(kDir, name), bytes);
}

LogOptions small_segments() {
  LogOptions options;
  options.segment_bytes = 1200;
  options.cache_bytes = 500;
  return options;
}

// Entries 1..60 (term 1, 40 bytes) in calls of 5, each synced: four or more segments.
std::vector<raft::Entry> write_segments(FaultEnv& env, LogOptions options = small_segments()) {
  auto log = open_ok(env, options);
  for (raft::Index i = 1; i <= 60; i += 5) {
    REQUIRE_OK(log->append(make_entries(i, i + 4, 1, 40)));
    REQUIRE_OK(log->set_hard_state({1, 1, i}));
    REQUIRE_OK(log->sync());
  }
  REQUIRE(env.contents(segment_path(4)).has_value());
  return make_entries(1, 60, 1, 40);
}

uint64_t last_segment(const FaultEnv& env) {
  uint64_t last = 0;
  const std::vector<std::string> names = *env.list_dir(kDir);
  for (const std::string& name : names)
    if (auto sequence = parse_segment_file_name(name)) last = std::max(last, *sequence);
  return last;
}

void write_snapshot(Env& env, raft::Index index, raft::Term term) {
  REQUIRE(env.create_dir(kDir).is_ok());
  auto store = SnapshotStore::open(env, kDir);
  REQUIRE(store.is_ok());
  auto writer = (*store)->begin({index, term, {{1}, {}}});
  REQUIRE(writer.is_ok());
  (*writer)->append("state");
  REQUIRE((*writer)->finish().is_ok());
}

// A segment image as the writer lays it out (for rows a correct writer never produces):
// creation records, the entries as one batch closed by a footer (sealed when next != 0), zeros
// up to 4096 bytes.
base::Bytes creation_records(uint64_t sequence, raft::Index base) {
  base::Bytes bytes;
  append_record(bytes, RecordType::kSegmentHeader,
                encode_segment_header({format::kVersion, sequence, base, 4096}));
  append_record(bytes, RecordType::kHardState, encode_hard_state({}));
  return bytes;
}

std::string craft_segment(uint64_t sequence, raft::Index base,
                          const std::vector<raft::Entry>& entries, uint64_t next = 0) {
  base::Bytes bytes = creation_records(sequence, base);
  for (const raft::Entry& entry : entries) append_entry_record(bytes, entry);
  append_record(
      bytes, RecordType::kFooter,
      encode_footer({format::kCreationRecordsBytes, static_cast<uint32_t>(entries.size()), next}));
  bytes.resize(4096, '\0');
  return bytes;
}

// The checks every damaged open must pass: what survives is a prefix of what was written, a
// shorter log is reported, and a report marks the identity.
// `written` holds `synced` synced entries, then unsynced ones.
void check_prefix_and_report(const Log& log, const std::vector<raft::Entry>& written,
                             size_t synced = SIZE_MAX) {
  const std::vector<raft::Entry> got = all_entries(log);
  REQUIRE(got.size() <= written.size());
  CHECK(std::equal(got.begin(), got.end(), written.begin()));
  const RecoveryReport& report = log.recovery_report();
  if (got.size() < std::min(synced, written.size()))
    CHECK(report.possible_loss != StorageLoss::kNone);
  CHECK(log.identity().needs_repair() == (report.possible_loss != StorageLoss::kNone));
  CHECK(log.initial_hard_state().commit <= log.last_index());
}

// After any repair the log goes on: appends survive a crash, and no new loss is found.
void check_goes_on(FaultEnv& env, std::unique_ptr<Log> log, LogOptions options) {
  const raft::Index next = log->last_index() + 1;
  const bool needed_repair = log->identity().needs_repair();
  REQUIRE_OK(log->append(make_entries(next, next + 2, 7)));
  REQUIRE_OK(log->sync());
  log.reset();
  env.power_loss(PowerLossMode::kTear);
  log = open_ok(env, options);
  CHECK(log->last_index() == next + 2);
  CHECK(log->recovery_report().possible_loss == StorageLoss::kNone);
  CHECK(log->identity().needs_repair() == needed_repair);  // until the node repairs it
}

TEST_CASE(
    "wal recovery rows 4 and 7: a torn tail is cut silently; a truncated one is cut and reported") {
  FaultEnv setup(1);
  const auto entries = make_entries(1, 25, 1, 30);
  {
    auto log = open_ok(setup);
    REQUIRE_OK(log->append(std::span(entries).subspan(0, 20)));
    REQUIRE_OK(log->sync());
    REQUIRE_OK(log->append(std::span(entries).subspan(20)));
  }
  const Files files = files_of(setup);
  const std::string image = *setup.contents(segment_path(1));
  const std::vector<uint64_t> offsets = record_offsets(image);
  REQUIRE(offsets.size() == 28);  // header, hard state, 20 entries, footer, 5 entries
  REQUIRE(type_at(image, offsets[22]) == RecordType::kFooter);
  const uint64_t unsynced = offsets[23];
  const uint64_t end = offsets.back() + (offsets[27] - offsets[26]);
  for (int fill = 0; fill < 3; ++fill) {  // cut by truncation, zero fill, or garbage fill
    for (uint64_t cut = fill == 0 ? offsets[17] : unsynced; cut < end; ++cut) {
      FaultEnv env(cut);
      put_files(env, files);
      std::string damaged = image.substr(0, cut);
      if (fill > 0) damaged.resize(image.size(), '\0');
      if (fill == 2) {
        base::Rng rng(cut);
        for (uint64_t i = cut; i < end + 7; ++i) damaged[i] = static_cast<char>(rng.next());
      }
      env.set_durable_contents(segment_path(1), damaged);
      // Whole records before the cut (the one the cut is in is not): minus the creation
      // records and the footer.
      const uint64_t complete = static_cast<uint64_t>(
          std::upper_bound(offsets.begin(), offsets.end(), cut) - offsets.begin() - 1);
      const size_t whole = complete - 2 - (complete > 22 ? 1 : 0);
      auto log = open_ok(env);
      REQUIRE_MESSAGE(all_entries(*log) == make_entries(1, whole, 1, 30), "cut ", cut, " fill ",
                      fill, " got ", log->last_index(), " want ", whole, " ",
                      log->recovery_report().loss_message);
      const RecoveryReport& report = log->recovery_report();
      CHECK(report.possible_loss ==
            (fill == 0 ? StorageLoss::kTruncatedSegment : StorageLoss::kNone));
      if (fill == 0) {
        CHECK(mentions(report.loss_message, segment_path(1)));
        CHECK(env.contents(segment_path(1))->size() == image.size());  // re-extended
      }
      check_prefix_and_report(*log, entries, 20);
      check_goes_on(env, std::move(log), testing::test_options());
    }
  }
}

TEST_CASE(
    "wal recovery rows 5 and 6: a bit flip in any synced record is reported with file and "
    "offset, and the log is cut there") {
  FaultEnv setup(2);
  {
    auto log = open_ok(setup);
    REQUIRE_OK(log->append(make_entries(1, 4, 1, 30)));
    REQUIRE_OK(log->sync());
    REQUIRE_OK(log->append(make_entries(5, 8, 1, 30)));
    REQUIRE_OK(log->set_hard_state({1, 1, 6}));
    REQUIRE_OK(log->sync());  // the last synced batch: entries 5-8, the hard state, a footer
  }
  const Files files = files_of(setup);
  const std::string image = *setup.contents(segment_path(1));
  const std::vector<uint64_t> offsets = record_offsets(image);
  REQUIRE(offsets.size() == 2 + 5 + 6);
  const uint64_t end = offsets.back() + format::kFooterRecordBytes;
  int reported = 0;
  for (uint64_t bit = 0; bit < end * 8; ++bit) {
    const uint64_t at = bit / 8;
    std::string damaged = image;
    damaged[at] = static_cast<char>(damaged[at] ^ (1 << (bit % 8)));
    FaultEnv env(bit);
    put_files(env, files);
    env.set_durable_contents(segment_path(1), damaged);
    auto log = open_ok(env);
    const uint64_t record = *std::prev(std::upper_bound(offsets.begin(), offsets.end(), at));
    const RecoveryReport& report = log->recovery_report();
    check_prefix_and_report(*log, make_entries(1, 8, 1, 30));
    if (record == offsets.back()) {  // the last footer: nothing is lost, it is cut as torn
      CHECK(report.possible_loss == StorageLoss::kNone);
      CHECK(log->last_index() == 8);
      continue;
    }
    ++reported;
    REQUIRE_MESSAGE(report.possible_loss == StorageLoss::kCorruptSyncedRecord, "bit ", bit);
    CHECK(mentions(report.loss_message, segment_path(1)));
    if (record >= format::kCreationRecordsBytes) {
      CHECK(mentions(report.loss_message, fmt::format("offset {}", record)));
    } else {
      CHECK(mentions(report.loss_message, "offset 0"));
    }
    const size_t kept =
        static_cast<size_t>(std::count_if(offsets.begin(), offsets.end(), [&](uint64_t o) {
          return o < record && o >= format::kCreationRecordsBytes &&
                 type_at(image, o) == RecordType::kEntry;
        }));
    CHECK_MESSAGE(log->last_index() == kept, "bit ", bit);
    if (bit % 16 == 0) check_goes_on(env, std::move(log), testing::test_options());
  }
  CHECK(reported > 0);
}

TEST_CASE(
    "wal recovery rows 5 and 8: a bit flip in a segment that is not the last is reported and cut "
    "there, unless only its seal is hit") {
  FaultEnv setup(3);
  const auto entries = write_segments(setup);
  const Files files = files_of(setup);
  const std::string image = files.at(segment_file_name(2));
  const std::vector<uint64_t> offsets = record_offsets(image);
  const uint64_t seal = offsets.back();
  REQUIRE(type_at(image, seal) == RecordType::kFooter);
  base::Rng rng(3);
  for (int trial = 0; trial < 300; ++trial) {
    const uint64_t at = rng.uniform(seal + format::kFooterRecordBytes);
    std::string damaged = image;
    damaged[at] = static_cast<char>(damaged[at] ^ (1 << rng.uniform(8)));
    FaultEnv env(trial);
    put_files(env, files);
    env.set_durable_contents(segment_path(2), damaged);
    auto log = open_ok(env, small_segments());
    check_prefix_and_report(*log, entries);
    if (at >= seal) {  // row 8: the next segment shows nothing is missing
      CHECK(log->last_index() == 60);
      CHECK(log->recovery_report().possible_loss == StorageLoss::kNone);
    } else {
      CHECK(log->recovery_report().possible_loss == StorageLoss::kCorruptSyncedRecord);
      CHECK(mentions(log->recovery_report().loss_message, segment_path(2)));
      CHECK(log->last_index() < 60);
      CHECK_FALSE(env.contents(segment_path(3)).has_value());  // dropped after the cut
      CHECK(log->recovery_report().segments_dropped >= 2);
    }
    if (trial % 10 == 0) check_goes_on(env, std::move(log), small_segments());
  }
}

TEST_CASE("wal recovery rows 6-8: a segment truncated at every offset is reported and cut") {
  FaultEnv setup(4);
  const auto entries = write_segments(setup);
  const Files files = files_of(setup);
  const uint64_t last = last_segment(setup);
  int reported = 0;
  for (uint64_t sequence : {uint64_t{2}, last}) {
    const std::string image = files.at(segment_file_name(sequence));
    for (uint64_t cut = 0; cut < image.size(); cut += (cut < 400 ? 1 : 37)) {
      FaultEnv env(cut);
      put_files(env, files);
      env.set_durable_contents(segment_path(sequence), image.substr(0, cut));
      auto log = open_ok(env, small_segments());
      check_prefix_and_report(*log, entries);
      const RecoveryReport& report = log->recovery_report();
      if (sequence == last) {  // row 6 below the creation records, else row 7
        CHECK_MESSAGE(report.possible_loss == StorageLoss::kTruncatedSegment, "cut ", cut);
      }
      if (report.possible_loss != StorageLoss::kNone) ++reported;
      if (cut % 5 == 0) check_goes_on(env, std::move(log), small_segments());
    }
  }
  CHECK(reported > 300);
}

TEST_CASE("wal recovery row 1: a corrupt newest snapshot is set aside and the log discarded") {
  FaultEnv env(5);
  {
    auto log = open_ok(env);
    REQUIRE_OK(log->append(make_entries(1, 30, 2)));
    REQUIRE_OK(log->set_hard_state({4, 2, 25}));
    REQUIRE_OK(log->sync());
    auto writer = log->snapshots().begin({20, 2, {{1}, {}}});
    REQUIRE(writer.is_ok());
    (*writer)->append("state");
    REQUIRE_OK((*writer)->finish());
    log->compact(20);
  }
  const std::string path = join_path(kDir, snapshot_file_name(20, 2));
  std::string bytes = *env.contents(path);
  bytes[bytes.size() / 2] ^= 0x10;
  env.set_durable_contents(path, bytes);
  auto log = open_ok(env);
  const RecoveryReport& report = log->recovery_report();
  CHECK(report.possible_loss == StorageLoss::kCorruptSnapshot);
  CHECK(mentions(report.loss_message, path));
  CHECK(report.log_discarded);
  CHECK(log->snapshot_meta().index == 0);
  CHECK(log->first_index() == 1);
  CHECK(log->last_index() == 0);
  CHECK(log->initial_hard_state() == raft::HardState{4, 2, 0});  // term and vote kept
  CHECK(log->identity().needs_repair());
  CHECK(log->identity().reason() == StorageLoss::kCorruptSnapshot);
  CHECK_FALSE(env.contents(path).has_value());
  CHECK(env.contents(path + ".corrupt").has_value());
  check_goes_on(env, std::move(log), testing::test_options());
}

TEST_CASE("wal recovery row 2: tmp files and older snapshots are removed at startup") {
  FaultEnv env(6);
  write_snapshot(env, 10, 1);
  const std::string older = join_path(kDir, snapshot_file_name(10, 1));
  const std::string saved = *env.contents(older);
  write_snapshot(env, 20, 1);
  env.set_durable_contents(older, saved);  // as if the removal never reached the disk
  const std::vector<std::string> leftovers = {snapshot_file_name(30, 1) + ".tmp",
                                              segment_tmp_file_name(9), "identity.tmp"};
  for (const std::string& name : leftovers) env.set_durable_contents(join_path(kDir, name), "x");
  auto log = open_ok(env);
  CHECK(log->snapshot_meta().index == 20);
  CHECK_FALSE(env.contents(older).has_value());
  for (const std::string& name : leftovers) CHECK_FALSE(env.contents(join_path(kDir, name)));
}

TEST_CASE("wal recovery row 6: a last segment without its creation records is replaced") {
  for (size_t keep : {size_t{0}, size_t{20}, size_t{60}}) {  // to 0 bytes, 20 bytes, mid hard state
    FaultEnv env(7);
    const auto entries = write_segments(env);
    const uint64_t last = last_segment(env);
    env.set_durable_contents(segment_path(last), env.contents(segment_path(last))->substr(0, keep));
    auto log = open_ok(env, small_segments());
    CHECK(log->recovery_report().possible_loss == StorageLoss::kTruncatedSegment);
    CHECK(mentions(log->recovery_report().loss_message, segment_path(last)));
    CHECK(env.contents(segment_path(last))->size() >= 1200);  // an empty segment in its place
    check_prefix_and_report(*log, entries);
    CHECK(log->last_index() < 60);
    check_goes_on(env, std::move(log), small_segments());
  }
}

TEST_CASE("wal recovery row 9: a roll interrupted after the seal is completed") {
  FaultEnv env(8);
  auto log = open_ok(env, small_segments());
  REQUIRE_OK(log->append(make_entries(1, 10, 1, 40)));
  REQUIRE_OK(log->sync());
  // The roll's directory fsyncs: 1 makes the tmp file's name durable, 2 the rename. Crash at 2.
  env.inject_error(FaultOp::kSyncDir, EIO, 1);
  base::set_fatal_hook(
      [](std::string_view m, const char*, int) { throw std::runtime_error(std::string(m)); });
  CHECK_THROWS((void)log->append(make_entries(11, 20, 1, 40)));
  base::set_fatal_hook(nullptr);
  log.reset();
  env.power_loss(PowerLossMode::kDrop);
  REQUIRE(env.contents(join_path(kDir, segment_tmp_file_name(2))).has_value());
  REQUIRE_FALSE(env.contents(segment_path(2)).has_value());
  log = open_ok(env, small_segments());
  CHECK(log->recovery_report().roll_completed);
  CHECK(log->recovery_report().possible_loss == StorageLoss::kNone);
  CHECK(env.contents(segment_path(2)).has_value());
  CHECK(all_entries(*log) == make_entries(1, 10, 1, 40));
  check_goes_on(env, std::move(log), small_segments());
}

TEST_CASE("wal recovery row 10: a deleted last segment is reported (its predecessor is sealed)") {
  FaultEnv env(9);
  const auto entries = write_segments(env);
  const uint64_t last = last_segment(env);
  REQUIRE(env.remove(segment_path(last)).is_ok());
  auto log = open_ok(env, small_segments());
  CHECK(log->recovery_report().possible_loss == StorageLoss::kMissingSegment);
  CHECK(mentions(log->recovery_report().loss_message, segment_path(last - 1)));
  check_prefix_and_report(*log, entries);
  CHECK(log->last_index() < 60);
  check_goes_on(env, std::move(log), small_segments());
}

TEST_CASE("wal recovery row 11: a misnamed segment or another format version is refused") {
  SUBCASE("a segment whose header names another sequence") {
    FaultEnv env(10);
    write_segments(env);
    env.set_durable_contents(segment_path(3), *env.contents(segment_path(2)));
    const base::Status status = open_status(env, small_segments());
    CHECK(status.code() == base::Code::kCorruption);
    CHECK(mentions(status.message(), segment_path(3) + ": bad segment header at offset 0"));
  }
  SUBCASE("a version 1 directory") {
    FaultEnv env(11);
    base::Bytes header;
    base::put_u32_le(header, 1);
    base::put_u64_le(header, 1);
    base::put_u64_le(header, 1);
    base::Bytes segment;
    append_record(segment, RecordType::kSegmentHeader, header);
    append_record(segment, RecordType::kHardState, encode_hard_state({}));
    segment.resize(4096, '\0');
    env.set_durable_contents(segment_path(1), segment);
    const base::Status status = open_status(env);
    CHECK(status.code() == base::Code::kCorruption);
    CHECK(mentions(status.message(), "format version 1"));
    CHECK(mentions(status.message(), "--join"));
    CHECK(*env.list_dir(kDir) == std::vector<std::string>{segment_file_name(1)});  // untouched
  }
}

TEST_CASE(
    "wal recovery rows 12 and 13: a sequence gap is an interrupted compaction only if a "
    "snapshot covers it, else a missing segment") {
  SUBCASE("covered: the stale older segments are removed") {
    FaultEnv env(12);
    write_segments(env);
    write_snapshot(env, 50, 1);
    const std::string first = *env.contents(segment_path(1));
    {
      auto log = open_ok(env, small_segments());
      log->compact(50);
    }
    env.set_durable_contents(segment_path(1), first);  // removal of 1 lost, of 2.. kept
    REQUIRE_FALSE(env.contents(segment_path(2)).has_value());
    auto log = open_ok(env, small_segments());
    CHECK(log->recovery_report().stale_segments_removed == 1);
    CHECK(log->recovery_report().possible_loss == StorageLoss::kNone);
    CHECK(all_entries(*log) == make_entries(51, 60, 1, 40));
  }
  SUBCASE("not covered: cut before the gap, reported") {
    FaultEnv env(13);
    const auto entries = write_segments(env);
    REQUIRE(env.remove(segment_path(2)).is_ok());
    auto log = open_ok(env, small_segments());
    CHECK(log->recovery_report().possible_loss == StorageLoss::kMissingSegment);
    CHECK(mentions(log->recovery_report().loss_message, "missing"));
    check_prefix_and_report(*log, entries);
    CHECK_FALSE(env.contents(segment_path(3)).has_value());
    check_goes_on(env, std::move(log), small_segments());
  }
  SUBCASE("the first segment missing without a snapshot: an empty log, the hard state kept") {
    FaultEnv env(14);
    write_segments(env);
    REQUIRE(env.remove(segment_path(1)).is_ok());
    auto log = open_ok(env, small_segments());
    CHECK(log->recovery_report().possible_loss == StorageLoss::kMissingSegment);
    CHECK(mentions(log->recovery_report().loss_message, "segment or the snapshot is missing"));
    CHECK(log->last_index() == 0);
    CHECK(log->initial_hard_state() == raft::HardState{1, 1, 0});  // salvaged, commit clamped
    check_goes_on(env, std::move(log), small_segments());
  }
}

TEST_CASE("wal recovery row 14: a segment not starting at last + 1 after a sound one is refused") {
  FaultEnv env(15);
  env.set_durable_contents(segment_path(1), craft_segment(1, 1, make_entries(1, 5, 1), 2));
  env.set_durable_contents(segment_path(2), craft_segment(2, 9, make_entries(9, 10, 1)));
  const base::Status status = open_status(env);
  CHECK(mentions(status.message(), segment_path(2)));
  CHECK(mentions(status.message(), "broken index sequence"));
}

TEST_CASE("wal recovery row 15: a footer that does not match its batch is refused") {
  FaultEnv env(16);
  base::Bytes image = creation_records(1, 1);
  for (const raft::Entry& entry : make_entries(1, 5, 1)) append_entry_record(image, entry);
  append_record(image, RecordType::kFooter,
                encode_footer({format::kCreationRecordsBytes, 4, 0}));  // one record short
  image.resize(4096, '\0');
  env.set_durable_contents(segment_path(1), image);
  const base::Status status = open_status(env);
  CHECK(status.code() == base::Code::kCorruption);
  CHECK(mentions(status.message(), "does not match its batch"));
}

TEST_CASE("wal recovery rows 17 and 18: overwrites replay, also across compacted segments") {
  FaultEnv env(17);
  LogOptions options = small_segments();
  auto expected = make_entries(1, 94, 1, 40);
  {
    auto log = open_ok(env, options);
    for (raft::Index i = 1; i <= 100; i += 10)
      REQUIRE_OK(log->append(make_entries(i, i + 9, 1, 40)));
    // Row 17: replaces 95..100, written in a later segment.
    REQUIRE_OK(log->append(make_entries(95, 120, 2, 40)));
    for (const auto& e : make_entries(95, 120, 2, 40)) expected.push_back(e);
    CHECK(all_entries(*log) == expected);
    REQUIRE_OK(log->sync());
    auto writer = log->snapshots().begin({110, 2, {{1}, {}}});
    REQUIRE(writer.is_ok());
    REQUIRE((*writer)->finish().is_ok());
    log->compact(110);  // removes the segments holding 1..100, keeps the overwrite's segment
  }
  auto log = open_ok(env, options);
  CHECK(all_entries(*log) == std::vector<raft::Entry>(expected.begin() + 110, expected.end()));
}

TEST_CASE("wal recovery row 19: an entry after a gap is refused") {
  FaultEnv env(18);
  auto entries = make_entries(1, 5, 1);
  entries.push_back(make_entry(7, 1));
  env.set_durable_contents(segment_path(1), craft_segment(1, 1, entries));
  const base::Status status = open_status(env);
  CHECK(mentions(status.message(), "entry 7 at offset"));
  CHECK(mentions(status.message(), "broken index sequence"));
}

TEST_CASE("wal recovery row 20: a reset record needs a snapshot that covers it") {
  FaultEnv env(19);
  base::Bytes image = creation_records(1, 1);
  for (const raft::Entry& entry : make_entries(1, 5, 1)) append_entry_record(image, entry);
  append_record(image, RecordType::kReset, encode_reset(21));
  append_record(image, RecordType::kFooter, encode_footer({format::kCreationRecordsBytes, 6, 0}));
  image.resize(4096, '\0');
  env.set_durable_contents(segment_path(1), image);
  CHECK(mentions(open_status(env).message(), "reset record at offset"));
  write_snapshot(env, 20, 3);
  auto log = open_ok(env);
  CHECK(log->first_index() == 21);
  CHECK(log->last_index() == 20);
}

TEST_CASE(
    "wal recovery rows 21 and 22: the snapshot keeps a matching log and discards a conflicting "
    "one") {
  SUBCASE("matching term at the snapshot index") {
    FaultEnv env(20);
    {
      auto log = open_ok(env);
      REQUIRE_OK(log->append(make_entries(1, 30, 2)));
      REQUIRE_OK(log->sync());
    }
    write_snapshot(env, 20, 2);  // crash before compact(20)
    auto log = open_ok(env);
    CHECK(all_entries(*log) == make_entries(21, 30, 2));
  }
  SUBCASE("another term at the snapshot index: discarded, and a reset makes it stick") {
    FaultEnv env(21);
    {
      auto log = open_ok(env);
      REQUIRE_OK(log->append(make_entries(1, 30, 2)));
      REQUIRE_OK(log->sync());
    }
    write_snapshot(env, 20, 3);
    {
      auto log = open_ok(env);
      CHECK(log->recovery_report().log_discarded);
      CHECK(log->recovery_report().possible_loss == StorageLoss::kNone);
      CHECK(log->last_index() == 20);
      REQUIRE_OK(log->append(make_entries(21, 25, 3)));
      REQUIRE_OK(log->sync());
    }
    env.power_loss(PowerLossMode::kDrop);
    auto log = open_ok(env);
    CHECK(all_entries(*log) == make_entries(21, 25, 3));
  }
  SUBCASE("the log ends before the snapshot") {
    FaultEnv env(22);
    {
      auto log = open_ok(env);
      REQUIRE_OK(log->append(make_entries(1, 5, 1)));
      REQUIRE_OK(log->sync());
    }
    write_snapshot(env, 20, 3);
    auto log = open_ok(env);
    CHECK(log->first_index() == 21);
    REQUIRE_OK(log->append(make_entries(21, 22, 3)));
    REQUIRE_OK(log->sync());
    log.reset();
    CHECK(open_ok(env)->last_index() == 22);
  }
}

// Entries 1..3 and a hard state, synced; returns the identity's id.
StorageId write_three_entries(FaultEnv& env) {
  auto log = open_ok(env);
  REQUIRE_OK(log->append(make_entries(1, 3, 1)));
  REQUIRE_OK(log->set_hard_state({5, 1, 2}));
  REQUIRE_OK(log->sync());
  return log->identity().id();
}

TEST_CASE("wal recovery rows 23-26: the storage identity") {
  SUBCASE("row 23: a first start, also after a crash before the identity was written") {
    FaultEnv env(23);
    StorageId first_id;
    {
      auto log = open_ok(env);
      first_id = log->identity().id();
      CHECK_FALSE(log->identity().needs_repair());
    }
    REQUIRE(env.remove(join_path(kDir, "identity")).is_ok());  // only the empty log is left
    auto log = open_ok(env);
    CHECK_FALSE(log->identity().needs_repair());
    CHECK_FALSE(log->identity().id() == first_id);
  }
  SUBCASE("row 24: the identity missing beside a log") {
    FaultEnv env(24);
    const StorageId first_id = write_three_entries(env);
    REQUIRE(env.remove(join_path(kDir, "identity")).is_ok());
    auto log = open_ok(env);
    CHECK(log->recovery_report().possible_loss == StorageLoss::kLostIdentity);
    CHECK(log->identity().needs_repair());
    CHECK_FALSE(log->identity().id() == first_id);  // the peers will see a new identity
    CHECK(log->last_index() == 3);
  }
  SUBCASE("row 25: a corrupt identity") {
    FaultEnv env(25);
    open_ok(env);
    std::string bytes = *env.contents(join_path(kDir, "identity"));
    bytes[10] ^= 4;
    env.set_durable_contents(join_path(kDir, "identity"), bytes);
    auto log = open_ok(env);
    CHECK(log->recovery_report().possible_loss == StorageLoss::kLostIdentity);
    CHECK(mentions(log->recovery_report().loss_message, "checksum"));
    CHECK(log->identity().needs_repair());
  }
  SUBCASE("row 26: every segment gone, the identity left") {
    FaultEnv env(26);
    const StorageId id = write_three_entries(env);
    REQUIRE(env.remove(segment_path(1)).is_ok());
    auto log = open_ok(env);
    CHECK(log->recovery_report().possible_loss == StorageLoss::kMissingHardState);
    CHECK(log->identity().id() == id);
    CHECK(log->identity().needs_repair());
    CHECK(log->initial_hard_state() == raft::HardState{});
    check_goes_on(env, std::move(log), testing::test_options());
  }
}

TEST_CASE("wal recovery: after a cut the newest term and vote are kept, even from what was cut") {
  FaultEnv env(27);
  write_segments(env);
  {
    auto log = open_ok(env, small_segments());
    REQUIRE_OK(log->set_hard_state({9, 3, 58}));  // only in the last segment
    REQUIRE_OK(log->sync());
  }
  std::string image = *env.contents(segment_path(2));
  image[format::kCreationRecordsBytes + 20] ^= 1;  // an entry of segment 2
  env.set_durable_contents(segment_path(2), image);
  auto log = open_ok(env, small_segments());
  CHECK(log->recovery_report().possible_loss == StorageLoss::kCorruptSyncedRecord);
  CHECK(log->initial_hard_state().term == 9);
  CHECK(log->initial_hard_state().vote == 3);
  CHECK(log->initial_hard_state().commit <= log->last_index());
  log.reset();
  CHECK(open_ok(env, small_segments())->initial_hard_state().term == 9);  // durable
}

TEST_CASE(
    "wal recovery: after a cut, kept entries that a conflicting append had replaced are not "
    "counted as committed") {
  FaultEnv env(29);
  {
    auto log = open_ok(env);
    REQUIRE_OK(log->append(make_entries(1, 10, 1)));
    REQUIRE_OK(log->set_hard_state({1, 1, 5}));
    REQUIRE_OK(log->sync());
    REQUIRE_OK(log->append(make_entries(8, 12, 2)));  // replaces 8..10, uncommitted
    REQUIRE_OK(log->set_hard_state({2, 2, 11}));      // and commits the new 8..11
    REQUIRE_OK(log->sync());
  }
  std::string image = *env.contents(segment_path(1));
  const std::vector<uint64_t> offsets = record_offsets(image);
  const auto new_8 = std::find_if(offsets.begin(), offsets.end(), [&](uint64_t o) {
    const DecodedRecord r = decode_record(std::string_view(image).substr(o));
    return r.type == RecordType::kEntry && decode_entry_head(r.payload)->term == 2;
  });
  REQUIRE(new_8 != offsets.end());
  image[*new_8 + 30] ^= 1;
  env.set_durable_contents(segment_path(1), image);
  auto log = open_ok(env);
  CHECK(log->recovery_report().possible_loss == StorageLoss::kCorruptSyncedRecord);
  CHECK(all_entries(*log) == make_entries(1, 10, 1));            // the older 8..10: a past state
  CHECK(log->initial_hard_state() == raft::HardState{2, 2, 5});  // not 11: old 8..10 never were
}

TEST_CASE(
    "wal recovery: a crash at any fsync of an open that repairs, then an open, ends in the same "
    "state, still marked") {
  struct Damage {
    const char* name;
    void (*apply)(FaultEnv&);
  };
  const std::vector<Damage> damages = {
      {"flip in segment 2",
       [](FaultEnv& env) {
         std::string image = *env.contents(segment_path(2));
         image[format::kCreationRecordsBytes + 5] ^= 8;
         env.set_durable_contents(segment_path(2), image);
       }},
      {"last segment truncated",
       [](FaultEnv& env) {
         const uint64_t last = last_segment(env);
         env.set_durable_contents(segment_path(last),
                                  env.contents(segment_path(last))->substr(0, 300));
       }},
      {"middle segment deleted",
       [](FaultEnv& env) { REQUIRE(env.remove(segment_path(3)).is_ok()); }},
      {"snapshot corrupt",
       [](FaultEnv& env) {
         write_snapshot(env, 70, 1);
         const std::string path = join_path(kDir, snapshot_file_name(70, 1));
         std::string bytes = *env.contents(path);
         bytes[12] ^= 1;
         env.set_durable_contents(path, bytes);
       }},
  };
  for (const Damage& damage : damages) {
    FaultEnv reference_env(28);
    write_segments(reference_env);
    damage.apply(reference_env);
    const Files damaged = files_of(reference_env);
    testing::LogState expected;
    {
      auto log = open_ok(reference_env, small_segments());
      expected = testing::observe(*log);
    }
    for (FaultOp op : {FaultOp::kSyncData, FaultOp::kSyncDir}) {
      for (int n = 0;; ++n) {
        FaultEnv env(static_cast<uint64_t>(n));
        put_files(env, damaged);
        env.inject_error(op, EIO, n);
        base::set_fatal_hook(
            [](std::string_view m, const char*, int) { throw std::runtime_error(std::string(m)); });
        bool crashed = false;
        try {
          (void)Log::open(env, kDir, small_segments());
        } catch (const std::runtime_error&) {
          crashed = true;
        }
        base::set_fatal_hook(nullptr);
        if (!crashed) break;  // the open has fewer than n + 1 such fsyncs
        env.power_loss(n % 2 ? PowerLossMode::kDrop : PowerLossMode::kTear);
        auto log = open_ok(env, small_segments());
        CHECK_MESSAGE(testing::observe(*log) == expected, damage.name, ", crash ", n);
        CHECK_MESSAGE(log->identity().needs_repair(), damage.name, ", crash ", n);
      }
    }
  }
}

}  // namespace
}  // namespace wal
