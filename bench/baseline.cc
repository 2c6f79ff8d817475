// bench-baseline: the two costs a replicated write cannot avoid on this machine, for the
// "commit p50 <= 1.5 x (one fdatasync + one loopback round trip)" target of issue 8:
//   fdatasync: append 128 bytes to a file in DIR and fdatasync it, 500 times;
//   loopback round trip: 64-byte ping-pong over TCP (TCP_NODELAY) on 127.0.0.1, 5000 times.
// Prints one JSON object with the p50/p99 of each, in microseconds.
//   usage: bench-baseline DIR
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "base/check.h"
#include "base/histogram.h"

namespace {

using Clock = std::chrono::steady_clock;

uint64_t micros_since(Clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
}

base::Histogram measure_fdatasync(const std::string& dir) {
  std::string path = dir + "/bench-baseline.dat";
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0644);
  if (fd < 0) FATAL("cannot create {}", path);
  char record[128] = {};
  base::Histogram h;
  for (int i = 0; i < 500; ++i) {
    auto start = Clock::now();
    ENSURE(::write(fd, record, sizeof record) == static_cast<ssize_t>(sizeof record));
    ENSURE(::fdatasync(fd) == 0);
    h.record(micros_since(start));
  }
  ::close(fd);
  ::unlink(path.c_str());
  return h;
}

void read_exactly(int fd, char* buf, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t r = ::read(fd, buf + got, n - got);
    ENSURE(r > 0);
    got += static_cast<size_t>(r);
  }
}

base::Histogram measure_loopback() {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ENSURE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  ENSURE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ENSURE(::listen(listener, 1) == 0);
  constexpr int kPings = 5000;
  std::thread echo([listener] {
    int conn = ::accept(listener, nullptr, nullptr);
    ENSURE(conn >= 0);
    int one = 1;
    ::setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char buf[64];
    for (int i = 0; i < kPings; ++i) {
      read_exactly(conn, buf, sizeof buf);
      ENSURE(::write(conn, buf, sizeof buf) == static_cast<ssize_t>(sizeof buf));
    }
    ::close(conn);
  });
  int client = ::socket(AF_INET, SOCK_STREAM, 0);
  ENSURE(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  int one = 1;
  ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char buf[64] = {};
  base::Histogram h;
  for (int i = 0; i < kPings; ++i) {
    auto start = Clock::now();
    ENSURE(::write(client, buf, sizeof buf) == static_cast<ssize_t>(sizeof buf));
    read_exactly(client, buf, sizeof buf);
    h.record(micros_since(start));
  }
  echo.join();
  ::close(client);
  ::close(listener);
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: bench-baseline DIR\n");
    return 2;
  }
  auto sync = measure_fdatasync(argv[1]);
  auto rtt = measure_loopback();
  std::printf(
      "{\"fdatasync_p50_us\":%lu,\"fdatasync_p99_us\":%lu,\"loopback_rtt_p50_us\":%lu,"
      "\"loopback_rtt_p99_us\":%lu}\n",
      static_cast<unsigned long>(sync.percentile(0.5)),
      static_cast<unsigned long>(sync.percentile(0.99)),
      static_cast<unsigned long>(rtt.percentile(0.5)),
      static_cast<unsigned long>(rtt.percentile(0.99)));
  return 0;
}
