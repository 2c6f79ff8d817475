// A failed write or fsync stops the process (never retried). Checked two ways: a fatal hook
// that throws shows which call failed and what it said; a forked child shows the process dies.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <stdexcept>

#include "doctest/doctest.h"
#include "wal/test_util.h"

namespace wal {
namespace {

struct Fatal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs `body`; returns the FATAL message it raised ("" if none).
template <typename Body>
std::string fatal_message(Body body) {
  base::set_fatal_hook(
      [](std::string_view message, const char*, int) { throw Fatal(std::string(message)); });
  std::string message;
  try {
    body();
  } catch (const Fatal& fatal) {
    message = fatal.what();
  }
  base::set_fatal_hook(nullptr);
  return message;
}

TEST_CASE("wal fatal: EIO on fdatasync stops the log, naming the call and the error") {
  FaultEnv env(1);
  auto log = testing::open_ok(env);
  REQUIRE_OK(log->append(testing::make_entries(1, 3, 1)));
  env.inject_error(FaultOp::kSyncData, EIO);
  const std::string message = fatal_message([&] { (void)log->sync(); });
  CHECK(message.find("fdatasync") != std::string::npos);
  CHECK(message.find("Input/output error") != std::string::npos);
  CHECK(message.find("never retried") != std::string::npos);
}

TEST_CASE("wal fatal: ENOSPC from fdatasync is an fsync failure, and stops the log too") {
  FaultEnv env(2);
  auto log = testing::open_ok(env);
  REQUIRE_OK(log->append(testing::make_entries(1, 3, 1)));
  env.inject_error(FaultOp::kSyncData, ENOSPC);
  const std::string message = fatal_message([&] { (void)log->sync(); });
  CHECK(message.find("fdatasync") != std::string::npos);
  CHECK(message.find("No space left on device") != std::string::npos);
}

TEST_CASE("wal fatal: EIO on a write, or on preallocating a new segment, stops the log") {
  FaultEnv env(3);
  auto log = testing::open_ok(env);
  env.inject_error(FaultOp::kWrite, EIO);
  std::string message = fatal_message([&] { (void)log->append(testing::make_entries(1, 1, 1)); });
  CHECK(message.find("Input/output error") != std::string::npos);
  log.reset();
  FaultEnv env2(4);
  log = testing::open_ok(env2);
  env2.inject_error(FaultOp::kWrite, EIO, 1);  // write 1: records; 2: the new segment's space
  message = fatal_message([&] {
    (void)log->append(testing::make_entries(1, 100, 1, 100));
    (void)log->append(testing::make_entries(101, 400, 1, 100));
  });
  CHECK(message.find("preallocating") != std::string::npos);
}

TEST_CASE("wal fatal: EIO on the directory fsync of a new segment stops the log") {
  FaultEnv env(5);
  auto log = testing::open_ok(env);
  env.inject_error(FaultOp::kSyncDir, EIO);
  const std::string message =
      fatal_message([&] { (void)log->append(testing::make_entries(1, 400, 1, 100)); });
  CHECK(message.find("fsync of the data directory") != std::string::npos);
}

TEST_CASE("wal fatal: the process really stops (forked child aborts on an fsync error)") {
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    FaultEnv env(6);
    auto log = testing::open_ok(env);
    REQUIRE_OK(log->append(testing::make_entries(1, 1, 1)));
    env.inject_error(FaultOp::kSyncData, EIO);
    (void)log->sync();
    _exit(0);  // not reached when FATAL works
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
}

}  // namespace
}  // namespace wal
