// The TCP transport: a Connector over net::BlockingClient (one connection and io thread per
// node). The default transport of cli::Client.
#pragma once

#include <memory>

#include "cli/transport.h"
#include "net/client_connection.h"

namespace cli {

std::unique_ptr<Connector> make_tcp_connector(net::ClientConnectionOptions options = {});

}  // namespace cli
