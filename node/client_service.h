// The client-facing server of kvd: accepts connections, decodes requests (net/client.fbs),
// hands them to the Node and writes each reply back on the connection it came from.
// A frame that fails its checksum, its schema or its decoding closes that connection with a
// logged reason; every other connection keeps being served.
//
// Threading: runs on the io thread (see net/connection.h); replies from the node thread are
// posted back to the connection.
#pragma once

#include <asio.hpp>
#include <memory>
#include <string>

#include "net/connection.h"
#include "node/node.h"

namespace node {

class ClientService {
 public:
  ClientService(asio::io_context& io, Node& node);
  base::Status listen(const std::string& addr);
  void stop();  // io thread
  asio::ip::tcp::endpoint local_endpoint() const { return server_->local_endpoint(); }

 private:
  void on_frame(const net::ConnectionPtr& conn, base::Bytes payload);

  Node& node_;
  std::shared_ptr<net::Server> server_;
};

}  // namespace node
