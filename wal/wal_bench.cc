// wal_bench: the disk's raw write+fdatasync limit next to the WAL's group-commit throughput, and
// recovery speed, in one run. Prints medians with min..max over --runs runs.
//   wal_bench [--dir /tmp/wal_bench] [--runs 5] [--run_ms 600] [--recovery_mib 1024]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <vector>

#include "base/flags.h"
#include "wal/format.h"
#include "wal/log.h"
#include "wal/posix_env.h"

namespace {

using Clock = std::chrono::steady_clock;

void must_ok(const base::Status& status) {
  if (!status.is_ok()) FATAL("{}", status.to_string());
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Stat {
  double median, min, max;
};
Stat summarize(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return {values[values.size() / 2], values.front(), values.back()};
}

void fresh_dir(const std::string& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
}

// Syncs per second of pwrite(bytes) + fdatasync, appending to a new file (no WAL at all).
double raw_syncs_per_second(const std::string& dir, size_t bytes, double run_s) {
  fresh_dir(dir);
  const std::string path = dir + "/raw";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) FATAL("open {}", path);
  const std::string block(bytes, 'r');
  uint64_t offset = 0, syncs = 0;
  const auto start = Clock::now();
  while (seconds_since(start) < run_s) {
    if (::pwrite(fd, block.data(), block.size(), static_cast<off_t>(offset)) !=
        static_cast<ssize_t>(bytes))
      FATAL("pwrite");
    if (::fdatasync(fd) != 0) FATAL("fdatasync");
    offset += bytes;
    ++syncs;
  }
  const double rate = static_cast<double>(syncs) / seconds_since(start);
  ::close(fd);
  return rate;
}

// Syncs per second of Log::append(batch) + Log::sync().
double wal_syncs_per_second(const std::string& dir, size_t batch, size_t entry_bytes,
                            double run_s) {
  fresh_dir(dir);
  auto log = wal::Log::open(wal::posix_env(), dir);
  if (!log.is_ok()) FATAL("{}", log.status().to_string());
  std::vector<raft::Entry> entries(batch);
  for (auto& e : entries) e.data.assign(entry_bytes, 'w');
  raft::Index next = 1;
  uint64_t syncs = 0;
  const auto start = Clock::now();
  while (seconds_since(start) < run_s) {
    for (auto& e : entries) e = raft::Entry{next++, 1, raft::EntryType::kNormal, std::move(e.data)};
    must_ok((*log)->append(entries));
    must_ok((*log)->sync());
    ++syncs;
  }
  return static_cast<double>(syncs) / seconds_since(start);
}

void throughput(const std::string& dir, int runs, double run_s) {
  std::printf("%-10s %6s | %-28s | %-28s | %-22s | %6s\n", "entry", "batch",
              "raw write+fdatasync /s", "wal syncs/s", "wal entries/s", "MB/s");
  for (size_t entry_bytes : {size_t{100}, size_t{4096}}) {
    double batch1_entries = 0;
    for (size_t batch : {size_t{1}, size_t{8}, size_t{64}, size_t{512}}) {
      const size_t record_bytes =
          wal::format::kRecordHeaderBytes + wal::format::kEntryFixedPayloadBytes + entry_bytes;
      std::vector<double> raw, wal_rate;
      for (int r = 0; r < runs; ++r) {  // interleaved, so drift hits both alike
        raw.push_back(raw_syncs_per_second(dir, batch * record_bytes, run_s));
        wal_rate.push_back(wal_syncs_per_second(dir, batch, entry_bytes, run_s));
      }
      const Stat raw_stat = summarize(raw), wal_stat = summarize(wal_rate);
      const double entries = wal_stat.median * static_cast<double>(batch);
      if (batch == 1) batch1_entries = entries;
      std::printf(
          "%-10zu %6zu | %8.0f (%6.0f..%6.0f)     | %8.0f (%6.0f..%6.0f) %4.2fx | %10.0f (%5.1fx "
          "b1) | %6.1f\n",
          entry_bytes, batch, raw_stat.median, raw_stat.min, raw_stat.max, wal_stat.median,
          wal_stat.min, wal_stat.max, wal_stat.median / raw_stat.median, entries,
          entries / batch1_entries, entries * static_cast<double>(entry_bytes) / 1e6);
    }
  }
}

void recovery(const std::string& dir, int runs, uint64_t mib) {
  fresh_dir(dir);
  const size_t entry_bytes = 4096;
  {
    auto log = wal::Log::open(wal::posix_env(), dir);
    if (!log.is_ok()) FATAL("{}", log.status().to_string());
    std::vector<raft::Entry> batch(256);
    raft::Index next = 1;
    const uint64_t total = mib << 20;
    for (uint64_t written = 0; written < total; written += batch.size() * entry_bytes) {
      for (auto& e : batch)
        e = raft::Entry{next++, 1, raft::EntryType::kNormal, std::string(entry_bytes, 'x')};
      must_ok((*log)->append(batch));
    }
    must_ok((*log)->sync());
  }
  std::vector<double> seconds, mb_per_s;
  for (int r = 0; r < runs; ++r) {
    const auto start = Clock::now();
    auto log = wal::Log::open(wal::posix_env(), dir);
    const double took = seconds_since(start);
    if (!log.is_ok()) FATAL("{}", log.status().to_string());
    seconds.push_back(took);
    mb_per_s.push_back(static_cast<double>((*log)->recovery_report().record_bytes) / 1e6 / took);
  }
  const Stat s = summarize(seconds), m = summarize(mb_per_s);
  std::printf(
      "recovery of %llu MiB (4 KiB entries, page cache warm): %.3f s (%.3f..%.3f), %.0f MB/s of "
      "records (%.0f..%.0f)\n",
      static_cast<unsigned long long>(mib), s.median, s.min, s.max, m.median, m.min, m.max);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp/wal_bench";
  uint64_t runs = 5, run_ms = 600, recovery_mib = 1024;
  base::Flags flags("wal_bench [flags]");
  flags.add_string("dir", &dir, "scratch directory (removed and recreated)");
  flags.add_uint("runs", &runs, "runs per measurement (median reported)");
  flags.add_uint("run_ms", &run_ms, "duration of one throughput run");
  flags.add_uint("recovery_mib", &recovery_mib, "size of the log recovered (0 skips)");
  if (const base::Status status = flags.parse(argc, argv); !status.is_ok()) {
    std::fprintf(stderr, "%s\n%s", status.to_string().c_str(), flags.usage().c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::printf("%s", flags.usage().c_str());
    return 0;
  }
  throughput(dir, static_cast<int>(runs), static_cast<double>(run_ms) / 1000.0);
  if (recovery_mib > 0) recovery(dir, 3, recovery_mib);
  std::filesystem::remove_all(dir);
  return 0;
}
