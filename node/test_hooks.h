// Test-only hooks of kvd for the Jepsen harness (compiled only with -Dtest_hooks=true, which
// defines RAFTKV_TEST_HOOKS): planted bugs, a skewed wall clock, and the sync journal that
// lets the harness simulate a power loss (wal/SYNC_JOURNAL.md). A Node finds them through
// NodeOptions::test_hooks (null: none). See node/README.md, "Test hooks".
#pragma once

#ifdef RAFTKV_TEST_HOOKS

#include <bitset>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "wal/env.h"

namespace node {

// Known bugs kvd can plant (`--plant-bug NAME`), each to prove the harness catches it.
enum class PlantedBug : uint8_t {
  kLocalReads,      // strong reads answered from local state: no ReadIndex, no leadership check
  kAckBeforeFsync,  // the WAL's fdatasync and directory fsync do nothing (wal/no_sync_env.h)
  kDropQueueAcks,   // QueueAck answered Ok but never proposed: redelivered, then dead-lettered
  kStaleWatch,      // any node serves watches from local state, ignoring min_versionstamp
};
inline constexpr size_t kPlantedBugCount = 4;

class PlantedBugs {
 public:
  bool has(PlantedBug bug) const { return set_[static_cast<size_t>(bug)]; }
  void add(PlantedBug bug) { set_.set(static_cast<size_t>(bug)); }
  bool any() const { return set_.any(); }
  // Adds "name" or "name1,name2"; an unknown name is kInvalidArgument listing the known ones.
  base::Status add_names(std::string_view names);

 private:
  std::bitset<kPlantedBugCount> set_;
};

// One line of a clock file: `offset_ms=<int64> rate=<double>`.
struct ClockSetting {
  int64_t offset_ms = 0;
  double rate = 1.0;
  friend bool operator==(const ClockSetting&, const ClockSetting&) = default;
};
base::Result<ClockSetting> parse_clock_setting(std::string_view text);

// The skew arithmetic, pure: skewed(real) = offset + anchor + (real - anchor) * rate. A new
// setting re-anchors at the real time it takes effect, so the clock is continuous apart from the
// offset jump. Never below 0.
class SkewArithmetic {
 public:
  explicit SkewArithmetic(uint64_t real_ms) : anchor_real_ms_(real_ms), anchor_ms_(real_ms) {}
  void set(ClockSetting setting, uint64_t real_ms);
  uint64_t skewed_ms(uint64_t real_ms) const;
  const ClockSetting& setting() const { return setting_; }

 private:
  double unskewed_ms(uint64_t real_ms) const;  // anchor + (real - anchor) * rate
  ClockSetting setting_;
  uint64_t anchor_real_ms_;
  double anchor_ms_;
};

// `--test-clock-file PATH`: the node's wall clock, skewed by what the file says. The file is
// re-read at most every 100 ms, when the clock is read. Missing file: no skew. Malformed: a
// warning (once per distinct content) and the previous setting stays. Thread-safe.
class SkewedClock {
 public:
  explicit SkewedClock(std::string path);
  uint64_t now_ms(uint64_t real_ms);
  ClockSetting setting();

 private:
  void maybe_reload(uint64_t real_ms);

  std::mutex mutex_;
  std::string path_;
  SkewArithmetic arithmetic_;
  std::optional<std::chrono::steady_clock::time_point> last_read_;
  std::string last_malformed_;
};

struct TestHooks {
  PlantedBugs bugs;
  bool sync_journal = false;                    // --test-sync-journal
  std::unique_ptr<SkewedClock> clock;           // --test-clock-file; null: the real clock
  std::vector<std::unique_ptr<wal::Env>> envs;  // wrappers the node's WAL uses (owned here)

  bool has(PlantedBug bug) const { return bugs.has(bug); }
};

}  // namespace node

#endif  // RAFTKV_TEST_HOOKS
