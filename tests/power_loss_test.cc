// Real kvd processes with --test-sync-journal: kill -9 of every node, roll_back_unsynced of each
// data directory (a coordinated power loss), restart. The correct node keeps every acknowledged
// write; with the planted bug ack-before-fsync the same scenario loses them.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "cli/client.h"
#include "kvmodel/key.h"
#include "tests/client_helpers.h"
#include "tests/process_cluster.h"
#include "wal/power_loss.h"

using namespace std::chrono_literals;
using cli::split_endpoints;
using testing_support::key;
using testing_support::patient;
using testing_support::ProcessCluster;
using testing_support::ProcessClusterOptions;

namespace {

// Writes n keys one by one, kills every node, rolls every data directory back, restarts, and
// returns how many acknowledged writes are missing.
size_t lost_after_power_loss(const std::vector<std::string>& flags, int n,
                             wal::RollbackReport& total) {
  ProcessClusterOptions options;
  options.extra_flags = flags;
  ProcessCluster c(options);
  c.start_all();
  REQUIRE(c.wait_leader() != 0);
  std::vector<std::string> acknowledged;
  {
    cli::Client client(split_endpoints(c.endpoints()), patient());
    for (int i = 0; i < n; ++i) {
      const std::string name = "p" + std::to_string(i);
      auto r = client.set(key(name), kvmodel::Value{kvmodel::ValueEncoding::kBytes, name});
      if (r.is_ok() && r->ok) acknowledged.push_back(name);
    }
  }
  REQUIRE(acknowledged.size() == static_cast<size_t>(n));
  for (int id = 1; id <= 3; ++id) c.kill9(id);
  for (int id = 1; id <= 3; ++id) {
    CHECK(std::filesystem::exists(c.data_dir(id) + "/test-sync-journal.log"));
    wal::RollbackReport report;
    base::Status s = wal::roll_back_unsynced(c.data_dir(id), &report);
    REQUIRE_MESSAGE(s.is_ok(), s.to_string());
    total.files_truncated += report.files_truncated;
    total.files_removed += report.files_removed;
    total.bytes_dropped += report.bytes_dropped;
  }
  c.start_all();
  REQUIRE(c.wait_leader() != 0);
  cli::Client client(split_endpoints(c.endpoints()), patient());
  size_t missing = 0;
  for (const auto& name : acknowledged) {
    auto r = client.get(key(name));
    REQUIRE(r.is_ok());
    if (!r->has_value() || (*r)->value.data != name) ++missing;
  }
  return missing;
}

}  // namespace

TEST_CASE("power loss: with every fsync journaled, a rollback of all nodes loses no ack") {
  wal::RollbackReport report;
  CHECK(lost_after_power_loss({"--test-sync-journal"}, 100, report) == 0);
}

TEST_CASE("power loss: ack-before-fsync acknowledges writes a power loss then takes") {
  wal::RollbackReport report;
  const size_t lost =
      lost_after_power_loss({"--test-sync-journal", "--plant-bug", "ack-before-fsync"}, 50, report);
  CHECK(report.files_removed > 0);  // the segments were never made durable
  CHECK(lost == 50);
}
