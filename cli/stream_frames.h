// A thread-safe queue between a stream callback (which may run on a transport's io thread) and
// the thread consuming the stream. One per opened stream: frames of an abandoned stream land
// in its own queue and are never seen by the next one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "base/status.h"
#include "cli/transport.h"
#include "net/client_types.h"

namespace cli {

class StreamFrames {
 public:
  using Frame = base::Result<net::ResponseBody>;

  void push(Frame frame) {
    {
      std::lock_guard lock(mu_);
      frames_.push_back(std::move(frame));
    }
    cv_.notify_one();
  }
  // nullopt when nothing arrived within `timeout`.
  std::optional<Frame> pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !frames_.empty(); })) return std::nullopt;
    Frame frame = std::move(frames_.front());
    frames_.pop_front();
    return frame;
  }
  // A callback that feeds `frames` (kept alive by the callback itself).
  static Channel::StreamCallback feeder(const std::shared_ptr<StreamFrames>& frames) {
    return [frames](Frame frame) { frames->push(std::move(frame)); };
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Frame> frames_;
};

}  // namespace cli
