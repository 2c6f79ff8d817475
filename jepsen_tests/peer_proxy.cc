#include "jepsen_tests/peer_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <variant>

#include "base/bytes.h"
#include "base/check.h"
#include "net/frame.h"
#include "net/peer_codec.h"

namespace jepsen {

struct PeerProxy::Link {
  int client_fd = -1;  // the sending node's outbound connection
  int server_fd = -1;  // our connection to the receiving node's real peer port
  uint64_t from = 0;   // known once the Hello frame arrived
  uint64_t to = 0;
  bool hello_done = false;
  std::string up;    // client -> server bytes not yet written
  std::string down;  // server -> client bytes not yet written
  bool dead = false;

  void close_all() {
    if (client_fd >= 0) ::close(client_fd);
    if (server_fd >= 0) ::close(server_fd);
    client_fd = server_fd = -1;
    dead = true;
  }
};

namespace {

constexpr size_t kHelloMaxBytes = 1 << 16;

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

base::Result<sockaddr_in> parse_loopback(const std::string& addr) {
  const size_t colon = addr.rfind(':');
  if (colon == std::string::npos) return base::invalid_argument("bad address '{}'", addr);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  if (::inet_pton(AF_INET, addr.substr(0, colon).c_str(), &sa.sin_addr) != 1)
    return base::invalid_argument("bad address '{}'", addr);
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(addr.substr(colon + 1))));
  return sa;
}

// Writes as much of `buffer` as the socket takes; false on a hard error.
bool flush(int fd, std::string& buffer, std::atomic<uint64_t>& counter) {
  while (!buffer.empty()) {
    const ssize_t n = ::send(fd, buffer.data(), buffer.size(), MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    counter += static_cast<uint64_t>(n);
    buffer.erase(0, static_cast<size_t>(n));
  }
  return true;
}

// Reads what is available into `buffer`; false on EOF or a hard error.
bool fill(int fd, std::string& buffer) {
  char chunk[65536];
  const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
  if (n == 0) return false;
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  buffer.append(chunk, static_cast<size_t>(n));
  return true;
}

}  // namespace

base::Result<uint64_t> parse_hello_sender(const std::string& buffered, bool& complete) {
  complete = false;
  if (buffered.size() < net::kFrameHeaderBytes) return uint64_t{0};
  const uint32_t length = base::get_u32_le(buffered.data());
  if (length > kHelloMaxBytes) return base::corruption("peer hello frame too large: {}", length);
  if (buffered.size() < net::kFrameHeaderBytes + length) return uint64_t{0};
  auto frame =
      net::decode_peer_frame(base::BytesView(buffered).substr(net::kFrameHeaderBytes, length));
  if (!frame.is_ok()) return frame.status();
  const auto* hello = std::get_if<net::PeerHello>(&*frame);
  if (hello == nullptr) return base::corruption("first peer frame is not a Hello");
  complete = true;
  return hello->from;
}

PeerProxy::PeerProxy() = default;
PeerProxy::~PeerProxy() { stop(); }

base::Result<std::string> PeerProxy::add_node(uint64_t id, const std::string& listen_addr,
                                              const std::string& target) {
  auto parsed = parse_loopback(listen_addr);
  if (!parsed.is_ok()) return parsed.status();
  sockaddr_in sa = *parsed;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return base::Status(base::Code::kInternal, "socket: " + std::string(strerror(errno)));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t len = sizeof sa;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    ::close(fd);
    return base::Status(base::Code::kInternal,
                        fmt::format("proxy listen on {}: {}", listen_addr, strerror(errno)));
  }
  set_nonblocking(fd);
  std::lock_guard lock(mu_);
  listeners_.push_back(Listener{id, fd, target});
  return "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
}

void PeerProxy::start() {
  ENSURE(!thread_.joinable());
  thread_ = std::thread([this] { run(); });
}

void PeerProxy::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  for (auto& link : links_) link->close_all();
  links_.clear();
  std::lock_guard lock(mu_);
  for (auto& l : listeners_) ::close(l.fd);
  listeners_.clear();
}

void PeerProxy::set_blocked(std::set<std::pair<uint64_t, uint64_t>> blocked) {
  std::lock_guard lock(mu_);
  blocked_ = std::move(blocked);
}

std::set<std::pair<uint64_t, uint64_t>> PeerProxy::blocked() const {
  std::lock_guard lock(mu_);
  return blocked_;
}

bool PeerProxy::is_blocked(uint64_t from, uint64_t to) const {
  std::lock_guard lock(mu_);
  return blocked_.count({from, to}) != 0;
}

void PeerProxy::accept_from(const Listener& listener) {
  const int client = ::accept(listener.fd, nullptr, nullptr);
  if (client < 0) return;
  ++accepted_;
  auto target = parse_loopback(listener.target);
  const int server = target.is_ok() ? ::socket(AF_INET, SOCK_STREAM, 0) : -1;
  // Loopback connects finish (or are refused) at once, so a blocking connect is fine here.
  if (server < 0 ||
      ::connect(server, reinterpret_cast<const sockaddr*>(&*target), sizeof(sockaddr_in)) != 0) {
    if (server >= 0) ::close(server);
    ::close(client);
    return;
  }
  const int one = 1;
  ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  set_nonblocking(client);
  set_nonblocking(server);
  auto link = std::make_unique<Link>();
  link->client_fd = client;
  link->server_fd = server;
  link->to = listener.id;
  links_.push_back(std::move(link));
}

// The Hello is held back until it names the sender, so a blocked sender never reaches the node.
bool PeerProxy::read_hello(Link& link) {
  bool complete = false;
  auto from = parse_hello_sender(link.up, complete);
  if (!from.is_ok()) return false;
  if (!complete) return link.up.size() < kHelloMaxBytes + net::kFrameHeaderBytes;
  link.from = *from;
  link.hello_done = true;
  return true;
}

bool PeerProxy::pump(Link& link, bool upstream) {
  if (upstream) {
    if (!fill(link.client_fd, link.up)) return false;
    if (!link.hello_done && !read_hello(link)) return false;
    if (link.hello_done && is_blocked(link.from, link.to)) {
      ++cut_;
      return false;
    }
    return !link.hello_done || flush(link.server_fd, link.up, forwarded_);
  }
  if (!fill(link.server_fd, link.down)) return false;
  return flush(link.client_fd, link.down, forwarded_);
}

void PeerProxy::run() {
  std::vector<pollfd> fds;
  std::vector<Listener> listeners;
  while (!stop_) {
    {
      std::lock_guard lock(mu_);
      listeners = listeners_;
    }
    fds.clear();
    for (const auto& l : listeners) fds.push_back({l.fd, POLLIN, 0});
    for (const auto& link : links_) {
      const bool up_ready = link->hello_done && !link->up.empty();
      fds.push_back({link->client_fd,
                     static_cast<short>((link->up.size() < (1 << 20) ? POLLIN : 0) |
                                        (link->down.empty() ? 0 : POLLOUT)),
                     0});
      fds.push_back({link->server_fd,
                     static_cast<short>((link->down.size() < (1 << 20) ? POLLIN : 0) |
                                        (up_ready ? POLLOUT : 0)),
                     0});
    }
    if (::poll(fds.data(), fds.size(), 20) < 0 && errno != EINTR) break;
    size_t i = 0;
    for (const auto& l : listeners) {
      if (fds[i++].revents & POLLIN) accept_from(l);
    }
    for (size_t k = 0; i + 1 < fds.size() && k < links_.size(); ++k, i += 2) {
      Link& link = *links_[k];
      const short c = fds[i].revents, s = fds[i + 1].revents;
      bool ok = true;
      if (c & (POLLIN | POLLHUP | POLLERR)) ok = ok && pump(link, true);
      if (ok && (s & (POLLIN | POLLHUP | POLLERR))) ok = pump(link, false);
      if (ok && (s & POLLOUT) && link.hello_done) ok = flush(link.server_fd, link.up, forwarded_);
      if (ok && (c & POLLOUT)) ok = flush(link.client_fd, link.down, forwarded_);
      if (!ok) link.close_all();
    }
    // Cut links that a partition now blocks.
    for (auto& link : links_) {
      if (!link->dead && link->hello_done && is_blocked(link->from, link->to)) {
        link->close_all();
        ++cut_;
      }
    }
    std::erase_if(links_, [](const auto& link) { return link->dead; });
  }
}

}  // namespace jepsen
