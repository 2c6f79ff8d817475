#include "node/options.h"

#include "base/flags.h"

namespace node {

base::Status split_host_port(std::string_view addr, std::string& host, uint16_t& port) {
  auto colon = addr.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == addr.size())
    return base::invalid_argument("'{}' is not host:port", addr);
  auto p = base::parse_uint(addr.substr(colon + 1));
  if (!p.is_ok() || *p == 0 || *p > 65535)
    return base::invalid_argument("'{}' has no valid port (1..65535)", addr);
  host = std::string(addr.substr(0, colon));
  port = static_cast<uint16_t>(*p);
  return base::Status::ok();
}

base::Result<std::map<raft::NodeId, std::string>> parse_peer_list(std::string_view text) {
  std::map<raft::NodeId, std::string> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos)
      return base::invalid_argument("peer '{}' is not ID=HOST:PORT", item);
    auto id = base::parse_uint(item.substr(0, eq));
    if (!id.is_ok() || *id == 0)
      return base::invalid_argument("peer '{}' has no valid id (1..)", item);
    std::string host;
    uint16_t port;
    RETURN_IF_ERROR(split_host_port(item.substr(eq + 1), host, port));
    if (!out.emplace(*id, std::string(item.substr(eq + 1))).second)
      return base::invalid_argument("peer id {} appears twice", *id);
  }
  return out;
}

}  // namespace node
