// The client library's view of the network: a Connector opens a Channel to one node by its
// address; a Channel carries requests and server-pushed streams. The library (client.h) does
// leader finding, retries and exactly-once on top of these two interfaces only, so it runs the
// same over TCP (tcp_transport.h), an in-process store or a test double.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "net/client_types.h"

namespace cli {

// One connection to one node. Thread-safe: many calls may be in flight from many threads.
class Channel {
 public:
  // Receives every frame of a stream in order; the last call carries a final body
  // (net::is_final) or an error (the connection was lost). May run on any thread (TCP: the
  // connection's io thread), so it must not block or call back into the same Channel
  // synchronously except through cancel_stream().
  using StreamCallback = std::function<void(base::Result<net::ResponseBody>)>;

  virtual ~Channel() = default;
  // Sends a single-answer request and waits for its answer. A transport failure (kUnavailable:
  // connection lost; kTimeout: no answer in time) says nothing about whether the node acted on
  // the request. A server-side error arrives as a net::Error body, not as a failed Result.
  virtual base::Result<net::ResponseBody> call(net::RequestBody body,
                                               std::chrono::milliseconds timeout) = 0;
  // Opens a stream (Watch, QueueListen) and returns its id for cancel_stream().
  virtual uint64_t open_stream(net::RequestBody body, StreamCallback on_frame) = 0;
  // Asks the node to end the stream; does not wait. The callback still receives the end.
  virtual void cancel_stream(uint64_t stream_id) = 0;
  // False once the connection is known to be closed; the library then reconnects.
  virtual bool is_open() const = 0;
};

class Connector {
 public:
  virtual ~Connector() = default;
  // Connects to "host:port" (or whatever address form the connector understands). A failure
  // here means nothing was sent.
  virtual base::Result<std::shared_ptr<Channel>> connect(const std::string& address) = 0;
};

}  // namespace cli
