// Every row of the recovery decision table in FORMAT.md, plus exhaustive torn-tail and bit-flip
// sweeps over the last records of a log.
#include <algorithm>

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

// Record start offsets in a segment image (up to the first non-record).
std::vector<uint64_t> record_offsets(const std::string& bytes) {
  std::vector<uint64_t> offsets;
  uint64_t offset = 0;
  for (;;) {
    const DecodedRecord record = decode_record(std::string_view(bytes).substr(offset));
    if (record.status != DecodeStatus::kOk) return offsets;
    offsets.push_back(offset);
    offset += record.size_bytes;
  }
}

base::Status open_status(Env& env, LogOptions options = testing::test_options()) {
  return Log::open(env, kDir, options).status();
}

bool mentions(const base::Status& status, const std::string& text) {
  return status.message().find(text) != std::string::npos;
}

// A segment image built by hand, for rows a correct writer never produces.
std::string craft_segment(uint64_t sequence, raft::Index base,
                          const std::vector<raft::Entry>& entries) {
  base::Bytes bytes;
  append_record(bytes, RecordType::kSegmentHeader,
                encode_segment_header({format::kVersion, sequence, base}));
  append_record(bytes, RecordType::kHardState, encode_hard_state({}));
  for (const raft::Entry& entry : entries) append_entry_record(bytes, entry);
  return bytes;
}

LogOptions small_segments() {
  LogOptions options;
  options.segment_bytes = 1200;
  return options;
}

// Four segments of entries 1..60 (term 1), all synced.
void write_four_segments(FaultEnv& env) {
  auto log = open_ok(env, small_segments());
  log->append(make_entries(1, 60, 1, 40));
  log->sync();
  REQUIRE(env.contents(segment_path(4)).has_value());
  REQUIRE_FALSE(env.contents(segment_path(5)).has_value());
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

TEST_CASE(
    "wal recovery: for every cut inside the last records, reopen returns exactly the whole records "
    "before it") {
  FaultEnv setup(1);
  const auto entries = make_entries(1, 25, 1, 30);
  {
    auto log = open_ok(setup);
    log->append(std::span(entries).subspan(0, 20));
    log->sync();
    log->append(std::span(entries).subspan(20));
  }
  const std::string image = *setup.contents(segment_path(1));
  const std::vector<uint64_t> offsets = record_offsets(image);
  REQUIRE(offsets.size() == 27);  // header, hard state, 25 entries
  const uint64_t end = offsets.back() + (offsets[26] - offsets[25]);
  for (int fill = 0; fill < 3; ++fill) {  // cut by truncation, zero fill, or garbage fill
    for (uint64_t cut = offsets[17]; cut < end; ++cut) {
      FaultEnv env(cut);
      std::string damaged = image.substr(0, cut);
      if (fill == 1) damaged.resize(image.size(), '\0');
      if (fill == 2) {
        base::Rng rng(cut);
        while (damaged.size() < end + 7) damaged.push_back(static_cast<char>(rng.next()));
      }
      env.set_durable_contents(segment_path(1), damaged);
      const size_t whole =
          static_cast<size_t>(std::upper_bound(offsets.begin(), offsets.end(), cut) -
                              offsets.begin()) -
          3;
      auto log = open_ok(env);
      REQUIRE_MESSAGE(all_entries(*log) ==
                          std::vector<raft::Entry>(entries.begin(),
                                                   entries.begin() + static_cast<ptrdiff_t>(whole)),
                      "cut ", cut);
      // Row 4's cleanup makes new records safe: append, sync, crash, and they are all there.
      log->append(make_entries(whole + 1, whole + 3, 2));
      log->sync();
      log.reset();
      env.power_loss(PowerLossMode::kTear);
      CHECK(open_ok(env)->last_index() == whole + 3);
    }
  }
}

TEST_CASE(
    "wal recovery: a bit flip in the last record is cut, anywhere else in the tail it is refused") {
  FaultEnv setup(2);
  {
    auto log = open_ok(setup);
    log->append(make_entries(1, 8, 1, 30));
    log->sync();
  }
  const std::string image = *setup.contents(segment_path(1));
  const std::vector<uint64_t> offsets = record_offsets(image);
  const uint64_t end = offsets.back() + (offsets[9] - offsets[8]);
  base::Rng rng(2);
  for (int trial = 0; trial < 400; ++trial) {
    const uint64_t at = offsets[6] + rng.uniform(end - offsets[6]);
    std::string damaged = image;
    damaged[at] = static_cast<char>(damaged[at] ^ (1 << rng.uniform(8)));
    FaultEnv env(trial);
    env.set_durable_contents(segment_path(1), damaged);
    base::Result<std::unique_ptr<Log>> log = Log::open(env, kDir, testing::test_options());
    if (at >= offsets.back()) {
      REQUIRE(log.is_ok());
      CHECK(all_entries(**log) == make_entries(1, 7, 1, 30));
    } else {
      REQUIRE_FALSE(log.is_ok());
      CHECK(mentions(log.status(), segment_path(1)));
      CHECK(mentions(log.status(),
                     fmt::format("offset {}", *std::prev(std::upper_bound(offsets.begin(),
                                                                          offsets.end(), at)))));
    }
  }
}

TEST_CASE(
    "wal recovery: a bit flip in a segment that is not the last is refused with file and offset") {
  FaultEnv setup(3);
  write_four_segments(setup);
  const std::string image = *setup.contents(segment_path(2));
  const std::vector<uint64_t> offsets = record_offsets(image);
  base::Rng rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    const uint64_t at = rng.uniform(offsets.back() + 20);
    std::string damaged = image;
    damaged[at] = static_cast<char>(damaged[at] ^ (1 << rng.uniform(8)));
    FaultEnv env(trial);
    for (uint64_t s = 1; s <= 4; ++s)
      env.set_durable_contents(segment_path(s), *setup.contents(segment_path(s)));
    env.set_durable_contents(segment_path(2), damaged);
    const base::Status status = open_status(env, small_segments());
    REQUIRE(status.code() == base::Code::kCorruption);
    CHECK(mentions(status, segment_path(2)));
    CHECK(mentions(status, "offset"));
  }
}

TEST_CASE("wal recovery row 1: a newest snapshot failing its checksum is refused by name") {
  FaultEnv env(4);
  write_snapshot(env, 10, 1);
  const std::string path = join_path(kDir, snapshot_file_name(10, 1));
  std::string bytes = *env.contents(path);
  bytes[bytes.size() / 2] ^= 0x10;
  env.set_durable_contents(path, bytes);
  const base::Status status = open_status(env);
  CHECK(status.code() == base::Code::kCorruption);
  CHECK(mentions(status, path));
}

TEST_CASE("wal recovery row 2: tmp files and older snapshots are removed at startup") {
  FaultEnv env(5);
  write_snapshot(env, 10, 1);
  const std::string older = join_path(kDir, snapshot_file_name(10, 1));
  const std::string saved = *env.contents(older);
  write_snapshot(env, 20, 1);
  env.set_durable_contents(older, saved);  // as if the removal never reached the disk
  env.set_durable_contents(join_path(kDir, snapshot_file_name(30, 1)) + ".tmp", "partial");
  auto log = open_ok(env);
  CHECK(log->snapshot_meta().index == 20);
  CHECK_FALSE(env.contents(older).has_value());
  CHECK_FALSE(env.contents(join_path(kDir, snapshot_file_name(30, 1)) + ".tmp").has_value());
}

TEST_CASE("wal recovery row 6: a last segment whose header is torn is removed") {
  FaultEnv env(6);
  write_four_segments(env);
  std::string torn = env.contents(segment_path(4))->substr(0, 20);  // the header, half written
  torn.resize(1200, '\0');
  env.set_durable_contents(segment_path(4), torn);
  auto log = open_ok(env, small_segments());
  CHECK(log->recovery_report().torn_segment_removed);
  CHECK_FALSE(env.contents(segment_path(4)).has_value());
  const auto entries = all_entries(*log);
  CHECK(entries == make_entries(1, entries.size(), 1, 40));
  CHECK(entries.size() < 60);
  log->append(make_entries(entries.size() + 1, 70, 2));  // the log goes on from there
  log->sync();
  log.reset();
  CHECK(open_ok(env, small_segments())->last_index() == 70);
}

TEST_CASE("wal recovery row 7: stray bytes after the records of an older segment are refused") {
  FaultEnv env(7);
  write_four_segments(env);
  std::string image = *env.contents(segment_path(1));
  image[image.size() - 5] = 'x';
  env.set_durable_contents(segment_path(1), image);
  const base::Status status = open_status(env, small_segments());
  CHECK(status.code() == base::Code::kCorruption);
  CHECK(mentions(status, segment_path(1)));
}

TEST_CASE("wal recovery row 8: a segment whose header names another sequence is refused") {
  FaultEnv env(8);
  write_four_segments(env);
  env.set_durable_contents(segment_path(3), *env.contents(segment_path(2)));
  const base::Status status = open_status(env, small_segments());
  CHECK(status.code() == base::Code::kCorruption);
  CHECK(mentions(status, segment_path(3) + ": bad segment header at offset 0"));
}

TEST_CASE(
    "wal recovery rows 9 and 10: a sequence gap is an interrupted compaction only if a snapshot "
    "covers it") {
  SUBCASE("covered: the stale older segments are removed") {
    FaultEnv env(9);
    write_four_segments(env);
    write_snapshot(env, 50, 1);
    const std::string first = *env.contents(segment_path(1));
    {
      auto log = open_ok(env, small_segments());
      log->compact(50);
    }
    env.set_durable_contents(segment_path(1), first);  // removal of 1 lost, of 2 and 3 kept
    REQUIRE_FALSE(env.contents(segment_path(2)).has_value());
    auto log = open_ok(env, small_segments());
    CHECK(log->recovery_report().stale_segments_removed == 1);
    CHECK(all_entries(*log) == make_entries(51, 60, 1, 40));
  }
  SUBCASE("not covered: refused as a missing segment") {
    FaultEnv env(10);
    write_four_segments(env);
    REQUIRE(env.remove(segment_path(2)).is_ok());
    const base::Status status = open_status(env, small_segments());
    CHECK(status.code() == base::Code::kCorruption);
    CHECK(mentions(status, "missing segment"));
    CHECK(mentions(status, segment_path(3)));
  }
  SUBCASE("the first segment missing without a snapshot: refused") {
    FaultEnv env(11);
    write_four_segments(env);
    REQUIRE(env.remove(segment_path(1)).is_ok());
    const base::Status status = open_status(env, small_segments());
    CHECK(mentions(status, segment_path(2)));
    CHECK(mentions(status, "segment is missing"));
  }
}

TEST_CASE("wal recovery row 11: a segment not starting at last + 1 is refused") {
  FaultEnv env(12);
  env.set_durable_contents(segment_path(1), craft_segment(1, 1, make_entries(1, 5, 1)));
  env.set_durable_contents(segment_path(2), craft_segment(2, 9, make_entries(9, 10, 1)));
  const base::Status status = open_status(env);
  CHECK(mentions(status, segment_path(2)));
  CHECK(mentions(status, "broken index sequence"));
}

TEST_CASE("wal recovery rows 13 and 14: overwrites replay, also across compacted segments") {
  FaultEnv env(13);
  LogOptions options = small_segments();
  auto expected = make_entries(1, 94, 1, 40);
  {
    auto log = open_ok(env, options);
    log->append(make_entries(1, 100, 1, 40));
    log->append(
        make_entries(95, 120, 2, 40));  // row 13: replaces 95..100, written in a later segment
    for (const auto& e : make_entries(95, 120, 2, 40)) expected.push_back(e);
    CHECK(all_entries(*log) == expected);
    log->sync();
    auto writer = log->snapshots().begin({110, 2, {{1}, {}}});
    REQUIRE(writer.is_ok());
    REQUIRE((*writer)->finish().is_ok());
    log->compact(110);  // removes the segments holding 1..100, keeps the overwrite's segment
  }
  auto log = open_ok(env, options);
  CHECK(all_entries(*log) == std::vector<raft::Entry>(expected.begin() + 110, expected.end()));
}

TEST_CASE("wal recovery row 15: an entry after a gap is refused") {
  FaultEnv env(14);
  auto entries = make_entries(1, 5, 1);
  entries.push_back(make_entry(7, 1));
  env.set_durable_contents(segment_path(1), craft_segment(1, 1, entries));
  const base::Status status = open_status(env);
  CHECK(mentions(status, "entry 7 at offset"));
  CHECK(mentions(status, "broken index sequence"));
}

TEST_CASE("wal recovery row 16: a reset record needs a snapshot that covers it") {
  FaultEnv env(15);
  std::string image = craft_segment(1, 1, make_entries(1, 5, 1));
  append_record(image, RecordType::kReset, encode_reset(21));
  env.set_durable_contents(segment_path(1), image);
  CHECK(mentions(open_status(env), "reset record at offset"));
  write_snapshot(env, 20, 3);
  auto log = open_ok(env);
  CHECK(log->first_index() == 21);
  CHECK(log->last_index() == 20);
}

TEST_CASE(
    "wal recovery rows 17 and 18: the snapshot keeps a matching log and discards a conflicting "
    "one") {
  SUBCASE("matching term at the snapshot index") {
    FaultEnv env(16);
    {
      auto log = open_ok(env);
      log->append(make_entries(1, 30, 2));
      log->sync();
    }
    write_snapshot(env, 20, 2);  // crash before compact(20)
    auto log = open_ok(env);
    CHECK(all_entries(*log) == make_entries(21, 30, 2));
  }
  SUBCASE("another term at the snapshot index: discarded, and a reset makes it stick") {
    FaultEnv env(17);
    {
      auto log = open_ok(env);
      log->append(make_entries(1, 30, 2));
      log->sync();
    }
    write_snapshot(env, 20, 3);
    {
      auto log = open_ok(env);
      CHECK(log->recovery_report().log_discarded);
      CHECK(log->last_index() == 20);
      log->append(make_entries(21, 25, 3));
      log->sync();
    }
    env.power_loss(PowerLossMode::kDrop);
    auto log = open_ok(env);
    CHECK(all_entries(*log) == make_entries(21, 25, 3));
  }
  SUBCASE("the log ends before the snapshot") {
    FaultEnv env(18);
    {
      auto log = open_ok(env);
      log->append(make_entries(1, 5, 1));
      log->sync();
    }
    write_snapshot(env, 20, 3);
    auto log = open_ok(env);
    CHECK(log->first_index() == 21);
    log->append(make_entries(21, 22, 3));
    log->sync();
    log.reset();
    CHECK(open_ok(env)->last_index() == 22);
  }
}

}  // namespace
}  // namespace wal
