// The peer transport over TCP: `--listen HOST:PORT` (default port 7470) and dialing
// HOST:PORT. One thread accepts per listener, one per handshake in progress, and two per
// established link (reader and writer, blocking IO with deadlines): meant for tens of peers.
#pragma once

#include <memory>

#include "net/transport.h"

namespace lattice::kernel::net {

class LinkRegistry;

// Thread-safe.
class TcpTransport : public Transport {
 public:
  // REQUIRES: config.identity is set and outlives the transport.
  explicit TcpTransport(TransportConfig config);
  ~TcpTransport() override;

  // `address` is "HOST:PORT", "HOST" (port 7470), or "[v6]:PORT"; port 0 picks a free port
  // (see Listener::address()).
  absl::StatusOr<std::unique_ptr<Listener>> Listen(const std::string& address,
                                                   ListenHandlers handlers) override;
  absl::StatusOr<std::shared_ptr<Link>> Dial(const DialRequest& request) override;

 private:
  std::shared_ptr<const TransportConfig> config_;
  std::shared_ptr<LinkRegistry> registry_;
};

}  // namespace lattice::kernel::net
