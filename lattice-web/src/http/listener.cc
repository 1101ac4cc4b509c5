// The accept loop.
#include "src/http/listener.h"

#include <absl/status/status.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "src/http/connection.h"

namespace lattice::web::http {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// How long to wait before accepting again after an error such as EMFILE, instead of spinning.
constexpr std::chrono::milliseconds kAcceptRetry{100};

}  // namespace

Listener::Listener(std::shared_ptr<ServerState> server)
    : server_(std::move(server)),
      acceptor_(asio::make_strand(server_->io)),
      retry_timer_(acceptor_.get_executor()) {}

absl::Status Listener::Open(const std::string& host, uint16_t port) {
  std::string where = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                                          : fmt::format("{}:{}", host, port);
  error_code ec;
  asio::ip::tcp::resolver resolver(server_->io);
  auto results =
      resolver.resolve(host, std::to_string(port), asio::ip::resolver_base::numeric_service, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("cannot listen on {}: {}", where, ec ? ec.message() : "no address"));
  }
  asio::ip::tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    return absl::UnavailableError(fmt::format("cannot listen on {}: {}", where, ec.message()));
  }
  return absl::OkStatus();
}

uint16_t Listener::port() const {
  error_code ec;
  auto endpoint = acceptor_.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void Listener::Start() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->Accept(); });
}

void Listener::PostClose() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    error_code ec;
    self->acceptor_.close(ec);
    self->retry_timer_.cancel();
  });
}

void Listener::Accept() {
  if (!acceptor_.is_open()) return;
  acceptor_.async_accept(
      asio::make_strand(server_->io),
      [self = shared_from_this()](error_code ec, asio::ip::tcp::socket socket) {
        if (!self->acceptor_.is_open() || self->server_->stopping()) return;
        if (ec) {
          spdlog::warn("http: accepting a connection failed: {}", ec.message());
          self->retry_timer_.expires_after(kAcceptRetry);
          self->retry_timer_.async_wait([self](error_code timer_ec) {
            if (!timer_ec) self->Accept();
          });
          return;
        }
        // Counted here, on the accepting strand, so a burst of connections cannot overshoot
        // the limit before the first of them starts.
        bool over_limit =
            self->server_->open_connections.fetch_add(1) >= self->server_->options.max_connections;
        if (over_limit) self->server_->open_connections.fetch_sub(1);
        std::make_shared<Connection>(self->server_, std::move(socket), over_limit)->Start();
        self->Accept();
      });
}

}  // namespace lattice::web::http
