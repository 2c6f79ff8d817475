// kv-jepsen as a user meets it, with real kvd processes: bad flags are clear errors, results go
// to stdout (a verdict line naming report.html first) and progress to stderr, --ports bounds
// every port, and a valid run leaves no data dirs behind unless --keep.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/launcher.h"
#include "tests/process_cluster.h"

using testing_support::binary_path;
using testing_support::run_command;

namespace {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char name[] = "/tmp/raftkv-kv-jepsen-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::string kv_jepsen() {
  return binary_path("KV_JEPSEN") + " --kvd " + binary_path("KVD") + " --no-progress";
}

// A short register run under kill-one faults, all its ports in `range`.
std::string short_run(const launcher::PortRange& range, const std::filesystem::path& out) {
  return fmt::format(
      "{} --workload register --nemesis kill-one --time-limit 2 --quiet 1 --recovery 1 "
      "--fault-interval 1 --seed 5 --ports {}-{} --out {}",
      binary_path("KV_JEPSEN") + " --kvd " + binary_path("KVD"), range.first, range.last,
      out.string());
}

}  // namespace

TEST_CASE("kv-jepsen: bad flags and unknown nemeses are errors that say what is valid") {
  TempDir dir;
  auto r = run_command(kv_jepsen() + " --ports 32000-31000 --out " + (dir.path / "a").string());
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("FROM-TO") != std::string::npos);
  r = run_command(kv_jepsen() + " --nemesis kill,explode --out " + (dir.path / "b").string());
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("unknown nemesis 'explode'") != std::string::npos);
  CHECK(r.err.find("member-replace-leader") != std::string::npos);
  CHECK(r.out.starts_with("verdict: failed: error - setup failed"));
}

TEST_CASE(
    "kv-jepsen: a valid run prints its verdict on stdout, stays in its ports, and cleans "
    "up its data dirs unless --keep") {
  TempDir dir;
  auto block = launcher::PortPool().take_block(40);
  REQUIRE(block.is_ok());
  const launcher::PortRange range{*block, *block + 39};
  const auto out = dir.path / "run";
  auto r = run_command(short_run(range, out));
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string first_line = r.out.substr(0, r.out.find('\n'));
  CHECK(std::regex_match(first_line, std::regex("verdict: valid - no anomaly in [0-9]+ ops under "
                                                "[0-9]+ fault periods; report: .*/run/"
                                                "report.html")));
  CHECK(r.out.find("phase=") == std::string::npos);  // progress is stderr's
  CHECK(r.err.find("phase=faulted") != std::string::npos);
  CHECK(r.out.find("were removed; --keep keeps them") != std::string::npos);
  for (int id = 1; id <= 3; ++id) {
    CHECK_FALSE(std::filesystem::exists(out / fmt::format("n{}", id)));
    const std::string log = slurp(out / fmt::format("n{}.log", id));
    CHECK(!log.empty());
    // Every address a node was given lies in --ports.
    const std::regex addr("127\\.0\\.0\\.1:([0-9]+)");
    int seen = 0;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), addr); it != std::sregex_iterator();
         ++it, ++seen) {
      const int port = std::stoi((*it)[1]);
      CHECK(port >= range.first);
      CHECK(port <= range.last);
    }
    CHECK(seen >= 2);  // its client and peer listeners at least
  }
  CHECK(slurp(out / "results.json").find("\"verdict\": \"valid\"") != std::string::npos);
  CHECK(slurp(out / "report.html").find("<a href=\"n3.log\">n3.log</a>") != std::string::npos);

  const auto kept = dir.path / "kept";
  r = run_command(short_run(range, kept) + " --keep");
  REQUIRE(r.exit_code == 0);
  for (int id = 1; id <= 3; ++id)
    CHECK(std::filesystem::is_directory(kept / fmt::format("n{}", id) / "data"));
}
