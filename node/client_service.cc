#include "node/client_service.h"

#include "base/log.h"
#include "net/client_codec.h"

namespace node {

ClientService::ClientService(asio::io_context& io, Node& node) : node_(node) {
  net::ConnectionOptions options;
  options.kind = "client";
  options.verify = [](base::BytesView payload) { return net::verify_request(payload); };
  net::ConnectionHandlers handlers;
  handlers.on_frame = [this](const net::ConnectionPtr& conn, base::Bytes payload) {
    on_frame(conn, std::move(payload));
  };
  // A closed connection's streams (watch, queue listen) end; their consumers stop counting.
  handlers.on_close = [this](const net::ConnectionPtr& conn, const base::Status&) {
    node_.close_connection(conn->id());
  };
  server_ = net::Server::create(io, options, handlers);
}

base::Status ClientService::listen(const std::string& addr) { return server_->listen(addr); }

void ClientService::stop() { server_->stop(); }

void ClientService::on_frame(const net::ConnectionPtr& conn, base::Bytes payload) {
  auto request = net::decode_request(payload);
  if (!request.is_ok()) {
    conn->close(base::corruption("undecodable request: {}", request.status().message()));
    return;
  }
  uint64_t id = request->id;
  // The connection is held weakly: a reply for a client that went away is dropped.
  std::weak_ptr<net::Connection> weak = conn;
  node_.submit(
      std::move(request->body),
      [weak, id](net::ResponseBody body) {
        if (auto c = weak.lock())
          c->post_payload(net::encode_response(net::Response{id, std::move(body)}));
      },
      Origin{conn->id(), id});
}

}  // namespace node
