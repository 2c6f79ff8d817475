// The client side of the client protocol (net/client.fbs): one connection to one kvd node with
// many requests in flight, matched to their responses by request id, plus server-pushed streams.
//
// ClientConnection runs on a caller-supplied io_context (run by exactly one thread) and has a
// callback API. BlockingClient wraps it with its own io thread and a blocking / future API for
// simple programs (the kv CLI, the Jepsen harness). Neither retries or follows leader hints:
// that is the client library's job (cli/).
#pragma once

#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "base/status.h"
#include "net/client_types.h"
#include "net/connection.h"

namespace net {

struct ClientConnectionOptions {
  size_t payload_max_bytes = kFramePayloadMaxBytes;
  std::chrono::milliseconds connect_timeout{2000};
};

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
 public:
  // Receives the response to one request; for a stream request, every pushed frame in order,
  // the last one final (is_final(): StreamEnd or Error). If the connection closes first, the
  // callback gets an Unavailable status instead, once. Runs on the io thread.
  using Callback = std::function<void(base::Result<Response>)>;

  static std::shared_ptr<ClientConnection> create(asio::io_context& io,
                                                  ClientConnectionOptions options = {});

  // thread-safe: connects to "host:port"; `done` runs on the io thread with the outcome.
  void connect(std::string host_port, std::function<void(base::Status)> done);
  // thread-safe: sends a request with a fresh id (returned; a stream's id for Cancel) and
  // encodes it on the calling thread. Not connected: the callback gets Unavailable.
  uint64_t send(RequestBody body, Callback callback);
  // thread-safe: closes the connection; pending callbacks get Unavailable.
  void close();
  // thread-safe.
  bool is_open() const { return open_; }

 private:
  ClientConnection(asio::io_context& io, ClientConnectionOptions options);
  asio::awaitable<void> connect_coro(std::string host_port, std::function<void(base::Status)> done);
  void on_frame(const base::Bytes& payload);
  void on_closed(const base::Status& reason);

  asio::io_context& io_;
  ClientConnectionOptions options_;
  ConnectionPtr conn_;  // io thread
  std::string address_;
  std::unordered_map<uint64_t, std::shared_ptr<Callback>> pending_;  // io thread
  std::atomic<uint64_t> next_id_{1};
  std::atomic<bool> open_{false};
};

class BlockingClient {
 public:
  explicit BlockingClient(ClientConnectionOptions options = {});
  ~BlockingClient();  // closes the connection and joins the io thread
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  // All methods are thread-safe: many threads may have calls in flight at once.
  base::Status connect(const std::string& host_port);
  // Sends a single-answer request and waits for its response (kTimeout after `timeout`; the
  // outcome of a write is then unknown).
  base::Result<Response> call(RequestBody body, std::chrono::milliseconds timeout);
  std::future<base::Result<Response>> call_async(RequestBody body);
  // Opens a stream (Watch, QueueListen); `on_frame` runs on the client's io thread. End it with
  // call(Cancel{id}, ...).
  uint64_t open_stream(RequestBody body, ClientConnection::Callback on_frame);
  void close();
  bool is_open() const { return connection_->is_open(); }

 private:
  ClientConnectionOptions options_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::shared_ptr<ClientConnection> connection_;
  std::thread thread_;
};

}  // namespace net
