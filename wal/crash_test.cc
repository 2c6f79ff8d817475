// Power loss at random points of random append / truncate / hard-state / sync / compact /
// snapshot sequences, through FaultEnv. After every crash the recovered log must be one of the
// states the log passed through since the last sync, record by record: it holds everything
// synced, in order, and nothing invented. Reproduce a failure with its seed.
#include <algorithm>
#include <optional>

#include "doctest/doctest.h"
#include "wal/test_util.h"

namespace wal {
namespace {

using testing::make_entry;

struct ModelState {
  raft::Index first = 1;
  std::vector<raft::Entry> entries;  // entries[i] has index first + i
  raft::HardState hard_state;
  raft::Index snapshot_index = 0;

  raft::Index last() const { return first + entries.size() - 1; }
  void append(const raft::Entry& entry) {
    entries.resize(entry.index - first);
    entries.push_back(entry);
  }
  bool operator==(const ModelState&) const = default;
};

ModelState observe(const Log& log) {
  ModelState state;
  state.first = log.first_index();
  state.entries = testing::all_entries(log);
  state.hard_state = log.initial_hard_state();
  state.snapshot_index = log.snapshot_meta().index;
  return state;
}

class Run {
 public:
  explicit Run(uint64_t seed) : seed_(seed), rng_(seed), env_(seed) {
    options_.segment_bytes = 1024 + rng_.uniform(2048);
    options_.cache_bytes = rng_.uniform(1500);
    log_ = testing::open_ok(env_, options_);
  }

  void step() {
    const uint64_t dice = rng_.uniform(100);
    if (dice < 50) {
      append();
    } else if (dice < 60) {
      set_hard_state();
    } else if (dice < 75) {
      log_->sync();
      synced();
    } else if (dice < 80) {
      own_snapshot();
    } else if (dice < 83) {
      install_snapshot();
    } else if (dice < 90) {
      crash();
    } else {
      check_reads();
    }
  }

  void crash() {
    log_.reset();
    env_.power_loss(rng_.chance(1, 2) ? PowerLossMode::kTear : PowerLossMode::kDrop);
    base::Result<std::unique_ptr<Log>> reopened = Log::open(env_, testing::kDir, options_);
    REQUIRE_MESSAGE(reopened.is_ok(), "seed ", seed_, ": ", reopened.status().to_string());
    log_ = std::move(reopened).value();
    const ModelState recovered = observe(*log_);
    const bool allowed =
        std::find(candidates_.begin(), candidates_.end(), recovered) != candidates_.end();
    REQUIRE_MESSAGE(allowed, "seed ", seed_, ": recovered [", recovered.first, ", ",
                    recovered.last(),
                    "] is not a state the log passed through since its last sync");
    model_ = recovered;
    synced();
    ++crashes;
  }

  uint64_t crashes = 0;

 private:
  // model_ is durable now: the only state a crash may return.
  void synced() { candidates_.assign(1, model_); }

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
    log_->append(batch);
    for (const raft::Entry& entry : batch) {  // each record may be the last to survive
      model_.append(entry);
      candidates_.push_back(model_);
    }
    REQUIRE(observe(*log_) == model_);
  }

  void set_hard_state() {
    model_.hard_state = raft::HardState{term_, rng_.uniform(4), rng_.uniform(model_.last() + 1)};
    log_->set_hard_state(model_.hard_state);
    candidates_.push_back(model_);
  }

  void own_snapshot() {
    if (model_.entries.empty()) return;
    log_->sync();  // raft snapshots applied entries, which are durable
    const raft::Index index = model_.first + rng_.uniform(model_.entries.size());
    const raft::Term term = log_->term(index);
    auto writer = log_->snapshots().begin({index, term, {{1, 2, 3}, {}}});
    REQUIRE(writer.is_ok());
    (*writer)->append("state@" + std::to_string(index));
    REQUIRE((*writer)->finish().is_ok());
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
    log_->install_snapshot(
        raft::Snapshot{{index, term, {{1}, {}}}, std::make_shared<const std::string>("x")});
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
  raft::Term term_ = 1;
};

TEST_CASE(
    "wal crash: after every simulated power loss the log is a state it passed through since its "
    "last sync") {
  uint64_t crashes = 0;
  for (uint64_t seed = 1; seed <= 1000; ++seed) {
    Run run(seed);
    for (int step = 0; step < 150; ++step) run.step();
    run.crash();
    crashes += run.crashes;
  }
  MESSAGE("simulated power losses: ", crashes);
  CHECK(crashes >= 10000);
}

}  // namespace
}  // namespace wal
