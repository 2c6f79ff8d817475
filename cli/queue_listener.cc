// Client::listen_queue: the consumer side of queues (issue 6, Deno's listenQueue).
#include <future>

#include "cli/client.h"
#include "cli/stream_frames.h"

namespace cli {
namespace {

constexpr std::chrono::milliseconds kStopPoll{100};

// Runs the handler on its own thread, extending the lease every third of the visibility
// timeout so a slow handler keeps its message; a handler that throws has failed.
bool run_handler(Client& client, const std::function<bool(const net::QueueDelivery&)>& handler,
                 const net::QueueDelivery& delivery, uint32_t visibility_ms) {
  std::future<bool> done = std::async(std::launch::async, [&handler, &delivery] {
    try {
      return handler(delivery);
    } catch (...) {
      return false;
    }
  });
  auto interval = std::chrono::milliseconds(std::max<uint32_t>(visibility_ms / 3, 1));
  while (done.wait_for(interval) != std::future_status::ready) {
    // A failed extension is not fatal: if the lease runs out the message is delivered again
    // (at least once), and the ack below is then refused.
    (void)client.call_leader(kvmodel::QueueExtend{delivery.message_id, delivery.lease_token});
  }
  return done.get();
}

}  // namespace

base::Status Client::listen_queue(const std::function<bool(const net::QueueDelivery&)>& handler,
                                  const QueueListenOptions& options) {
  uint64_t handled = 0;
  int failures = 0;  // consecutive stream openings without a delivery
  auto stopping = [&] { return options.should_stop && options.should_stop(); };
  while (!stopping()) {
    if (failures > 0) backoff(failures - 1);
    ++failures;
    auto frames = std::make_shared<StreamFrames>();
    net::QueueListen listen{options.consumer, 1, options.visibility_ms};
    base::Result<OpenStream> opened = open_stream(listen, StreamFrames::feeder(frames));
    if (!opened.is_ok()) return opened.status();
    for (;;) {
      if (stopping()) {
        opened->channel->cancel_stream(opened->stream_id);
        return base::Status::ok();
      }
      std::optional<StreamFrames::Frame> frame = frames->pop(kStopPoll);
      if (!frame) continue;
      if (!frame->is_ok()) break;  // connection lost: reopen, perhaps on another node
      net::ResponseBody& body = frame->value();
      if (auto* delivery = std::get_if<net::QueueDelivery>(&body)) {
        failures = 0;
        bool ok = run_handler(*this, handler, *delivery, options.visibility_ms);
        // Ack/nack errors are not fatal either: an unacknowledged message is redelivered.
        if (ok) {
          (void)call_leader(kvmodel::QueueAck{delivery->message_id, delivery->lease_token});
        } else {
          (void)call_leader(kvmodel::QueueNack{delivery->message_id, delivery->lease_token});
        }
        if (options.max_messages != 0 && ++handled >= options.max_messages) {
          opened->channel->cancel_stream(opened->stream_id);
          return base::Status::ok();
        }
        continue;
      }
      if (auto* error = std::get_if<net::Error>(&body)) {
        bool retry = error->code == base::Code::kNotLeader ||
                     error->code == base::Code::kUnavailable || error->code == base::Code::kTimeout;
        if (!retry) return error->to_status();
        note_error(*error);
        if (!error->leader_hint) skip_endpoint(opened->address);
      }
      break;  // StreamEnd or a retryable error: reopen
    }
  }
  return base::Status::ok();
}

}  // namespace cli
