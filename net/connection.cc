#include "net/connection.h"

#include <asio/experimental/as_tuple.hpp>

#include <atomic>

#include "base/log.h"

namespace net {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr size_t kReadChunkBytes = 64 * 1024;

std::atomic<uint64_t> g_next_connection_id{1};

std::string endpoint_text(const asio::ip::tcp::socket& socket) {
  asio::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace

base::Result<std::pair<std::string, std::string>> split_host_port(std::string_view host_port) {
  std::string_view host, port;
  if (host_port.starts_with('[')) {
    auto close = host_port.find("]:");
    if (close == std::string_view::npos) {
      return base::invalid_argument("address '{}' is not [ipv6]:port", host_port);
    }
    host = host_port.substr(1, close - 1);
    port = host_port.substr(close + 2);
  } else {
    auto colon = host_port.rfind(':');
    if (colon == std::string_view::npos) {
      return base::invalid_argument("address '{}' is not host:port", host_port);
    }
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
  }
  if (host.empty() || port.empty() ||
      port.find_first_not_of("0123456789") != std::string_view::npos || port.size() > 5 ||
      std::stoul(std::string(port)) > 65535) {
    return base::invalid_argument("address '{}' is not host:port with a port 0..65535", host_port);
  }
  return std::pair{std::string(host), std::string(port)};
}

base::Result<asio::ip::tcp::endpoint> resolve_endpoint(std::string_view host_port) {
  auto parts = split_host_port(host_port);
  if (!parts.is_ok()) return parts.status();
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  asio::error_code ec;
  auto results = resolver.resolve(parts->first, parts->second, ec);
  if (ec || results.empty()) {
    return base::Status(base::Code::kUnavailable,
                        fmt::format("cannot resolve '{}': {}", host_port, ec.message()));
  }
  return results.begin()->endpoint();
}

asio::awaitable<base::Result<asio::ip::tcp::socket>> connect_to(asio::io_context& io,
                                                                std::string host_port,
                                                                std::chrono::milliseconds timeout) {
  auto parts = split_host_port(host_port);
  if (!parts.is_ok()) co_return parts.status();
  asio::ip::tcp::resolver resolver(io);
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(parts->first, parts->second, use_tuple);
  if (resolve_error) {
    co_return base::Status(base::Code::kUnavailable, fmt::format("cannot resolve {}: {}", host_port,
                                                                 resolve_error.message()));
  }
  // Shared with the timer's handler, which may run after this frame is gone.
  auto socket = std::make_shared<asio::ip::tcp::socket>(io);
  auto timed_out = std::make_shared<bool>(false);
  asio::steady_timer timer(io, timeout);
  timer.async_wait([socket, timed_out](const asio::error_code& ec) {
    if (ec) return;
    *timed_out = true;
    asio::error_code ignored;
    socket->close(ignored);
  });
  auto [connect_error, endpoint] = co_await asio::async_connect(*socket, endpoints, use_tuple);
  timer.cancel();
  if (connect_error || *timed_out) {
    co_return base::Status(base::Code::kUnavailable,
                           fmt::format("cannot connect to {}: {}", host_port,
                                       *timed_out ? "timed out" : connect_error.message()));
  }
  co_return std::move(*socket);
}

// ---------------------------------------------------------------- Connection

ConnectionPtr Connection::create(asio::ip::tcp::socket socket, ConnectionOptions options,
                                 ConnectionHandlers handlers) {
  return ConnectionPtr(new Connection(std::move(socket), std::move(options), std::move(handlers)));
}

Connection::Connection(asio::ip::tcp::socket socket, ConnectionOptions options,
                       ConnectionHandlers handlers)
    : socket_(std::move(socket)),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      decoder_(options_.payload_max_bytes, options_.verify),
      remote_(endpoint_text(socket_)),
      id_(g_next_connection_id++),
      write_wakeup_(socket_.get_executor(), asio::steady_timer::time_point::max()) {
  asio::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);  // Raft round trips are latency-bound
}

Connection::~Connection() = default;

void Connection::start() {
  ENSURE(!started_);
  started_ = true;
  auto self = shared_from_this();
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->read_loop(); }, asio::detached);
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->write_loop(); }, asio::detached);
}

void Connection::send_payload(base::BytesView payload) {
  if (!open_) return;
  base::Bytes frame;
  append_frame(frame, payload);
  queued_bytes_ += frame.size();
  queue_.push_back(std::move(frame));
  write_wakeup_.cancel();
}

void Connection::post_payload(base::Bytes payload) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), payload = std::move(payload)] {
    self->send_payload(payload);
  });
}

void Connection::post_close(base::Status reason) {
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), reason = std::move(reason)] { self->close(reason); });
}

void Connection::close(const base::Status& reason) {
  if (!open_) return;
  open_ = false;
  if (!reason.is_ok()) {
    LOG(kWarn, "closing connection", "reason={} peer={} kind={} conn={}",
        base::log_quote(reason.to_string()), remote_, options_.kind, id_);
  }
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  write_wakeup_.cancel();
  queue_.clear();
  queued_bytes_ = 0;
  // Handlers usually capture their owner: drop them so no cycle outlives the connection (the
  // loops hold their own copies until they end).
  auto on_close = std::move(handlers_.on_close);
  handlers_ = {};
  if (started_ && on_close) on_close(shared_from_this(), reason);
}

asio::awaitable<void> Connection::read_loop() {
  auto self = shared_from_this();  // keeps the connection alive while the loop runs
  // A copy: the handler may close the connection, which releases handlers_ while it runs.
  const auto on_frame = handlers_.on_frame;
  std::vector<char> buffer(kReadChunkBytes);
  while (open_) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer), use_tuple);
    if (!open_) break;
    if (ec) {
      close(ec == asio::error::eof
                ? base::Status()
                : base::Status(base::Code::kIoError, fmt::format("read: {}", ec.message())));
      break;
    }
    decoder_.append(base::BytesView(buffer.data(), n));
    while (open_) {
      auto next = decoder_.next();
      if (!next.is_ok()) {
        close(next.status());
        break;
      }
      if (!next->has_value()) break;
      if (on_frame) on_frame(self, std::move(**next));
    }
  }
}

asio::awaitable<void> Connection::write_loop() {
  auto self = shared_from_this();
  const auto on_written = handlers_.on_written;  // a copy, as in read_loop
  std::vector<base::Bytes> batch;
  std::vector<asio::const_buffer> buffers;
  asio::steady_timer stall(socket_.get_executor());
  while (open_) {
    if (queue_.empty()) {
      co_await write_wakeup_.async_wait(use_tuple);  // woken by cancel(): error is expected
      continue;
    }
    batch.swap(queue_);
    buffers.clear();
    size_t batch_bytes = 0;
    for (const auto& frame : batch) {
      buffers.push_back(asio::buffer(frame));
      batch_bytes += frame.size();
    }
    if (options_.write_timeout.count() > 0) {
      stall.expires_after(options_.write_timeout);
      stall.async_wait([weak = weak_from_this(),
                        ms = options_.write_timeout.count()](const asio::error_code& ec) {
        auto c = weak.lock();
        if (!ec && c) {
          c->close(
              base::Status(base::Code::kUnavailable, fmt::format("write stalled for {} ms", ms)));
        }
      });
    }
    // One gathered write for everything queued since the last one (writev underneath).
    auto [ec, n] = co_await asio::async_write(socket_, buffers, use_tuple);
    stall.cancel();
    batch.clear();
    if (!open_) break;
    if (ec) {
      close(base::Status(base::Code::kIoError, fmt::format("write: {}", ec.message())));
      break;
    }
    queued_bytes_ -= batch_bytes;
    if (on_written) on_written(self);
  }
}

// ---------------------------------------------------------------- Server

std::shared_ptr<Server> Server::create(asio::io_context& io, ConnectionOptions options,
                                       ConnectionHandlers handlers) {
  return std::shared_ptr<Server>(new Server(io, std::move(options), std::move(handlers)));
}

Server::Server(asio::io_context& io, ConnectionOptions options, ConnectionHandlers handlers)
    : io_(io), acceptor_(io), options_(std::move(options)), handlers_(std::move(handlers)) {}

base::Status Server::listen(std::string_view host_port) {
  auto endpoint = resolve_endpoint(host_port);
  if (!endpoint.is_ok()) return endpoint.status();
  asio::error_code ec;
  acceptor_.open(endpoint->protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(*endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) local_endpoint_ = acceptor_.local_endpoint(ec);
  if (ec) {
    acceptor_.close(ec);
    return base::Status(base::Code::kIoError,
                        fmt::format("cannot listen on {}: {}", host_port, ec.message()));
  }
  auto self = shared_from_this();
  asio::co_spawn(
      io_, [self] { return self->accept_loop(); }, asio::detached);
  return base::Status();
}

asio::awaitable<void> Server::accept_loop() {
  auto self = shared_from_this();
  while (!stopped_) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (stopped_) break;
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      // EMFILE and friends: log and keep accepting rather than dying.
      LOG(kWarn, "accept failed", "error={} kind={}", base::log_quote(ec.message()), options_.kind);
      continue;
    }
    ConnectionHandlers handlers = handlers_;
    std::weak_ptr<Server> weak = self;
    handlers.on_close = [weak, user = handlers_.on_close](const ConnectionPtr& c,
                                                          const base::Status& reason) {
      if (auto server = weak.lock()) server->connections_.erase(c);
      if (user) user(c, reason);
    };
    auto connection = Connection::create(std::move(socket), options_, std::move(handlers));
    connections_.insert(connection);
    connection->start();
  }
}

void Server::stop() {
  if (stopped_) return;
  stopped_ = true;
  asio::error_code ec;
  acceptor_.close(ec);
  auto open = std::move(connections_);
  connections_.clear();
  for (const auto& c : open) c->close(base::Status());
}

void Server::post_stop() {
  asio::post(io_, [self = shared_from_this()] { self->stop(); });
}

}  // namespace net
