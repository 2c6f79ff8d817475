// A framed TCP connection and the accepting server, on a caller-supplied asio::io_context.
//
// Threading: the io_context these run on must be run by exactly ONE thread (the "io thread").
// Methods marked "io thread" must be called from it (from a handler, or before io.run() starts
// when nothing else touches the object); methods marked "thread-safe" post to it.
#pragma once

#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "net/frame.h"

namespace net {

// Parses "host:port" or "[v6]:port" and resolves it synchronously (blocking: use at startup).
base::Result<asio::ip::tcp::endpoint> resolve_endpoint(std::string_view host_port);
// Splits "host:port" / "[v6]:port"; an error names the malformed address.
base::Result<std::pair<std::string, std::string>> split_host_port(std::string_view host_port);

// Resolves and connects to "host:port", giving up after `timeout` (a black-holed address would
// otherwise take the kernel's SYN retries, minutes). Errors are kUnavailable / kInvalidArgument.
asio::awaitable<base::Result<asio::ip::tcp::socket>> connect_to(asio::io_context& io,
                                                                std::string host_port,
                                                                std::chrono::milliseconds timeout);

class Connection;
using ConnectionPtr = std::shared_ptr<Connection>;

struct ConnectionOptions {
  size_t payload_max_bytes = kFramePayloadMaxBytes;
  PayloadVerifier verify;     // run on every received payload; empty = no schema check
  std::string kind = "conn";  // "peer" / "client": a log field
  // A socket write that does not complete within this time closes the connection (a peer that
  // vanished without a FIN or RST would otherwise hold it open for TCP's retransmission
  // timeout, ~15 min). 0 = no limit.
  std::chrono::milliseconds write_timeout{0};
};

// Callbacks run on the io thread. on_close runs exactly once per started connection, with the
// reason (ok for an orderly close by either side). After on_close no callback runs again.
struct ConnectionHandlers {
  std::function<void(const ConnectionPtr&, base::Bytes payload)> on_frame;
  std::function<void(const ConnectionPtr&, const base::Status& reason)> on_close;
  // After each completed socket write: lets a sender refill the queue (snapshot chunks).
  std::function<void(const ConnectionPtr&)> on_written;
};

// Owns a connected socket. A read loop decodes frames (a malformed, oversized or
// checksum-failing frame closes the connection and logs `level=warn msg="closing connection"
// reason=... peer=...`); a write loop sends everything queued since its last write in one
// gathered write (writev). Lives while its loops run or someone holds a pointer.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  static ConnectionPtr create(asio::ip::tcp::socket socket, ConnectionOptions options,
                              ConnectionHandlers handlers);
  ~Connection();

  // io thread: starts the read and write loops. Call once.
  void start();
  // io thread: frames `payload` and queues it. Ignored once closed.
  void send_payload(base::BytesView payload);
  // thread-safe: same, from any thread.
  void post_payload(base::Bytes payload);
  // io thread: closes the socket, fails nothing else; idempotent. A non-ok reason is logged.
  void close(const base::Status& reason);
  // thread-safe.
  void post_close(base::Status reason);

  bool is_open() const { return open_; }                 // io thread
  size_t queued_bytes() const { return queued_bytes_; }  // io thread: framed, not yet written
  const std::string& remote() const { return remote_; }  // "ip:port", fixed at creation
  uint64_t id() const { return id_; }                    // unique in the process
  const ConnectionOptions& options() const { return options_; }
  asio::any_io_executor executor() { return socket_.get_executor(); }

 private:
  Connection(asio::ip::tcp::socket socket, ConnectionOptions options, ConnectionHandlers handlers);
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();

  asio::ip::tcp::socket socket_;
  ConnectionOptions options_;
  ConnectionHandlers handlers_;
  FrameDecoder decoder_;
  std::string remote_;
  uint64_t id_;
  bool open_ = true;
  bool started_ = false;
  std::vector<base::Bytes> queue_;  // frames waiting for the write loop
  size_t queued_bytes_ = 0;
  asio::steady_timer write_wakeup_;  // never expires; cancel() wakes the write loop
};

// Accepts connections on one address and starts a Connection for each with the given options
// and handlers (plus an on_accept hook). Create with make_shared-like create(); keep the pointer.
class Server : public std::enable_shared_from_this<Server> {
 public:
  static std::shared_ptr<Server> create(asio::io_context& io, ConnectionOptions options,
                                        ConnectionHandlers handlers);

  // io thread (or before run): binds and listens ("127.0.0.1:0" picks a free port), then starts
  // the accept loop.
  base::Status listen(std::string_view host_port);
  asio::ip::tcp::endpoint local_endpoint() const { return local_endpoint_; }
  // io thread: stops accepting and closes every open connection (each gets on_close).
  void stop();
  // thread-safe.
  void post_stop();
  size_t connection_count() const { return connections_.size(); }  // io thread

 private:
  Server(asio::io_context& io, ConnectionOptions options, ConnectionHandlers handlers);
  asio::awaitable<void> accept_loop();

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  ConnectionOptions options_;
  ConnectionHandlers handlers_;
  asio::ip::tcp::endpoint local_endpoint_;
  std::unordered_set<ConnectionPtr> connections_;
  bool stopped_ = false;
};

}  // namespace net
