#include "cli/tcp_transport.h"

namespace cli {
namespace {

class TcpChannel final : public Channel {
 public:
  explicit TcpChannel(net::ClientConnectionOptions options) : client_(options) {}

  base::Status connect(const std::string& address) { return client_.connect(address); }

  base::Result<net::ResponseBody> call(net::RequestBody body,
                                       std::chrono::milliseconds timeout) override {
    base::Result<net::Response> response = client_.call(std::move(body), timeout);
    if (!response.is_ok()) return response.status();
    return std::move(response->body);
  }

  uint64_t open_stream(net::RequestBody body, StreamCallback on_frame) override {
    return client_.open_stream(std::move(body), [on_frame](base::Result<net::Response> frame) {
      if (!frame.is_ok()) {
        on_frame(frame.status());
      } else {
        on_frame(std::move(frame->body));
      }
    });
  }

  void cancel_stream(uint64_t stream_id) override {
    // Fire and forget: the stream's own callback reports its end. The future of call_async is
    // not from std::async, so dropping it does not wait.
    (void)client_.call_async(net::Cancel{stream_id});
  }

  bool is_open() const override { return client_.is_open(); }

 private:
  net::BlockingClient client_;
};

class TcpConnector final : public Connector {
 public:
  explicit TcpConnector(net::ClientConnectionOptions options) : options_(options) {}

  base::Result<std::shared_ptr<Channel>> connect(const std::string& address) override {
    auto channel = std::make_shared<TcpChannel>(options_);
    RETURN_IF_ERROR(channel->connect(address));
    return std::shared_ptr<Channel>(std::move(channel));
  }

 private:
  net::ClientConnectionOptions options_;
};

}  // namespace

std::unique_ptr<Connector> make_tcp_connector(net::ClientConnectionOptions options) {
  return std::make_unique<TcpConnector>(options);
}

}  // namespace cli
