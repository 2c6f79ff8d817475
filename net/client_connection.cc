#include "net/client_connection.h"

#include <asio/experimental/as_tuple.hpp>

#include "base/log.h"
#include "net/client_codec.h"

namespace net {
namespace {

base::Status unavailable(std::string message) {
  return base::Status(base::Code::kUnavailable, std::move(message));
}
}  // namespace

std::shared_ptr<ClientConnection> ClientConnection::create(asio::io_context& io,
                                                           ClientConnectionOptions options) {
  return std::shared_ptr<ClientConnection>(new ClientConnection(io, options));
}

ClientConnection::ClientConnection(asio::io_context& io, ClientConnectionOptions options)
    : io_(io), options_(options) {}

void ClientConnection::connect(std::string host_port, std::function<void(base::Status)> done) {
  asio::co_spawn(io_, connect_coro(std::move(host_port), std::move(done)), asio::detached);
}

asio::awaitable<void> ClientConnection::connect_coro(std::string host_port,
                                                     std::function<void(base::Status)> done) {
  auto self = shared_from_this();
  if (conn_) conn_->close(base::Status());
  auto socket = co_await connect_to(io_, host_port, options_.connect_timeout);
  if (!socket.is_ok()) {
    done(socket.status());
    co_return;
  }
  std::weak_ptr<ClientConnection> weak = self;
  ConnectionHandlers handlers;
  handlers.on_frame = [weak](const ConnectionPtr&, base::Bytes payload) {
    if (auto s = weak.lock()) s->on_frame(payload);
  };
  handlers.on_close = [weak](const ConnectionPtr& conn, const base::Status& reason) {
    auto s = weak.lock();
    if (s && s->conn_ == conn) s->on_closed(reason);
  };
  address_ = host_port;
  conn_ = Connection::create(std::move(socket).value(),
                             {options_.payload_max_bytes, verify_response, "client"},
                             std::move(handlers));
  conn_->start();
  open_ = true;
  done(base::Status());
}

uint64_t ClientConnection::send(RequestBody body, Callback callback) {
  const uint64_t id = next_id_++;
  base::Bytes payload = encode_request(Request{id, std::move(body)});
  auto cb = std::make_shared<Callback>(std::move(callback));
  asio::post(io_, [self = shared_from_this(), id, payload = std::move(payload), cb] {
    if (!self->conn_ || !self->conn_->is_open()) {
      (*cb)(unavailable("not connected"));
      return;
    }
    self->pending_.emplace(id, cb);
    self->conn_->send_payload(payload);
  });
  return id;
}

void ClientConnection::on_frame(const base::Bytes& payload) {
  auto response = decode_response(payload);
  if (!response.is_ok()) {
    conn_->close(response.status());
    return;
  }
  auto it = pending_.find(response->id);
  if (it == pending_.end()) {
    // A stream frame racing with its own end, or a server bug: nothing waits for it.
    LOG(kDebug, "response for no pending request", "id={} peer={}", response->id, address_);
    return;
  }
  std::shared_ptr<Callback> cb = it->second;  // the callback may send() and rehash pending_
  if (is_final(response->body)) pending_.erase(it);
  (*cb)(std::move(response));
}

void ClientConnection::on_closed(const base::Status& reason) {
  open_ = false;
  conn_.reset();
  auto pending = std::move(pending_);
  pending_.clear();
  const std::string why = reason.is_ok() ? "closed by the server" : reason.to_string();
  for (auto& [id, cb] : pending) {
    (*cb)(unavailable(fmt::format("connection to {} lost before the answer: {}", address_, why)));
  }
}

void ClientConnection::close() {
  asio::post(io_, [self = shared_from_this()] {
    if (self->conn_) self->conn_->close(base::Status());
  });
}

// ---------------------------------------------------------------- BlockingClient

BlockingClient::BlockingClient(ClientConnectionOptions options)
    : options_(options),
      work_(asio::make_work_guard(io_)),
      connection_(ClientConnection::create(io_, options)),
      thread_([this] { io_.run(); }) {}

BlockingClient::~BlockingClient() {
  connection_->close();
  work_.reset();
  thread_.join();
}

base::Status BlockingClient::connect(const std::string& host_port) {
  auto done = std::make_shared<std::promise<base::Status>>();
  auto future = done->get_future();
  connection_->connect(host_port, [done](base::Status status) { done->set_value(status); });
  return future.get();  // bounded by the connect timeout
}

std::future<base::Result<Response>> BlockingClient::call_async(RequestBody body) {
  ENSURE_MSG(!opens_stream(body), "use open_stream() for stream requests");
  auto promise = std::make_shared<std::promise<base::Result<Response>>>();
  auto future = promise->get_future();
  connection_->send(std::move(body), [promise](base::Result<Response> response) {
    promise->set_value(std::move(response));
  });
  return future;
}

base::Result<Response> BlockingClient::call(RequestBody body, std::chrono::milliseconds timeout) {
  auto future = call_async(std::move(body));
  if (future.wait_for(timeout) != std::future_status::ready) {
    return base::Status(base::Code::kTimeout,
                        fmt::format("no response within {} ms", timeout.count()));
  }
  return future.get();
}

uint64_t BlockingClient::open_stream(RequestBody body, ClientConnection::Callback on_frame) {
  return connection_->send(std::move(body), std::move(on_frame));
}

void BlockingClient::close() { connection_->close(); }

}  // namespace net
