#include "net/tcp_transport.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "lattice/common/status.h"
#include "net/address.h"
#include "net/handshake_gate.h"
#include "net/handshake_runner.h"
#include "net/link_registry.h"
#include "net/stream_link.h"
#include "net/tcp_stream.h"

namespace lattice::kernel::net {
namespace {

// How long the accept loop waits after the process ran out of descriptors.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

class TcpListener : public Listener {
 public:
  TcpListener(std::unique_ptr<TcpAcceptor> acceptor, std::shared_ptr<const TransportConfig> config,
              std::shared_ptr<LinkRegistry> registry, ListenHandlers handlers)
      : acceptor_(std::move(acceptor)),
        gate_(std::move(config), std::move(registry), std::move(handlers)),
        thread_([this] { AcceptLoop(); }) {}

  ~TcpListener() override {
    stopping_ = true;
    acceptor_->Shutdown();
    thread_.join();
    gate_.Close();
  }

  const std::string& address() const override { return acceptor_->local_address(); }

 private:
  void AcceptLoop() {
    while (!stopping_.load()) {
      auto stream = acceptor_->Accept();
      if (stream.ok()) {
        gate_.Offer(*std::move(stream));
        continue;
      }
      if (stopping_.load()) break;
      spdlog::warn("net: accepting on {} failed: {}", acceptor_->local_address(),
                   stream.status().message());
      acceptor_->Pause(kAcceptBackoff);
    }
  }

  std::unique_ptr<TcpAcceptor> acceptor_;
  HandshakeGate gate_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace

TcpTransport::TcpTransport(TransportConfig config)
    : config_(std::make_shared<const TransportConfig>(std::move(config))),
      registry_(std::make_shared<LinkRegistry>()) {}

TcpTransport::~TcpTransport() {
  registry_->ShutDown(absl::CancelledError("the node is shutting down"));
}

absl::StatusOr<std::unique_ptr<Listener>> TcpTransport::Listen(const std::string& address,
                                                               ListenHandlers handlers) {
  auto host_port = ParseHostPort(address);
  if (!host_port.ok()) return host_port.status();
  auto acceptor = TcpAcceptor::Bind(*host_port);
  if (!acceptor.ok()) return acceptor.status();
  return std::unique_ptr<Listener>(
      new TcpListener(*std::move(acceptor), config_, registry_, std::move(handlers)));
}

absl::StatusOr<std::shared_ptr<Link>> TcpTransport::Dial(const DialRequest& request) {
  auto handshake =
      Handshake::ForDialer(config_->identity, request.expected_node_id, request.invite);
  if (!handshake.ok()) return handshake.status();
  auto host_port = ParseHostPort(request.address);
  if (!host_port.ok()) return host_port.status();
  auto deadline = Clock::now() + config_->limits.handshake_timeout;
  auto stream = TcpStream::Connect(*host_port, deadline, config_->source_ip);
  if (!stream.ok()) return stream.status();
  auto session = RunHandshake(**stream, *handshake, deadline);
  if (!session.ok()) {
    (*stream)->Shutdown();
    return session.status();
  }
  StreamLinkOptions options;
  options.limits = config_->limits;
  return MakeStreamLink(*std::move(stream), *std::move(session), std::move(options),
                        registry_.get());
}

}  // namespace lattice::kernel::net
