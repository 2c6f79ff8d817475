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
  log->append(testing::make_entries(1, 3, 1));
  env.inject_error(FaultOp::kSyncData, EIO);
  const std::string message = fatal_message([&] { log->sync(); });
  CHECK(message.find("fdatasync") != std::string::npos);
  CHECK(message.find("Input/output error") != std::string::npos);
  CHECK(message.find("never retried") != std::string::npos);
}

TEST_CASE("wal fatal: ENOSPC on a write or on preallocating a new segment stops the log") {
  FaultEnv env(2);
  auto log = testing::open_ok(env);
  env.inject_error(FaultOp::kWrite, ENOSPC);
  std::string message = fatal_message([&] { log->append(testing::make_entries(1, 1, 1)); });
  CHECK(message.find("No space left on device") != std::string::npos);
  log.reset();
  FaultEnv env2(3);
  log = testing::open_ok(env2);
  env2.inject_error(FaultOp::kWrite, ENOSPC,
                    1);  // write 1: the records before the roll; 2: preallocate
  message = fatal_message([&] { log->append(testing::make_entries(1, 400, 1, 100)); });
  CHECK(message.find("preallocating a segment") != std::string::npos);
}

TEST_CASE("wal fatal: EIO on the directory fsync of a new segment stops the log") {
  FaultEnv env(4);
  auto log = testing::open_ok(env);
  env.inject_error(FaultOp::kSyncDir, EIO);
  const std::string message = fatal_message([&] {
    log->append(testing::make_entries(1, 400, 1, 100));
    log->sync();
  });
  CHECK(message.find("fsync of the data directory") != std::string::npos);
}

TEST_CASE("wal fatal: the process really stops (forked child aborts on an fsync error)") {
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    FaultEnv env(5);
    auto log = testing::open_ok(env);
    log->append(testing::make_entries(1, 1, 1));
    env.inject_error(FaultOp::kSyncData, EIO);
    log->sync();
    _exit(0);  // not reached when FATAL works
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
}

}  // namespace
}  // namespace wal
