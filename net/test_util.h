// Helpers for net's socket tests: an io_context on its own thread, and waits on conditions
// (never fixed sleeps) with generous deadlines.
#pragma once

#include <sys/socket.h>
#include <asio.hpp>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "base/bytes.h"
#include "net/connection.h"

namespace net::testing {

constexpr auto kDeadline = std::chrono::seconds(20);

// Runs one io_context on one thread for the object's lifetime.
class IoThread {
 public:
  IoThread() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~IoThread() {
    work_.reset();
    io_.stop();
    thread_.join();
  }
  asio::io_context& io() { return io_; }

  // Runs f on the io thread and returns its result.
  template <class F>
  auto run(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto future = task.get_future();
    asio::post(io_, [&task] { task(); });
    return future.get();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

// True once pred() holds; false if it still does not after the deadline. pred is polled, so it
// must be cheap and thread-safe (use IoThread::run inside it for io-thread state).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds deadline = kDeadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // poll interval, not a wait
  }
  return true;
}

// Items pushed from callbacks on any thread, awaited by the test thread.
template <class T>
class Inbox {
 public:
  void push(T item) {
    std::lock_guard lock(mu_);
    items_.push_back(std::move(item));
    cv_.notify_all();
  }
  // True once at least n items arrived.
  bool wait_for(size_t n, std::chrono::milliseconds deadline = kDeadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, deadline, [&] { return items_.size() >= n; });
  }
  std::vector<T> items() {
    std::lock_guard lock(mu_);
    return items_;
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return items_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<T> items_;
};

// Sends raw bytes on a fresh connection to `address` and reports whether the server then
// closed it (true) or kept it open for 20 s (false).
inline bool server_closes_after(const std::string& address, const base::Bytes& bytes) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect(*resolve_endpoint(address));
  timeval timeout{20, 0};  // a bound for a broken server, not a wait for success
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  asio::write(socket, asio::buffer(bytes));
  char c;
  asio::error_code ec;
  socket.read_some(asio::buffer(&c, 1), ec);
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

}  // namespace net::testing
