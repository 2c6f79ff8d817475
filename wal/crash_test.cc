// Power loss at random points of random append / truncate / hard-state / sync / compact /
// snapshot sequences, with a full disk now and then, through FaultEnv. After every crash the
// recovered log must be one of the states the log passed through since it was last durable,
// record by record (it holds everything synced, in order, and nothing invented), and recovery
// must not report a loss: a power loss is not one. A bit flip in a synced record is always
// reported, and what survives it is a prefix of the log. Reproduce a failure with its seed.
#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>

#include "doctest/doctest.h"
#include "wal/format.h"
#include "wal/test_util.h"

namespace wal {
namespace {

using testing::make_entry;

using ModelState = testing::LogState;
using testing::observe;

class Run {
 public:
  explicit Run(uint64_t seed) : seed_(seed), rng_(seed), env_(seed) {
    options_.segment_bytes = 1024 + rng_.uniform(2048);
    options_.cache_bytes = rng_.uniform(1500);
    log_ = testing::open_ok(env_, options_);
  }

  void step() {
    if (rng_.chance(1, 12)) {  // the next write fails as on a full disk, maybe half done
      env_.inject_error(FaultOp::kWrite, ENOSPC, static_cast<int>(rng_.uniform(3)),
                        rng_.chance(1, 2));
    }
    const uint64_t dice = rng_.uniform(100);
    if (dice < 48) {
      append();
    } else if (dice < 58) {
      set_hard_state();
    } else if (dice < 72) {
      call([&] { return log_->sync(); }, {});
      if (last_call_ok_) synced();
    } else if (dice < 77) {
      own_snapshot();
    } else if (dice < 80) {
      install_snapshot();
    } else if (dice < 87) {
      crash();
    } else if (dice < 90) {
      flip_a_synced_bit();
    } else {
      check_reads();
    }
  }

  void crash() {
    reopen(rng_.chance(1, 2) ? PowerLossMode::kTear : PowerLossMode::kDrop);
    const ModelState recovered = observe(*log_);
    const bool allowed =
        std::find(candidates_.begin(), candidates_.end(), recovered) != candidates_.end();
    std::string known;
    for (const ModelState& c : candidates_)
      known += fmt::format(" [{}, {}] s{} hs{}/{}", c.first, c.last(), c.snapshot_index,
                           c.hard_state.term, c.hard_state.commit);
    REQUIRE_MESSAGE(allowed, "seed ", seed_, ": recovered [", recovered.first, ", ",
                    recovered.last(), "] s", recovered.snapshot_index, " hs",
                    recovered.hard_state.term, "/", recovered.hard_state.commit,
                    " is not a state the log passed through since it was last durable:", known);
    REQUIRE_MESSAGE(log_->recovery_report().possible_loss == StorageLoss::kNone, "seed ", seed_,
                    ": a power loss reported as a loss: ", log_->recovery_report().loss_message);
    model_ = recovered;
    synced();
    ++crashes;
  }

  uint64_t crashes = 0, flips_reported = 0, full_disk_failures = 0;

 private:
  // model_ is durable now: the only state a crash may return.
  void synced() { candidates_.assign(1, model_); }

  // Runs one call of the log. A call that fsyncs made the state before it durable (a roll seals
  // the old segment, a scrub after a failed write syncs), unless it failed: a roll may have
  // synced only its new, empty segment. A failed call must return kResourceExhausted and change
  // nothing; `maybe_left` are the states its half-written records may show after a crash.
  void call(const std::function<base::Status()>& body, const std::vector<ModelState>& maybe_left) {
    const ModelState before = observe(*log_);
    const uint64_t syncs = env_.sync_data_calls();
    const base::Status status = body();
    last_call_ok_ = status.is_ok();
    if (status.is_ok()) {
      if (env_.sync_data_calls() != syncs) synced();
      return;
    }
    REQUIRE_MESSAGE(status.code() == base::Code::kResourceExhausted, "seed ", seed_, ": ",
                    status.to_string());
    REQUIRE_MESSAGE(observe(*log_) == before, "seed ", seed_, ": a failed call changed the log");
    for (const ModelState& state : maybe_left) candidates_.push_back(state);
    ++full_disk_failures;
  }

  void append() {
    raft::Index start = model_.last() + 1;
    if (model_.last() >= model_.first && rng_.chance(1, 5)) {
      start = model_.first + rng_.uniform(model_.entries.size());  // a conflicting suffix
      ++term_;
    }
    std::vector<raft::Entry> batch;
    const uint64_t count = rng_.range(1, 8);
    for (raft::Index i = start; i < start + count; ++i)
      batch.push_back(make_entry(i, term_, rng_.uniform(200)));
    std::vector<ModelState> states;  // each record may be the last to survive
    ModelState next = model_;
    for (const raft::Entry& entry : batch) {
      next.append(entry);
      states.push_back(next);
    }
    for (const raft::Entry& entry : batch) written_[entry.index].push_back(entry);
    call([&] { return log_->append(batch); }, states);
    if (!last_call_ok_) return;
    model_ = next;
    for (const ModelState& state : states) candidates_.push_back(state);
    REQUIRE(observe(*log_) == model_);
  }

  void set_hard_state() {
    ModelState next = model_;
    next.hard_state = raft::HardState{term_, rng_.uniform(4), rng_.uniform(model_.last() + 1)};
    call([&] { return log_->set_hard_state(next.hard_state); }, {next});
    if (!last_call_ok_) return;
    model_ = next;
    candidates_.push_back(model_);
  }

  void own_snapshot() {
    if (model_.entries.empty()) return;
    call([&] { return log_->sync(); }, {});  // raft snapshots applied entries, which are durable
    if (!last_call_ok_) return;
    synced();
    const raft::Index index = model_.first + rng_.uniform(model_.entries.size());
    const raft::Term term = log_->term(index);
    auto writer = log_->snapshots().begin({index, term, {{1, 2, 3}, {}}});
    const base::Status begun = writer.status();
    base::Status finished = begun;
    if (begun.is_ok()) {
      (*writer)->append("state@" + std::to_string(index));
      finished = (*writer)->finish();
    }
    if (!finished.is_ok()) {  // a full disk: no snapshot, the log untouched
      REQUIRE(finished.code() == base::Code::kResourceExhausted);
      REQUIRE(observe(*log_) == model_);
      ++full_disk_failures;
      return;
    }
    log_->compact(index);
    model_.entries.erase(model_.entries.begin(),
                         model_.entries.begin() + static_cast<ptrdiff_t>(index + 1 - model_.first));
    model_.first = index + 1;
    model_.snapshot_index = index;
    synced();
    REQUIRE(observe(*log_) == model_);
  }

  void install_snapshot() {
    const raft::Index around = model_.last() + 1 + rng_.uniform(12);  // last - 5 .. last + 6
    const raft::Index index = std::max(model_.snapshot_index + 1, around > 6 ? around - 6 : 1);
    raft::Term term = term_;
    if (index <= model_.last() && index >= model_.first && rng_.chance(1, 2)) {
      term = model_.entries[index - model_.first].term;
    }
    const raft::Snapshot snapshot{{index, term, {{1}, {}}},
                                  std::make_shared<const std::string>("x")};
    base::Status status = log_->install_snapshot(snapshot);
    while (!status.is_ok()) {  // as raft does: the same snapshot again, until space is back
      REQUIRE(status.code() == base::Code::kResourceExhausted);
      ++full_disk_failures;
      status = log_->install_snapshot(snapshot);
    }
    const bool keep = index <= model_.last() && model_.entries[index - model_.first].term == term;
    if (keep) {
      model_.entries.erase(
          model_.entries.begin(),
          model_.entries.begin() + static_cast<ptrdiff_t>(index + 1 - model_.first));
    } else {
      model_.entries.clear();
    }
    model_.first = index + 1;
    model_.snapshot_index = index;
    synced();
    REQUIRE(observe(*log_) == model_);
    CHECK(log_->term(index) == term);
  }

  // Power loss, then one bit flipped in a record the log had synced (the media's fault, not a
  // crash's). Recovery must report it unless it hit only a footer (which holds no data), and keep
  // nothing that was not in the log.
  void flip_a_synced_bit() {
    call([&] { return log_->sync(); }, {});
    if (!last_call_ok_) return;
    synced();
    log_.reset();
    env_.power_loss(PowerLossMode::kDrop);  // the files are now exactly what was synced
    std::vector<std::string> segments;
    const std::vector<std::string> names = *env_.list_dir(testing::kDir);
    for (const std::string& name : names)
      if (parse_segment_file_name(name)) segments.push_back(join_path(testing::kDir, name));
    const std::string path = segments[rng_.uniform(segments.size())];
    std::string bytes = *env_.contents(path);
    std::vector<std::pair<uint64_t, DecodedRecord>> records;
    for (uint64_t offset = 0;;) {
      const DecodedRecord record = decode_record(std::string_view(bytes).substr(offset));
      if (record.status != DecodeStatus::kOk) break;
      records.emplace_back(offset, record);
      offset += record.size_bytes;
    }
    const auto& [offset, record] = records[rng_.uniform(records.size())];
    const uint64_t at = offset + rng_.uniform(record.size_bytes);
    const RecordType type = record.type;
    bytes[at] = static_cast<char>(bytes[at] ^ (1 << rng_.uniform(8)));
    env_.set_durable_contents(path, bytes);
    reopen(PowerLossMode::kDrop);
    const ModelState recovered = observe(*log_);
    const RecoveryReport& report = log_->recovery_report();
    for (size_t i = 0; i < recovered.entries.size(); ++i) {  // nothing invented
      const raft::Index index = recovered.first + i;
      const auto& versions = written_[index];
      REQUIRE_MESSAGE(
          std::find(versions.begin(), versions.end(), recovered.entries[i]) != versions.end(),
          "seed ", seed_, ": entry ", index, " was never written; flip at ", path, " offset ", at,
          ": ", report.loss_message);
    }
    if (type != RecordType::kFooter) {
      REQUIRE_MESSAGE(report.possible_loss != StorageLoss::kNone, "seed ", seed_,
                      ": a flipped bit at ", path, " offset ", at, " went unreported");
    }
    if (report.possible_loss == StorageLoss::kNone) {
      REQUIRE_MESSAGE(recovered == model_, "seed ", seed_, ": lost data without a report");
    } else {
      REQUIRE(log_->identity().needs_repair());
      REQUIRE_OK(log_->identity().mark_repaired());  // as the leader would, by replication
      ++flips_reported;
    }
    model_ = recovered;
    synced();
  }

  void reopen(PowerLossMode mode) {
    log_.reset();
    env_.power_loss(mode);
    base::Result<std::unique_ptr<Log>> reopened = Log::open(env_, testing::kDir, options_);
    REQUIRE_MESSAGE(reopened.is_ok(), "seed ", seed_, ": ", reopened.status().to_string());
    log_ = std::move(reopened).value();
  }

  void check_reads() {
    if (model_.entries.empty()) return;
    const raft::Index lo = model_.first + rng_.uniform(model_.entries.size());
    const raft::Index hi = lo + 1 + rng_.uniform(model_.last() + 1 - lo);
    const uint64_t max_bytes = rng_.uniform(600);
    const std::vector<raft::Entry> got = log_->entries(lo, hi, max_bytes);
    REQUIRE(!got.empty());
    uint64_t bytes = 0;
    for (size_t k = 0; k < got.size(); ++k) {
      REQUIRE(got[k] == model_.entries[lo - model_.first + k]);
      bytes += got[k].data.size();
    }
    CHECK((got.size() == 1 || bytes <= max_bytes));
  }

  uint64_t seed_;
  base::Rng rng_;
  FaultEnv env_;
  LogOptions options_;
  std::unique_ptr<Log> log_;
  ModelState model_;
  std::vector<ModelState> candidates_{ModelState{}};
  // Every entry ever given to append, by index: a cut log may hold an older version of an
  // entry (the stream's prefix), never one that was not written.
  std::map<raft::Index, std::vector<raft::Entry>> written_;
  raft::Term term_ = 1;
  bool last_call_ok_ = true;
};

TEST_CASE(
    "wal crash: after every simulated power loss the log is a state it passed through since it "
    "was last durable; every flipped synced bit is reported") {
  uint64_t crashes = 0, flips = 0, full = 0;
  for (uint64_t seed = 1; seed <= 1000; ++seed) {
    Run run(seed);
    for (int step = 0; step < 150; ++step) run.step();
    run.crash();
    crashes += run.crashes;
    flips += run.flips_reported;
    full += run.full_disk_failures;
  }
  MESSAGE("simulated power losses: ", crashes, ", reported bit flips: ", flips,
          ", calls failed on a full disk: ", full);
  CHECK(crashes >= 10000);
  CHECK(flips >= 2000);
  CHECK(full >= 5000);
}

}  // namespace
}  // namespace wal
